"""TenantTask: a Celery task base that runs inside the tenant named by its ``tenant_id``."""

from __future__ import annotations

from typing import Any

from celery import Task
from django.apps import apps
from django.contrib.auth import get_user_model

from spark.tenancy.context import resolve_tenant, tenant_scope, unscoped


class TenantTask(Task):  # type: ignore[misc]
    """Every tenant-owned task takes ``tenant_id`` as a keyword argument.

    The task body runs with that tenant's scope active; a task without ``tenant_id``
    fails loudly rather than running unscoped. A task that acts for a user (``user_id``)
    runs only in the tenant that user belongs to, as the one resolver says
    (docs/tenancy.md). Tasks are idempotent and ``acks_late``.
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
            user_id = kwargs.get("user_id")
            if user_id is not None:
                user = get_user_model().objects.get(pk=user_id)
                if resolve_tenant(host=None, user=user).tenant.pk != tenant.pk:
                    raise PermissionError(
                        f"{self.name}: user {user_id} is not a member of tenant {tenant_id}"
                    )
        with tenant_scope(tenant):
            return super().__call__(*args, **kwargs)
