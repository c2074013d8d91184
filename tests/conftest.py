"""Shared fixtures: tenants and users, a clean cache per test, the isolation matrix."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import Membership, Tenant, User
from security.bans import forget_memo
from spark.llm.health import health_board
from spark.tenancy.context import tenant_scope
from tests.factories import PASSWORD, TenantFactory, create_user
from tests.fakes.dns import _fake_dns_server, fake_dns  # noqa: F401 - fixtures
from tests.fakes.fixtures import (  # noqa: F401 - fixtures
    _fake_anthropic_server,
    _fake_openai_server,
    fake_anthropic,
    fake_openai,
    llm_fakes,
)

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate-limit counters, bans, cached tenant lookups and key health never leak from one
    test to the next (nor the ban lookups each process remembers)."""
    cache.clear()
    forget_memo()
    health_board.reset_local()
    yield
    cache.clear()
    forget_memo()
    health_board.reset_local()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    request: pytest.FixtureRequest, django_db_modify_db_settings_parallel_suffix: None
) -> None:
    """SQLite tests use a file per worker, as the embedded default does, not shared-cache
    memory: there concurrent writers get "database table is locked" at once instead of
    waiting their turn (the busy timeout does not apply to shared-cache locks)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith(".sqlite3") and not database.get("TEST", {}).get("NAME"):
        worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
        folder = settings.BASE_DIR / "var"
        folder.mkdir(parents=True, exist_ok=True)
        database.setdefault("TEST", {})["NAME"] = str(folder / f"test-{worker}.sqlite3")


@pytest.fixture(autouse=True)
def _ledger_stays_consistent(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every database test, the ledger's invariants hold (billing.invariants):
    transactions balance, cached balances and holds match their rows, no wallet is below
    its floor. Cheap when a test wrote no billing rows."""
    if not _uses_database(request):
        yield
        return
    # Requested here so that the database outlives this fixture's check at teardown.
    request.getfixturevalue("_django_db_helper")
    yield
    from billing.invariants import ledger_is_empty, ledger_violations

    if ledger_is_empty():
        return
    problems = ledger_violations()
    assert problems == [], "ledger invariants broken:\n" + "\n".join(problems)


def _uses_database(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames
        for name in ("db", "transactional_db", "django_db_reset_sequences")
    )


@pytest.fixture
def public_tenant(db: None) -> Tenant:
    return Tenant.objects.get(kind=Tenant.Kind.PUBLIC)


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return TenantFactory.create(slug="tenant-a", name="Tenant A", kind=Tenant.Kind.ENTERPRISE)


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return TenantFactory.create(slug="tenant-b", name="Tenant B", kind=Tenant.Kind.CURATOR)


@pytest.fixture
def user(public_tenant: Tenant) -> User:
    return create_user(tenant=public_tenant, email="pat@example.com")


@pytest.fixture
def user_a(tenant_a: Tenant) -> User:
    return create_user(tenant=tenant_a, email="alice@a.example")


@pytest.fixture
def user_b(tenant_b: Tenant) -> User:
    return create_user(tenant=tenant_b, email="bob@b.example")


@pytest.fixture
def staff(public_tenant: Tenant) -> User:
    return create_user(
        tenant=public_tenant,
        email="staff@spark.example",
        role=Membership.Role.OWNER,
        is_staff=True,
        is_superuser=True,
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="accounts.backends.SparkAuthenticationBackend")
    return client


@pytest.fixture
def client_a(user_a: User) -> Client:
    return signed_in(user_a)


@pytest.fixture
def client_b(user_b: User) -> Client:
    return signed_in(user_b)


@pytest.fixture
def staff_client(staff: User) -> Client:
    return signed_in(staff)


@pytest.fixture
def in_tenant() -> object:
    """``with in_tenant(t):`` activates a tenant scope inside a test."""
    return tenant_scope


__all__ = ["PASSWORD", "signed_in"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Transactional tests restore the rows data migrations made (the public tenant, the
    model catalogue...) that the flush after each of them removes.

    pytest-django runs transactional tests after all the others, and xdist's default
    ``load`` scheduling keeps that order within each worker, so no ordinary database
    test ever runs after a flush.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction"):
            kwargs = {**marker.kwargs, "serialized_rollback": True}
            item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)


@pytest.fixture(scope="session", autouse=True)
def _end_idle_sessions_before_dropping_the_test_database(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[None]:
    """Worker threads of async tests (the pipeline's ORM calls) keep their PostgreSQL
    sessions until the threads die; end them so the test database can be dropped."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    import psycopg

    test_database = connection.settings_dict["NAME"]
    params = {
        key: value
        for key, value in connection.get_connection_params().items()
        if key in ("host", "port", "user", "password")
    }
    try:  # from the maintenance database: the test database may be the one going away
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [test_database],
            )
    except psycopg.Error:
        return  # nothing to end, or no server: the database teardown reports real trouble
