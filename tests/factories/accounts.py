from __future__ import annotations

import itertools
from typing import Any

import factory

from accounts import services
from accounts.models import ApiKey, Membership, Tenant, User

PASSWORD = "correct-horse-battery-staple"
_people = itertools.count(1)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    kind = Tenant.Kind.ENTERPRISE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Membership.Role.MEMBER


def create_user(
    *,
    tenant: Tenant,
    role: str = Membership.Role.MEMBER,
    password: str = PASSWORD,
    verified: bool = True,
    **extra: Any,
) -> User:
    """A user with a home membership and a verified email, through the real service."""
    extra.setdefault("email", f"person{next(_people)}@example.com")
    return services.user_create(
        tenant=tenant, role=role, password=password, email_verified=verified, **extra
    )


class ApiKeyFactory:
    """API keys are made by the service (it returns the raw key once)."""

    @staticmethod
    def create(*, user: User, name: str = "test key") -> tuple[ApiKey, str]:
        created = services.api_key_create(user=user, name=name)
        return created.api_key, created.raw_key
