"""System check: every model with a ``tenant`` field has a fail-closed scoped manager."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core import checks
from django.db import models

# Models whose tenant field is not an isolation boundary (third-party or by design)
# can opt out by setting ``tenant_scoped = False`` on the model class with a reason.


def is_scoped_manager(manager: models.Manager[Any]) -> bool:
    """django-scopes' ScopedManager classes (TenantManager is one) are in its MRO."""
    return any(klass.__qualname__.startswith("ScopedManager.") for klass in type(manager).__mro__)


def _has_tenant_field(model: type[models.Model]) -> bool:
    try:
        field = model._meta.get_field("tenant")
    except Exception:  # noqa: BLE001 - FieldDoesNotExist and friends
        return False
    return bool(field.is_relation)


def check_models(models_to_check: Iterable[type[models.Model]]) -> list[checks.Error]:
    errors: list[checks.Error] = []
    for model in models_to_check:
        if model._meta.abstract or not _has_tenant_field(model):
            continue
        if getattr(model, "tenant_scoped", True) is False:
            continue
        manager = model._default_manager
        if not is_scoped_manager(manager):
            errors.append(
                checks.Error(
                    f"{model._meta.label} has a tenant field but its default manager is not "
                    "scoped, so a query with no tenant active would return every tenant's rows.",
                    hint="Declare `objects = TenantManager()` (spark.tenancy.managers).",
                    obj=model,
                    id="spark.tenancy.E001",
                )
            )
    return errors


@checks.register(checks.Tags.models)
def check_tenant_models_are_scoped(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    return check_models(apps.get_models())
