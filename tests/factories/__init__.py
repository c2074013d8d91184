"""factory_boy factories for Spark's models."""

from tests.factories.accounts import (
    PASSWORD,
    ApiKeyFactory,
    MembershipFactory,
    TenantFactory,
    UserFactory,
    create_user,
)
from tests.factories.alter_egos import create_alter_ego, image_upload

__all__ = [
    "PASSWORD",
    "ApiKeyFactory",
    "MembershipFactory",
    "TenantFactory",
    "UserFactory",
    "create_alter_ego",
    "create_user",
    "image_upload",
]
