"""The watchdog console: timeline, filters, counters, per-conversation view, audited
lock/unlock, and tenant isolation of events and dashboards."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes.exceptions import ScopeError

from accounts.models import Tenant, User
from chat.models import Conversation, Message
from security.models import AuditLogEntry
from spark.llm.models import LLMModel
from spark.llm.types import Usage
from spark.tenancy.context import tenant_scope, unscoped
from tests.factories import create_prompt
from tests.watchdog.conftest import conversation_with
from watchdog import selectors, services
from watchdog.evaluator import Evaluation
from watchdog.models import Supervision, WatchdogEvent

pytestmark = pytest.mark.django_db

EVENTS = "/admin/watchdog/watchdogevent/"


def conversation_of(user: User, tenant: Tenant, name: str) -> Conversation:
    prompt = create_prompt(owner=user, tenant=tenant, name=name)
    conversation = conversation_with(user, tenant, prompt)
    with tenant_scope(tenant):
        Message.objects.create(
            tenant=tenant, conversation=conversation, role="user", content=f"Question to {name}"
        )
        Message.objects.create(
            tenant=tenant, conversation=conversation, role="assistant", content=f"{name} answers"
        )
    return conversation


def record(conversation: Conversation, evaluator: LLMModel, **fields: Any) -> WatchdogEvent:
    with tenant_scope(conversation.tenant):
        answer = Message.objects.filter(conversation=conversation, role="assistant").latest("id")
        evaluation = Evaluation(
            model=evaluator,
            verdict={"ok": True},
            attempts=1,
            latency_ms=fields.pop("latency_ms", 321),
            usage=Usage(input_tokens=1000, output_tokens=200),
        )
        fields.setdefault("stage", "post")
        fields.setdefault("verdict", "steer")
        return services.event_record(
            conversation=conversation,
            message_id=fields.pop("message_id") if "message_id" in fields else answer.pk,
            evaluation=evaluation,
            **fields,
        )


@pytest.fixture
def world(
    user_a: User, tenant_a: Tenant, user_b: User, tenant_b: Tenant, evaluator: LLMModel
) -> dict[str, Any]:
    a = conversation_of(user_a, tenant_a, "Alpha Tutor")
    b = conversation_of(user_b, tenant_b, "Beta Coach")
    return {
        "a": a,
        "b": b,
        "a_drift": record(
            a, evaluator, event_type="drift", severity="nudge", action="hint", hint="Hint for Alpha"
        ),
        "a_block": record(
            a,
            evaluator,
            stage="pre",
            verdict="block",
            event_type="jailbreak",
            severity="redirect",
            action="blocked",
            rationale="Alpha was attacked",
            message_id=None,
        ),
        "b_alert": record(b, evaluator, event_type="security", severity="alert", action="locked"),
    }


def test_staff_see_every_tenants_events_with_cost_latency_and_counters(
    staff_client: Client, world: dict[str, Any]
) -> None:
    response = staff_client.get(EVENTS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha Tutor" in html and "Beta Coach" in html
    assert "321 ms" in html and "1000 / 200" in html
    cost = 1000 * 150_000 // 1_000_000 + 200 * 600_000 // 1_000_000  # µ$ at the test prices
    assert f"${cost / 1e6:.6f}" in html
    counters = response.context["watchdog_counters"]
    assert (counters["total"], counters["blocked"], counters["locked"], counters["alerts"]) == (
        3,
        1,
        1,
        1,
    )
    assert counters["cost_micros"] == 3 * cost
    assert counters["by_stage"] == {"post": 2, "pre": 1}
    assert 'src="/static/watchdog/live.js"' in html and "<script>" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stage__exact=pre", {"a_block"}),
        ("event_type__exact=drift", {"a_drift"}),
        ("severity__exact=alert", {"b_alert"}),
        ("action__exact=blocked", {"a_block"}),
        ("verdict__exact=steer", {"a_drift", "b_alert"}),
    ],
)
def test_the_timeline_filters(
    staff_client: Client, world: dict[str, Any], query: str, expected: set[str]
) -> None:
    response = staff_client.get(f"{EVENTS}?{query}")
    shown = {e.pk for e in response.context["cl"].result_list}
    assert shown == {world[name].pk for name in expected}
    assert response.context["watchdog_counters"]["total"] == len(expected)


def test_the_timeline_filters_by_prompt_tenant_and_date(
    staff_client: Client, world: dict[str, Any]
) -> None:
    a = world["a"]
    by_prompt = staff_client.get(f"{EVENTS}?prompt__id__exact={a.prompt_id}")
    assert {e.pk for e in by_prompt.context["cl"].result_list} == {
        world["a_drift"].pk,
        world["a_block"].pk,
    }
    by_tenant = staff_client.get(f"{EVENTS}?tenant__id__exact={world['b'].tenant_id}")
    assert [e.pk for e in by_tenant.context["cl"].result_list] == [world["b_alert"].pk]
    day = world["a_drift"].created_at
    by_date = f"created_at__year={day.year}&created_at__month={day.month}"
    assert (
        staff_client.get(f"{EVENTS}?{by_date}&created_at__day={day.day}").context["cl"].result_count
        == 3
    )
    assert staff_client.get(f"{EVENTS}?created_at__year=2001").context["cl"].result_count == 0


def test_the_timeline_costs_the_same_queries_for_many_events(
    staff_client: Client, world: dict[str, Any], evaluator: LLMModel
) -> None:
    staff_client.get(EVENTS)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(EVENTS)
    for _ in range(12):
        record(world["b"], evaluator, event_type="stuck", action="hint", message_id=None)
    with CaptureQueriesContext(connection) as many:
        staff_client.get(EVENTS)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_conversation_view_shows_the_transcript_beside_verdicts_and_hints(
    staff_client: Client, world: dict[str, Any]
) -> None:
    a = world["a"]
    with unscoped():
        Supervision.objects.create(
            tenant_id=a.tenant_id, conversation=a, consecutive=1, level=1, pending_hint="Pending!"
        )
    url = f"/admin/watchdog/supervision/conversation/{a.uuid}/"
    assert url in staff_client.get(EVENTS).content.decode()
    response = staff_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Question to Alpha Tutor", "Alpha Tutor answers", "Hint for Alpha", "Pending!"):
        assert text in html
    assert "Steering" in html and "fake-evaluator" in html
    assert "Beta Coach" not in html


def test_lock_and_unlock_from_the_conversation_view_are_audited(
    staff_client: Client, staff: User, world: dict[str, Any]
) -> None:
    a = world["a"]
    base = f"/admin/watchdog/supervision/conversation/{a.uuid}"
    assert staff_client.get(f"{base}/lock/").status_code == 405
    response = staff_client.post(f"{base}/lock/", REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 302
    with unscoped():
        assert Conversation.objects.get(pk=a.pk).is_locked
    staff_client.post(f"{base}/unlock/")
    with unscoped():
        assert not Conversation.objects.get(pk=a.pk).is_locked
    entries = list(AuditLogEntry.objects.filter(object_id=str(a.pk)).order_by("id"))
    assert [e.changes["action"] for e in entries] == ["watchdog_lock", "watchdog_unlock"]
    assert entries[0].actor == staff and entries[0].ip == "198.51.100.9"


def test_lock_and_unlock_actions_are_audited(staff_client: Client, world: dict[str, Any]) -> None:
    a, b = world["a"], world["b"]
    with unscoped():
        supervision = Supervision.objects.create(tenant_id=b.tenant_id, conversation=b, level=2)
    response = staff_client.post(
        "/admin/watchdog/supervision/",
        {"action": "lock_conversations", "_selected_action": [str(supervision.pk)]},
    )
    assert response.status_code == 302
    staff_client.post(
        EVENTS, {"action": "lock_conversations", "_selected_action": [str(world["a_drift"].pk)]}
    )
    with unscoped():
        assert Conversation.objects.get(pk=a.pk).is_locked
        assert Conversation.objects.get(pk=b.pk).is_locked
    staff_client.post(
        "/admin/watchdog/supervision/",
        {"action": "unlock_conversations", "_selected_action": [str(supervision.pk)]},
    )
    with unscoped():
        assert not Conversation.objects.get(pk=b.pk).is_locked
        assert Supervision.objects.get(pk=supervision.pk).level == 0  # starts afresh
    actions = list(
        AuditLogEntry.objects.filter(action="action")
        .order_by("id")
        .values_list("changes__action", flat=True)
    )
    assert actions == ["lock_conversations", "lock_conversations", "unlock_conversations"]


def test_people_who_are_not_staff_get_no_dashboard(client_a: Client, world: dict[str, Any]) -> None:
    a = world["a"]
    urls = [
        EVENTS,
        f"{EVENTS}{world['a_drift'].pk}/change/",
        "/admin/watchdog/supervision/",
        f"/admin/watchdog/supervision/conversation/{a.uuid}/",
    ]
    for url in urls:
        response = client_a.get(url)
        assert response.status_code in (302, 403), url
        assert "Alpha" not in response.content.decode()
    client_a.post(f"/admin/watchdog/supervision/conversation/{a.uuid}/lock/")
    with unscoped():
        assert not Conversation.objects.get(pk=a.pk).is_locked
    assert Client().get(EVENTS).status_code == 302


def test_events_are_isolated_by_tenant(
    world: dict[str, Any], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with tenant_scope(tenant_a):
        assert set(WatchdogEvent.objects.values_list("pk", flat=True)) == {
            world["a_drift"].pk,
            world["a_block"].pk,
        }
        counters = selectors.event_counters(events=WatchdogEvent.objects.all())
        assert counters["total"] == 2
        assert not WatchdogEvent.objects.filter(pk=world["b_alert"].pk).exists()
    with tenant_scope(tenant_b):
        assert list(WatchdogEvent.objects.values_list("pk", flat=True)) == [world["b_alert"].pk]
    with pytest.raises(ScopeError):
        list(WatchdogEvent.objects.all())
    with pytest.raises(ScopeError):
        list(Supervision.objects.all())


def _field(html: str, name: str) -> str:
    """The label and value of one read-only field on an admin change page, as text."""
    import re

    block = html.split(f"field-{name}", 1)[1].split(">", 1)[1]
    block = re.split(r'<div class="form-row|</fieldset>', block, maxsplit=1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", block).split())


def test_an_events_page_labels_the_users_message_the_answer_the_verdict_and_the_stage(
    staff_client: Client, user_a: User, tenant_a: Tenant, evaluator: LLMModel
) -> None:
    prompt = create_prompt(owner=user_a, tenant=tenant_a, name="Haiku Tutor")
    conversation = conversation_with(user_a, tenant_a, prompt)
    with tenant_scope(tenant_a):
        question = Message.objects.create(
            tenant=tenant_a, conversation=conversation, role="user", content="What is a haiku?"
        )
        Message.objects.create(
            tenant=tenant_a,
            conversation=conversation,
            role="assistant",
            content="A three-line poem.",
            reply_to=question,
        )
    event = record(conversation, evaluator, event_type="drift", severity="nudge", action="hint")

    html = staff_client.get(f"{EVENTS}{event.pk}/change/").content.decode()

    assert _field(html, "user_message_column") == "The user’s message: What is a haiku?"
    assert _field(html, "answer_column") == "The answer: A three-line poem."
    assert _field(html, "verdict").startswith("Verdict: ")
    assert _field(html, "stage").startswith("Stage: ")
    assert "field-message" not in html  # no bare "Message" showing the answer


def test_a_blocked_messages_event_says_no_answer_was_given(
    staff_client: Client, world: dict[str, Any]
) -> None:
    event = world["a_block"]
    with unscoped():
        answer = Message.objects.filter(conversation=world["a"], role="assistant").latest("id")
        WatchdogEvent.objects.filter(pk=event.pk).update(message=answer)
    html = staff_client.get(f"{EVENTS}{event.pk}/change/").content.decode()
    assert "the message was blocked before the model saw it" in _field(html, "answer_column")
