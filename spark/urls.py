"""Spark's URLs: pages, accounts, the admin console, the API, health probes."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from accounts import views as account_views
from chat import openai_api
from spark.common import views as common_views
from spark.observability import views as observability_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", common_views.healthz, name="healthz"),
    path("readyz", common_views.readyz, name="readyz"),
    path("metrics", observability_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("accounts.urls")),
    path("", include("branding.urls")),
    path("", include("marketplace.urls")),
    path("", include("security.urls")),
    path("", include("chat.urls")),
    path("", include("billing.urls")),
    path("", include("watchdog.urls")),
    path("", include("spark.api")),
    # The OpenAI-compatible API (any OpenAI client, with a Spark API key).
    path("v1/chat/completions", openai_api.chat_completions, name="openai_chat_completions"),
    path("v1/models", openai_api.models, name="openai_models"),
    re_path(r"^v1/(?P<path>.*)$", common_views.api_not_found, name="openai_not_found"),
]

# Uploaded files (avatars) in development; production serves MEDIA_URL from its storage.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "spark.common.views.bad_request"
handler403 = "spark.common.views.permission_denied"
handler404 = "spark.common.views.page_not_found"
handler500 = "spark.common.views.server_error"
