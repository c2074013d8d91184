"""The security layer: request filter and bans, Cloudflare, outbound fetching, uploads,
audit retention, headers (CSP, Permissions-Policy) and staff MFA. See docs/security.md."""

from csp.constants import NONCE, NONE, SELF

from spark.settings.components import env
from spark.settings.components.auth import GOOGLE_OAUTH_BASE_URL

# --- request filter (security.middleware.SecurityFilterMiddleware, first in MIDDLEWARE) ---
SPARK_FILTER_ENABLED = env.bool("SPARK_FILTER_ENABLED", default=True)
# Rule files (one pattern a line) compiled once into a single matcher.
SPARK_FILTER_RULE_FILES: list[str] = []  # empty: every security/rules/*.txt
# Paths never filtered (probes, static files, landing-page assets).
SPARK_FILTER_EXEMPT_PATHS = [
    "/healthz",
    "/readyz",
    "/static/",
    "/favicon.ico",
    "/robots.txt",
    "/assets/",
]
# Client IPs/CIDRs never filtered or banned (monitoring, office).
SPARK_FILTER_ALLOWLIST = env.list("SPARK_FILTER_ALLOWLIST", default=[])
# Repeated 404s: this many within the window bans the client (more for declared good bots).
SPARK_FILTER_404_LIMIT = env.int("SPARK_FILTER_404_LIMIT", default=10)
SPARK_FILTER_404_LIMIT_GOOD_BOTS = env.int("SPARK_FILTER_404_LIMIT_GOOD_BOTS", default=60)
SPARK_FILTER_404_WINDOW = env.int("SPARK_FILTER_404_WINDOW", default=180)
# Failed sign-ins and invalid API keys from one IP within the window ban it.
SPARK_FILTER_AUTH_FAILURE_LIMIT = env.int("SPARK_FILTER_AUTH_FAILURE_LIMIT", default=20)
SPARK_FILTER_AUTH_FAILURE_WINDOW = env.int("SPARK_FILTER_AUTH_FAILURE_WINDOW", default=600)
# User-agent substrings of crawlers that get the higher 404 threshold (as declared, not verified).
SPARK_FILTER_GOOD_BOTS = [
    "googlebot",
    "bingbot",
    "duckduckbot",
    "applebot",
    "yandexbot",
    "baiduspider",
    "slurp",
    "facebookexternalhit",
    "linkedinbot",
    "twitterbot",
]
# Ban lengths in seconds for the 1st, 2nd, 3rd... offence (the last one repeats).
SPARK_BAN_DURATIONS = [
    int(s) for s in env.list("SPARK_BAN_DURATIONS", default=["900", "3600", "86400"])
]
# Each process remembers a ban lookup this long (seconds; 0 = ask the cache every time), so
# an ordinary request costs no Redis round trip; bans reach other instances within it.
SPARK_FILTER_BAN_MEMO_SECONDS = env.float("SPARK_FILTER_BAN_MEMO_SECONDS", default=2.0)
# How long past offences count towards a longer ban.
SPARK_BAN_MEMORY_SECONDS = env.int("SPARK_BAN_MEMORY_SECONDS", default=30 * 24 * 3600)

# --- Cloudflare (persistent offenders become IP access rules) -----------------------------
# Honour CF-Connecting-IP (only from SPARK_TRUSTED_PROXIES peers).
SPARK_CLOUDFLARE_ENABLED = env.bool("SPARK_CLOUDFLARE_ENABLED", default=False)
SPARK_CLOUDFLARE_API_BASE = env.str(
    "SPARK_CLOUDFLARE_API_BASE", default="https://api.cloudflare.com/client/v4"
)
SPARK_CLOUDFLARE_API_TOKEN = env.str("SPARK_CLOUDFLARE_API_TOKEN", default="")
SPARK_CLOUDFLARE_ZONE_ID = env.str("SPARK_CLOUDFLARE_ZONE_ID", default="")
# A client banned this many times (within SPARK_BAN_MEMORY_SECONDS) is blocked at Cloudflare.
SPARK_CLOUDFLARE_ESCALATE_AFTER = env.int("SPARK_CLOUDFLARE_ESCALATE_AFTER", default=3)
SPARK_CLOUDFLARE_BLOCK_SECONDS = env.int("SPARK_CLOUDFLARE_BLOCK_SECONDS", default=7 * 24 * 3600)
SPARK_CLOUDFLARE_TIMEOUT = 10.0

