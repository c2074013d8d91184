"""The demo data `make run` seeds: tenants of every kind and one account per role."""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.db import transaction

from accounts import services
from accounts.models import Membership, Tenant, User
from spark.tenancy.context import unscoped

DEMO_PASSWORD = "spark-demo-2026"  # noqa: S105 - printed for newcomers; demo installs only


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    kind: str
    allows_signup: bool
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoUser:
    email: str
    display_name: str
    tenant_slug: str
    role: str
    description: str
    is_staff: bool = False


DEMO_TENANTS = (
    DemoTenant(
        "acme",
        "Acme Corp",
        Tenant.Kind.ENTERPRISE,
        allows_signup=False,
        domains=("acme.localhost",),
    ),
    DemoTenant(
        "curio", "Curio", Tenant.Kind.CURATOR, allows_signup=True, domains=("curio.localhost",)
    ),
)

DEMO_USERS = (
    DemoUser(
        "admin@spark.local",
        "Ada Admin",
        Tenant.PUBLIC_SLUG,
        Membership.Role.OWNER,
        "platform admin (console at /admin/)",
        is_staff=True,
    ),
    DemoUser(
        "manager@acme.example",
        "Mona Manager",
        "acme",
        Membership.Role.MANAGER,
        "enterprise manager (pays for the Acme team)",
    ),
    DemoUser(
        "member@acme.example",
        "Theo Teammate",
        "acme",
        Membership.Role.MEMBER,
        "enterprise team member",
    ),
    DemoUser(
        "curator@curio.example",
        "Cora Curator",
        "curio",
        Membership.Role.OWNER,
        "curator (white-label site at {curio})",
    ),
    DemoUser(
        "reader@curio.example",
        "Rex Reader",
        "curio",
        Membership.Role.MEMBER,
        "a user of the curator's site",
    ),
    DemoUser(
        "creator@spark.local",
        "Cleo Creator",
        Tenant.PUBLIC_SLUG,
        Membership.Role.MEMBER,
        "creator (sells prompts)",
    ),
    DemoUser(
        "user@spark.local", "Pat User", Tenant.PUBLIC_SLUG, Membership.Role.MEMBER, "plain user"
    ),
)


@dataclass(frozen=True)
class SeededUser:
    demo: DemoUser
    created: bool


@transaction.atomic
def seed_demo() -> list[SeededUser]:
    """Create what is missing; never touch what exists (safe to run again)."""
    tenants = {Tenant.PUBLIC_SLUG: Tenant.objects.get(kind=Tenant.Kind.PUBLIC)}
    for tenant_spec in DEMO_TENANTS:
        tenant = Tenant.objects.filter(slug=tenant_spec.slug).first()
        if tenant is None:
            tenant = services.tenant_create(
                name=tenant_spec.name,
                slug=tenant_spec.slug,
                kind=tenant_spec.kind,
                allows_signup=tenant_spec.allows_signup,
                domains=tenant_spec.domains,
            )
        tenants[tenant_spec.slug] = tenant

    seeded = []
    for spec in DEMO_USERS:
        with unscoped():
            exists = User.objects.filter(email=spec.email).exists()
        if not exists:
            services.user_create(
                email=spec.email,
                password=DEMO_PASSWORD,
                tenant=tenants[spec.tenant_slug],
                role=spec.role,
                display_name=spec.display_name,
                is_staff=spec.is_staff,
                is_superuser=spec.is_staff,
                email_verified=True,
            )
        seeded.append(SeededUser(demo=spec, created=not exists))
    return seeded


def demo_address(domain: str | None = None) -> str:
    """Where the demo answers: ``HOST`` and ``PORT`` as ``make run`` serves them (a tenant's
    domain on the same port). A wildcard bind address is reached as ``localhost``."""
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):  # noqa: S104 - a bind address, read not bound
        host = "localhost"
    port = os.environ.get("PORT", "").strip() or "8000"
    suffix = "" if port == "80" else f":{port}"
    return f"http://{domain or host}{suffix}"


def seed_demo_accounts() -> list[str]:
    """SPARK_DEMO_SEEDERS entry: the demo accounts, and how to sign in with them."""
    seeded = seed_demo()
    created = sum(1 for s in seeded if s.created)
    width = max(len(s.demo.email) for s in seeded)
    addresses = {t.slug: demo_address(t.domains[0]) for t in DEMO_TENANTS if t.domains}
    lines = [
        f"Spark: {demo_address()}/ (sign in at {demo_address()}/accounts/login/)",
        f"Demo accounts ({created} created now); the password of each is {DEMO_PASSWORD}",
    ]
    lines += [
        f"  {s.demo.email.ljust(width)}  {s.demo.description.format(**addresses)}" for s in seeded
    ]
    return lines
