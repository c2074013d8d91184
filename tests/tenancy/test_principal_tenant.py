"""The principal chooses the tenant, the Host only the site (issue 11, part 1).

A public-tenant user who names an enterprise tenant's domain in the Host header acts in
nothing there: their API key is refused with ``tenant_mismatch``, their session is a
visitor's (anonymous), and they never draw on the team's wallet.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from celery import shared_task
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async as sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client, override_settings

from accounts import services as account_services
from accounts.middleware import ApiKeyAsgiMiddleware
from accounts.models import Membership, Tenant, User
from billing import ledger, policy
from billing.models import Account, Hold, MemberCap, UsageRecord
from chat.models import Conversation, Message
from marketplace.models import Prompt
from spark.routing import websocket_urlpatterns
from spark.tenancy.asgi import TenantScopeMiddleware
from spark.tenancy.context import current_tenant, tenant_scope, unscoped
from spark.tenancy.tasks import TenantTask
from tests.billing.conftest import fund_tenant, make_priced_model
from tests.chat.conftest import make_conversation, session_cookie
from tests.conftest import signed_in
from tests.factories import PASSWORD, ApiKeyFactory, create_prompt, create_user
from tests.fakes.llm import Reply

ACME = "acme.example"
SHOP = "shop.example"
# The hosts these tests name, as production lists them (never "*"): another Host is a 400.
HOSTS = override_settings(ALLOWED_HOSTS=["testserver", ACME, SHOP])
TEAM_FUNDS = 5_000_000
# spark.asgi's socket stack below its Origin check (issue 11 part 3 owns that check; its
# host list is read once at import): authentication, API keys, then the tenant rule.
SOCKETS = AuthMiddlewareStack(
    ApiKeyAsgiMiddleware(TenantScopeMiddleware(URLRouter(websocket_urlpatterns)))
)


@pytest.fixture
def acme(db: None) -> Tenant:
    tenant = account_services.tenant_create(
        name="Acme", slug="acme", kind=Tenant.Kind.ENTERPRISE, allows_signup=False, domains=(ACME,)
    )
    fund_tenant(tenant, TEAM_FUNDS)
    return tenant


@pytest.fixture
def shop(db: None) -> Tenant:
    return account_services.tenant_create(
        name="Shop", slug="shop", kind=Tenant.Kind.CURATOR, domains=(SHOP,)
    )


@pytest.fixture
def acme_member(acme: Tenant) -> User:
    return create_user(tenant=acme, email="ann@acme.example")


def _acme_wallet(acme: Tenant) -> tuple[int, int]:
    wallet = ledger.tenant_wallet(acme)
    wallet.refresh_from_db()
    return wallet.balance, wallet.held


def _acme_conversations(acme: Tenant) -> int:
    with unscoped():
        return Conversation.objects.filter(tenant=acme).count()


def _completion(client: Client, host: str, bearer: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    body = {"model": "priced-gpt", "messages": [{"role": "user", "content": "Spend their money"}]}
    return client.post(
        "/v1/chat/completions",
        json.dumps(body),
        content_type="application/json",
        headers=headers,
        HTTP_HOST=host,
    )


@HOSTS
@pytest.mark.django_db(transaction=True)
def test_public_users_api_key_on_an_enterprise_domain_is_refused_with_tenant_mismatch(
    llm_fakes: Any, user: User, acme: Tenant, acme_member: User
) -> None:
    """The reproduction: ``POST /v1/chat/completions`` with the outsider's own key and
    ``Host: acme.example`` answered 200, created the conversation in Acme and Acme paid."""
    make_priced_model()
    _key, raw = ApiKeyFactory.create(user=user, name="mine")
    llm_fakes.openai.script(Reply("Charged to Acme.", output_tokens=50))

    response = _completion(Client(), ACME, bearer=raw)

    assert response.status_code == 403
    assert response.json()["code"] == "tenant_mismatch"
    assert _acme_conversations(acme) == 0
    assert _acme_wallet(acme) == (TEAM_FUNDS, 0)
    with unscoped():
        assert not UsageRecord.objects.exists()
        assert not MemberCap.objects.filter(tenant=acme).exists()
    assert llm_fakes.openai.model_calls == []


@HOSTS
@pytest.mark.django_db(transaction=True)
def test_the_same_key_works_on_the_platform_host_in_its_own_tenant(
    llm_fakes: Any, user: User, public_tenant: Tenant, acme: Tenant
) -> None:
    """The refusal is about the Host naming another tenant, not about the key."""
    _key, raw = ApiKeyFactory.create(user=user, name="mine")
    body = {"model": "demo", "messages": [{"role": "user", "content": "Hello"}]}
    response = Client().post(
        "/v1/chat/completions",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200
    with unscoped():
        conversation = Conversation.objects.get(uuid=response.headers["X-Spark-Conversation"])
    assert conversation.tenant_id == public_tenant.pk
    assert _acme_conversations(acme) == 0


@HOSTS
@pytest.mark.django_db(transaction=True)
def test_outsider_session_on_an_enterprise_domain_cannot_chat_browse_or_spend(
    llm_fakes: Any, user: User, acme: Tenant, acme_member: User
) -> None:
    """The browser variant: signed in on the platform, the outsider opens Acme's site."""
    make_priced_model()
    with tenant_scope(acme):
        secret = create_prompt(
            owner=acme_member, tenant=acme, name="Acme Roadmap Bot", slug="roadmap"
        )
    browser = signed_in(user)
    llm_fakes.openai.script(Reply("Charged to Acme.", output_tokens=50))

    catalogue = browser.get("/prompts/", HTTP_HOST=ACME)
    chat = browser.get(f"/chat/new/?prompt={secret.slug}", HTTP_HOST=ACME)
    created = browser.post(
        "/api/v1/conversations/",
        json.dumps({"prompt": secret.slug}),
        content_type="application/json",
        HTTP_HOST=ACME,
    )
    listed = browser.get("/api/v1/prompts/", HTTP_HOST=ACME)
    completion = _completion(browser, ACME)

    login = "/accounts/login/?next=/prompts/"
    assert (catalogue.status_code, catalogue.headers["Location"]) == (302, login)
    assert chat.status_code == 302 and chat.headers["Location"].startswith("/accounts/login/")
    assert (created.status_code, created.json()["code"]) == (401, "not_authenticated")
    assert (listed.status_code, listed.json()["code"]) == (401, "not_authenticated")
    assert completion.status_code == 401
    assert _acme_conversations(acme) == 0
    assert _acme_wallet(acme) == (TEAM_FUNDS, 0)
    assert llm_fakes.openai.model_calls == []
    # The sign-in page is what Acme's site shows them (sign-up is closed there).
    assert browser.get("/accounts/login/", HTTP_HOST=ACME).status_code == 200
    # And on the platform host the same session is theirs again.
    assert browser.get("/api/v1/me/").json()["email"] == user.email


