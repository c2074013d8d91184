"""Fail-closed tenant scoping through django-scopes, for queries, requests, sockets and tasks."""

from __future__ import annotations

from typing import Any

import pytest
from celery import shared_task
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.core import checks
from django.db import models
from django.test.utils import isolate_apps
from django_scopes import ScopedManager
from django_scopes.exceptions import ScopeError

from accounts import services
from accounts.models import ApiKey, Tenant, User
from spark.tenancy.asgi import TenantConsumerMixin, TenantScopeMiddleware
from spark.tenancy.checks import check_models
from spark.tenancy.context import current_tenant, tenant_scope, unscoped
from spark.tenancy.tasks import TenantTask
from tests.factories import ApiKeyFactory


@pytest.mark.django_db
def test_scoped_query_with_no_tenant_active_raises(user_a: User) -> None:
    ApiKeyFactory.create(user=user_a)
    with pytest.raises(ScopeError):
        list(ApiKey.objects.all())
    with pytest.raises(ScopeError):
        ApiKey.objects.filter(user=user_a).count()


@pytest.mark.django_db
def test_scoped_query_inside_a_tenant_returns_only_its_rows(
    user_a: User, user_b: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    key_a, _ = ApiKeyFactory.create(user=user_a)
    key_b, _ = ApiKeyFactory.create(user=user_b)
    with tenant_scope(tenant_a):
        assert list(ApiKey.objects.all()) == [key_a]
        assert ApiKey.objects.filter(pk=key_b.pk).count() == 0
    with tenant_scope(tenant_b):
        assert list(ApiKey.objects.all()) == [key_b]


@pytest.mark.django_db
def test_a_missing_tenant_sees_nothing_not_everything(user_a: User, user_b: User) -> None:
    ApiKeyFactory.create(user=user_a)
    ApiKeyFactory.create(user=user_b)
    with tenant_scope(None):
        assert ApiKey.objects.count() == 0
        assert current_tenant() is None


@pytest.mark.django_db
def test_unscoped_is_the_explicit_way_to_see_every_tenant(user_a: User, user_b: User) -> None:
    ApiKeyFactory.create(user=user_a)
    ApiKeyFactory.create(user=user_b)
    with unscoped():
        assert ApiKey.objects.count() == 2


@isolate_apps("spark.tenancy")
def test_system_check_fails_for_a_tenant_model_without_a_scoped_manager() -> None:
    class Leaky(models.Model):
        tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE)

        class Meta:
            app_label = "tenancy"

    class Sealed(models.Model):
        tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE)
        objects = ScopedManager(tenant="tenant")

        class Meta:
            app_label = "tenancy"

    errors = check_models([Leaky, Sealed])
    assert [(e.id, e.obj) for e in errors] == [("spark.tenancy.E001", Leaky)]
    assert all(isinstance(e, checks.Error) for e in errors)


def test_project_models_pass_the_scoping_check() -> None:
    assert checks.run_checks(tags=[checks.Tags.models]) == []


@pytest.mark.django_db
def test_request_on_a_tenant_domain_runs_in_that_tenant(client: Any, tenant_b: Tenant) -> None:
    services.tenant_create(
        name="Shop", slug="shop", kind=Tenant.Kind.CURATOR, domains=("shop.example",)
    )
    response = client.get("/", HTTP_HOST="shop.example")
    assert response.wsgi_request.tenant.slug == "shop"


@pytest.mark.django_db
def test_signed_in_request_runs_in_the_users_home_tenant(client_a: Any, tenant_a: Tenant) -> None:
    response = client_a.get("/")
    assert response.wsgi_request.tenant == tenant_a


@pytest.mark.django_db
def test_anonymous_request_runs_in_the_public_tenant(client: Any, public_tenant: Tenant) -> None:
    response = client.get("/")
    assert response.wsgi_request.tenant == public_tenant


@shared_task(base=TenantTask, name="tests.tenancy.count_keys")
def count_keys(*, tenant_id: int) -> list[int]:
    return [current_tenant().pk, ApiKey.objects.count()]


@pytest.mark.django_db
def test_task_runs_inside_the_tenant_named_by_its_argument(
    user_a: User, user_b: User, tenant_a: Tenant
) -> None:
    ApiKeyFactory.create(user=user_a)
    ApiKeyFactory.create(user=user_b)
    ApiKeyFactory.create(user=user_b)
    assert count_keys.delay(tenant_id=tenant_a.pk).get() == [tenant_a.pk, 1]


def test_task_without_a_tenant_refuses_to_run() -> None:
    with pytest.raises(ValueError, match="needs a tenant_id"):
        count_keys.apply(kwargs={}).get()


class TenantEcho(TenantConsumerMixin, AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        await self.send_json({"tenant": self.tenant.slug, "active": current_tenant().slug})


@pytest.mark.django_db(transaction=True)
async def test_websocket_connection_runs_in_the_users_tenant(
    user_a: User, tenant_a: Tenant
) -> None:
    app = TenantScopeMiddleware(TenantEcho.as_asgi())
    communicator = WebsocketCommunicator(app, "/ws/echo/", headers=[(b"host", b"testserver")])
    communicator.scope["user"] = user_a
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_json_from() == {"tenant": "tenant-a", "active": "tenant-a"}
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_anonymous_websocket_runs_in_the_public_tenant() -> None:
    app = TenantScopeMiddleware(TenantEcho.as_asgi())
    communicator = WebsocketCommunicator(app, "/ws/echo/", headers=[(b"host", b"testserver")])
    communicator.scope["user"] = AnonymousUser()
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["tenant"] == Tenant.PUBLIC_SLUG
    await communicator.disconnect()
