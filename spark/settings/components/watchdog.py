"""The watchdog: evaluator defaults, timeouts and memory (docs/watchdog.md)."""

from spark.settings.components import env

# The evaluator model (a catalogue slug) when a policy names none. Empty: the model the
# conversation uses (the offline demo in the embedded default).
SPARK_WATCHDOG_DEFAULT_MODEL = env.str("SPARK_WATCHDOG_DEFAULT_MODEL", default="")
# The pre-watchdog's LLM guard holds the user's message: it gets this long to answer, then
# the policy's failure mode decides (allow or block).
SPARK_WATCHDOG_GUARD_TIMEOUT_SECONDS = env.float(
    "SPARK_WATCHDOG_GUARD_TIMEOUT_SECONDS", default=8.0
)
# The post-watchdog runs in a worker: it may take longer.
SPARK_WATCHDOG_POST_TIMEOUT_SECONDS = env.float("SPARK_WATCHDOG_POST_TIMEOUT_SECONDS", default=30.0)
# How many of its own verdicts the post-watchdog remembers per conversation (its memory in
# the evaluator's prompt, and the window in which late verdicts are still folded in order).
SPARK_WATCHDOG_MEMORY = env.int("SPARK_WATCHDOG_MEMORY", default=8)
# How many recent messages the evaluator sees.
SPARK_WATCHDOG_TRANSCRIPT_MESSAGES = env.int("SPARK_WATCHDOG_TRANSCRIPT_MESSAGES", default=8)
# How long a client-supplied text the pre-watchdog let through counts as judged (a client
# that re-sends it within this time is not judged again; rows older than this are swept).
SPARK_WATCHDOG_JUDGED_TTL_SECONDS = env.int("SPARK_WATCHDOG_JUDGED_TTL_SECONDS", default=604800)
# Each web process keeps prompts' policies this long before reading them again.
SPARK_WATCHDOG_POLICY_CACHE_SECONDS = env.float("SPARK_WATCHDOG_POLICY_CACHE_SECONDS", default=5.0)
# How often a creator may ask for an auto-filled policy (it calls a model).
SPARK_WATCHDOG_AUTOFILL_RATE = env.str("SPARK_WATCHDOG_AUTOFILL_RATE", default="20/h")
# The output guard (watchdog.stages.OutputGuard): stops an answer that reproduces its
# prompt's system prompt. A client never receives more than RUN_WORDS - 1 consecutive
# words of it (the guard holds back a suspect tail; docs/watchdog.md).
SPARK_WATCHDOG_OUTPUT_GUARD = env.bool("SPARK_WATCHDOG_OUTPUT_GUARD", default=True)
SPARK_WATCHDOG_OUTPUT_RUN_WORDS = env.int("SPARK_WATCHDOG_OUTPUT_RUN_WORDS", default=8)
# Light rewording: of the answer's last WINDOW pairs of content words, OVERLAP are the
# system prompt's.
SPARK_WATCHDOG_OUTPUT_WINDOW = env.int("SPARK_WATCHDOG_OUTPUT_WINDOW", default=10)
SPARK_WATCHDOG_OUTPUT_OVERLAP = env.int("SPARK_WATCHDOG_OUTPUT_OVERLAP", default=6)
