"""Rate limits (django-ratelimit, backed by the default cache). Rates are "count/period"."""

from spark.settings.components import env

RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "spark.common.views.rate_limited"
# The client IP comes from the one helper that trusts only SPARK_TRUSTED_PROXIES.
RATELIMIT_IP_META_KEY = "spark.common.net.client_ip_for_ratelimit"

SPARK_RATE_LIMITS = {
    "login_ip": env.str("SPARK_RATE_LOGIN_IP", default="30/10m"),
    "login_account": env.str("SPARK_RATE_LOGIN_ACCOUNT", default="10/10m"),
    "signup_ip": env.str("SPARK_RATE_SIGNUP_IP", default="10/h"),
    "magic_link_ip": env.str("SPARK_RATE_MAGIC_LINK_IP", default="10/10m"),
    "magic_link_account": env.str("SPARK_RATE_MAGIC_LINK_ACCOUNT", default="5/10m"),
    "password_reset_ip": env.str("SPARK_RATE_PASSWORD_RESET_IP", default="10/10m"),
    "password_reset_account": env.str("SPARK_RATE_PASSWORD_RESET_ACCOUNT", default="5/h"),
}
