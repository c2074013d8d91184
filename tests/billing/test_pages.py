"""Billing pages: usage, wallet, team, earnings, platform (with CSV), and the rule that no
route lets a plain user add money to a wallet without a payment or a staff action."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern

from accounts.models import Membership, Tenant, User
from billing import ledger, services
from billing.models import MICROS_PER_USD, Account, Entry, MemberCap, UsageRecord
from billing.services import Use
from billing.urls import urlpatterns as billing_urls
from security.models import AuditLogEntry
from spark.tenancy.context import unscoped
from tests.billing.conftest import make_priced_model
from tests.conftest import signed_in
from tests.factories import create_prompt, create_user
from tests.fakes.stripe_server import FakeStripe

pytestmark = pytest.mark.django_db


def charge(
    user: User, tenant: Tenant, *, tokens: int = 1_000, key: str, prompt: Any = None
) -> None:
    """Usage as Settle books it (the payer is whoever the tenant's policy says)."""
    model = make_priced_model() if not _model_exists() else _model()
    with unscoped(), transaction.atomic():
        plan_payer = services.policy.plan_for(tenant=tenant, user=user, prompt=prompt, model=model)
        if plan_payer.payer.balance < 10 * MICROS_PER_USD and plan_payer.payer_kind == "user":
            services.wallet_grant(user=user, amount=10 * MICROS_PER_USD, reason="test")
        services.uses_settle(
            tenant=tenant,
            user=user,
            prompt=prompt,
            model=model,
            uses=[Use("answer", "", model, 100, tokens, 0, 0, "platform", key)],
            conversation_id=None,
            message_id=None,
            hold_id=None,
        )


def _model_exists() -> bool:
    from spark.llm.models import LLMModel

    return LLMModel.objects.filter(slug="priced-gpt").exists()


def _model() -> Any:
    from spark.llm.models import LLMModel

    return LLMModel.objects.get(slug="priced-gpt")


def no_inline_scripts(html: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


# --- /my-usage ----------------------------------------------------------------------------


def test_my_usage_shows_my_costs_by_day_model_and_prompt_with_a_table_fallback(
    user: User, public_tenant: Tenant
) -> None:
    prompt = create_prompt(owner=user, name="Essay coach")
    charge(user, public_tenant, key="u1", prompt=prompt)
    charge(user, public_tenant, key="u2")
    response = signed_in(user).get("/my-usage")
    assert response.status_code == 200
    html = response.content.decode()
    assert "priced-gpt" in html and "Essay coach" in html
    data = json.loads(re.search(r'id="usage-chart"[^>]*>(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    assert len(data["days"]) == 30
    assert data["by_model"][0]["label"] == "priced-gpt"
    assert "billing-fallback" in html and "<canvas" in html
    no_inline_scripts(html)


def test_my_usage_date_range_filters_and_never_shows_someone_else(
    user: User, public_tenant: Tenant, user_b: User, tenant_b: Tenant
) -> None:
    other_model = make_priced_model(slug="secret-model", model_id="m2")
    with unscoped(), transaction.atomic():
        services.wallet_grant(user=user_b, amount=MICROS_PER_USD, reason="t")
        services.uses_settle(
            tenant=tenant_b,
            user=user_b,
            prompt=None,
            model=other_model,
            uses=[Use("answer", "", other_model, 1, 1, 0, 0, "platform", "b1")],
            conversation_id=None,
            message_id=None,
            hold_id=None,
        )
    neighbour = create_user(tenant=public_tenant, email="n@example.com")
    charge(neighbour, public_tenant, key="n1")
    html = signed_in(user).get("/my-usage?from=2020-01-01&to=2020-01-31").content.decode()
    assert "secret-model" not in html and "priced-gpt" not in html
    assert html.count("<tr><td>") >= 31
    assert "secret-model" not in signed_in(user).get("/my-usage").content.decode()


def test_usage_pages_need_a_signed_in_user(client: Client) -> None:
    for path in ["/my-usage", "/billing/wallet/", "/billing/earnings/", "/billing/team/"]:
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- team -----------------------------------------------------------------------------------


@pytest.fixture
def manager(tenant_a: Tenant) -> User:
    return create_user(tenant=tenant_a, email="boss@a.example", role=Membership.Role.MANAGER)


def test_the_team_page_shows_members_month_spend_and_sets_caps(
    manager: User, user_a: User, tenant_a: Tenant
) -> None:
    from tests.billing.conftest import fund_tenant

    fund_tenant(tenant_a, 5 * MICROS_PER_USD)
    charge(user_a, tenant_a, key="a1")
    page = signed_in(manager).get("/billing/team/")
    assert page.status_code == 200
    html = page.content.decode()
    assert user_a.email in html and "$0.01" in html  # 1_000 tokens × 10 µ$ + 20 %

    response = signed_in(manager).post(
        f"/billing/team/caps/{user_a.uuid}/",
        {"monthly_cap_usd": "25", "action": "raise", "raise_step_usd": "5", "raise_max_usd": "40"},
    )
    assert response.status_code == 302
    with unscoped():
        cap = MemberCap.objects.get(user=user_a)
    assert (cap.monthly_cap, cap.action, cap.raise_step, cap.raise_max) == (
        25 * MICROS_PER_USD,
        "raise",
        5 * MICROS_PER_USD,
        40 * MICROS_PER_USD,
    )
    no_inline_scripts(signed_in(manager).get("/billing/team/").content.decode())


def test_a_manager_cannot_cap_someone_in_another_tenant(manager: User, user_b: User) -> None:
    response = signed_in(manager).post(
        f"/billing/team/caps/{user_b.uuid}/", {"monthly_cap_usd": "1", "action": "block"}
    )
    assert response.status_code == 404
    with unscoped():
        assert not MemberCap.objects.exists()


def test_members_do_not_see_the_team_page(user_a: User) -> None:
    assert signed_in(user_a).get("/billing/team/").status_code == 404


# --- earnings and platform ---------------------------------------------------------------------


def test_earnings_page_shows_pending_available_and_paid(user: User) -> None:
    html = signed_in(user).get("/billing/earnings/").content.decode()
    assert 'data-testid="pending"' in html and 'data-testid="available"' in html
    assert "Set up payouts with Stripe" in html
    no_inline_scripts(html)


def test_the_platform_page_is_for_staff_only(user: User, staff: User) -> None:
    assert signed_in(user).get("/billing/platform/").status_code == 404
    assert signed_in(user).get("/billing/platform/export.csv").status_code == 404
    assert signed_in(staff).get("/billing/platform/").status_code == 200


def test_the_platform_page_totals_every_tenant_and_exports_csv(
    staff: User, user: User, public_tenant: Tenant, user_a: User, tenant_a: Tenant
) -> None:
    from tests.billing.conftest import fund_tenant

    fund_tenant(tenant_a, 5 * MICROS_PER_USD)
    charge(user, public_tenant, key="p1")
    charge(user_a, tenant_a, key="p2", tokens=2_000)
    html = signed_in(staff).get("/billing/platform/").content.decode()
    assert "Tenant A" in html and user.email in html and user_a.email in html
    no_inline_scripts(html)

    response = signed_in(staff).get("/billing/platform/export.csv")
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
    assert sorted((r["user"], r["total_micros"]) for r in rows) == [
        (user_a.email, "24000"),
        (user.email, "12000"),
    ]
    old = signed_in(staff).get("/billing/platform/export.csv?from=2020-01-01&to=2020-01-02")
    assert len(b"".join(old.streaming_content).splitlines()) == 1  # type: ignore[attr-defined]


# --- no free money -----------------------------------------------------------------------------


MONEY_ROUTES = {
    "billing:topup": ("POST", "/billing/topup/", {"amount_usd": "50"}),
    "billing:team_topup": ("POST", "/billing/team/topup/", {"amount_usd": "50"}),
    "billing:team_cap": ("POST", "/billing/team/caps/{uuid}/", {"monthly_cap_usd": "999"}),
    "billing:team_auto_refill": (
        "POST",
        "/billing/team/auto-refill/",
        {"enabled": "on", "threshold_usd": "1000", "amount_usd": "500"},
    ),
    "billing:team_card": ("POST", "/billing/team/card/", {}),
    "billing:earnings_connect": ("POST", "/billing/earnings/connect/", {}),
    "billing:earnings_prompt_markup": (
        "POST",
        "/billing/earnings/prompts/{uuid}/markup/",
        {"markup_usd": "1000"},
    ),
    "billing:stripe_webhook": ("POST", "/billing/stripe/webhook/", None),
    "billing:topup_done": ("GET", "/billing/topup/done/?session=cs_test_forged", {}),
    "billing:platform_export": ("GET", "/billing/platform/export.csv", {}),
}
READ_ONLY_ROUTES = {
    "billing:my_usage",
    "billing:wallet",
    "billing:team",
    "billing:earnings",
    "billing:platform",
}


def test_every_billing_route_is_covered_by_the_no_free_money_test() -> None:
    names = {f"billing:{p.name}" for p in billing_urls if isinstance(p, URLPattern)}
    assert names == set(MONEY_ROUTES) | READ_ONLY_ROUTES


def test_no_route_lets_a_plain_user_add_money_without_paying(
    fake_stripe: FakeStripe, user: User, public_tenant: Tenant, client: Client
) -> None:
    client = signed_in(user)
    for name, (method, path, data) in MONEY_ROUTES.items():
        path = path.format(uuid=user.uuid)
        if name == "billing:stripe_webhook":
            forged = json.dumps(
                fake_stripe.event(
                    "checkout.session.completed",
                    {"id": "cs_forged", "payment_status": "paid", "amount_total": 50_000},
                )
            )
            for header in ["", "t=1,v1=00", fake_stripe.sign(forged, secret="whsec_guess")]:
                response = client.post(
                    path, forged, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
                )
                assert response.status_code == 400
            continue
        response = client.generic(
            method,
            path,
            data="&".join(f"{k}={v}" for k, v in (data or {}).items()),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code in (200, 302, 404), (name, response.status_code)
    # The admin's grant action is staff-only.
    response = client.post(
        "/admin/billing/account/",
        {"action": "grant_credit", "_selected_action": ["1"], "apply": "1", "amount_usd": "100"},
    )
    assert response.status_code in (302, 403)

    credited = Entry.objects.filter(account__kind__in=Account.WALLET_KINDS, amount__gt=0).exists()
    assert not credited
    assert ledger.user_wallet(user).balance == 0
    with unscoped():
        assert not UsageRecord.objects.exists()


def test_staff_grant_credit_in_the_admin_through_the_service_and_the_audit_log(
    staff: User, user: User
) -> None:
    wallet = ledger.user_wallet(user)
    response = signed_in(staff).post(
        "/admin/billing/account/",
        {
            "action": "grant_credit",
            "_selected_action": [str(wallet.pk)],
            "apply": "1",
            "amount_usd": "12.5",
            "reason": "apology",
        },
    )
    assert response.status_code == 302
    wallet.refresh_from_db()
    assert wallet.balance == 12_500_000
    grant = AuditLogEntry.objects.get(action="wallet_grant")
    assert grant.actor == staff and grant.changes["reason"] == "apology"
    assert AuditLogEntry.objects.filter(action="action", changes__action="grant_credit").exists()


def test_a_creator_sets_the_price_of_their_own_prompt_only(
    user: User, public_tenant: Tenant
) -> None:
    from billing.models import PromptPricing

    mine = create_prompt(owner=user, name="Mine")
    other = create_prompt(owner=create_user(tenant=public_tenant, email="o@example.com"))
    client = signed_in(user)
    assert "Mine" in client.get("/billing/earnings/").content.decode()

    response = client.post(f"/billing/earnings/prompts/{mine.uuid}/markup/", {"markup_usd": "2.5"})
    assert response.status_code == 302
    with unscoped():
        assert PromptPricing.objects.get(prompt=mine).markup_per_million == 2_500_000
    assert 'value="2.500000"' in client.get("/billing/earnings/").content.decode()

    response = client.post(f"/billing/earnings/prompts/{other.uuid}/markup/", {"markup_usd": "9"})
    assert response.status_code == 404
    client.post(f"/billing/earnings/prompts/{mine.uuid}/markup/", {"markup_usd": "100000"})
    with unscoped():
        assert not PromptPricing.objects.filter(prompt=other).exists()
        assert PromptPricing.objects.get(prompt=mine).markup_per_million == 2_500_000
