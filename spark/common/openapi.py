"""drf-spectacular hook: every operation documents Spark's error answers.

All API errors share one body, ``{"code", "message", "details"?}`` (spark.common.api_errors);
the schema says so for each status an operation can answer with, so clients (and the
schemathesis fuzz test) can rely on it. A 429 carries ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse

HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Stable, machine-readable error code."},
        "message": {"type": "string", "description": "Readable explanation."},
        "details": {"description": "Extra data about the error (varies by code)."},
    },
    "required": ["code", "message"],
}

ERROR_REF = {"$ref": "#/components/schemas/Error"}
_JSON_ERROR = {"application/json": {"schema": ERROR_REF}}


def error_response(description: str) -> OpenApiResponse:
    """An operation's own error answer (a status beyond the shared ones), in the one shape."""
    return OpenApiResponse(ERROR_REF, description=description)


ERROR_RESPONSES: dict[str, dict[str, Any]] = {
    "400": {"description": "The request is invalid.", "content": _JSON_ERROR},
    "401": {"description": "Not authenticated, or the API key is invalid.", "content": _JSON_ERROR},
    "403": {
        "description": "Not allowed (or the client is banned by the request filter).",
        "content": {**_JSON_ERROR, "text/plain": {"schema": {"type": "string"}}},
    },
    "404": {"description": "Not found (also for other people's objects).", "content": _JSON_ERROR},
    "405": {"description": "Method not allowed.", "content": _JSON_ERROR},
    "406": {"description": "Not acceptable.", "content": _JSON_ERROR},
    "413": {"description": "The upload is too large.", "content": _JSON_ERROR},
    "415": {"description": "Unsupported media or file type.", "content": _JSON_ERROR},
    "429": {
        "description": "Too many requests.",
        "content": _JSON_ERROR,
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer"},
            }
        },
    },
}


def document_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: Any
) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: add the shared error responses to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in ERROR_RESPONSES.items():
                responses.setdefault(status, response)
    return result


NO_NUL_PATTERN = "^[^\\u0000]*$"


def _forbid_nul(schema: Any) -> None:
    if isinstance(schema, dict):
        if (
            schema.get("type") == "string"
            and "pattern" not in schema
            and "enum" not in schema
            and "format" not in schema
            and not schema.get("readOnly")
        ):
            schema["pattern"] = NO_NUL_PATTERN
        for value in schema.values():
            _forbid_nul(value)
    elif isinstance(schema, list):
        for value in schema:
            _forbid_nul(value)


def document_text_rules(
    result: dict[str, Any], generator: Any, request: Any, public: Any
) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: text fields refuse NUL characters (DRF's CharField
    does), so the schema says so for every string a client sends."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _forbid_nul(schema)
    return result


def _nullable_as_type(schema: Any) -> None:
    if isinstance(schema, dict):
        if schema.get("nullable") is True and isinstance(schema.get("type"), str):
            del schema["nullable"]
            schema["type"] = [schema["type"], "null"]
        for value in schema.values():
            _nullable_as_type(value)
    elif isinstance(schema, list):
        for value in schema:
            _nullable_as_type(value)


def document_nullable_types(
    result: dict[str, Any], generator: Any, request: Any, public: Any
) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: OpenAPI 3.1 has no ``nullable``; the schemas written by
    hand or by DRF (its paginators' ``next``/``previous``) that use it say ``type: [x,
    "null"]`` instead, as drf-spectacular does for its own."""
    _nullable_as_type(result)
    return result
