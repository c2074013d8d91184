"""The REST API mounted at /api/v1/: every app's API routes, and the OpenAPI schema."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from spark.common.views import api_not_found

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("marketplace.api.urls")),
    path("", include("security.api.urls")),
    path("", include("chat.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's script as a file, so CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    # Last: whatever no API route matched is the API's JSON 404 (spark.urls does the same
    # for the OpenAI-compatible /v1/ routes).
    re_path(r"^api/(?P<path>.*)$", api_not_found, name="api_not_found"),
]
