"""Chat pages: the app shell, a new chat from a prompt (GET creates nothing), a conversation."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import Tenant, User
from chat.models import Conversation, Message
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped
from tests.chat.conftest import make_conversation
from tests.conftest import signed_in
from tests.factories import create_alter_ego, create_prompt, image_upload

pytestmark = pytest.mark.django_db


def page_config(html: str) -> dict:  # type: ignore[type-arg]
    found = re.search(
        r'<script id="chat-config" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, "the page carries its data as json_script"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_chat_pages_need_a_signed_in_user() -> None:
    response = Client().get("/chat/new/?prompt=anything")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_chat_home_lists_top_prompts_and_no_inline_scripts(user: User) -> None:
    create_prompt(owner=user, name="Essay Helper", description="Helps with essays.")
    response = signed_in(user).get("/chat/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Essay Helper" in html
    assert "/chat/new/?prompt=essay-helper" in html
    # CSP-friendly: scripts only from files, no inline handlers.
    scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
    assert scripts == []
    assert not re.search(r"\son[a-z]+=", html)


def test_new_chat_from_a_prompt_shows_it_and_creates_nothing(user: User) -> None:
    gpt = LLMModel.objects.get(slug="openai-gpt-4o")
    create_prompt(
        owner=user,
        name="Tutor",
        starter_messages=["Teach me fractions", "Quiz me"],
        allowed_models=[LLMModel.objects.get(slug="demo"), gpt],
    )
    persona = create_alter_ego(user=user, name="Student Sam", is_default=True)
    response = signed_in(user).get("/chat/new/?prompt=tutor")
    assert response.status_code == 200
    config = page_config(response.content.decode())
    assert config["mode"] == "new"
    assert config["prompt"]["starters"] == ["Teach me fractions", "Quiz me"]
    assert [m["id"] for m in config["models"]] == ["demo", "openai-gpt-4o"]
    assert config["default_alter_ego"] == str(persona.uuid)
    html = response.content.decode()
    assert 'data-starter="Teach me fractions"' in html
    assert f'<option value="{persona.uuid}" title=' in html
    with unscoped():
        assert not Conversation.objects.exists()


def test_the_alter_ego_picker_carries_each_persona_s_picture(user: User) -> None:
    create_prompt(owner=user, name="Tutor")
    pictured = create_alter_ego(user=user, name="Pictured Pia", avatar=image_upload())
    plain = create_alter_ego(user=user, name="Plain Paul")
    html = signed_in(user).get("/chat/new/?prompt=tutor").content.decode()
    assert "data-alter-ego-avatar" in html  # the picker's picture, shown by the page's script
    assert f'<option value="{pictured.uuid}" data-avatar="{pictured.avatar.url}"' in html
    assert f'<option value="{plain.uuid}" title=' in html  # no picture, no attribute


def test_hidden_model_name_is_not_on_the_page(user: User) -> None:
    create_prompt(
        owner=user,
        name="Mystery",
        forced_model=LLMModel.objects.get(slug="openai-gpt-4o"),
        hide_model_name=True,
    )
    html = signed_in(user).get("/chat/new/?prompt=mystery").content.decode()
    assert "GPT-4o" not in html
    # What it costs is shown (the person pays it), never which model it is.
    assert page_config(html)["models"] == [
        {
            "id": None,
            "name": "Mystery",
            "is_default": True,
            "price": "$2.87 / $11.50 per 1M tokens",  # own prompt: the 15 % margin
            "affordable": False,
            "topup_url": "/billing/wallet/",
        }
    ]


def test_new_chat_with_an_unknown_prompt_is_404(user: User) -> None:
    assert signed_in(user).get("/chat/new/?prompt=nope").status_code == 404


def test_posting_the_new_chat_form_creates_the_conversation(user: User) -> None:
    create_prompt(owner=user, name="Tutor")
    response = signed_in(user).post("/chat/new/", {"prompt": "tutor", "model": "demo"})
    with unscoped():
        conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/chat/{conversation.uuid}/"
    assert conversation.prompt is not None and conversation.prompt.slug == "tutor"


def test_conversation_page_carries_messages_with_their_last_seq(
    user: User, public_tenant: Tenant
) -> None:
    conversation = make_conversation(user, public_tenant, title="Tides")
    with unscoped():
        question = Message.objects.create(
            tenant=public_tenant, conversation=conversation, role="user", content="Why?"
        )
        Message.objects.create(
            tenant=public_tenant,
            conversation=conversation,
            role="assistant",
            content="Because",
            status="streaming",
            last_seq=7,
            reply_to=question,
        )
    response = signed_in(user).get(f"/chat/{conversation.uuid}/")
    assert response.status_code == 200
    config = page_config(response.content.decode())
    assert config["conversation"]["title"] == "Tides"
    assert [(m["role"], m["status"], m["last_seq"]) for m in config["messages"]] == [
        ("user", "complete", 0),
        ("assistant", "streaming", 7),
    ]
    assert [c["id"] for c in config["sidebar"]["conversations"]] == [str(conversation.uuid)]


def test_conversation_page_carries_only_the_latest_page_of_messages(
    user: User, public_tenant: Tenant, settings: Any
) -> None:
    settings.SPARK_CHAT_PAGE_MESSAGES = 3
    conversation = make_conversation(user, public_tenant)
    with unscoped():
        for index in range(4):
            Message.objects.create(
                tenant=public_tenant, conversation=conversation, role="user", content=f"m{index}"
            )
        Message.objects.create(
            tenant=public_tenant,
            conversation=conversation,
            role="assistant",
            content="Still writ",
            status="streaming",
            last_seq=3,
        )
    client = signed_in(user)
    config = page_config(client.get(f"/chat/{conversation.uuid}/").content.decode())
    assert [(m["content"], m["status"]) for m in config["messages"]] == [
        ("m2", "complete"),
        ("m3", "complete"),
        ("Still writ", "streaming"),
    ]
    assert config["has_earlier"] is True
    assert config["page_size"] == 3

    settings.SPARK_CHAT_PAGE_MESSAGES = 5
    config = page_config(client.get(f"/chat/{conversation.uuid}/").content.decode())
    assert [m["content"] for m in config["messages"]] == ["m0", "m1", "m2", "m3", "Still writ"]
    assert config["has_earlier"] is False


def test_new_chat_page_has_no_earlier_messages(user: User) -> None:
    config = page_config(signed_in(user).get("/chat/new/").content.decode())
    assert config["messages"] == []
    assert config["has_earlier"] is False