@HOSTS
@pytest.mark.django_db
def test_outsider_on_a_curator_site_sees_what_anonymous_visitors_see_and_may_sign_up(
    user: User, shop: Tenant
) -> None:
    shop_owner = create_user(tenant=shop, email="owner@shop.example", role=Membership.Role.OWNER)
    with tenant_scope(shop):
        create_prompt(owner=shop_owner, tenant=shop, name="Shop Poet", slug="poet")
        create_prompt(
            owner=shop_owner,
            tenant=shop,
            name="Shop Drafts",
            slug="drafts",
            visibility=Prompt.Visibility.PRIVATE,
        )
    browser = signed_in(user)

    as_outsider = browser.get("/prompts/", HTTP_HOST=SHOP)
    as_anonymous = Client().get("/prompts/", HTTP_HOST=SHOP)

    assert as_outsider.status_code == as_anonymous.status_code == 200
    outsider_html, anonymous_html = as_outsider.content.decode(), as_anonymous.content.decode()
    assert "Shop Poet" in outsider_html and "Shop Poet" in anonymous_html
    assert "Shop Drafts" not in outsider_html
    assert user.email not in outsider_html  # not shown as signed in on the site
    assert browser.get("/accounts/signup/", HTTP_HOST=SHOP).status_code == 200
    me = browser.get("/api/v1/me/", HTTP_HOST=SHOP)
    assert me.status_code in (401, 403)
    assert browser.get("/api/v1/conversations/", HTTP_HOST=SHOP).status_code in (401, 403)


