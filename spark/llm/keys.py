"""Which credentials a call may use, healthiest first: the user's own keys (BYOK) and/or
the platform's key pool, per the user's key mode."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.utils.translation import gettext as _

from spark.common.crypto import DecryptionError, decrypt_str
from spark.llm.errors import NoCredentials
from spark.llm.health import health_board
from spark.llm.models import ByokProvider, LLMModel, UserProviderKey
from spark.llm.types import ChatRequest, Credentials, KeyContext
from spark.tenancy.context import unscoped

BYOK_PROVIDERS = frozenset(ByokProvider.values)
KEYLESS_PROVIDERS = frozenset({"openai_compatible"})  # a local Ollama needs no key
_CATALOGUE_SECONDS = 60.0
_catalogue_urls: dict[tuple[str, str], tuple[float, str]] = {}


def platform_key_id(provider: str, api_key: str) -> str:
    """A stable, non-secret id for a pool key (health scores, ``KeyUsed``)."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()[:12]
    return f"platform:{provider}:{digest}"


def provider_base_url(provider: str) -> str:
    return str(settings.SPARK_PROVIDER_BASE_URLS.get(provider, ""))


async def _catalogue_base_url(provider: str, model: str) -> str:
    """The catalogue's base URL for an OpenAI-compatible model (cached for a minute)."""
    cached = _catalogue_urls.get((provider, model))
    if cached is not None and time.monotonic() - cached[0] < _CATALOGUE_SECONDS:
        return cached[1]
    url = await (
        LLMModel.objects.filter(provider=provider, model_id=model)
        .exclude(base_url="")
        .values_list("base_url", flat=True)
        .afirst()
    )
    _catalogue_urls[(provider, model)] = (time.monotonic(), url or "")
    return url or ""


async def base_url_for(request: ChatRequest) -> str:
    """Where to send the request: ``metadata["base_url"]``, the catalogue (compatible
    servers), or the provider's setting."""
    explicit = request.metadata.get("base_url")
    if explicit:
        return str(explicit)
    if request.provider == "openai_compatible":
        url = await _catalogue_base_url(request.provider, request.model)
        if url:
            return url
    return provider_base_url(request.provider)


def platform_credentials(provider: str, base_url: str) -> list[Credentials]:
    keys = [k for k in settings.SPARK_PROVIDER_KEYS.get(provider, []) if k]
    return [
        Credentials(
            api_key=key,
            base_url=base_url,
            key_id=platform_key_id(provider, key),
            source="platform",
        )
        for key in dict.fromkeys(keys)
    ]


async def user_credentials(user_id: int, provider: str, base_url: str) -> list[Credentials]:
    """The user's own keys for ``provider``, decrypted (keys that no longer decrypt are skipped)."""
    if provider not in BYOK_PROVIDERS:
        return []
    with unscoped():  # the user's own rows, selected by their id: no other tenant's
        rows = [
            row
            async for row in UserProviderKey.objects.filter(
                user_id=user_id, provider=provider
            ).only("uuid", "ciphertext")
        ]
    credentials = []
    for row in rows:
        try:
            api_key = decrypt_str(row.ciphertext)
        except DecryptionError:
            continue
        credentials.append(
            Credentials(api_key=api_key, base_url=base_url, key_id=row.key_id, source="user")
        )
    return credentials


def _ordered(credentials: list[Credentials]) -> list[Credentials]:
    if len(credentials) < 2:
        return credentials
    by_id = {c.key_id: c for c in credentials if c.key_id}
    return [by_id[k] for k in health_board.order(list(by_id))]


async def resolve_credentials(request: ChatRequest, keys: KeyContext | None) -> list[Credentials]:
    """Every credential the call may try, in order; raises ``NoCredentials`` if none."""
    provider = request.provider
    if provider == "demo":
        return [Credentials(source="none")]
    base_url = await base_url_for(request)
    context = keys or KeyContext()
    mode = context.mode if context.user_id is not None else "system_only"
    own: list[Credentials] = []
    if mode in ("own_only", "prefer_own") and context.user_id is not None:
        own = await user_credentials(context.user_id, provider, base_url)
    platform: list[Credentials] = []
    if mode != "own_only":
        platform = platform_credentials(provider, base_url)
        if not platform and provider in KEYLESS_PROVIDERS and base_url:
            platform = [Credentials(base_url=base_url, key_id=f"keyless:{base_url}", source="none")]
    candidates = _ordered(own) + _ordered(platform)
    if not candidates:
        if mode == "own_only":
            message = _(
                "You have no API key of your own for %(provider)s. Add one under Settings → "
                "Provider keys."
            )
        else:
            message = _("No API key is configured for %(provider)s.")
        raise NoCredentials(message % {"provider": provider}, provider=provider)
    return candidates
