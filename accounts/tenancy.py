"""How a request, connection or task finds its tenant (SPARK_TENANT_RESOLVER).

A tenant domain in the Host header wins; else the user's home tenant (their
Membership); else the public tenant. Lookups are cached for a minute and invalidated
by the services that change them.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from accounts.models import Membership, Tenant, TenantDomain
from spark.tenancy.context import unscoped

CACHE_SECONDS = 60
_MISSING = 0


def _tenant_key(tenant_id: int) -> str:
    return f"spark:tenancy:tenant:{tenant_id}"


def _host_key(host: str) -> str:
    return f"spark:tenancy:host:{host}"


def _user_key(user_id: int) -> str:
    return f"spark:tenancy:user:{user_id}"


PUBLIC_KEY = "spark:tenancy:public"


def tenant_by_id(tenant_id: int) -> Tenant | None:
    tenant: Tenant | None = cache.get(_tenant_key(tenant_id))
    if tenant is None:
        tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
        if tenant is not None:
            cache.set(_tenant_key(tenant_id), tenant, CACHE_SECONDS)
    return tenant


def public_tenant() -> Tenant:
    tenant_id = cache.get(PUBLIC_KEY)
    if tenant_id is None:
        tenant_id = Tenant.objects.values_list("pk", flat=True).get(kind=Tenant.Kind.PUBLIC)
        cache.set(PUBLIC_KEY, tenant_id, None)
    tenant = tenant_by_id(tenant_id)
    if tenant is None:  # the public tenant was deactivated: fail loudly, not open
        raise Tenant.DoesNotExist("the public tenant is missing or inactive")
    return tenant


def tenant_for_host(host: str) -> Tenant | None:
    if not host:
        return None
    tenant_id = cache.get(_host_key(host))
    if tenant_id is None:
        with unscoped():
            tenant_id = (
                TenantDomain.objects.filter(host=host).values_list("tenant_id", flat=True).first()
            ) or _MISSING
        cache.set(_host_key(host), tenant_id, CACHE_SECONDS)
    return tenant_by_id(tenant_id) if tenant_id != _MISSING else None


def home_tenant(user: Any) -> Tenant:
    """The user's home tenant (the public tenant for a user without a membership)."""
    tenant_id = cache.get(_user_key(user.pk))
    if tenant_id is None:
        with unscoped():
            tenant_id = (
                Membership.objects.filter(user_id=user.pk)
                .values_list("tenant_id", flat=True)
                .first()
            ) or _MISSING
        cache.set(_user_key(user.pk), tenant_id, CACHE_SECONDS)
    tenant = tenant_by_id(tenant_id) if tenant_id != _MISSING else None
    return tenant or public_tenant()


def resolve_tenant(*, host: str | None, user: Any) -> Tenant:
    """SPARK_TENANT_RESOLVER: Host domain, else the user's home tenant, else public."""
    if host:
        tenant = tenant_for_host(host)
        if tenant is not None:
            return tenant
    if user is not None and getattr(user, "is_authenticated", False):
        return home_tenant(user)
    return public_tenant()


def forget_tenant(tenant_id: int) -> None:
    cache.delete(_tenant_key(tenant_id))


def forget_host(host: str) -> None:
    cache.delete(_host_key(host))


def forget_user(user_id: int) -> None:
    cache.delete(_user_key(user_id))
