"""The tenant-isolation matrix: every tenant-owned resource and the URLs that reach it.

Each app registers its resources here (later issues extend ``RESOURCES``). For every
resource, tests/tenancy/test_isolation.py checks that a user of another tenant, and
another user of the same tenant, get 404 from every URL, and that nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.models import ApiKey, User
from security.models import StoredFile
from security.services import file_signed_url
from tests.factories import ApiKeyFactory
from tests.factories.files import stored_png


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    bearer: bool = False  # call with the intruder's API key instead of their session


@dataclass(frozen=True)
class IsolatedResource:
    name: str
    create: Callable[[User], Any]  # makes an object owned by this user
    endpoints: Callable[[Any], list[Endpoint]]
    snapshot: Callable[[Any], Any]  # what must not change when an intruder tries


def _api_key_snapshot(api_key: ApiKey) -> Any:
    api_key.refresh_from_db()
    return (api_key.name, api_key.revoked_at)


def _stored_file_snapshot(stored: StoredFile) -> Any:
    from django.core.files.storage import default_storage

    return (
        StoredFile.objects.filter(pk=stored.pk).values_list("sha256", flat=True).first(),
        default_storage.exists(stored.storage_key),
    )


RESOURCES: list[IsolatedResource] = [
    IsolatedResource(
        name="api_key",
        create=lambda owner: ApiKeyFactory.create(user=owner)[0],
        endpoints=lambda key: [
            Endpoint("GET", f"/api/v1/api-keys/{key.uuid}/"),
            Endpoint("GET", f"/api/v1/api-keys/{key.uuid}/", bearer=True),
            Endpoint("DELETE", f"/api/v1/api-keys/{key.uuid}/"),
            Endpoint("DELETE", f"/api/v1/api-keys/{key.uuid}/", bearer=True),
            Endpoint("POST", f"/settings/api-keys/{key.uuid}/revoke/"),
        ],
        snapshot=_api_key_snapshot,
    ),
    IsolatedResource(
        name="stored_file",
        create=stored_png,
        endpoints=lambda stored: [
            Endpoint("GET", f"/api/v1/files/{stored.uuid}/"),
            Endpoint("GET", f"/api/v1/files/{stored.uuid}/", bearer=True),
            Endpoint("DELETE", f"/api/v1/files/{stored.uuid}/"),
            Endpoint("DELETE", f"/api/v1/files/{stored.uuid}/", bearer=True),
            # The owner's signed download link, tried by someone else.
            Endpoint("GET", file_signed_url(stored_file=stored, user=stored.owner)),
        ],
        snapshot=_stored_file_snapshot,
    ),
]
