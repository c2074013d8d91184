"""Authentication: allauth (password, email links, Google), the peppered hasher, sessions."""

from spark.settings.components import env

AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "accounts.backends.SparkAuthenticationBackend",
    # Only used to check email sign-in link tokens (accounts.views.magic_link_login).
    "sesame.backends.ModelBackend",
]

# Argon2id over HMAC-SHA256(pepper, password). Hashes made by a hasher further down the
# list still verify and are rehashed with the first one on the next successful login.
PASSWORD_HASHERS = [
    "accounts.hashers.PepperedArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# The pepper is a server-side secret kept out of the database. Previous peppers (comma
# separated) still verify during a rotation and trigger a rehash with the current one.
SPARK_PASSWORD_PEPPER = env.str("SPARK_PASSWORD_PEPPER", default="spark-insecure-dev-pepper")
SPARK_PASSWORD_PEPPERS_PREVIOUS = env.list("SPARK_PASSWORD_PEPPERS_PREVIOUS", default=[])

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
# Every way of signing in (password, email link, Google, sign-up, email confirmation) lands
# on the chat unless a safe, same-site `next` says otherwise. A URL name: resolved, never
# used as a relative path.
LOGIN_REDIRECT_URL = "chat:app"
LOGOUT_REDIRECT_URL = "home"

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- allauth -----------------------------------------------------------------------
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("SPARK_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Spark] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("SPARK_HTTP_PROTOCOL", default="http")
# One place for rate limits: django-ratelimit in accounts.ratelimits (see docs/accounts.md).
ACCOUNT_RATE_LIMITS = False
ACCOUNT_FORMS = {
    "reset_password": "accounts.forms.SparkResetPasswordForm",
}
# Tracking "last seen" would write to the database on every request; sessions are listed
# and revoked without it.
USERSESSIONS_TRACK_ACTIVITY = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Spark"

# --- magic links (django-sesame tokens, consumed through allauth's login flow) ---------
SESAME_MAX_AGE = env.int("SPARK_MAGIC_LINK_MAX_AGE", default=15 * 60)
SESAME_ONE_TIME = True
SESAME_TOKEN_NAME = "token"  # noqa: S105 - the query parameter name, not a secret

# --- Google (enabled when its client id and secret are configured) -------------------
GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = env.str("GOOGLE_CLIENT_SECRET", default="")
GOOGLE_LOGIN_ENABLED = bool(GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET)
# Base URL of Google's OAuth endpoints; only changed to point at a local fake in tests.
GOOGLE_OAUTH_BASE_URL = env.str("SPARK_GOOGLE_OAUTH_BASE_URL", default="")


def google_provider_settings(client_id: str, secret: str, base_url: str) -> dict[str, object]:
    """allauth's settings for the Google provider, optionally pointed at another base URL."""
    provider: dict[str, object] = {
        "APPS": [{"client_id": client_id, "secret": secret, "key": ""}],
        "SCOPE": ["profile", "email"],
        "AUTH_PARAMS": {"access_type": "online"},
        "OAUTH_PKCE_ENABLED": True,
    }
    if base_url:
        base = base_url.rstrip("/")
        provider.update(
            {
                "AUTHORIZE_URL": f"{base}/o/oauth2/v2/auth",
                "ACCESS_TOKEN_URL": f"{base}/token",
                "IDENTITY_URL": f"{base}/oauth2/v2/userinfo",
                "CERTS_URL": f"{base}/oauth2/v1/certs",
                "ID_TOKEN_ISSUER": base,
            }
        )
    return provider


SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {}
if GOOGLE_LOGIN_ENABLED:
    SOCIALACCOUNT_PROVIDERS["google"] = google_provider_settings(
        GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, GOOGLE_OAUTH_BASE_URL
    )
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
