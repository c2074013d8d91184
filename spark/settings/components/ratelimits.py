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
    "mfa_ip": env.str("SPARK_RATE_MFA_IP", default="10/10m"),
    "reauthenticate_ip": env.str("SPARK_RATE_REAUTHENTICATE_IP", default="10/10m"),
    # security.ratelimit policies (docs/security.md): key by api key, user, tenant or IP.
    "api_key": env.str("SPARK_RATE_API_KEY", default="600/m"),
    "api_key_create": env.str("SPARK_RATE_API_KEY_CREATE", default="20/h"),
    "send_user": env.str("SPARK_RATE_SEND_USER", default="30/m"),
    "send_tenant": env.str("SPARK_RATE_SEND_TENANT", default="600/m"),
    "upload": env.str("SPARK_RATE_UPLOAD", default="30/10m"),
    "webhook": env.str("SPARK_RATE_WEBHOOK", default="300/m"),
    "export": env.str("SPARK_RATE_EXPORT", default="10/h"),
}
