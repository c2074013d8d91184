"""Pinned conversations head the sidebar; archived ones leave it and stay searchable."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from accounts.models import Tenant, User
from chat.models import Conversation, Message
from spark.tenancy.context import unscoped
from tests.chat.conftest import make_conversation
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def _patch(client: Client, conversation: Conversation, body: dict[str, object]) -> dict:
    response = client.patch(
        f"/api/v1/conversations/{conversation.uuid}/", body, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return dict(response.json())


def _listed(client: Client, query: str = "") -> list[str]:
    response = client.get(f"/api/v1/conversations/{query}")
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


def _sidebar(client: Client) -> list[dict]:
    page = client.get("/chat/").content.decode()
    config = r'<script id="chat-config" type="application/json">(.*?)</script>'
    found = re.search(config, page, re.S)
    assert found is not None
    return list(json.loads(found.group(1))["sidebar"]["conversations"])


def _three(user: User, tenant: Tenant) -> tuple[Conversation, Conversation, Conversation]:
    old = make_conversation(user, tenant, title="Old walrus notes")
    middle = make_conversation(user, tenant, title="Middle")
    new = make_conversation(user, tenant, title="Newest")
    with unscoped():
        for offset, conversation in enumerate((old, middle, new)):
            Conversation.objects.filter(pk=conversation.pk).update(
                last_activity_at=conversation.created_at.replace(year=2020 + offset)
            )
    return old, middle, new


def test_a_pinned_conversation_heads_the_sidebar_and_unpins(
    user: User, public_tenant: Tenant
) -> None:
    old, _middle, _new = _three(user, public_tenant)
    client = signed_in(user)

    pinned = _patch(client, old, {"pinned": True})

    assert pinned["pinned"] is True and pinned["pinned_at"] is not None
    assert [row["title"] for row in _sidebar(client)] == ["Old walrus notes", "Newest", "Middle"]
    assert _sidebar(client)[0]["pinned"] is True
    # The API's list keeps newest activity first; the pin is a field of each row
    assert _listed(client) == ["Newest", "Middle", "Old walrus notes"]
    unpinned = _patch(client, old, {"pinned": False})
    assert unpinned["pinned"] is False and unpinned["pinned_at"] is None
    assert [row["title"] for row in _sidebar(client)] == ["Newest", "Middle", "Old walrus notes"]


def test_pinning_again_keeps_the_pins_time(user: User, public_tenant: Tenant) -> None:
    old, _middle, _new = _three(user, public_tenant)
    client = signed_in(user)
    first = _patch(client, old, {"pinned": True})["pinned_at"]
    assert _patch(client, old, {"pinned": True})["pinned_at"] == first


def test_an_archived_conversation_leaves_the_sidebar_and_stays_searchable(
    user: User, public_tenant: Tenant
) -> None:
    old, _middle, _new = _three(user, public_tenant)
    with unscoped():
        Message.objects.create(
            tenant=public_tenant, conversation=old, role="user", content="walrus tusks"
        )
    client = signed_in(user)
    _patch(client, old, {"pinned": True})

    archived = _patch(client, old, {"archived": True})

    # Archiving unpins; the conversation leaves the sidebar and the default list
    assert archived["archived"] is True and archived["archived_at"] is not None
    assert archived["pinned"] is False
    assert [row["title"] for row in _sidebar(client)] == ["Newest", "Middle"]
    assert _listed(client) == ["Newest", "Middle"]
    assert _listed(client, "?archived=false") == ["Newest", "Middle"]
    # It is listed on its own, and with the others
    assert _listed(client, "?archived=true") == ["Old walrus notes"]
    assert _listed(client, "?archived=all") == ["Newest", "Middle", "Old walrus notes"]
    # Searchable: its title, and its messages
    assert _listed(client, "?q=walrus") == ["Old walrus notes"]
    assert _listed(client, "?q=walrus&archived=false") == []
    hits = client.get("/api/v1/search/?q=walrus").json()["results"]
    assert [hit["conversation_id"] for hit in hits] == [str(old.uuid)]
    # It still opens by its link
    assert client.get(f"/chat/{old.uuid}/").status_code == 200

    restored = _patch(client, old, {"archived": False})
    assert restored["archived"] is False and restored["archived_at"] is None
    assert [row["title"] for row in _sidebar(client)] == ["Newest", "Middle", "Old walrus notes"]


def test_a_bad_archived_filter_or_flag_is_a_400_with_a_code(
    user: User, public_tenant: Tenant
) -> None:
    old, _middle, _new = _three(user, public_tenant)
    client = signed_in(user)

    listed = client.get("/api/v1/conversations/?archived=maybe")
    flagged = client.patch(
        f"/api/v1/conversations/{old.uuid}/", {"pinned": "yes"}, content_type="application/json"
    )

    assert listed.status_code == 400
    assert listed.json()["code"] == "invalid_archived"
    assert flagged.status_code == 400
    assert flagged.json()["code"] == "invalid"
    old.refresh_from_db()
    assert old.pinned_at is None
