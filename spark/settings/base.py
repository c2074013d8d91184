"""Spark's settings: everything lives here, driven by environment variables.

dev.py, test.py and prod.py only adjust it. Each integration has a module under
components/. With no variables set this is the embedded default: SQLite, in-memory
cache and channel layer, Celery tasks run in-process, console email.
"""

from typing import Any

import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from spark.settings.components import BASE_DIR, env
from spark.settings.components.api import *  # noqa: F403
from spark.settings.components.auth import *  # noqa: F403
from spark.settings.components.billing import *  # noqa: F403
from spark.settings.components.celery import *  # noqa: F403
from spark.settings.components.chat import *  # noqa: F403
from spark.settings.components.database import *  # noqa: F403
from spark.settings.components.domains import *  # noqa: F403
from spark.settings.components.email import *  # noqa: F403
from spark.settings.components.landing import *  # noqa: F403
from spark.settings.components.llm import *  # noqa: F403
from spark.settings.components.observability import *  # noqa: F403
from spark.settings.components.ratelimits import *  # noqa: F403
from spark.settings.components.redis import *  # noqa: F403
from spark.settings.components.security import *  # noqa: F403
from spark.settings.components.watchdog import *  # noqa: F403

# Lets annotated generics such as admin.ModelAdmin[Model] work at run time.
django_stubs_ext.monkeypatch()

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="django-insecure-spark-dev-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", ".localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Reverse proxies whose forwarding headers are trusted (IPs or CIDRs). Nobody else's are.
SPARK_TRUSTED_PROXIES = env.list("SPARK_TRUSTED_PROXIES", default=[])
SPARK_SITE_NAME = env.str("SPARK_SITE_NAME", default="Spark")

INSTALLED_APPS = [
    "daphne",
    "security.admin_config.SparkAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_scopes",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.mfa",
    "allauth.usersessions",
    "sesame",
    "csp",
    "django_prometheus",
    # Spark, in layer order (ARCHITECTURE.md section 2).
    "spark.common",
    "spark.tenancy",
    "spark.llm",
    "spark.observability",
    "accounts",
    "security",
    "branding",
    "marketplace",
    "chat",
    "watchdog",
    "billing",
    "voice",
    "whatsapp_bridge",
]

MIDDLEWARE = [
    # First: blocks probes and banned clients before any other work (docs/security.md).
    "security.middleware.SecurityFilterMiddleware",
    # Requests and latency (django-prometheus): Before right after the filter, After last.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Landing hosts (user content, their own origin) are answered here, before sessions,
    # CSRF and authentication can read or set an app cookie (docs/marketplace.md).
    "marketplace.middleware.LandingMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.ApiKeyMiddleware",
    "spark.tenancy.middleware.TenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    # Turns django-ratelimit's Ratelimited into RATELIMIT_VIEW (a 429).
    "django_ratelimit.middleware.RatelimitMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# django-prometheus's database backends: the same engines, with their queries and errors
# counted (docs/operations.md). Its Redis cache backend needs django-redis, which Spark does
# not use: cache round trips show in the traces instead.
DATABASES = prometheus_databases(DATABASES)

ROOT_URLCONF = "spark.urls"
ASGI_APPLICATION = "spark.asgi.application"
WSGI_APPLICATION = "spark.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "spark.common.context_processors.site",
                "spark.common.context_processors.navigation",
                "branding.context_processors.theme",
            ],
        },
    },
]

# --- tenancy -----------------------------------------------------------------------
# Where a request acts: the Host chooses the site, the principal (session user, API key)
# the tenant; see docs/tenancy.md. Resolved by string so spark.tenancy imports no app.
SPARK_TENANT_RESOLVER = "accounts.tenancy.resolve_tenant"
# Paths served without a tenant: probes must not depend on the database.
SPARK_TENANT_EXEMPT_PATHS = ["/healthz", "/readyz", "/metrics", "/static/", "/internal/tls/ask"]
# What a members-only (enterprise) site shows to anyone not signed in as its member:
# signing in (and the closed sign-up notice), and the language switch.
SPARK_TENANT_MEMBERS_ONLY_OPEN_PATHS = ["/accounts/", "/i18n/", "/jsi18n/"]

# --- demo data (`make run`, `manage.py seed_demo`) -------------------------------------
SPARK_DEMO_SEED_ALLOWED = True
SPARK_DEMO_SEEDERS = [
    "accounts.demo.seed_demo_accounts",
    "marketplace.demo.seed_demo_prompts",
    "billing.demo.seed_demo_credit",
    "watchdog.demo.seed_demo_watchdog",
]

# --- navigation: each app's links, shown to whom they open for (spark/common/navigation.py)
SPARK_NAVIGATION = [
    "chat.navigation.nav_links",
    "marketplace.navigation.nav_links",
    "billing.navigation.nav_links",
    "accounts.navigation.nav_links",
]

# What each model in the chat's picker costs this person and whether they can afford it
# (a dotted path, so chat needs no import of billing; empty: no prices shown).
SPARK_CHAT_MODEL_OFFERS = "billing.offers.model_offers"

# How many answers of a prompt were rated up and down, for its creator's statistics (a
# dotted path: marketplace must not import chat; empty: the statistics leave them out).
SPARK_PROMPT_FEEDBACK_COUNTS = "chat.selectors.feedback_counts_for_prompt"

# --- tools a prompt may enable ----------------------------------------------------------
# Names and labels only: marketplace validates prompts against these names, and chat
# registers an implementation under each name (marketplace must not import chat).
SPARK_TOOL_CHOICES = [
    ("web_search", _("Web search")),
    ("generate_image", _("Image generation")),
]

# --- i18n --------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- static and media ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- security headers (stricter values in prod.py) --------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # litellm and httpx (the lean adapters' client) log every call at INFO.
        "LiteLLM": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}
