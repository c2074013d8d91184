"""Strict DRF input fields: a JSON string, boolean or integer, and nothing coerced into one.

DRF's own fields accept ``940`` where a string is expected and ``"true"`` for a boolean;
an API described by an OpenAPI schema should refuse what the schema refuses (the fuzz
test in tests/fuzz checks it). Use these for every field a client writes.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class CharField(serializers.CharField):
    default_error_messages = {"not_a_string": _("Must be a string.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class BooleanField(serializers.BooleanField):
    default_error_messages = {"not_a_boolean": _("Must be true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("not_a_boolean")
        return data


class IntegerField(serializers.IntegerField):
    default_error_messages = {"not_an_integer": _("Must be a whole number.")}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer")
        return super().to_internal_value(data)  # type: ignore[no-any-return]


class SlugRelatedField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    """An object named by its slug: a string, and never one with a NUL character, which
    PostgreSQL cannot even compare (the lookup would fail with a server error)."""

    default_error_messages = {"not_a_string": _("Must be a string.")}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)
