"""Custom domains for prompts, against the local authoritative DNS server (tests/fakes/dns.py):
names refused, the lifecycle unverified → pending → verified → active, the slot fee through
the ledger, failure after the deadline, suspension by the daily re-check, on-demand TLS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Tenant, User
from billing import ledger
from billing.models import MICROS_PER_USD, Account, Entry, Transaction
from marketplace import domains, tasks
from marketplace.models import Prompt, PromptDomain
from spark.tenancy.context import unscoped
from tests.billing.conftest import balance, fund
from tests.conftest import signed_in
from tests.factories import create_prompt, create_user
from tests.fakes.dns import CNAME_TARGET, PLATFORM_IPV4, PLATFORM_IPV6, FakeDns

pytestmark = pytest.mark.django_db

FEE = 25 * MICROS_PER_USD
API = "/api/v1/domains/"


def add(client: Client, prompt: Prompt, hostname: str) -> Any:
    return client.post(
        API, {"prompt": str(prompt.uuid), "hostname": hostname}, content_type="application/json"
    )


def stored(hostname: str) -> PromptDomain:
    with unscoped():
        return PromptDomain.objects.get(hostname=hostname)


def tls_ask(domain: str, **extra: Any) -> int:
    return Client().get("/internal/tls/ask", {"domain": domain}, **extra).status_code


@pytest.fixture
def creator(public_tenant: Tenant) -> User:
    return create_user(tenant=public_tenant, email="santa@example.com")


@pytest.fixture
def prompt(creator: User) -> Prompt:
    return create_prompt(owner=creator, name="Santa")


def verified_domain(client: Client, prompt: Prompt, fake_dns: FakeDns, host: str) -> str:
    domain_id = add(client, prompt, host).json()["id"]
    fake_dns.set(host, "CNAME", CNAME_TARGET)
    assert client.post(f"{API}{domain_id}/verify/").json()["status"] == "verified"
    return str(domain_id)


# --- names -------------------------------------------------------------------------------------


def test_an_idn_is_stored_in_punycode_and_shown_in_unicode(
    creator: User, prompt: Prompt, fake_dns: FakeDns
) -> None:
    response = add(signed_in(creator), prompt, "  Bücher.Example.COM.  ")

    assert response.status_code == 201
    body = response.json()
    assert body["hostname"] == "xn--bcher-kva.example.com"
    assert body["display_hostname"] == "bücher.example.com"
    assert body["status"] == "unverified"
    token = stored("xn--bcher-kva.example.com").token
    assert body["records"] == [
        {"type": "CNAME", "name": "xn--bcher-kva.example.com", "value": CNAME_TARGET},
        {"type": "TXT", "name": "_spark-challenge.xn--bcher-kva.example.com", "value": token},
        {"type": "A", "name": "xn--bcher-kva.example.com", "value": PLATFORM_IPV4},
        {"type": "AAAA", "name": "xn--bcher-kva.example.com", "value": PLATFORM_IPV6},
    ]


@pytest.mark.parametrize(
    ("hostname", "reason"),
    [
        ("", "Enter a domain name"),
        ("203.0.113.7", "not an IP address"),
        ("[2001:db8::1]", "not an IP address"),
        ("*.example.com", "Wildcard"),
        ("intranet", "not a valid domain"),
        ("a..example.com", "not a valid domain"),
        ("-bad.example.com", "not a valid domain"),
        ("localhost", "not a valid domain"),
        ("app.localhost", "belongs to the platform"),
        (CNAME_TARGET, "belongs to the platform"),
        (f"x.{CNAME_TARGET}", "belongs to the platform"),
        ("acme.example", "belongs to the platform"),
    ],
)
def test_names_that_cannot_be_a_prompt_domain_are_refused_with_a_reason(
    creator: User, prompt: Prompt, fake_dns: FakeDns, hostname: str, reason: str
) -> None:
    account_services.tenant_create(
        name="Acme", slug="acme", kind=Tenant.Kind.CURATOR, domains=("acme.example",)
    )

    response = add(signed_in(creator), prompt, hostname)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_domain"
    assert reason in body["message"]
    with unscoped():
        assert not PromptDomain.objects.exists()


def test_the_landing_domain_and_its_subdomains_are_the_platforms(
    creator: User, prompt: Prompt, fake_dns: FakeDns, settings: Any
) -> None:
    settings.SPARK_LANDING_DOMAIN = "pages.spark.test"
    response = add(signed_in(creator), prompt, "santa-public.pages.spark.test")
    assert response.status_code == 400 and response.json()["code"] == "invalid_domain"


def test_a_domain_another_prompt_or_tenant_holds_is_refused(
    creator: User, prompt: Prompt, fake_dns: FakeDns, tenant_b: Tenant
) -> None:
    other_prompt = create_prompt(owner=creator, name="Elf")
    rival = create_user(tenant=tenant_b, email="grinch@example.org")
    rival_prompt = create_prompt(owner=rival, name="Grinch")
    assert add(signed_in(creator), prompt, "santa.example.com").status_code == 201

    same_tenant = add(signed_in(creator), other_prompt, "SANTA.example.com")
    other_tenant = add(signed_in(rival), rival_prompt, "santa.example.com")

    for response in (same_tenant, other_tenant):
        assert response.status_code == 409
        assert response.json()["code"] == "domain_taken"
    with unscoped():
        assert list(PromptDomain.objects.values_list("prompt_id", flat=True)) == [prompt.pk]


def test_a_name_whose_claim_failed_can_be_claimed_by_someone_else(
    creator: User, prompt: Prompt, fake_dns: FakeDns, tenant_b: Tenant
) -> None:
    add(signed_in(creator), prompt, "santa.example.com")
    with unscoped():
        PromptDomain.objects.update(status=PromptDomain.Status.FAILED)
    rival = create_user(tenant=tenant_b, email="grinch@example.org")

    response = add(signed_in(rival), create_prompt(owner=rival), "santa.example.com")

    assert response.status_code == 201
    assert stored("santa.example.com").tenant_id == tenant_b.pk


def test_someone_elses_prompt_cannot_get_a_domain(
    creator: User, prompt: Prompt, fake_dns: FakeDns, user_b: User
) -> None:
    response = add(signed_in(user_b), prompt, "santa.example.com")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    with unscoped():
        assert not PromptDomain.objects.exists()


# --- the lifecycle -----------------------------------------------------------------------------


def test_a_cname_domain_goes_from_unverified_to_active_and_the_fee_is_charged_once(
    creator: User, prompt: Prompt, fake_dns: FakeDns
) -> None:
    client = signed_in(creator)
    domain_id = add(client, prompt, "santa.example.com").json()["id"]
    assert tls_ask("santa.example.com") == 403

    waiting = client.post(f"{API}{domain_id}/verify/").json()
    assert waiting["status"] == "pending"
    assert CNAME_TARGET in waiting["last_error"]
    assert ("santa.example.com", "CNAME") in fake_dns.queries

    fake_dns.set("santa.example.com", "CNAME", f"{CNAME_TARGET}.")
    verified = client.post(f"{API}{domain_id}/verify/").json()
    assert (verified["status"], verified["verified_by"], verified["last_error"]) == (
        "verified",
        "cname",
        "",
    )
    assert domains.active_domain_prompt("santa.example.com") is None  # not paid yet

    fund(creator, FEE)
    active = client.post(f"{API}{domain_id}/activate/")
    assert active.status_code == 200 and active.json()["status"] == "active"
    again = client.post(f"{API}{domain_id}/activate/")
    assert again.status_code == 200

    assert balance(ledger.user_wallet(creator)) == 0
    assert balance(ledger.system_account(Account.Kind.PLATFORM_REVENUE)) == FEE
    assert Transaction.objects.filter(kind=Transaction.Kind.DOMAIN_FEE).count() == 1
    assert domains.active_domain_prompt("SANTA.example.com:443") == prompt
    assert tls_ask("santa.example.com") == 200


def test_activation_without_funds_is_refused_with_a_top_up_link_and_changes_nothing(
    creator: User, prompt: Prompt, fake_dns: FakeDns
) -> None:
    client = signed_in(creator)
    domain_id = verified_domain(client, prompt, fake_dns, "santa.example.com")
    fund(creator, FEE - 1)
    entries = Entry.objects.count()

    response = client.post(f"{API}{domain_id}/activate/")

    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "insufficient_funds"
    assert "$25.00" in body["message"]
    assert body["details"]["topup_url"] == "/billing/wallet/"
    assert stored("santa.example.com").status == "verified"
    assert Entry.objects.count() == entries
    assert tls_ask("santa.example.com") == 403


def test_an_unverified_domain_cannot_be_activated(
    creator: User, prompt: Prompt, fake_dns: FakeDns
) -> None:
    client = signed_in(creator)
    fund(creator, FEE)
    domain_id = add(client, prompt, "santa.example.com").json()["id"]

    response = client.post(f"{API}{domain_id}/activate/")

    assert response.status_code == 409 and response.json()["code"] == "domain_not_verified"
    assert balance(ledger.user_wallet(creator)) == FEE


def test_an_apex_domain_is_verified_by_its_txt_token_and_addresses(
    creator: User, prompt: Prompt, fake_dns: FakeDns
) -> None:
    client = signed_in(creator)
    domain_id = add(client, prompt, "santa.example").json()["id"]
    token = stored("santa.example").token
    fake_dns.set("_spark-challenge.santa.example", "TXT", "other=1", token)
    fake_dns.set("santa.example", "A", PLATFORM_IPV4)
    fake_dns.set("santa.example", "AAAA", "2001:db8:0:0::10")

    body = client.post(f"{API}{domain_id}/verify/").json()

    assert (body["status"], body["verified_by"]) == ("verified", "txt")


@pytest.mark.parametrize(
    ("records", "problem"),
    [
        ({"TXT": ["spark-wrong"], "A": [PLATFORM_IPV4]}, "no TXT record"),
        ({"TXT": ["{token}"]}, "has no A record"),
        ({"TXT": ["{token}"], "A": [PLATFORM_IPV4, "198.51.100.9"]}, "198.51.100.9"),
        ({"CNAME": ["elsewhere.example.net"]}, "not to domains.spark.test"),
    ],
)
def test_records_that_do_not_prove_the_domain_leave_it_pending_with_the_reason(
    creator: User, prompt: Prompt, fake_dns: FakeDns, records: dict[str, list[str]], problem: str
) -> None:
    client = signed_in(creator)
    domain_id = add(client, prompt, "santa.example").json()["id"]
    token = stored("santa.example").token
    for rtype, values in records.items():
        name = "_spark-challenge.santa.example" if rtype == "TXT" else "santa.example"
        fake_dns.set(name, rtype, *(value.replace("{token}", token) for value in values))

    body = client.post(f"{API}{domain_id}/verify/").json()

    assert body["status"] == "pending"
    assert problem in body["last_error"]


def test_a_broken_resolver_leaves_the_domain_pending_and_says_so(
    creator: User, prompt: Prompt, fake_dns: FakeDns
) -> None:
    client = signed_in(creator)
    domain_id = add(client, prompt, "santa.example.com").json()["id"]
    fake_dns.set("santa.example.com", "CNAME", CNAME_TARGET)
    fake_dns.servfail = True

    body = client.post(f"{API}{domain_id}/verify/").json()

    assert body["status"] == "pending"
    assert "did not answer" in body["last_error"]


def test_the_beat_task_verifies_pending_domains_and_fails_them_after_seven_days(
    creator: User, prompt: Prompt, fake_dns: FakeDns
) -> None:
    client = signed_in(creator)
    late_id = add(client, prompt, "late.example.com").json()["id"]
    soon_id = add(client, prompt, "soon.example.com").json()["id"]
    for domain_id in (late_id, soon_id):
        client.post(f"{API}{domain_id}/verify/")
    fake_dns.set("soon.example.com", "CNAME", CNAME_TARGET)

    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        tasks.domains_check_due.delay()
    assert stored("soon.example.com").status == "verified"
    assert stored("late.example.com").status == "pending"

    with time_machine.travel(timezone.now() + timedelta(days=7, hours=1), tick=False):
        tasks.domains_check_due.delay()
    assert stored("late.example.com").status == "failed"
    assert stored("soon.example.com").status == "verified"


def test_an_active_domain_whose_records_break_is_suspended_after_backed_off_rechecks(
    creator: User, prompt: Prompt, fake_dns: FakeDns, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(creator)
    domain_id = verified_domain(client, prompt, fake_dns, "santa.example.com")
    fund(creator, FEE)
    client.post(f"{API}{domain_id}/activate/")
    start = timezone.now()
    fake_dns.remove("santa.example.com")

    def beat_at(hours: float) -> PromptDomain:
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            tasks.domains_check_due.delay()
        return stored("santa.example.com")

    assert beat_at(12).check_failures == 0  # not due: re-checked daily
    first = beat_at(24.1)
    assert (first.status, first.check_failures) == ("active", 1)
    assert first.next_check_at == start + timedelta(hours=25.1)  # backoff: 1 h
    assert beat_at(24.5).check_failures == 1  # not due yet
    second = beat_at(25.2)
    assert (second.status, second.check_failures) == ("active", 2)
    assert second.next_check_at == start + timedelta(hours=29.2)  # backoff: 4 h
    assert domains.active_domain_prompt("santa.example.com") == prompt
    assert not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        third = beat_at(29.3)
    assert (third.status, third.check_failures) == ("suspended", 3)
    assert domains.active_domain_prompt("santa.example.com") is None
    assert tls_ask("santa.example.com") == 403
    [message] = mail.outbox
    assert message.to == ["santa@example.com"]
    assert "santa.example.com no longer serves Santa" in message.subject

    fake_dns.set("santa.example.com", "CNAME", CNAME_TARGET)
    back = client.post(f"{API}{domain_id}/verify/").json()
    assert back["status"] == "active"
    assert Transaction.objects.filter(kind=Transaction.Kind.DOMAIN_FEE).count() == 1


def test_a_removed_domain_stops_serving(creator: User, prompt: Prompt, fake_dns: FakeDns) -> None:
    client = signed_in(creator)
    domain_id = verified_domain(client, prompt, fake_dns, "santa.example.com")
    fund(creator, FEE)
    client.post(f"{API}{domain_id}/activate/")

    assert client.delete(f"{API}{domain_id}/").status_code == 204

    assert domains.active_domain_prompt("santa.example.com") is None
    assert tls_ask("santa.example.com") == 403
    assert client.get(f"{API}{domain_id}/").status_code == 404


def test_a_private_or_switched_off_prompt_is_not_served_on_its_domain(
    creator: User, prompt: Prompt, fake_dns: FakeDns
) -> None:
    client = signed_in(creator)
    domain_id = verified_domain(client, prompt, fake_dns, "santa.example.com")
    fund(creator, FEE)
    client.post(f"{API}{domain_id}/activate/")

    with unscoped():
        Prompt.objects.filter(pk=prompt.pk).update(visibility=Prompt.Visibility.PRIVATE)
    assert domains.active_domain_prompt("santa.example.com") is None
    with unscoped():
        Prompt.objects.filter(pk=prompt.pk).update(visibility="public", is_active=False)
    assert domains.active_domain_prompt("santa.example.com") is None
    assert tls_ask("santa.example.com") == 403


# --- the TLS proxy's "ask" ---------------------------------------------------------------------


def test_tls_ask_allows_tenant_domains_and_refuses_unknown_names(public_tenant: Tenant) -> None:
    account_services.tenant_create(
        name="Shop", slug="shop", kind=Tenant.Kind.CURATOR, domains=("shop.example",)
    )
    assert tls_ask("shop.example") == 200
    assert tls_ask("unknown.example.com") == 403
    assert tls_ask("") == 403
    assert tls_ask("not a name") == 403


def test_tls_ask_answers_only_the_proxy_on_the_internal_network(
    creator: User, prompt: Prompt, fake_dns: FakeDns
) -> None:
    account_services.tenant_create(
        name="Shop", slug="shop", kind=Tenant.Kind.CURATOR, domains=("shop.example",)
    )
    assert tls_ask("shop.example", REMOTE_ADDR="198.51.100.20") == 404
    assert tls_ask("shop.example", HTTP_X_FORWARDED_FOR="198.51.100.20") == 404
    assert tls_ask("shop.example", REMOTE_ADDR="172.18.0.5") == 200


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_only_the_creators_domains_in_the_tenant_they_act_in(
    creator: User, prompt: Prompt, fake_dns: FakeDns, public_tenant: Tenant
) -> None:
    colleague = create_user(tenant=public_tenant, email="elf@example.com")
    add(signed_in(creator), prompt, "santa.example.com")
    add(signed_in(colleague), create_prompt(owner=colleague), "elf.example.com")

    mine = signed_in(creator).get(API).json()

    assert [domain["hostname"] for domain in mine] == ["santa.example.com"]
    assert mine[0]["prompt"] == str(prompt.uuid)


# --- serving ---------------------------------------------------------------------------------


def test_an_active_domain_serves_its_prompts_landing_page_and_never_the_app(
    creator: User, prompt: Prompt, fake_dns: FakeDns, django_capture_on_commit_callbacks: Any
) -> None:
    """The landing router asks ``active_domain_prompt``: an active domain answers like the
    prompt's landing host (its page, the landing CSP, no cookie, no app view); before
    activation and after removal it serves nothing of the prompt."""
    client = signed_in(creator)
    host = "santa-page.example"
    domain_id = verified_domain(client, prompt, fake_dns, host)
    assert b"Santa" not in Client().get("/", HTTP_HOST=host).content  # verified, not paid

    fund(creator, FEE)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{API}{domain_id}/activate/").status_code == 200

    visitor = Client()
    page = visitor.get("/", HTTP_HOST=host)
    assert page.status_code == 200 and b"Santa" in page.content
    assert "script-src 'none'" in page["Content-Security-Policy"]
    assert not page.cookies
    login = visitor.get("/accounts/login/", HTTP_HOST=host)
    assert login.status_code == 404 and not login.cookies
    assert visitor.get("/api/v1/domains/", HTTP_HOST=host).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"{API}{domain_id}/").status_code == 204
    assert b"Santa" not in Client().get("/", HTTP_HOST=host).content
