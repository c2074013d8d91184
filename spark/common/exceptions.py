"""ApplicationError: a failure the caller should see, with a stable code and a status.

Every API error body is ``{"code": str, "message": str, "details"?: object}``; the one
DRF exception handler that produces it is ``spark.common.api_errors``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status


class ApplicationError(Exception):
    """A failure the caller should see: a stable code, a readable message, an HTTP status."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"

    def __init__(
        self,
        message: str | Any,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.code = code or self.default_code
        if status_code is not None:
            self.status_code = status_code
        self.details = details


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if details is not None:
        body["details"] = details
    return body
