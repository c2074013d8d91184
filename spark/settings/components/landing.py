"""Landing pages: the landing origin, its pages' limits, the AI wizard and analytics.

Landing pages are user content: they are served only on hosts under
SPARK_LANDING_DOMAIN (``<label>.<SPARK_LANDING_DOMAIN>``), an origin that is not the
app's (its own registrable domain in production, ``pages.localhost`` in the embedded
default), so the app's cookies never reach them (docs/marketplace.md).
"""

from spark.settings.components import env

# The landing origin's parent domain: each prompt's page is served on a subdomain of it.
# In production use a registrable domain of its own (e.g. "sparkpages.example"), never a
# subdomain of the app's domain.
SPARK_LANDING_DOMAIN = env.str("SPARK_LANDING_DOMAIN", default="pages.localhost").lower()
# The app's origin, for the links from a landing page back into the app (the call to
# action). Empty: the landing domain's parent on the request's scheme and port
# ("http://localhost:8000" for "pages.localhost" in the embedded default).
SPARK_APP_URL = env.str("SPARK_APP_URL", default="").rstrip("/")
# The largest page source (HTML or Markdown) and stylesheet a creator may save, in bytes.
SPARK_LANDING_MAX_SOURCE_BYTES = env.int("SPARK_LANDING_MAX_SOURCE_BYTES", default=200_000)
SPARK_LANDING_MAX_CSS_BYTES = env.int("SPARK_LANDING_MAX_CSS_BYTES", default=100_000)
# How long a signed preview link (the editor's sandboxed preview) stays valid, in seconds.
SPARK_LANDING_PREVIEW_MAX_AGE = env.int("SPARK_LANDING_PREVIEW_MAX_AGE", default=3600)

# --- the AI page wizard ---------------------------------------------------------------------
# The catalogue model (slug) that designs pages; its tokens are charged to the creator.
SPARK_LANDING_WIZARD_MODEL = env.str("SPARK_LANDING_WIZARD_MODEL", default="demo")
SPARK_LANDING_WIZARD_MAX_TOKENS = env.int("SPARK_LANDING_WIZARD_MAX_TOKENS", default=6000)

# --- analytics -------------------------------------------------------------------------------
# Days the per-day visitor fingerprints (keyed hashes, never IPs) are kept to count unique
# visitors; daily totals are kept for SPARK_LANDING_STATS_RETENTION_DAYS.
SPARK_LANDING_VISITOR_HASH_DAYS = env.int("SPARK_LANDING_VISITOR_HASH_DAYS", default=2)
SPARK_LANDING_STATS_RETENTION_DAYS = env.int("SPARK_LANDING_STATS_RETENTION_DAYS", default=730)
