"""The tenant-isolation matrix: every tenant-owned resource and the URLs that reach it.

Each app registers its resources here (later issues extend ``RESOURCES``). For every
resource, tests/tenancy/test_isolation.py checks that a user of another tenant, and
another user of the same tenant, get 404 from every URL, and that nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts import services as account_services
from accounts.models import ApiKey, User
from spark.llm.models import UserProviderKey
from tests.factories import ApiKeyFactory


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


def _provider_key_snapshot(key: UserProviderKey) -> Any:
    key.refresh_from_db()
    return (key.label, key.ciphertext, key.last_tested_at, key.last_test_ok)


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
        name="provider_key",
        create=lambda owner: account_services.provider_key_add(
            user=owner, provider="openai", api_key="sk-owner-secret-key-0001", label="mine"
        ),
        endpoints=lambda key: [
            Endpoint("GET", f"/api/v1/provider-keys/{key.uuid}/"),
            Endpoint("GET", f"/api/v1/provider-keys/{key.uuid}/", bearer=True),
            Endpoint("DELETE", f"/api/v1/provider-keys/{key.uuid}/"),
            Endpoint("DELETE", f"/api/v1/provider-keys/{key.uuid}/", bearer=True),
            Endpoint("POST", f"/api/v1/provider-keys/{key.uuid}/test/"),
            Endpoint("POST", f"/api/v1/provider-keys/{key.uuid}/test/", bearer=True),
            Endpoint("POST", f"/settings/provider-keys/{key.uuid}/delete/"),
            Endpoint("POST", f"/settings/provider-keys/{key.uuid}/test/"),
        ],
        snapshot=_provider_key_snapshot,
    ),
]
