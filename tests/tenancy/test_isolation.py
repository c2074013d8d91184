"""A user of tenant A gets 404 for tenant B's objects, through every view and API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from accounts.models import Tenant, User
from spark.tenancy.context import unscoped
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory, create_user
from tests.isolation import RESOURCES, IsolatedResource


def _request(
    client: Client, method: str, path: str, bearer: str | None, body: dict[str, Any] | None
) -> int:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    if body is None:
        response = client.generic(method, path, headers=headers)
    else:
        data = json.dumps(body)
        response = client.generic(method, path, data, "application/json", headers=headers)
    return response.status_code


def _assert_unreachable(resource: IsolatedResource, owner: User, intruder: User) -> None:
    with unscoped():
        obj = resource.create(owner)
        before = resource.snapshot(obj)
    _key, raw = ApiKeyFactory.create(user=intruder, name="intruder")
    session = signed_in(intruder)
    for endpoint in resource.endpoints(obj):
        client = Client() if endpoint.bearer else session
        bearer = raw if endpoint.bearer else None
        status = _request(client, endpoint.method, endpoint.path, bearer, endpoint.body)
        assert status == 404, f"{resource.name}: {endpoint} answered {status}"
    with unscoped():
        assert resource.snapshot(obj) == before


# The matrix makes many 404s from one client on purpose: the request filter would ban it.
PROBING_CLIENT = override_settings(SPARK_FILTER_ALLOWLIST=["127.0.0.1"])


@pytest.mark.django_db
@PROBING_CLIENT
@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_user_of_other_tenant_gets_404_for_every_endpoint(
    resource: IsolatedResource, user_a: User, user_b: User
) -> None:
    _assert_unreachable(resource, owner=user_b, intruder=user_a)


@pytest.mark.django_db
@PROBING_CLIENT
@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_other_user_of_same_tenant_gets_404_for_every_endpoint(
    resource: IsolatedResource, user_b: User, tenant_b: Tenant
) -> None:
    neighbour = create_user(tenant=tenant_b, email="neighbour@b.example")
    _assert_unreachable(resource, owner=user_b, intruder=neighbour)


@pytest.mark.django_db
def test_owner_reaches_their_own_object(user_b: User) -> None:
    """The matrix is meaningful: the same endpoints answer the owner."""
    key, raw = ApiKeyFactory.create(user=user_b)
    assert signed_in(user_b).get(f"/api/v1/api-keys/{key.uuid}/").status_code == 200
    response = Client().get(
        f"/api/v1/api-keys/{key.uuid}/", headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 200
