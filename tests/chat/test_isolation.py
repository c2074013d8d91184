"""Nobody else reaches a user's conversations: not listed, not searched, not streamed."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.test import Client

from accounts import tenancy
from accounts.models import Tenant, User
from chat import services as chat_services
from chat.models import Message
from spark.tenancy.context import unscoped
from tests.chat.conftest import make_conversation, session_cookie, ws_connect
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory, create_user
from tests.isolation import RESOURCES


def _conversation_with_words(owner: User, words: str, *, archived: bool = False) -> None:
    tenant = tenancy.home_tenant(owner)
    conversation = make_conversation(owner, tenant, title=words)
    with unscoped():
        Message.objects.create(tenant=tenant, conversation=conversation, role="user", content=words)
        if archived:
            chat_services.conversation_archive(conversation=conversation, archived=True)


@pytest.mark.django_db
@pytest.mark.parametrize("intruder_kind", ["other_tenant", "same_tenant"])
def test_others_cannot_list_or_search_a_users_conversations(
    user_a: User, user_b: User, tenant_b: Tenant, intruder_kind: str
) -> None:
    _conversation_with_words(user_b, "walrus secrets")
    _conversation_with_words(user_b, "walrus archive", archived=True)
    intruder = (
        user_a
        if intruder_kind == "other_tenant"
        else create_user(tenant=tenant_b, email="neighbour@b.example")
    )
    _key, raw = ApiKeyFactory.create(user=intruder)
    for client, headers in (
        (signed_in(intruder), {}),
        (Client(), {"Authorization": f"Bearer {raw}"}),
    ):
        listed = client.get("/api/v1/conversations/?q=walrus", headers=headers).json()
        assert listed["results"] == []
        assert client.get("/api/v1/conversations/", headers=headers).json()["results"] == []
        for archived in ("true", "all"):
            path = f"/api/v1/conversations/?archived={archived}&q=walrus"
            assert client.get(path, headers=headers).json()["results"] == []
        found = client.get("/api/v1/search/?q=walrus", headers=headers).json()
        assert found["results"] == []
    owner = signed_in(user_b)
    assert len(owner.get("/api/v1/search/?q=walrus").json()["results"]) == 2
    assert len(owner.get("/api/v1/conversations/?q=walrus").json()["results"]) == 2
    assert len(owner.get("/api/v1/conversations/?archived=true").json()["results"]) == 1


@pytest.mark.django_db
def test_owner_reaches_their_conversation_and_folder_endpoints(user_b: User) -> None:
    """The matrix is meaningful: the owner gets answers where intruders get 404."""
    by_name = {resource.name: resource for resource in RESOURCES}
    with unscoped():
        conversation = by_name["conversation"].create(user_b)
        folder = by_name["folder"].create(user_b)
    client = signed_in(user_b)
    for endpoint in by_name["conversation"].endpoints(conversation):
        if endpoint.method == "GET" and not endpoint.bearer and "/events/" not in endpoint.path:
            assert client.get(endpoint.path).status_code == 200, endpoint
    assert client.get(f"/api/v1/folders/{folder.uuid}/").status_code == 200


@pytest.mark.django_db(transaction=True)
async def test_user_of_another_tenant_cannot_open_the_socket(
    user: User, user_a: User, public_tenant: Tenant
) -> None:
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    cookie = await sync_to_async(session_cookie)(user_a)
    _communicator, _connected, close_code = await ws_connect(
        f"/ws/chat/{conversation.uuid}/",
        cookie=cookie,
        expect_close=True,
    )
    assert close_code == 4404
