"""LLM providers: platform key pools, base URLs, the lean/litellm switch, BYOK encryption."""

from spark.settings.components import env

# Platform key pools: several comma-separated keys per provider, picked by health score.
SPARK_PROVIDER_KEYS: dict[str, list[str]] = {
    "openai": env.list("OPENAI_API_KEYS", default=[]),
    "anthropic": env.list("ANTHROPIC_API_KEYS", default=[]),
    "gemini": env.list("GEMINI_API_KEYS", default=[]),
    "xai": env.list("XAI_API_KEYS", default=[]),
    "openrouter": env.list("OPENROUTER_API_KEYS", default=[]),
    "openai_compatible": env.list("OPENAI_COMPATIBLE_API_KEYS", default=[]),
}

# Where each provider is reached. Tests point these at local fakes.
SPARK_PROVIDER_BASE_URLS: dict[str, str] = {
    "openai": env.str("SPARK_OPENAI_BASE_URL", default="https://api.openai.com/v1"),
    "anthropic": env.str("SPARK_ANTHROPIC_BASE_URL", default="https://api.anthropic.com"),
    # Gemini's OpenAI-compatible endpoint (both adapters speak the OpenAI wire format to it).
    "gemini": env.str(
        "SPARK_GEMINI_BASE_URL",
        default="https://generativelanguage.googleapis.com/v1beta/openai",
    ),
    "xai": env.str("SPARK_XAI_BASE_URL", default="https://api.x.ai/v1"),
    "openrouter": env.str("SPARK_OPENROUTER_BASE_URL", default="https://openrouter.ai/api/v1"),
    # Default for openai_compatible models whose catalogue entry has no base URL.
    "openai_compatible": env.str("SPARK_OPENAI_COMPATIBLE_BASE_URL", default=""),
}

# Providers whose streaming goes through litellm instead of Spark's lean adapter ("*": all).
SPARK_LLM_FORCE_LITELLM: list[str] = env.list("SPARK_LLM_FORCE_LITELLM", default=[])
# Non-streamed calls (the watchdog's evaluators, auto-fill) go through the lean adapter of
# providers that have one (the OpenAI-compatible and Anthropic formats), which collects a
# stream: litellm costs ~6 ms of CPU more per call, which made the LLM guard miss its
# "delay + 5 ms" aim (docs/performance.md, the watchdog). False: litellm for all.
SPARK_LLM_LEAN_COMPLETE = env.bool("SPARK_LLM_LEAN_COMPLETE", default=True)
# Connection pool of the shared HTTP client (per process and event loop).
SPARK_LLM_MAX_CONNECTIONS = env.int("SPARK_LLM_MAX_CONNECTIONS", default=500)
SPARK_LLM_CONNECT_TIMEOUT = env.float("SPARK_LLM_CONNECT_TIMEOUT", default=10.0)

# Fernet keys (comma-separated, newest first) that encrypt stored secrets such as BYOK
# keys. Production requires them; dev and tests derive an insecure key from SECRET_KEY.
SPARK_ENCRYPTION_KEYS: list[str] = env.list("SPARK_ENCRYPTION_KEYS", default=[])
# Every encrypted column, as "app_label.Model.field": `manage.py rotate_encryption_keys`
# re-encrypts them all with the first key.
SPARK_ENCRYPTED_FIELDS = ["llm.UserProviderKey.ciphertext"]
