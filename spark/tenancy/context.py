"""The active tenant scope.

``tenant_scope(tenant)`` activates a tenant for the code inside it; ``unscoped()`` is the
explicit, greppable way to reach every tenant's rows (admin, migrations, platform-wide
tasks). ``current_tenant()`` returns the active tenant or ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string
from django_scopes import get_scope, scope, scopes_disabled

if TYPE_CHECKING:
    from django.db.models import Model

__all__ = ["current_tenant", "get_resolver", "resolve_tenant", "tenant_scope", "unscoped"]


@contextmanager
def tenant_scope(tenant: Model | None) -> Iterator[None]:
    """Activate ``tenant`` for the queries inside the block (None matches no rows).

    django-scopes treats a ``None`` value as "no filter", so ``None`` is passed on as an
    empty list (``tenant__in=[]``): a missing tenant sees nothing, never everything.
    """
    with scope(tenant=tenant if tenant is not None else []):
        yield


@contextmanager
def unscoped() -> Iterator[None]:
    """Disable tenant scoping for the block. Admin, migrations and platform tasks only."""
    with scopes_disabled():
        yield


def current_tenant() -> Any:
    state = get_scope()
    if not state.get("_enabled", False):
        return None
    tenant = state.get("tenant")
    return None if isinstance(tenant, list) else tenant


@lru_cache(maxsize=1)
def get_resolver() -> Callable[..., Any]:
    return import_string(settings.SPARK_TENANT_RESOLVER)  # type: ignore[no-any-return]


def resolve_tenant(*, host: str | None, user: Any, api_key: Any = None) -> Any:
    """Where a request by this principal on this host acts (SPARK_TENANT_RESOLVER).

    Returns the resolver's resolution: ``tenant`` (the scope), ``site``, ``user`` (the
    principal acting, None for anonymous requests and visitors), ``visitor`` and
    ``refusal`` (a code such as ``tenant_mismatch``), and ``members_only``.
    """
    return get_resolver()(host=host, user=user, api_key=api_key)
