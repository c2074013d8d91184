"""REST: conversations, folders, message lists, search — shapes, errors, query counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Tenant, User
from chat import services
from chat.models import Conversation, Folder, Message
from spark.llm.models import LLMModel
from spark.tenancy.context import tenant_scope, unscoped
from tests.chat.conftest import make_conversation
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory, create_alter_ego, create_prompt, create_user

pytestmark = pytest.mark.django_db


def _count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context)


def _assert_constant_queries(client: Client, path: str, add_rows: Callable[[int], None]) -> None:
    add_rows(1)
    _count_queries(client, path)  # warm the cached tenant lookups
    one = _count_queries(client, path)
    add_rows(6)
    assert _count_queries(client, path) == one


def _add_message(conversation: Conversation, role: str, content: str, **fields: object) -> Message:
    with unscoped():
        return Message.objects.create(
            tenant_id=conversation.tenant_id,
            conversation=conversation,
            role=role,
            content=content,
            **fields,
        )


# --- conversations -------------------------------------------------------------------------


def test_create_conversation_from_a_prompt_uses_its_default_model(
    user: User, public_tenant: Tenant
) -> None:
    prompt = create_prompt(owner=user, name="Tutor")
    response = signed_in(user).post(
        "/api/v1/conversations/", {"prompt": "tutor"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["prompt"] == {"id": str(prompt.uuid), "slug": "tutor", "name": "Tutor"}
    assert body["model"] == {"id": "demo", "name": "Demo (offline)"}
    assert body["folder"] is None
    assert body["alter_ego"] is None
    assert body["is_locked"] is False
    with tenant_scope(public_tenant):
        conversation = Conversation.objects.get(uuid=body["id"])
    assert (conversation.user, conversation.prompt) == (user, prompt)


def test_create_conversation_refuses_a_model_the_prompt_does_not_allow(user: User) -> None:
    create_prompt(owner=user, name="Tutor")
    response = signed_in(user).post(
        "/api/v1/conversations/",
        {"prompt": "tutor", "model": "openai-gpt-4o"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "model_not_allowed"
    with unscoped():
        assert not Conversation.objects.exists()


def test_forced_model_wins_and_hidden_model_name_is_hidden(user: User) -> None:
    gpt = LLMModel.objects.get(slug="openai-gpt-4o")
    create_prompt(
        owner=user,
        name="Secret Sauce",
        allowed_models=[gpt, LLMModel.objects.get(slug="demo")],
        forced_model=gpt,
        hide_model_name=True,
    )
    response = signed_in(user).post(
        "/api/v1/conversations/",
        {"prompt": "secret-sauce", "model": "demo"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["model"] == {"id": None, "name": "Secret Sauce"}
    with unscoped():
        assert Conversation.objects.get().model == gpt


def test_new_conversation_takes_the_default_alter_ego_unless_told(user: User) -> None:
    default = create_alter_ego(user=user, name="Nemo", is_default=True)
    client = signed_in(user)
    taken = client.post("/api/v1/conversations/", {}, content_type="application/json").json()
    assert taken["alter_ego"] == str(default.uuid)
    none = client.post(
        "/api/v1/conversations/", {"alter_ego": None}, content_type="application/json"
    ).json()
    assert none["alter_ego"] is None


def test_create_conversation_with_another_users_alter_ego_is_404(
    user: User, public_tenant: Tenant
) -> None:
    other = create_user(tenant=public_tenant, email="other@example.com")
    theirs = create_alter_ego(user=other)
    response = signed_in(user).post(
        "/api/v1/conversations/", {"alter_ego": str(theirs.uuid)}, content_type="application/json"
    )
    assert response.status_code == 404
    with unscoped():
        assert not Conversation.objects.exists()


def test_list_conversations_newest_activity_first_with_title_search_and_folder_filter(
    user: User, public_tenant: Tenant
) -> None:
    with tenant_scope(public_tenant):
        folder = services.folder_create(user=user, tenant=public_tenant, name="Work")
    old = make_conversation(user, public_tenant, title="Old tides")
    new = make_conversation(user, public_tenant, title="New moon", folder=folder)
    client = signed_in(user)
    body = client.get("/api/v1/conversations/").json()
    assert [c["id"] for c in body["results"]] == [str(new.uuid), str(old.uuid)]
    assert body["results"][0]["folder"] == str(folder.uuid)
    assert [c["id"] for c in client.get("/api/v1/conversations/?q=TIDE").json()["results"]] == [
        str(old.uuid)
    ]
    in_folder = client.get(f"/api/v1/conversations/?folder={folder.uuid}").json()["results"]
    assert [c["id"] for c in in_folder] == [str(new.uuid)]
    unfiled = client.get("/api/v1/conversations/?folder=none").json()["results"]
    assert [c["id"] for c in unfiled] == [str(old.uuid)]


def test_conversation_list_is_cursor_paginated(user: User, public_tenant: Tenant) -> None:
    for number in range(3):
        make_conversation(user, public_tenant, title=f"Chat {number}")
    client = signed_in(user)
    first = client.get("/api/v1/conversations/?page_size=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    titles = {c["title"] for c in first["results"] + second["results"]}
    assert titles == {"Chat 0", "Chat 1", "Chat 2"}


def test_rename_move_and_switch_alter_ego(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant)
    with tenant_scope(public_tenant):
        folder = services.folder_create(user=user, tenant=public_tenant, name="Trips")
    persona = create_alter_ego(user=user, name="Ishmael")
    response = signed_in(user).patch(
        f"/api/v1/conversations/{conversation.uuid}/",
        {
            "title": "  Whales  ",
            "folder": str(folder.uuid),
            "position": 3,
            "alter_ego": str(persona.uuid),
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["folder"], body["position"], body["alter_ego"]) == (
        "Whales",
        str(folder.uuid),
        3,
        str(persona.uuid),
    )
    back = signed_in(user).patch(
        f"/api/v1/conversations/{conversation.uuid}/",
        {"folder": None},
        content_type="application/json",
    )
    assert back.json()["folder"] is None


def test_delete_conversation(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant)
    response = signed_in(user).delete(f"/api/v1/conversations/{conversation.uuid}/")
    assert response.status_code == 204
    with unscoped():
        assert not Conversation.objects.filter(pk=conversation.pk).exists()


def test_bearer_key_lists_conversations(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant, title="Keyed")
    _key, raw = ApiKeyFactory.create(user=user)
    response = Client().get("/api/v1/conversations/", headers={"Authorization": f"Bearer {raw}"})
    assert [c["id"] for c in response.json()["results"]] == [str(conversation.uuid)]


def test_anonymous_gets_401_json() -> None:
    response = Client().get("/api/v1/conversations/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("not_authenticated", "permission_denied")
    messages = Client().get("/api/v1/conversations/6f1c3f0e-0000-4000-8000-000000000000/messages/")
    assert messages.status_code == 401
    assert messages.json()["code"] == "not_authenticated"


def test_conversation_list_query_count_does_not_grow(user: User, public_tenant: Tenant) -> None:
    prompt = create_prompt(owner=user)
    persona = create_alter_ego(user=user)
    with tenant_scope(public_tenant):
        folder = services.folder_create(user=user, tenant=public_tenant, name="F")

    def add(count: int) -> None:
        for _ in range(count):
            make_conversation(user, public_tenant, prompt=prompt, alter_ego=persona, folder=folder)

    _assert_constant_queries(signed_in(user), "/api/v1/conversations/", add)


# --- messages ------------------------------------------------------------------------------


def test_messages_list_shape(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant)
    question = _add_message(conversation, "user", "Hi", client_id="c1")
    answer = _add_message(
        conversation,
        "assistant",
        "Hello **there**",
        status="streaming",
        last_seq=4,
        reply_to=question,
        model_label="Demo (offline)",
        input_tokens=10,
        output_tokens=5,
        cost_micros=725,
        tool_calls=[
            {
                "id": "call_1",
                "name": "web_search",
                "arguments": '{"query": "x"}',
                "result": "raw",
                "display": {"results": []},
                "is_error": False,
            }
        ],
    )
    _add_message(conversation, "user", "old", superseded=True)
    body = signed_in(user).get(f"/api/v1/conversations/{conversation.uuid}/messages/").json()
    assert [m["id"] for m in body] == [str(question.uuid), str(answer.uuid)]
    shown = body[1]
    assert shown["role"] == "assistant"
    assert shown["status"] == "streaming"
    assert shown["last_seq"] == 4
    assert shown["reply_to"] == str(question.uuid)
    assert shown["cost_usd"] == "0.000725"
    assert (shown["input_tokens"], shown["output_tokens"]) == (10, 5)
    assert shown["tool_calls"] == [
        {
            "id": "call_1",
            "name": "web_search",
            "arguments": '{"query": "x"}',
            "display": {"results": []},
            "is_error": False,
        }
    ]
    assert shown["model_label"] == "Demo (offline)"
    assert shown["error_code"] == "" and shown["error_message"] == ""


def test_messages_list_query_count_does_not_grow(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant)

    def add(count: int) -> None:
        for _ in range(count):
            question = _add_message(conversation, "user", "q")
            _add_message(conversation, "assistant", "a", reply_to=question)

    _assert_constant_queries(
        signed_in(user), f"/api/v1/conversations/{conversation.uuid}/messages/", add
    )


# --- message pages -------------------------------------------------------------------------


def _numbered_messages(conversation: Conversation, count: int) -> list[Message]:
    """Questions and answers "m0", "m1", ... in order; each answer replies to its question."""
    messages: list[Message] = []
    for index in range(count):
        if index % 2 == 0:
            messages.append(_add_message(conversation, "user", f"m{index}"))
        else:
            messages.append(
                _add_message(conversation, "assistant", f"m{index}", reply_to=messages[-1])
            )
    return messages


def _contents(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [message["content"] for message in response.json()]


def test_messages_without_parameters_are_all_listed_whatever_the_page_size(
    user: User, public_tenant: Tenant, settings: Any
) -> None:
    settings.SPARK_CHAT_PAGE_MESSAGES = 2
    conversation = make_conversation(user, public_tenant)
    _numbered_messages(conversation, 7)
    response = signed_in(user).get(f"/api/v1/conversations/{conversation.uuid}/messages/")
    assert _contents(response) == [f"m{i}" for i in range(7)]


def test_limit_gives_the_latest_messages_oldest_first(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant)
    _numbered_messages(conversation, 7)
    _add_message(conversation, "user", "edited away", superseded=True)
    _add_message(conversation, "tool", "tool output")
    path = f"/api/v1/conversations/{conversation.uuid}/messages/"
    client = signed_in(user)
    assert _contents(client.get(f"{path}?limit=3")) == ["m4", "m5", "m6"]
    assert _contents(client.get(f"{path}?limit=1")) == ["m6"]
    assert _contents(client.get(f"{path}?limit=7")) == [f"m{i}" for i in range(7)]
    assert _contents(client.get(f"{path}?limit=200")) == [f"m{i}" for i in range(7)]


def test_before_pages_back_until_a_page_is_short(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant)
    messages = _numbered_messages(conversation, 7)
    path = f"/api/v1/conversations/{conversation.uuid}/messages/"
    client = signed_in(user)
    pages: list[list[str]] = []
    page = client.get(f"{path}?limit=3").json()
    pages.insert(0, [message["content"] for message in page])
    while len(page) == 3 and len(pages) < 5:
        page = client.get(f"{path}?limit=3&before={page[0]['id']}").json()
        pages.insert(0, [message["content"] for message in page])
    assert pages == [["m0"], ["m1", "m2", "m3"], ["m4", "m5", "m6"]]
    # Before the first message there is nothing, which is not an error.
    assert _contents(client.get(f"{path}?limit=3&before={messages[0].uuid}")) == []


def test_a_page_follows_created_at_then_id_when_times_are_equal(
    user: User, public_tenant: Tenant
) -> None:
    conversation = make_conversation(user, public_tenant)
    messages = _numbered_messages(conversation, 5)
    with unscoped():
        same_time = messages[0].created_at
        Message.objects.filter(pk__in=[m.pk for m in messages[1:4]]).update(created_at=same_time)
    path = f"/api/v1/conversations/{conversation.uuid}/messages/"
    client = signed_in(user)
    everything = _contents(client.get(path))
    assert everything == ["m0", "m1", "m2", "m3", "m4"]
    assert _contents(client.get(f"{path}?limit=2&before={messages[3].uuid}")) == ["m1", "m2"]
    assert _contents(client.get(f"{path}?limit=9&before={messages[2].uuid}")) == ["m0", "m1"]


def test_an_answer_on_a_page_still_names_its_question_on_the_page_before(
    user: User, public_tenant: Tenant
) -> None:
    conversation = make_conversation(user, public_tenant)
    messages = _numbered_messages(conversation, 4)
    path = f"/api/v1/conversations/{conversation.uuid}/messages/"
    page = signed_in(user).get(f"{path}?limit=1").json()
    assert [(m["content"], m["reply_to"]) for m in page] == [("m3", str(messages[2].uuid))]


def test_a_page_may_start_before_a_superseded_message(user: User, public_tenant: Tenant) -> None:
    """A page loaded before an edit still pages back from its oldest message."""
    conversation = make_conversation(user, public_tenant)
    _numbered_messages(conversation, 3)
    edited = _add_message(conversation, "user", "edited away", superseded=True)
    _add_message(conversation, "user", "m3")
    path = f"/api/v1/conversations/{conversation.uuid}/messages/"
    response = signed_in(user).get(f"{path}?limit=2&before={edited.uuid}")
    assert _contents(response) == ["m1", "m2"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=abc", "invalid_limit"),
        ("limit=1.5", "invalid_limit"),
        ("limit=", "invalid_limit"),
        ("limit=0", "invalid_limit"),
        ("limit=-1", "invalid_limit"),
        ("limit=201", "invalid_limit"),
        ("limit=99999999999999999999999", "invalid_limit"),
        ("before={first}", "invalid_limit"),
        ("limit=5&before=not-a-uuid", "invalid_before"),
        ("limit=5&before=", "invalid_before"),
        ("limit=5&before=00000000-0000-4000-8000-000000000000", "invalid_before"),
        ("limit=5&before={elsewhere}", "invalid_before"),
    ],
)
def test_bad_page_parameters_are_400_with_a_code(
    user: User, public_tenant: Tenant, query: str, code: str
) -> None:
    conversation = make_conversation(user, public_tenant)
    first = _numbered_messages(conversation, 2)[0]
    other = make_conversation(user, public_tenant)
    elsewhere = _add_message(other, "user", "in another conversation of mine")
    query = query.format(first=first.uuid, elsewhere=elsewhere.uuid)
    response = signed_in(user).get(f"/api/v1/conversations/{conversation.uuid}/messages/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["message"]


def test_bad_page_parameters_on_someone_elses_conversation_are_404(
    user: User, public_tenant: Tenant
) -> None:
    """The conversation is looked up first: bad parameters tell nothing about it."""
    conversation = make_conversation(user, public_tenant)
    _numbered_messages(conversation, 2)
    neighbour = create_user(tenant=public_tenant, email="neighbour@spark.example")
    path = f"/api/v1/conversations/{conversation.uuid}/messages/"
    for query in ("limit=1", "limit=abc", "limit=1&before=not-a-uuid"):
        response = signed_in(neighbour).get(f"{path}?{query}")
        assert response.status_code == 404, query
        assert response.json()["code"] == "not_found"


def test_message_page_query_count_does_not_grow(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant)

    def add(count: int) -> None:
        for _ in range(count):
            question = _add_message(conversation, "user", "q")
            _add_message(conversation, "assistant", "a", reply_to=question)

    path = f"/api/v1/conversations/{conversation.uuid}/messages/"
    _assert_constant_queries(signed_in(user), f"{path}?limit=3", add)
    last = _add_message(conversation, "user", "last")
    _assert_constant_queries(signed_in(user), f"{path}?limit=3&before={last.uuid}", add)


def test_schema_describes_the_page_parameters(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/conversations/{conversation_id}/messages/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert parameters["before"]["schema"] == {"type": "string", "format": "uuid"}
    assert not parameters["limit"].get("required") and not parameters["before"].get("required")


def test_send_without_csrf_token_is_refused_for_sessions(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user, backend="accounts.backends.SparkAuthenticationBackend")
    response = client.post(
        f"/api/v1/conversations/{conversation.uuid}/messages/",
        {"text": "hi", "client_id": "c1"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    with unscoped():
        assert not Message.objects.exists()


def test_send_with_invalid_body_is_400(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant)
    client = signed_in(user)
    path = f"/api/v1/conversations/{conversation.uuid}/messages/"
    empty = client.post(path, {"text": "  ", "client_id": "c1"}, content_type="application/json")
    assert empty.status_code == 400
    assert empty.json()["code"] == "invalid"
    broken = client.post(path, "not json", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json()["code"] == "parse_error"
    with unscoped():
        assert not Message.objects.exists()


# --- folders -------------------------------------------------------------------------------


def _folder(user: User, tenant: Tenant, name: str, parent: Folder | None = None) -> Folder:
    with tenant_scope(tenant):
        return services.folder_create(user=user, tenant=tenant, name=name, parent=parent)


def test_folders_create_nest_rename_colour_and_list(user: User) -> None:
    client = signed_in(user)
    work = client.post(
        "/api/v1/folders/", {"name": "Work", "color": "#E0368A"}, content_type="application/json"
    ).json()
    assert work["color"] == "#e0368a" and work["parent"] is None
    child = client.post(
        "/api/v1/folders/", {"name": "Q3", "parent": work["id"]}, content_type="application/json"
    )
    assert child.status_code == 201
    assert child.json()["parent"] == work["id"]
    renamed = client.patch(
        f"/api/v1/folders/{work['id']}/",
        {"name": "Job", "color": ""},
        content_type="application/json",
    ).json()
    assert (renamed["name"], renamed["color"]) == ("Job", "")
    listed = client.get("/api/v1/folders/").json()
    assert {(f["name"], f["parent"]) for f in listed} == {("Job", None), ("Q3", work["id"])}


def test_folder_colour_must_be_hex(user: User) -> None:
    response = signed_in(user).post(
        "/api/v1/folders/", {"name": "X", "color": "red"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_color"
    with unscoped():
        assert not Folder.objects.exists()


def test_folder_cannot_go_inside_itself_or_its_child(user: User, public_tenant: Tenant) -> None:
    parent = _folder(user, public_tenant, "Parent")
    child = _folder(user, public_tenant, "Child", parent)
    client = signed_in(user)
    into_child = client.patch(
        f"/api/v1/folders/{parent.uuid}/",
        {"parent": str(child.uuid)},
        content_type="application/json",
    )
    assert into_child.status_code == 400
    assert into_child.json()["code"] == "invalid_parent"
    into_self = client.post(
        "/api/v1/folders/reorder/",
        {"parent": str(parent.uuid), "folders": [str(parent.uuid)]},
        content_type="application/json",
    )
    assert into_self.status_code == 400
    parent.refresh_from_db()
    assert parent.parent_id is None


def test_reorder_moves_and_orders_folders_and_conversations(
    user: User, public_tenant: Tenant
) -> None:
    target = _folder(user, public_tenant, "Target")
    a, b = _folder(user, public_tenant, "A"), _folder(user, public_tenant, "B")
    one, two = make_conversation(user, public_tenant), make_conversation(user, public_tenant)
    response = signed_in(user).post(
        "/api/v1/folders/reorder/",
        {
            "parent": str(target.uuid),
            "folders": [str(b.uuid), str(a.uuid)],
            "conversations": [str(two.uuid), str(one.uuid)],
        },
        content_type="application/json",
    )
    assert response.status_code == 204, response.content
    with unscoped():
        assert list(
            Folder.objects.filter(parent=target).order_by("position").values_list("name", flat=True)
        ) == ["B", "A"]
        assert list(
            Conversation.objects.filter(folder=target)
            .order_by("position")
            .values_list("pk", flat=True)
        ) == [two.pk, one.pk]
    listed = signed_in(user).get(f"/api/v1/conversations/?folder={target.uuid}").json()
    assert [c["id"] for c in listed["results"]] == [str(two.uuid), str(one.uuid)]


def test_reorder_with_someone_elses_conversation_changes_nothing(
    user: User, public_tenant: Tenant
) -> None:
    other = create_user(tenant=public_tenant, email="other@example.com")
    theirs = make_conversation(other, public_tenant)
    mine = _folder(user, public_tenant, "Mine")
    response = signed_in(user).post(
        "/api/v1/folders/reorder/",
        {"parent": str(mine.uuid), "conversations": [str(theirs.uuid)]},
        content_type="application/json",
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.folder_id is None


def test_deleting_a_folder_deletes_subfolders_and_keeps_conversations(
    user: User, public_tenant: Tenant
) -> None:
    parent = _folder(user, public_tenant, "Parent")
    child = _folder(user, public_tenant, "Child", parent)
    filed = make_conversation(user, public_tenant, folder=child)
    response = signed_in(user).delete(f"/api/v1/folders/{parent.uuid}/")
    assert response.status_code == 204
    with unscoped():
        assert not Folder.objects.exists()
        filed.refresh_from_db()
    assert filed.folder_id is None


# --- search --------------------------------------------------------------------------------


def test_search_finds_own_messages_with_escaped_highlighted_snippets(
    user: User, public_tenant: Tenant
) -> None:
    conversation = make_conversation(user, public_tenant, title="Oceans")
    hit = _add_message(conversation, "user", "Why do <b>tides</b> follow the moon?")
    _add_message(conversation, "assistant", "Because of gravity.")
    _add_message(conversation, "user", "tides again", superseded=True)
    body = signed_in(user).get("/api/v1/search/?q=tides").json()
    assert body["query"] == "tides"
    assert [r["message_id"] for r in body["results"]] == [str(hit.uuid)]
    result = body["results"][0]
    assert result["conversation_id"] == str(conversation.uuid)
    assert result["conversation_title"] == "Oceans"
    assert "<mark>tides</mark>" in result["snippet"]
    assert "<b>" not in result["snippet"]
    if connection.vendor == "sqlite":
        assert "&lt;b&gt;<mark>tides</mark>" in result["snippet"]  # ts_headline drops tags


def test_search_cannot_inject_html_through_the_match(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant)
    _add_message(conversation, "user", 'payload <img src=x onerror="alert(1)"> payload')
    body = signed_in(user).get("/api/v1/search/?q=payload").json()
    snippet = body["results"][0]["snippet"]
    assert "<img" not in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_search_does_not_find_other_users_messages(user: User, public_tenant: Tenant) -> None:
    other = create_user(tenant=public_tenant, email="other@example.com")
    _add_message(make_conversation(other, public_tenant), "user", "secret tides")
    assert signed_in(user).get("/api/v1/search/?q=tides").json()["results"] == []


def test_search_ranks_better_matches_first_on_postgresql(user: User, public_tenant: Tenant) -> None:
    conversation = make_conversation(user, public_tenant)
    weak = _add_message(conversation, "user", "the moon is far away from here today")
    strong = _add_message(conversation, "user", "moon moon moon: the moon")
    body = signed_in(user).get("/api/v1/search/?q=moon").json()
    found = [r["message_id"] for r in body["results"]]
    assert set(found) == {str(weak.uuid), str(strong.uuid)}
    if connection.vendor == "postgresql":
        assert found[0] == str(strong.uuid)
        assert body["results"][0]["rank"] > body["results"][1]["rank"]
    else:
        assert found[0] == str(strong.uuid)  # newest first without full-text search


def test_message_search_index_exists_only_on_postgresql() -> None:
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "chat_message")
    assert ("chat_message_content_fts" in indexes) == (connection.vendor == "postgresql")


def test_search_snippets_show_the_answers_text_not_its_markdown(
    user: User, public_tenant: Tenant
) -> None:
    conversation = make_conversation(user, public_tenant)
    _add_message(
        conversation,
        "assistant",
        "**Demo model** (offline) — turn 1.\n\n| what | value |\n| --- | --- |\n"
        "| tides | `high` |\n\n```python\nprint('tides')\n```",
    )
    snippet = signed_in(user).get("/api/v1/search/?q=Demo").json()["results"][0]["snippet"]
    assert snippet.startswith("<mark>Demo</mark> model (offline) — turn 1. what value tides high")
    assert "**" not in snippet and "`" not in snippet and "|" not in snippet
