"""Django REST framework and drf-spectacular."""

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "spark.common.pagination.StrictCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "spark.common.api_errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Spark API",
    "DESCRIPTION": (
        "Spark's REST API. Authenticate with `Authorization: Bearer <API key>`; "
        "create keys under Settings → API keys. Every error is JSON "
        '`{"code", "message", "details"?}`.'
    ),
    "VERSION": "1",
    # 3.1: JSON Schema 2020-12, whose contentMediaType/contentSchema describe the JSON
    # inside each server-sent event's data (chat/api/sse_schema.py).
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets are served by Spark itself (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "spark.common.openapi.document_error_responses",
        "spark.common.openapi.document_text_rules",
        "spark.common.openapi.document_nullable_types",
    ],
    # Several models have a "kind" field: name each choice set.
    "ENUM_NAME_OVERRIDES": {
        "TenantKindEnum": "accounts.models.Tenant.Kind",
        "StoredFileKindEnum": "security.models.StoredFile.Kind",
    },
}
