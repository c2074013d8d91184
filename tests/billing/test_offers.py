"""A new user's money: prices and affordability in the chat's picker, a top-up page that
says when payments are not set up, and the demo wallet's seeded credit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command

from accounts.models import Membership, Tenant, User
from billing import ledger, services
from billing.models import MICROS_PER_USD, Transaction
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped
from tests.conftest import signed_in
from tests.factories import create_user

pytestmark = pytest.mark.django_db


def _models(user: User) -> dict[str, dict[str, Any]]:
    html = signed_in(user).get("/chat/new/").content.decode()
    raw = html.split('<script id="chat-config" type="application/json">', 1)[1].split("</script>")[
        0
    ]
    return {m["id"]: m for m in json.loads(raw)["models"]}


def _option(user: User, slug: str) -> str:
    html = signed_in(user).get("/chat/new/").content.decode()
    return html.split(f'<option value="{slug}"', 1)[1].split("</option>", 1)[0]


def test_the_picker_shows_each_models_price_and_marks_what_an_empty_wallet_cannot_cover(
    user: User,
) -> None:
    models = _models(user)
    # The free demo model is free and always affordable.
    assert (models["demo"]["price"], models["demo"]["affordable"]) == ("Free", True)
    # Demo Plus: $1 / $4 list price with the 20 % margin of a chat without a paid prompt.
    plus = models["demo-plus"]
    assert plus["price"] == "$1.20 / $4.80 per 1M tokens"
    assert (plus["affordable"], plus["topup_url"]) == (False, "/billing/wallet/")
    assert 'data-affordable="false" data-topup="/billing/wallet/"' in _option(user, "demo-plus")
    assert "· not enough funds" in _option(user, "demo-plus")


def test_a_small_credit_makes_the_priced_demo_model_affordable(user: User) -> None:
    services.wallet_grant(user=user, amount=MICROS_PER_USD, reason="test")
    assert _models(user)["demo-plus"]["affordable"] is True
    assert "not enough funds" not in _option(user, "demo-plus")
    # A model whose estimate is above $1 (Claude Opus: 90 $/1M out) stays marked.
    with unscoped():
        opus = LLMModel.objects.filter(output_price__gte=75 * MICROS_PER_USD).first()
    assert opus is not None
    assert _models(user)[opus.slug]["affordable"] is False


def test_a_team_member_is_not_sent_to_a_top_up_page_they_cannot_open(tenant_a: Tenant) -> None:
    member = create_user(tenant=tenant_a)
    manager = create_user(tenant=tenant_a, role=Membership.Role.MANAGER)
    assert _models(member)["demo-plus"]["topup_url"] == ""
    assert signed_in(member).get("/billing/team/").status_code == 404
    assert _models(manager)["demo-plus"]["topup_url"] == "/billing/team/"


def test_the_top_up_page_says_plainly_when_payments_are_not_configured(
    user: User, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    html = signed_in(user).get("/billing/wallet/").content.decode()
    assert "Payments are not set up on this server" in html
    assert '<button type="submit" disabled>' in html


def test_the_top_up_page_takes_payments_when_stripe_is_configured(
    user: User, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_spark"
    html = signed_in(user).get("/billing/wallet/").content.decode()
    assert "Payments are not set up" not in html
    assert '<button type="submit">' in html


def test_seed_demo_credits_the_demo_wallets_once_through_the_ledger(db: None) -> None:
    call_command("seed_demo", "--quiet")
    call_command("seed_demo", "--quiet")  # make run seeds on every start
    with unscoped():
        user = User.objects.get(email="user@spark.local")
        member = User.objects.get(email="member@acme.example")
        wallet = ledger.user_wallet(user)
        grants = Transaction.objects.filter(idempotency_key=f"demo-credit:{user.pk}")
        assert wallet.balance == 2 * MICROS_PER_USD
        assert grants.count() == 1
        assert sum(e.amount for e in grants.get().entries.all()) == 0  # balanced
        # The team member is paid for by the team: no personal credit.
        assert not Transaction.objects.filter(idempotency_key=f"demo-credit:{member.pk}").exists()
