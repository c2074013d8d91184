"""Production: refuses to start without its secrets; `check --deploy` is clean."""

import os

from django.core.exceptions import ImproperlyConfigured

from spark.settings.components import env

REQUIRED = (
    "DJANGO_SECRET_KEY",
    "SPARK_PASSWORD_PEPPER",
    "DATABASE_URL",
    "ALLOWED_HOSTS",
    "SPARK_ENCRYPTION_KEYS",
)


def _require(names: tuple[str, ...]) -> None:
    missing = [name for name in names if not os.environ.get(name, "").strip()]
    if missing:
        raise ImproperlyConfigured(
            "Production settings need these environment variables: " + ", ".join(missing)
        )


_require(REQUIRED)

from spark.settings.base import *  # noqa: E402, F403

DEBUG = False
SPARK_DEMO_SEED_ALLOWED = env.bool("SPARK_DEMO_SEED_ALLOWED", default=False)
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

# TLS ends at nginx, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Staff must have TOTP set up before the admin console opens.
SPARK_STAFF_MFA_REQUIRED = env.bool("SPARK_STAFF_MFA_REQUIRED", default=True)

if env.bool("SPARK_S3_STORAGE", default=False):
    # Downloads: a presigned S3 URL (querystring_expire below) after Spark's check.
    SPARK_FILE_SERVE_MODE = env.str("SPARK_FILE_SERVE_MODE", default="") or "redirect"
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
        },
    }
