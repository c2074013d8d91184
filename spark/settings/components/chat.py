"""Chat: the send pipeline, streaming, tools."""

from spark.settings.components import env
from spark.settings.components.redis import REDIS_URL

# The send pipeline's stages, in order (ARCHITECTURE.md section 4). Billing and the
# watchdog insert theirs here.
SPARK_PIPELINE = [
    "chat.stages.AccessGate",
    "billing.stages.BudgetGate",
    "watchdog.stages.PreWatchdog",
    "chat.stages.BuildContext",
    "watchdog.stages.OutputGuard",
    "chat.stages.Generate",
    "billing.stages.Settle",
    "watchdog.stages.SchedulePost",
]

# Records model usage that happens outside a turn (the post-watchdog's evaluator):
# a dotted path to a callable, provided by billing; empty records nothing.
SPARK_EXTRA_USAGE_RECORDER = "billing.services.extra_usage_record"

# The model a conversation without a prompt uses (a catalogue slug).
SPARK_DEFAULT_MODEL = env.str("SPARK_DEFAULT_MODEL", default="demo")

# Tools the model may call, by name; prompts enable them by name.
SPARK_TOOLS = {
    "web_search": "chat.tools.web_search.WebSearch",
    "generate_image": "chat.tools.images.GenerateImage",
}
# The catalogue model (slug) generate_image draws with. An image is charged at its tool
# price by size and quality (the catalogue's tool prices, in the admin).
SPARK_IMAGE_MODEL = env.str("SPARK_IMAGE_MODEL", default="openai-gpt-image-1")
# Tools offered in conversations without a prompt.
SPARK_DEFAULT_TOOLS = env.list("SPARK_DEFAULT_TOOLS", default=[])
SPARK_TOOL_MAX_ROUNDS = env.int("SPARK_TOOL_MAX_ROUNDS", default=4)
SPARK_WEB_SEARCH_URL = env.str("SPARK_WEB_SEARCH_URL", default="")
SPARK_WEB_SEARCH_API_KEY = env.str("SPARK_WEB_SEARCH_API_KEY", default="")

# Pace of the offline demo model's stream (milliseconds between words).
SPARK_DEMO_STREAM_DELAY_MS = env.int("SPARK_DEMO_STREAM_DELAY_MS", default=15)

SPARK_MAX_MESSAGE_CHARS = env.int("SPARK_MAX_MESSAGE_CHARS", default=32_000)
# How many of a conversation's latest messages the chat page opens with (1 to 200); the
# reader loads earlier ones, as many at a time, by scrolling up.
SPARK_CHAT_PAGE_MESSAGES = env.int("SPARK_CHAT_PAGE_MESSAGES", default=100)
# Streamed text is sent in frames gathered over this many milliseconds.
# (An answer's first words go out at once; 40 ms keeps reading smooth and halves the
# frames a fast model costs: docs/performance.md.)
SPARK_DELTA_FLUSH_MS = env.int("SPARK_DELTA_FLUSH_MS", default=40)
# A streaming answer is saved to the database at least this often.
SPARK_STREAM_PERSIST_SECONDS = env.float("SPARK_STREAM_PERSIST_SECONDS", default=0.5)
# How often a running answer checks whether another web instance asked to stop it.
SPARK_CANCEL_POLL_SECONDS = env.float("SPARK_CANCEL_POLL_SECONDS", default=0.5)
# A socket following an answer that fell silent this long fetches what it missed.
SPARK_CATCH_UP_SECONDS = env.float("SPARK_CATCH_UP_SECONDS", default=2.0)
SPARK_STREAM_HEARTBEAT_SECONDS = env.float("SPARK_STREAM_HEARTBEAT_SECONDS", default=10.0)
# An answer not saved for this long is treated as abandoned (its process died).
SPARK_STREAM_STALE_SECONDS = env.int("SPARK_STREAM_STALE_SECONDS", default=60)
# How long the events of a streamed answer are kept for clients that resume.
SPARK_REPLAY_TTL_SECONDS = env.int("SPARK_REPLAY_TTL_SECONDS", default=900)
# Where they are kept: Redis (every web instance reads the same buffer), in-process without.
SPARK_REPLAY_REDIS_URL = env.str("SPARK_REPLAY_REDIS_URL", default=REDIS_URL)
