"""DRF helpers for tenant-owned resources."""

from __future__ import annotations

from typing import Any

from spark.tenancy.context import current_tenant


class TenantAPIMixin:
    """For DRF views: ``self.tenant`` is the request's tenant (already scoped by middleware)."""

    request: Any

    @property
    def tenant(self) -> Any:
        return getattr(self.request, "tenant", None) or current_tenant()
