"""Thumbs up or down on an answer, with an optional reason; counted for the prompt's
creator (totals only) and listed for staff in the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts import tenancy
from accounts.models import Tenant, User
from chat.models import Conversation, Message, MessageFeedback
from marketplace.models import Prompt
from spark.tenancy.context import unscoped
from tests.chat.conftest import make_conversation
from tests.conftest import signed_in
from tests.factories import create_prompt

pytestmark = pytest.mark.django_db


def _exchange(
    user: User, prompt: Prompt | None = None, **answer: Any
) -> tuple[Conversation, Message]:
    tenant = tenancy.home_tenant(user)
    conversation = make_conversation(user, tenant, prompt=prompt, title="Rated")
    with unscoped():
        question = Message.objects.create(
            tenant=tenant, conversation=conversation, role="user", content="Why is the sky blue?"
        )
        reply = Message.objects.create(
            tenant=tenant,
            conversation=conversation,
            role="assistant",
            content=answer.pop("content", "Rayleigh scattering."),
            reply_to=question,
            **answer,
        )
    return conversation, reply


def _url(conversation: Conversation, message: Message) -> str:
    return f"/api/v1/conversations/{conversation.uuid}/messages/{message.uuid}/feedback/"


def _put(client: Client, conversation: Conversation, message: Message, body: dict) -> Any:
    return client.put(_url(conversation, message), body, content_type="application/json")


def _shown(client: Client, conversation: Conversation) -> list[Any]:
    rows = client.get(f"/api/v1/conversations/{conversation.uuid}/messages/").json()
    return [row["feedback"] for row in rows]


def test_an_answer_is_rated_up_then_down_with_a_reason_then_unrated(
    user: User, public_tenant: Tenant
) -> None:
    prompt = create_prompt(owner=user, name="Sky")
    conversation, answer = _exchange(user, prompt)
    client = signed_in(user)

    up = _put(client, conversation, answer, {"rating": "up"})
    assert up.status_code == 200, up.content
    assert up.json()["rating"] == "up" and up.json()["reason"] == ""
    down = _put(client, conversation, answer, {"rating": "down", "reason": "  Too short.  "})

    assert down.status_code == 200
    assert _shown(client, conversation)[0] is None  # the question
    assert _shown(client, conversation)[1]["rating"] == "down"
    assert _shown(client, conversation)[1]["reason"] == "Too short."
    with unscoped():
        rows = list(MessageFeedback.objects.values_list("message_id", "rating", "prompt_id"))
    assert rows == [(answer.pk, "down", prompt.pk)]  # one per answer, its prompt kept

    gone = client.delete(_url(conversation, answer))
    assert gone.status_code == 204
    assert _shown(client, conversation) == [None, None]
    assert client.delete(_url(conversation, answer)).status_code == 204  # nothing to take back


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"rating": "sideways"}, "invalid", "rating"),
        ({"rating": 1}, "invalid", "rating"),
        ({}, "invalid", "rating"),
        ({"rating": "down", "reason": "x" * 1001}, "invalid", "reason"),
    ],
)
def test_a_bad_rating_is_a_400_and_writes_nothing(
    user: User, public_tenant: Tenant, body: dict, code: str, field: str | None
) -> None:
    conversation, answer = _exchange(user)

    response = _put(signed_in(user), conversation, answer, body)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["message"]
    if field is not None:
        assert list(response.json()["details"]) == [field]
    with unscoped():
        assert not MessageFeedback.objects.exists()


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "streaming", "content": ""},
        {"status": "blocked", "content": "I can't help with that."},
        {"status": "failed", "content": "", "error_code": "insufficient_funds"},
    ],
)
def test_only_a_written_answer_can_be_rated(
    user: User, public_tenant: Tenant, answer: dict
) -> None:
    conversation, reply = _exchange(user, **answer)
    client = signed_in(user)
    with unscoped():
        question = Message.objects.get(conversation=conversation, role="user")

    for message in (reply, question):
        response = _put(client, conversation, message, {"rating": "up"})
        assert response.status_code == 409
        assert response.json()["code"] == "not_an_answer"
    with unscoped():
        assert not MessageFeedback.objects.exists()


def test_the_creator_sees_counts_from_every_tenant_and_never_a_reason(
    user: User, user_b: User
) -> None:
    prompt = create_prompt(owner=user, name="Counted")
    ratings = [(user, "up", "Lovely"), (user, "down", "secret complaint"), (user_b, "up", "")]
    for rater, rating, reason in ratings:
        conversation, answer = _exchange(rater, prompt)
        assert (
            _put(
                signed_in(rater), conversation, answer, {"rating": rating, "reason": reason}
            ).status_code
            == 200
        )
    _other, elsewhere = _exchange(user, create_prompt(owner=user, name="Other"))
    assert _put(signed_in(user), _other, elsewhere, {"rating": "down"}).status_code == 200

    page = signed_in(user).get(f"/creator/prompts/{prompt.uuid}/stats/")

    body = page.content.decode()
    assert '<dd data-total="up">2</dd>' in body
    assert '<dd data-total="down">1</dd>' in body
    assert '<dd data-total="up_share">67 %</dd>' in body
    assert "secret complaint" not in body and "Lovely" not in body


def test_staff_see_every_rating_with_its_reason_in_the_admin(
    user: User, user_b: User, staff_client: Client
) -> None:
    prompt = create_prompt(owner=user, name="Audited")
    for rater, rating, reason in ((user, "down", "Wrong date"), (user_b, "up", "")):
        conversation, answer = _exchange(rater, prompt)
        _put(signed_in(rater), conversation, answer, {"rating": rating, "reason": reason})

    listing = staff_client.get("/admin/chat/messagefeedback/")
    downs = staff_client.get("/admin/chat/messagefeedback/?rating__exact=down")

    assert listing.status_code == 200
    body = listing.content.decode()
    assert "Wrong date" in body and "Audited" in body
    # The filters count each rating and each prompt's ratings
    assert "Good answer (1)" in body and "Bad answer (1)" in body and "Audited (2)" in body
    assert downs.status_code == 200
    assert "Wrong date" in downs.content.decode()
    assert signed_in(user).get("/admin/chat/messagefeedback/").status_code == 302
