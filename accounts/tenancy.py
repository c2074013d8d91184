"""How a request, connection, task or command finds its tenant (SPARK_TENANT_RESOLVER).

The Host chooses the **site** (a tenant domain, else the platform); the **principal**
chooses the tenant the request acts in:

- an API key acts only in the tenant it was created in; on another tenant's site it is
  refused (``tenant_mismatch``), never re-scoped;
- a signed-in user acts in their home tenant (their Membership; the public tenant when
  they have none). On another tenant's site they are a *visitor*: the request runs as
  anonymous in that site's tenant, so they see what anonymous visitors see and may sign
  up where the tenant allows it, but never read, write or spend inside it;
- an anonymous request is in the site's tenant, else the public tenant.

Lookups are cached for a minute and invalidated by the services that change them.
See docs/tenancy.md.
"""

from __future__ import annotations

from dataclasses import dataclass
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


TENANT_MISMATCH = "tenant_mismatch"


@dataclass(frozen=True)
class Resolution:
    """Where a request acts, and as whom.

    ``tenant`` is the tenant whose scope the request runs in; ``site`` the tenant whose
    domain the Host names (None: the platform host); ``user`` the principal acting (None
    for anonymous requests and visitors); ``visitor`` a signed-in user who is not a member
    of ``site`` (they act as anonymous there); ``refusal`` a code when the request must be
    refused before any view runs.
    """

    tenant: Tenant
    site: Tenant | None = None
    user: Any = None
    visitor: Any = None
    refusal: str | None = None

    @property
    def members_only(self) -> bool:
        """A request without a member principal on a site that shows nothing to outsiders."""
        return self.user is None and self.site is not None and site_is_members_only(self.site)


def site_is_members_only(tenant: Tenant) -> bool:
    """Enterprise sites show nothing to anonymous visitors but the sign-in pages."""
    return tenant.kind == Tenant.Kind.ENTERPRISE


def is_member(user: Any, tenant: Tenant) -> bool:
    """Whether ``user`` belongs to ``tenant`` (their home tenant is ``tenant``)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(home_tenant(user).pk == tenant.pk)


def resolve_tenant(*, host: str | None, user: Any, api_key: Any = None) -> Resolution:
    """SPARK_TENANT_RESOLVER: the one rule for HTTP, WebSockets, tasks and commands."""
    site = tenant_for_host(host) if host else None
    if api_key is not None:
        key_tenant = tenant_by_id(api_key.tenant_id)
        if key_tenant is None or (site is not None and site.pk != key_tenant.pk):
            return Resolution(tenant=site or public_tenant(), site=site, refusal=TENANT_MISMATCH)
        if home_tenant(api_key.user).pk != key_tenant.pk:
            # The key's owner has left the tenant the key was made in: it acts nowhere.
            return Resolution(tenant=key_tenant, site=site, refusal=TENANT_MISMATCH)
        return Resolution(tenant=key_tenant, site=site, user=api_key.user)
    if user is not None and getattr(user, "is_authenticated", False):
        home = home_tenant(user)
        if site is None or site.pk == home.pk:
            return Resolution(tenant=home, site=site, user=user)
        return Resolution(tenant=site, site=site, visitor=user)
    return Resolution(tenant=site or public_tenant(), site=site)


def principal_tenant(*, user: Any, api_key: Any = None) -> Tenant:
    """The tenant a principal acts in, with no Host (Celery tasks, management commands)."""
    resolution = resolve_tenant(host=None, user=user, api_key=api_key)
    if resolution.refusal is not None:
        raise Tenant.DoesNotExist(f"{resolution.refusal}: the key's owner left its tenant")
    return resolution.tenant


def forget_tenant(tenant_id: int) -> None:
    cache.delete(_tenant_key(tenant_id))


def forget_host(host: str) -> None:
    cache.delete(_host_key(host))


def forget_user(user_id: int) -> None:
    cache.delete(_user_key(user_id))
