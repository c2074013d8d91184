"""The site's navigation shows each person the pages their role opens, and nothing else."""

from __future__ import annotations

import re

import pytest

from accounts.models import Membership, Tenant, User
from tests.conftest import signed_in
from tests.factories import create_user
from tests.factories.marketplace import create_prompt

pytestmark = pytest.mark.django_db

EVERYONE = ["chat", "prompts", "my_prompts", "usage"]


def _nav_keys(user: User, path: str = "/settings/") -> list[str]:
    html = signed_in(user).get(path).content.decode()
    bar = html.split('id="site-nav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'data-nav="([a-z_]+)"', bar)


def test_a_member_of_the_public_tenant_sees_their_own_pages(user: User) -> None:
    assert _nav_keys(user) == [*EVERYONE, "wallet", "settings"]


def test_a_team_member_is_paid_for_and_sees_no_wallet_nor_team_billing(user_a: User) -> None:
    assert _nav_keys(user_a) == [*EVERYONE, "settings"]


def test_a_team_manager_also_sees_team_billing(tenant_a: Tenant) -> None:
    manager = create_user(tenant=tenant_a, role=Membership.Role.MANAGER)
    assert _nav_keys(manager) == [*EVERYONE, "team_billing", "settings"]


def test_a_creator_also_sees_earnings(user: User) -> None:
    create_prompt(owner=user)
    assert _nav_keys(user) == [*EVERYONE, "wallet", "earnings", "settings"]


def test_opening_the_earnings_page_does_not_make_a_member_a_creator(user: User) -> None:
    client = signed_in(user)
    assert client.get("/billing/earnings/").status_code == 200
    assert "earnings" not in _nav_keys(user)


def test_staff_also_see_platform_revenue_and_the_console(staff: User) -> None:
    assert _nav_keys(staff) == [*EVERYONE, "wallet", "platform", "settings", "console"]


def test_every_link_shown_opens_for_that_person(tenant_a: Tenant, staff: User) -> None:
    manager = create_user(tenant=tenant_a, role=Membership.Role.MANAGER)
    for person in (manager, staff):
        client = signed_in(person)
        html = client.get("/settings/").content.decode()
        bar = html.split('id="site-nav"', 1)[1].split("</nav>", 1)[0]
        for url in re.findall(r'href="([^"]+)" data-nav=', bar):
            assert client.get(url).status_code == 200, (person.email, url)


def test_the_current_page_is_marked_in_the_navigation(user: User) -> None:
    html = signed_in(user).get("/billing/wallet/").content.decode()
    assert 'href="/billing/wallet/" data-nav="wallet" aria-current="page"' in html
    assert html.count('aria-current="page"') == 1


def test_visitors_get_sign_in_links_only(client: object, public_tenant: Tenant) -> None:
    html = client.get("/").content.decode()  # type: ignore[attr-defined]
    assert "data-nav=" not in html
    assert 'href="/accounts/login/"' in html


def test_every_signed_in_page_has_a_way_back_to_the_chat(user: User) -> None:
    for path in ("/settings/", "/billing/wallet/", "/accounts/sessions/", "/prompts/"):
        html = signed_in(user).get(path).content.decode()
        assert '<a class="button small secondary back-to-chat" href="/chat/"' in html, path
