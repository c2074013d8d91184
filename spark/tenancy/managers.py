"""TenantManager: the fail-closed default manager of every tenant-owned model.

It is django-scopes' ``ScopedManager(tenant="tenant")``, given a class name so that
models and the type checker can refer to it: with no tenant scope active, any query
through it raises ``ScopeError`` instead of returning every tenant's rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django_scopes import ScopedManager

_M = TypeVar("_M", bound=models.Model)

if TYPE_CHECKING:

    class TenantManager(models.Manager[_M]):
        def with_scope(self, **scope: Any) -> TenantManager[_M]: ...

        def with_scopes_disabled(self) -> TenantManager[_M]: ...

else:
    _ScopedOnTenant = type(ScopedManager(tenant="tenant"))

    class TenantManager(_ScopedOnTenant):
        """A manager scoped on the ``tenant`` field (django-scopes, fail-closed)."""

        def __class_getitem__(cls, item: Any) -> type:
            return cls
