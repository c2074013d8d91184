"""The landing origin and the app never cross: a landing host answers none of the app's
routes (whoever asks, with whatever cookie), and the app's hosts serve no landing page.

Rows: every operation of the host matrix (tests/tenancy/test_host_matrix.py), tried on a
landing host that serves a page and on one that does not, anonymously and with a member's
session cookie; then every landing path on the platform host and on a tenant's domain.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from accounts import services as account_services
from accounts.models import Tenant, User
from marketplace import landing, services
from spark.tenancy.context import tenant_scope
from tests.conftest import signed_in
from tests.factories import create_prompt
from tests.tenancy.test_host_matrix import TABLE

pytestmark = pytest.mark.django_db

LANDING_PATHS = ["/", "/start", "/robots.txt", "/assets/spark-landing.css", "/_preview/x/"]
APP_HOSTS = ["testserver", "shop.example"]
# The request filter would ban a client that collects this many 404s on purpose.
NO_BANS = override_settings(SPARK_FILTER_ALLOWLIST=["127.0.0.1"])


def _landing_host_with_page(owner: User) -> str:
    prompt = create_prompt(owner=owner, slug="matrix-page")
    with tenant_scope(prompt.tenant):
        page = services.landing_page_get_or_create(prompt=prompt)
    return landing.landing_host(page)


@NO_BANS
@pytest.mark.parametrize("signed", [False, True], ids=["anonymous", "session"])
@pytest.mark.parametrize("with_page", [True, False], ids=["page-host", "unknown-label"])
def test_a_landing_host_answers_no_route_of_the_app(
    user: User, signed: bool, with_page: bool
) -> None:
    host = _landing_host_with_page(user) if with_page else "nobody.pages.localhost"
    client = signed_in(user) if signed else Client()
    answered = {}
    for op in TABLE:
        path = re.sub(r"\{[^}]+\}", "x", op.path.split("?")[0])
        if path in LANDING_PATHS:
            continue
        response = client.generic(op.method, path, HTTP_HOST=host)
        answered[f"{op.method} {path}"] = response.status_code
        assert "Set-Cookie" not in response, f"{op.method} {path} set a cookie on {host}"
        assert "frame-ancestors 'none'" in response.get("Content-Security-Policy", "")
    wrong = {op: status for op, status in answered.items() if status not in (404, 405)}
    assert wrong == {}


@NO_BANS
@pytest.mark.parametrize("host", APP_HOSTS)
def test_the_apps_hosts_serve_no_landing_page(user: User, host: str) -> None:
    account_services.tenant_create(
        name="Shop", slug="shop", kind=Tenant.Kind.CURATOR, domains=("shop.example",)
    )
    _landing_host_with_page(user)
    client = Client()
    for path in LANDING_PATHS:
        response = client.get(path, HTTP_HOST=host)
        body = response.content.decode(errors="replace")
        assert 'class="spark-builtin"' not in body, path
        assert '<link rel="stylesheet" href="/assets/spark-landing.css">' not in body, path
        assert "script-src 'none'" not in response.get("Content-Security-Policy", ""), path
        if path != "/":  # "/" is the app's home page there
            assert response.status_code in (302, 404), path


@NO_BANS
def test_the_landing_domain_itself_serves_nothing(user: User) -> None:
    _landing_host_with_page(user)
    for path in LANDING_PATHS:
        assert Client().get(path, HTTP_HOST="pages.localhost").status_code == 404