# --- outbound fetching (security.fetch) ----------------------------------------------------
SPARK_FETCH_TIMEOUT = env.float("SPARK_FETCH_TIMEOUT", default=10.0)
SPARK_FETCH_MAX_BYTES = env.int("SPARK_FETCH_MAX_BYTES", default=10 * 1024 * 1024)
SPARK_FETCH_MAX_REDIRECTS = env.int("SPARK_FETCH_MAX_REDIRECTS", default=5)
SPARK_FETCH_USER_AGENT = "SparkFetch/1.0"
# How host names are resolved (a function (host, port) -> list of IP strings).
SPARK_FETCH_RESOLVER = "security.fetch.system_resolver"
# Test-only: loopback ports the fetcher may reach (local fakes). Closed by default.
SPARK_FETCH_ALLOW_LOOPBACK_PORTS: list[int] = []

# --- uploads (security.uploads) ------------------------------------------------------------
# Size caps in bytes per kind of upload.
SPARK_UPLOAD_MAX_BYTES = {
    "image": env.int("SPARK_UPLOAD_MAX_IMAGE_BYTES", default=10 * 1024 * 1024),
    "avatar": 2 * 1024 * 1024,
    "document": env.int("SPARK_UPLOAD_MAX_DOCUMENT_BYTES", default=20 * 1024 * 1024),
    "audio": env.int("SPARK_UPLOAD_MAX_AUDIO_BYTES", default=25 * 1024 * 1024),
}
# Images above this many pixels are refused before decoding (decompression bombs).
SPARK_UPLOAD_MAX_PIXELS = env.int("SPARK_UPLOAD_MAX_PIXELS", default=40_000_000)
# Lifetime of signed download links, in seconds.
SPARK_FILE_URL_MAX_AGE = env.int("SPARK_FILE_URL_MAX_AGE", default=300)
# How downloads are sent: "django" (streamed by the app) or "x-accel" (nginx serves the
# file from SPARK_FILE_X_ACCEL_PREFIX after Spark's check).
SPARK_FILE_SERVE_MODE = env.str("SPARK_FILE_SERVE_MODE", default="") or "django"
SPARK_FILE_X_ACCEL_PREFIX = "/protected-files/"

# --- audit log ---------------------------------------------------------------------------
SPARK_AUDIT_RETENTION_DAYS = env.int("SPARK_AUDIT_RETENTION_DAYS", default=365)

# --- admin console -------------------------------------------------------------------------
# Staff must set up TOTP before using /admin/ (on in production).
SPARK_STAFF_MFA_REQUIRED = env.bool("SPARK_STAFF_MFA_REQUIRED", default=False)

# --- headers: Content-Security-Policy (django-csp 4) and Permissions-Policy -----------------
_SELF = SELF
# Browsers apply form-action to the redirect that follows a form POST: signing in with
# Google and paying through Stripe Checkout post to Spark, which redirects there.
_FORM_TARGETS = [_SELF, "https://accounts.google.com", "https://checkout.stripe.com"]
if GOOGLE_OAUTH_BASE_URL:
    _FORM_TARGETS.append(GOOGLE_OAUTH_BASE_URL.rstrip("/"))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        # Spark's own scripts are files under /static/; a nonce admits the rare inline one.
        "script-src": [_SELF, NONCE],
        # The Django admin and Swagger UI set style attributes; styles cannot run code.
        "style-src": [_SELF, "'unsafe-inline'"],
        "img-src": [_SELF, "data:", "blob:"],
        "font-src": [_SELF, "data:"],
        "connect-src": [_SELF],
        "media-src": [_SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [_SELF],
        "form-action": _FORM_TARGETS,
        "frame-ancestors": [NONE],
        "worker-src": [_SELF, "blob:"],
    },
}
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": ["self"],  # voice input
    "payment": [],
    "usb": [],
    "browsing-topics": [],
}
