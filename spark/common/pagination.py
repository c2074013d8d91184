"""Pagination that refuses malformed parameters instead of silently ignoring them, and
says its bounds in the OpenAPI schema (so the schema and the answers agree)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView


class StrictPageSizeMixin:
    page_size: int
    page_size_query_param: str | None = "page_size"
    max_page_size: int = 100

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param or "")
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    str(self.page_size_query_param): [
                        _("Must be a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)  # type: ignore[misc]
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
            elif parameter["name"] == getattr(self, "page_query_param", None):
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters


class StrictPageNumberPagination(StrictPageSizeMixin, PageNumberPagination):
    page_size = 50
    max_page_size = 100
    last_page_strings = ()  # the schema says a page is a number: no "last"

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        """DRF reads an empty ``page=`` as page 1; the schema says it is a number."""
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and not raw.isdigit():
            raise ValidationError({self.page_query_param: [_("Must be a whole number.")]})
        return super().get_page_number(request, paginator)


class StrictCursorPagination(StrictPageSizeMixin, CursorPagination):
    page_size = 50
    max_page_size = 200
