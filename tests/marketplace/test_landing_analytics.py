"""Landing analytics: visits, unique visitors and call-to-action clicks counted on the
server as daily totals, bots apart, DNT/GPC honoured, no address stored, no cookie set;
shown to the creator on the prompt's statistics page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from accounts.models import User
from marketplace import analytics, landing, services
from marketplace.models import LandingDailyStat, LandingVisitor, Prompt
from spark.tenancy.context import tenant_scope, unscoped
from tests.conftest import signed_in
from tests.factories import create_prompt, create_user

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
OTHER_BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1"
VISITOR_IP = "203.0.113.77"


def _host(prompt: Prompt) -> str:
    with tenant_scope(prompt.tenant):
        return landing.landing_host(services.landing_page_get_or_create(prompt=prompt))


def _visit(host: str, path: str = "/", *, agent: str = BROWSER, **headers: Any) -> int:
    response = Client().get(
        path, HTTP_HOST=host, HTTP_USER_AGENT=agent, REMOTE_ADDR=VISITOR_IP, **headers
    )
    assert "Set-Cookie" not in response
    return int(response.status_code)


def _today(prompt: Prompt) -> LandingDailyStat:
    with unscoped():
        return LandingDailyStat.objects.get(prompt=prompt)


def test_visits_unique_visitors_clicks_and_bots_are_counted_apart(user: User) -> None:
    prompt = create_prompt(owner=user)
    host = _host(prompt)

    _visit(host)
    _visit(host)  # the same visitor again
    _visit(host, agent=OTHER_BROWSER)
    _visit(host, agent="Googlebot/2.1 (+http://www.google.com/bot.html)")
    _visit(host, agent="")
    assert _visit(host, "/start") == 302
    _visit(host, "/start", agent="curl/8.5")
    _visit(host, "/robots.txt")  # not a page view

    stat = _today(prompt)
    assert (stat.visits, stat.unique_visitors, stat.bot_visits, stat.cta_clicks) == (3, 2, 2, 1)


def test_dnt_or_gpc_visits_are_counted_without_a_visitor_hash(user: User) -> None:
    prompt = create_prompt(owner=user)
    host = _host(prompt)

    _visit(host, HTTP_DNT="1")
    _visit(host, HTTP_SEC_GPC="1")

    stat = _today(prompt)
    assert (stat.visits, stat.unique_visitors) == (2, 0)
    with unscoped():
        assert not LandingVisitor.objects.filter(prompt=prompt).exists()


def test_no_raw_ip_is_stored_anywhere_in_the_database(user: User) -> None:
    prompt = create_prompt(owner=user)
    host = _host(prompt)
    _visit(host)
    _visit(host, "/start")

    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if not table.startswith("marketplace_landing"):
                continue
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - table names from Django
            found += [table for row in cursor.fetchall() if VISITOR_IP in repr(row)]
    assert found == []
    with unscoped():
        fingerprint = LandingVisitor.objects.get(prompt=prompt).fingerprint
    assert len(fingerprint) == 64 and VISITOR_IP not in fingerprint


def test_the_visitor_hash_changes_every_day() -> None:
    day = date(2026, 12, 7)
    first = analytics.visitor_fingerprint(ip=VISITOR_IP, user_agent=BROWSER, day=day, prompt_id=1)
    same = analytics.visitor_fingerprint(ip=VISITOR_IP, user_agent=BROWSER, day=day, prompt_id=1)
    next_day = analytics.visitor_fingerprint(
        ip=VISITOR_IP, user_agent=BROWSER, day=day + timedelta(days=1), prompt_id=1
    )
    assert first == same and first != next_day


def test_purge_drops_old_hashes_and_totals_past_retention(user: User, settings: object) -> None:
    prompt = create_prompt(owner=user)
    today = date(2026, 12, 7)
    with tenant_scope(prompt.tenant):
        for age in (0, 3):
            LandingVisitor.objects.create(
                tenant=prompt.tenant,
                prompt=prompt,
                day=today - timedelta(days=age),
                fingerprint="f",
            )
        for age in (1, 800):
            LandingDailyStat.objects.create(
                tenant=prompt.tenant, prompt=prompt, day=today - timedelta(days=age), visits=1
            )

    assert analytics.landing_analytics_purge(today=today) == (1, 1)
    with unscoped():
        assert list(LandingVisitor.objects.values_list("day", flat=True)) == [today]
        assert list(LandingDailyStat.objects.values_list("day", flat=True)) == [
            today - timedelta(days=1)
        ]


def test_the_creator_sees_daily_counts_and_the_click_rate(user: User) -> None:
    prompt = create_prompt(owner=user, name="Counted")
    host = _host(prompt)
    for agent in (BROWSER, OTHER_BROWSER, BROWSER, "Mozilla/5.0 (Android 15) Firefox/133.0"):
        _visit(host, agent=agent)
    _visit(host, "/start")

    page = signed_in(user).get(f"/creator/prompts/{prompt.uuid}/stats/?days=7")

    assert page.status_code == 200
    body = page.content.decode()
    assert '<dd data-total="visits">4</dd>' in body
    assert '<dd data-total="unique">3</dd>' in body
    assert '<dd data-total="clicks">1</dd>' in body
    assert '<dd data-total="rate">25.0 %</dd>' in body


def test_someone_else_gets_404_for_the_statistics(user: User) -> None:
    prompt = create_prompt(owner=user)
    other = create_user(tenant=prompt.tenant, email="nosy@example.com")
    assert signed_in(other).get(f"/creator/prompts/{prompt.uuid}/stats/").status_code == 404


def test_statistics_page_queries_do_not_grow_with_days(
    user: User, django_assert_max_num_queries: object
) -> None:
    prompt = create_prompt(owner=user)
    with tenant_scope(prompt.tenant):
        for age in range(30):
            LandingDailyStat.objects.create(
                tenant=prompt.tenant,
                prompt=prompt,
                day=date.today() - timedelta(days=age),
                visits=age,
            )
    client = signed_in(user)
    client.get(f"/creator/prompts/{prompt.uuid}/stats/")
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert client.get(f"/creator/prompts/{prompt.uuid}/stats/?days=90").status_code == 200
