"""factory_boy factories for Spark's models."""

from tests.factories.accounts import (
    PASSWORD,
    ApiKeyFactory,
    MembershipFactory,
    TenantFactory,
    UserFactory,
    create_user,
)

__all__ = [
    "PASSWORD",
    "ApiKeyFactory",
    "MembershipFactory",
    "TenantFactory",
    "UserFactory",
    "create_user",
]
