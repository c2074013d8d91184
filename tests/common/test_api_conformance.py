"""Every /api/ and /v1/ answer is JSON in the documented shape with a documented status.

The named reproductions of what a schemathesis run over /api/schema/ found (issue 11,
part 5); tests/fuzz keeps fuzzing the whole API for more.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.test import AsyncClient, Client, override_settings
from jsonschema import Draft202012Validator, FormatChecker

from accounts.models import Tenant, User
from chat.models import Message
from spark.tenancy.context import unscoped
from tests.chat.conftest import make_conversation
from tests.factories import ApiKeyFactory
from tests.live_server import live_server

STREAMING_PATHS = {
    "cancel": "/api/v1/conversations/{conversation}/cancel/",
    "events": "/api/v1/conversations/{conversation}/events/",
    "messages": "/api/v1/conversations/{conversation}/messages/",
    "regenerate": "/api/v1/conversations/{conversation}/messages/{message}/regenerate/",
}
NOT_IDS = ["not-an-id", "0", "null", "%C2%A0%C2%90Q"]  # none exists, most do not parse


def api_client(user: User) -> Client:
    _key, raw = ApiKeyFactory.create(user=user, name="conformance")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def served_schema() -> dict[str, Any]:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def assert_json_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = json.loads(response.content)
    assert body["code"] == code and isinstance(body["message"], str) and body["message"]


# --- OPTIONS and unlisted methods on the async streaming views -----------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("view", sorted(STREAMING_PATHS))
def test_options_on_a_streaming_view_is_200_json_with_allow(
    user: User, public_tenant: Tenant, view: str
) -> None:
    conversation = make_conversation(user, public_tenant)
    path = STREAMING_PATHS[view].format(conversation=conversation.uuid, message=uuid.uuid4())

    response = api_client(user).options(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"name", "description", "renders", "parses"}
    assert "application/json" in body["renders"]
    allowed = {"cancel": "POST", "events": "GET", "messages": "GET, POST", "regenerate": "POST"}
    assert response["Allow"] == f"{allowed[view]}, OPTIONS"


@pytest.mark.django_db
def test_a_method_a_streaming_view_does_not_answer_is_405_json_with_allow(
    user: User, public_tenant: Tenant
) -> None:
    conversation = make_conversation(user, public_tenant)

    response = api_client(user).put(f"/api/v1/conversations/{conversation.uuid}/cancel/")

    assert_json_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST, OPTIONS"


# --- a JSON 404 on every {id} path, whatever the id, DEBUG or not ---------------------------


def id_operations(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, path template) of every operation with a path parameter in the schema."""
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if "{" in path
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_every_id_path_answers_the_json_404_for_an_id_that_does_not_exist_or_parse(
    user: User, debug: bool
) -> None:
    operations = id_operations(served_schema())
    assert len(operations) >= 23  # every {…_id} and {key} operation of the schema
    client = api_client(user)
    # (Over a hundred 404s from one client: the request filter would ban it, so the test
    # client's address is allowlisted.)
    with override_settings(DEBUG=debug, SPARK_FILTER_ALLOWLIST=["127.0.0.1"]):
        for method, template in operations:
            for value in [str(uuid.uuid4()), *NOT_IDS]:
                path = re.sub(r"\{[^}]+\}", value, template)
                response = client.generic(method, path, b"{}", content_type="application/json")
                assert response.status_code == 404, (method, path, response.content[:200])
                assert response["Content-Type"] == "application/json", (method, path)
                assert json.loads(response.content)["code"] == "not_found", (method, path)


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/me", "/v1/nothing-here"])
def test_a_path_no_api_route_serves_is_the_json_404(user: User, debug: bool, path: str) -> None:
    with override_settings(DEBUG=debug):
        response = api_client(user).get(path)

    assert_json_error(response, 404, "not_found")


# --- server-sent events match the documented event schema -----------------------------------


def sse_events(body: bytes) -> list[dict[str, Any]]:
    """The events of a text/event-stream body, as {event, data, id?} (comments skipped)."""
    events: list[dict[str, Any]] = []
    for block in body.decode().split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _sep, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if "data" in fields:
            names: tuple[str, ...] = ("event", "data", "id")
            events.append({key: fields[key] for key in names if key in fields})
    return events


def assert_documented_events(schema: dict[str, Any], path: str, method: str, body: bytes) -> None:
    documented = schema["paths"][path][method]["responses"]["200"]["content"]
    event_schema = documented["text/event-stream"]["schema"]
    validator = Draft202012Validator(event_schema, format_checker=FormatChecker())
    events = sse_events(body)
    assert events, body
    for event in events:
        validator.validate(event)  # the event name, its id and that data is a string
        [variant] = [v for v in event_schema["oneOf"] if event["event"] in _names(v)]
        data_schema = variant["properties"]["data"]["contentSchema"]
        Draft202012Validator(data_schema, format_checker=FormatChecker()).validate(
            json.loads(event["data"])
        )


