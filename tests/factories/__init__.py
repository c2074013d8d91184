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
from tests.factories.marketplace import category, create_prompt, demo_model

__all__ = [
    "PASSWORD",
    "ApiKeyFactory",
    "MembershipFactory",
    "TenantFactory",
    "UserFactory",
    "category",
    "create_alter_ego",
    "create_prompt",
    "create_user",
    "demo_model",
    "image_upload",
]
