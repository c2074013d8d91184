"""The one DRF exception handler: every API error becomes ``{"code", "message", "details"?}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions as drf_exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

from spark.common.exceptions import ApplicationError, error_body

_DRF_CODES: dict[type[Exception], str] = {
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "authentication_failed",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "rate_limited",
    drf_exceptions.ParseError: "parse_error",
    drf_exceptions.ValidationError: "invalid",
}


def _drf_code(exc: drf_exceptions.APIException) -> str:
    for klass, code in _DRF_CODES.items():
        if isinstance(exc, klass):
            return code
    return str(exc.default_code)


def _validation_message(detail: Any) -> str:
    """The first readable message inside a DRF validation error's detail."""
    if isinstance(detail, dict):
        for field, value in detail.items():
            inner = _validation_message(value)
            return inner if field == "non_field_errors" else f"{field}: {inner}"
    if isinstance(detail, list) and detail:
        return _validation_message(detail[0])
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: one JSON shape for every error the API can return."""
    if isinstance(exc, ApplicationError):
        retry_after = getattr(exc, "retry_after", None)  # rate limits say when to come back
        return Response(
            error_body(exc.code, exc.message, exc.details),
            status=exc.status_code,
            headers={"Retry-After": str(retry_after)} if retry_after else None,
        )
    if isinstance(exc, Ratelimited):
        return Response(
            error_body("rate_limited", str(_("Too many requests. Please wait and try again."))),
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": "60"},
        )
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )

    response = drf_default_handler(exc, context)
    if response is None or not isinstance(exc, drf_exceptions.APIException):
        return response

    if isinstance(exc, drf_exceptions.ValidationError):
        body = error_body("invalid", _validation_message(exc.detail), exc.detail)
    else:
        body = error_body(_drf_code(exc), str(exc.detail))
    response.data = body
    return response
