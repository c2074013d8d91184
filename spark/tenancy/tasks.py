"""TenantTask: a Celery task base that runs inside the tenant named by its ``tenant_id``."""

from __future__ import annotations

from typing import Any

from celery import Task
from django.apps import apps

from spark.tenancy.context import tenant_scope, unscoped


class TenantTask(Task):  # type: ignore[misc]
    """Every tenant-owned task takes ``tenant_id`` as a keyword argument.

    The task body runs with that tenant's scope active; a task without ``tenant_id``
    fails loudly rather than running unscoped. Tasks are idempotent and ``acks_late``.
    """

    abstract = True
    acks_late = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tenant_id = kwargs.get("tenant_id")
        if tenant_id is None:
            raise ValueError(f"{self.name} is a tenant task and needs a tenant_id argument")
        tenant_model = apps.get_model("accounts", "Tenant")
        with unscoped():
            tenant = tenant_model.objects.get(pk=tenant_id)
        with tenant_scope(tenant):
            return super().__call__(*args, **kwargs)