@HOSTS
@pytest.mark.django_db
def test_member_on_their_own_domain_acts_in_their_tenant(acme: Tenant, acme_member: User) -> None:
    _key, raw = ApiKeyFactory.create(user=acme_member)
    by_session = signed_in(acme_member).get("/api/v1/me/", HTTP_HOST=ACME)
    by_key = Client().get("/api/v1/me/", HTTP_HOST=ACME, headers={"Authorization": f"Bearer {raw}"})
    assert by_session.status_code == by_key.status_code == 200
    assert by_session.wsgi_request.tenant == acme  # type: ignore[attr-defined]
    assert by_key.wsgi_request.tenant == acme  # type: ignore[attr-defined]


@HOSTS
@pytest.mark.django_db
def test_a_key_whose_owner_left_its_tenant_acts_nowhere(
    acme: Tenant, acme_member: User, public_tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    _key, raw = ApiKeyFactory.create(user=acme_member)
    with django_capture_on_commit_callbacks(execute=True):
        account_services.membership_set(user=acme_member, tenant=public_tenant)
    for host in ("testserver", ACME):
        response = Client().get(
            "/api/v1/conversations/", HTTP_HOST=host, headers={"Authorization": f"Bearer {raw}"}
        )
        assert (response.status_code, response.json()["code"]) == (403, "tenant_mismatch")


@HOSTS
@pytest.mark.django_db
def test_sse_events_with_a_key_on_another_tenants_domain_are_refused(
    user: User, public_tenant: Tenant, acme: Tenant
) -> None:
    conversation = make_conversation(user, public_tenant)
    with unscoped():
        answer = Message.objects.create(
            tenant=public_tenant, conversation=conversation, role="assistant", content="Hi"
        )
    _key, raw = ApiKeyFactory.create(user=user)
    response = Client().get(
        f"/api/v1/conversations/{conversation.uuid}/events/?message_id={answer.uuid}&after_seq=0",
        HTTP_HOST=ACME,
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert (response.status_code, response.json()["code"]) == (403, "tenant_mismatch")


async def _socket(
    path: str, host: str, *, cookie: str | None = None, bearer: str | None = None
) -> tuple[WebsocketCommunicator, bool]:
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if bearer:
        headers.append((b"authorization", f"Bearer {bearer}".encode()))
    communicator = WebsocketCommunicator(SOCKETS, path, headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


@HOSTS
@pytest.mark.django_db(transaction=True)
async def test_websocket_with_a_key_on_another_tenants_domain_is_refused_at_connect(
    user: User, public_tenant: Tenant, acme: Tenant
) -> None:
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    _key, raw = await sync_to_async(ApiKeyFactory.create)(user=user)

    communicator, connected = await _socket(f"/ws/chat/{conversation.uuid}/", ACME, bearer=raw)

    assert connected
    frame = await communicator.receive_json_from()
    assert (frame["type"], frame["code"]) == ("error", "tenant_mismatch")
    closed = await communicator.receive_output()
    assert (closed["type"], closed["code"]) == ("websocket.close", 4403)


@HOSTS
@pytest.mark.django_db(transaction=True)
async def test_websocket_of_an_outsider_session_on_an_enterprise_domain_is_anonymous(
    user: User, public_tenant: Tenant, acme: Tenant
) -> None:
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    cookie = await sync_to_async(session_cookie)(user)

    communicator, connected = await _socket(f"/ws/chat/{conversation.uuid}/", ACME, cookie=cookie)

    assert connected
    closed = await communicator.receive_output()
    assert (closed["type"], closed["code"]) == ("websocket.close", 4401)


@pytest.mark.django_db
def test_a_non_member_cannot_draw_on_a_tenant_wallet(user: User, acme: Tenant) -> None:
    """Who pays comes from the membership: naming the tenant is not enough."""
    model = make_priced_model()
    with pytest.raises(policy.NotAMember):
        policy.plan_for(tenant=acme, user=user, prompt=None, model=model)
    with unscoped():
        assert not MemberCap.objects.filter(tenant=acme).exists()
        assert not Hold.objects.exists()


@pytest.mark.django_db
def test_a_members_first_draw_gives_them_the_default_cap(
    acme: Tenant, acme_member: User, settings: Any
) -> None:
    settings.SPARK_BILLING_MEMBER_CAP_DEFAULT_USD = 20
    model = make_priced_model()
    plan = policy.plan_for(tenant=acme, user=acme_member, prompt=None, model=model)
    assert plan.payer == ledger.tenant_wallet(acme)
    assert plan.payer.kind == Account.Kind.TENANT_WALLET
    with unscoped():
        cap = MemberCap.objects.get(tenant=acme, user=acme_member)
    assert plan.cap == cap
    assert cap.monthly_cap == 20_000_000


@pytest.mark.django_db
def test_no_limit_is_a_cap_row_a_manager_chose(acme: Tenant, acme_member: User) -> None:
    from billing import services as billing_services

    cap = billing_services.member_cap_set(tenant=acme, user=acme_member, monthly_cap=None)
    with unscoped():
        assert MemberCap.objects.get(tenant=acme, user=acme_member) == cap
    assert cap.monthly_cap is None
    model = make_priced_model()
    assert policy.plan_for(tenant=acme, user=acme_member, prompt=None, model=model).cap == cap


def test_unknown_hosts_are_refused_before_any_tenant_is_chosen() -> None:
    with override_settings(ALLOWED_HOSTS=["testserver", ACME]):
        assert Client().get("/prompts/", HTTP_HOST="unknown.example").status_code == 400
    assert settings.SPARK_TENANT_RESOLVER == "accounts.tenancy.resolve_tenant"


@shared_task(base=TenantTask, name="tests.tenancy.acting_user")
def acting_user(*, tenant_id: int, user_id: int) -> int:
    return int(current_tenant().pk)


@pytest.mark.django_db
def test_a_task_for_a_user_runs_only_in_the_tenant_they_belong_to(
    user: User, public_tenant: Tenant, acme: Tenant
) -> None:
    assert acting_user.apply(kwargs={"tenant_id": public_tenant.pk, "user_id": user.pk}).get() == (
        public_tenant.pk
    )
    with pytest.raises(PermissionError, match="not a member"):
        acting_user.apply(kwargs={"tenant_id": acme.pk, "user_id": user.pk}).get()


@HOSTS
@pytest.mark.django_db
def test_a_tenants_site_does_not_sign_in_someone_elses_account(user: User, shop: Tenant) -> None:
    """Signed in there they would only be a visitor: the site says so instead."""
    browser = Client()
    response = browser.post(
        "/accounts/login/",
        {"login": user.email, "password": PASSWORD},
        HTTP_HOST=SHOP,
        follow=True,
    )
    assert "This account belongs to another site." in response.content.decode()
    assert "_auth_user_id" not in browser.session
    member = create_user(tenant=shop, email="sam@shop.example")
    signed = Client()
    signed.post("/accounts/login/", {"login": member.email, "password": PASSWORD}, HTTP_HOST=SHOP)
    assert signed.session["_auth_user_id"] == str(member.pk)