def _names(variant: dict[str, Any]) -> list[str]:
    return list(variant["properties"]["event"]["enum"])


async def _body(response: Any) -> bytes:
    return b"".join([chunk async for chunk in response.streaming_content])


@pytest.mark.django_db(transaction=True)
async def test_the_events_of_sending_regenerating_and_resuming_match_the_documented_schema(
    user: User, public_tenant: Tenant
) -> None:
    schema = await sync_to_async(served_schema)()
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    client = AsyncClient()
    await client.aforce_login(user, backend="accounts.backends.SparkAuthenticationBackend")
    base = "/api/v1/conversations/{conversation_id}/"

    sent = await client.post(
        f"/api/v1/conversations/{conversation.uuid}/messages/",
        {"text": "Tell me about tides", "client_id": "c1", "stream": True},
        content_type="application/json",
    )
    assert sent["Content-Type"] == "text/event-stream"
    sent_body = await _body(sent)
    assert_documented_events(schema, base + "messages/", "post", sent_body)
    accepted = json.loads(sse_events(sent_body)[0]["data"])
    answer = accepted["assistant_message_id"]

    resumed = await client.get(
        f"/api/v1/conversations/{conversation.uuid}/events/",
        {"message_id": answer, "after_seq": 0},
    )
    assert resumed.status_code == 200
    assert_documented_events(schema, base + "events/", "get", await _body(resumed))

    regenerated = await client.post(
        f"/api/v1/conversations/{conversation.uuid}/messages/{answer}/regenerate/",
        {"stream": True, "client_id": "c2"},
        content_type="application/json",
    )
    assert regenerated.status_code == 200
    assert_documented_events(
        schema, base + "messages/{message_id}/regenerate/", "post", await _body(regenerated)
    )


# --- documented statuses -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_duplicate_message_is_a_409_the_schema_documents(
    user: User, public_tenant: Tenant
) -> None:
    schema = await sync_to_async(served_schema)()
    conversation = await sync_to_async(make_conversation)(user, public_tenant)
    client = AsyncClient()
    await client.aforce_login(user, backend="accounts.backends.SparkAuthenticationBackend")
    path = f"/api/v1/conversations/{conversation.uuid}/messages/"
    first = await client.post(path, {"text": "0", "client_id": "0"}, "application/json")
    assert first.status_code == 201

    again = await client.post(path, {"text": "0", "client_id": "0"}, "application/json")

    assert_json_error(again, 409, "duplicate_message")
    operation = schema["paths"]["/api/v1/conversations/{conversation_id}/messages/"]["post"]
    assert {"402", "409", "410", "423"} <= set(operation["responses"])


@pytest.mark.django_db(transaction=True)
def test_a_malformed_multipart_upload_is_the_apis_json_400_on_the_real_server(user: User) -> None:
    _key, raw = ApiKeyFactory.create(user=user, name="uploads")

    response = httpx.post(
        f"{live_server().url}/api/v1/files/",
        content=b"--c637e1--\r\n",
        headers={
            "Authorization": f"Bearer {raw}",
            "Content-Type": "multipart/form-data; boundary=c637e1",
        },
    )

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["code"] == "invalid"


# --- what the schema refuses is refused ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/conversations/", {"title": 1442002380}, "title"),
        ("/api/v1/folders/", {"name": 80}, "name"),
    ],
)
def test_a_number_where_the_schema_says_string_is_refused(
    user: User, path: str, body: dict[str, Any], field: str
) -> None:
    response = api_client(user).post(path, body, content_type="application/json")

    assert_json_error(response, 400, "invalid")
    assert field in json.loads(response.content)["details"]


@pytest.mark.django_db
def test_a_message_whose_text_is_a_number_is_refused_and_not_sent(
    user: User, public_tenant: Tenant
) -> None:
    conversation = make_conversation(user, public_tenant)

    response = api_client(user).post(
        f"/api/v1/conversations/{conversation.uuid}/messages/",
        {"text": -172, "client_id": "c1"},
        content_type="application/json",
    )

    assert_json_error(response, 400, "invalid")
    with unscoped():
        assert not Message.objects.filter(conversation=conversation).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["", "last", "x"])
def test_a_prompt_page_that_is_not_a_number_is_refused(user: User, page: str) -> None:
    response = api_client(user).get("/api/v1/prompts/", {"page": page})

    assert_json_error(response, 400, "invalid")


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["default_model", "allowed_models", "forced_model", "category"])
def test_a_model_or_category_slug_with_a_nul_character_is_refused_not_a_server_error(
    user: User, field: str
) -> None:
    slug = "demo\x00model"
    body: dict[str, Any] = {"name": "0", "system_prompt": "0", "default_model": "demo"}
    body[field] = [slug] if field == "allowed_models" else slug

    response = api_client(user).post("/api/v1/prompts/", body, content_type="application/json")

    assert_json_error(response, 400, "invalid")
    assert field in json.loads(response.content)["details"]
