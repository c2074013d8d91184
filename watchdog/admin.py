"""The watchdog's console: the event timeline with counters and live updates, conversations
under supervision (lock/unlock, audited), the per-conversation view, and policies.

Staff see every tenant's rows (the admin site runs unscoped).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from chat.models import Conversation
from security.models import AuditLogEntry
from security.services import audit_record
from spark.common.admin import ReadOnlyAdmin
from watchdog import selectors, services
from watchdog.forms import SECTION_FIELDS, WatchdogPolicyForm
from watchdog.models import Action, Stage, Supervision, WatchdogEvent, WatchdogPolicy

# A pre-watchdog verdict with one of these actions kept the message from the model.
BLOCKED_ACTIONS = frozenset({Action.BLOCKED, Action.LOCKED, Action.FAILED_CLOSED})


def money(micros: int) -> str:
    return f"${micros / 1_000_000:.6f}"


def _conversation_link(conversation: Conversation | None) -> str:
    if conversation is None:
        return "—"
    url = reverse("admin:watchdog_supervision_conversation", args=[conversation.uuid])
    return format_html('<a href="{}">{}</a>', url, conversation.title or conversation.uuid)


def _lock(request: HttpRequest, conversations: list[Conversation]) -> int:
    return sum(
        services.conversation_force_lock(conversation=c, reason=f"locked by staff ({request.user})")
        for c in conversations
    )


def _unlock(request: HttpRequest, conversations: list[Conversation]) -> int:
    return sum(
        services.conversation_release(conversation=c, actor=request.user) for c in conversations
    )


@admin.register(WatchdogEvent)
class WatchdogEventAdmin(ReadOnlyAdmin):
    """The event timeline: every verdict, filterable, with counters; read-only."""

    change_list_template = "admin/watchdog/watchdogevent/change_list.html"
    list_display = [
        "created_at",
        "stage",
        "verdict",
        "event_type",
        "severity",
        "action",
        "level",
        "conversation_column",
        "prompt",
        "tenant",
        "evaluator_slug",
        "latency_column",
        "tokens_column",
        "cost_column",
        "error_column",
    ]
    list_filter = [
        ("prompt", admin.RelatedOnlyFieldListFilter),
        ("tenant", admin.RelatedOnlyFieldListFilter),
        "stage",
        "event_type",
        "severity",
        "action",
        "verdict",
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["prompt", "tenant", "conversation"]
    search_fields = ["rationale", "hint", "rule", "error", "evaluator_slug"]
    date_hierarchy = "created_at"
    actions = ["lock_conversations", "unlock_conversations"]
    list_per_page = 50

    # The event's page names what was judged: the user's message (the pre-watchdog judges
    # it before the model sees it) and the answer (the post-watchdog judges the exchange).
    fieldsets = (
        (None, {"fields": ("created_at", "stage", "verdict", "event_type", "severity")}),
        (
            _("What was judged"),
            {"fields": ("conversation_column", "user_message_column", "answer_column")},
        ),
        (
            _("What was done"),
            {"fields": ("action", "level", "confidence", "rationale", "hint", "rule")},
        ),
        (
            _("Evaluator"),
            {
                "fields": (
                    "evaluator_model",
                    "evaluator_slug",
                    "latency_ms",
                    "attempts",
                    "input_tokens",
                    "output_tokens",
                    "cached_tokens",
                    "cost_micros",
                    "key_source",
                    "error",
                )
            },
        ),
        (_("Where"), {"fields": ("tenant", "prompt")}),
    )
    readonly_fields = [
        *(f.name for f in WatchdogEvent._meta.fields),
        "conversation_column",
        "user_message_column",
        "answer_column",
    ]

    @admin.display(description=_("conversation"), ordering="conversation")
    def conversation_column(self, event: WatchdogEvent) -> str:
        return _conversation_link(event.conversation)

    @admin.display(description=_("the user’s message"))
    def user_message_column(self, event: WatchdogEvent) -> str:
        question = event.message.reply_to if event.message is not None else None
        return question.content if question is not None else "—"

    @admin.display(description=_("the answer"))
    def answer_column(self, event: WatchdogEvent) -> str:
        if event.message is None:
            return "—"
        if event.stage == Stage.PRE and event.action in BLOCKED_ACTIONS:
            return str(_("(none: the message was blocked before the model saw it)"))
        return event.message.content or "—"

    @admin.display(description=_("latency"), ordering="latency_ms")
    def latency_column(self, event: WatchdogEvent) -> str:
        return f"{event.latency_ms} ms" if event.attempts else "—"

    @admin.display(description=_("tokens"))
    def tokens_column(self, event: WatchdogEvent) -> str:
        return f"{event.input_tokens} / {event.output_tokens}" if event.attempts else "—"

    @admin.display(description=_("evaluator cost"), ordering="cost_micros")
    def cost_column(self, event: WatchdogEvent) -> str:
        return money(event.cost_micros)

    @admin.display(description=_("failed"), boolean=True)
    def error_column(self, event: WatchdogEvent) -> bool:
        return bool(event.error)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and "cl" in context:
            counters = selectors.event_counters(events=context["cl"].queryset)
            counters["cost"] = money(counters["cost_micros"])
            context["watchdog_counters"] = counters
        return response

    @admin.action(description=_("Lock the conversations of the selected events"))
    def lock_conversations(self, request: HttpRequest, queryset: QuerySet[WatchdogEvent]) -> None:
        conversations = list(Conversation.objects.filter(pk__in=queryset.values("conversation_id")))
        count = _lock(request, conversations)
        self.message_user(request, _("%(count)s conversations locked.") % {"count": count})

    @admin.action(description=_("Unlock the conversations of the selected events"))
    def unlock_conversations(self, request: HttpRequest, queryset: QuerySet[WatchdogEvent]) -> None:
        conversations = list(Conversation.objects.filter(pk__in=queryset.values("conversation_id")))
        count = _unlock(request, conversations)
        self.message_user(request, _("%(count)s conversations unlocked.") % {"count": count})


@admin.register(Supervision)
class SupervisionAdmin(admin.ModelAdmin[Supervision]):
    """Conversations under supervision: their escalation state; lock and unlock."""

    list_display = [
        "conversation_column",
        "tenant",
        "prompt_column",
        "level",
        "consecutive",
        "ignored",
        "takeover",
        "locked_column",
        "evaluations",
        "updated_at",
    ]
    list_filter = [("tenant", admin.RelatedOnlyFieldListFilter), "level", "takeover"]
    list_select_related = ["tenant", "conversation", "conversation__prompt"]
    readonly_fields = [f.name for f in Supervision._meta.fields]
    actions = ["lock_conversations", "unlock_conversations"]
    date_hierarchy = "updated_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("conversation"))
    def conversation_column(self, supervision: Supervision) -> str:
        return _conversation_link(supervision.conversation)

    @admin.display(description=_("prompt"))
    def prompt_column(self, supervision: Supervision) -> str:
        prompt = supervision.conversation.prompt
        return prompt.name if prompt is not None else "—"

    @admin.display(description=_("locked"), boolean=True)
    def locked_column(self, supervision: Supervision) -> bool:
        return supervision.conversation.is_locked

    @admin.action(description=_("Lock the selected conversations"))
    def lock_conversations(self, request: HttpRequest, queryset: QuerySet[Supervision]) -> None:
        conversations = [s.conversation for s in queryset.select_related("conversation")]
        count = _lock(request, conversations)
        self.message_user(request, _("%(count)s conversations locked.") % {"count": count})

    @admin.action(description=_("Unlock the selected conversations"))
    def unlock_conversations(self, request: HttpRequest, queryset: QuerySet[Supervision]) -> None:
        conversations = [s.conversation for s in queryset.select_related("conversation")]
        count = _unlock(request, conversations)
        self.message_user(request, _("%(count)s conversations unlocked.") % {"count": count})

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "conversation/<uuid:conversation_uuid>/",
                view(self.conversation_view),
                name="watchdog_supervision_conversation",
            ),
            path(
                "conversation/<uuid:conversation_uuid>/<str:operation>/",
                view(require_POST(self.conversation_lock_view)),
                name="watchdog_supervision_conversation_lock",
            ),
            *super().get_urls(),
        ]

    def conversation_view(self, request: HttpRequest, conversation_uuid: str) -> HttpResponse:
        """The transcript beside its verdicts and hints."""
        if not self.has_view_permission(request):
            raise Http404
        conversation = get_object_or_404(
            Conversation.objects.select_related("prompt", "user", "tenant", "model"),
            uuid=conversation_uuid,
        )
        supervision = Supervision.objects.filter(conversation=conversation).first()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Conversation under supervision"),
            "subtitle": conversation.title or str(conversation.uuid),
            "conversation": conversation,
            "supervision": supervision,
            "rows": selectors.conversation_timeline(conversation=conversation),
            "counters": selectors.event_counters(
                events=WatchdogEvent.objects.filter(conversation=conversation)
            ),
            "opts": self.model._meta,
            "money": money,
        }
        return TemplateResponse(request, "admin/watchdog/conversation.html", context)

    def conversation_lock_view(
        self, request: HttpRequest, conversation_uuid: str, operation: str
    ) -> HttpResponse:
        if operation not in ("lock", "unlock") or not self.has_view_permission(request):
            raise Http404
        conversation = get_object_or_404(Conversation, uuid=conversation_uuid)
        changed = (_lock if operation == "lock" else _unlock)(request, [conversation])
        audit_record(
            source=AuditLogEntry.Source.ADMIN,
            action=AuditLogEntry.Action.ACTION,
            request=request,
            obj=conversation,
            changes={"action": f"watchdog_{operation}", "changed": bool(changed)},
        )
        if changed:
            text = (
                _("The conversation was locked.")
                if operation == "lock"
                else _("The conversation was unlocked.")
            )
            messages.success(request, text)
        return HttpResponseRedirect(
            reverse("admin:watchdog_supervision_conversation", args=[conversation.uuid])
        )


@admin.register(WatchdogPolicy)
class WatchdogPolicyAdmin(admin.ModelAdmin[WatchdogPolicy]):
    """Prompts' policies, with the same validation as the creator's page."""

    # "prompt" joins the form when the admin builds it per request (inside the admin's
    # unscoped context): a module-level form with a Prompt field would query at import.
    form = WatchdogPolicyForm
    list_display = [
        "prompt",
        "tenant",
        "pre_enabled",
        "post_enabled",
        "mode",
        "failure_mode",
        "pre_frequency",
        "post_frequency",
        "updated_at",
    ]
    list_filter = [
        ("tenant", admin.RelatedOnlyFieldListFilter),
        "mode",
        "pre_enabled",
        "post_enabled",
    ]
    list_select_related = ["prompt", "tenant"]
    search_fields = ["prompt__name", "prompt__slug"]
    autocomplete_fields = ["prompt", "pre_model", "post_model"]
    fieldsets = (
        (None, {"fields": ("prompt",)}),
        (_("Pre-watchdog"), {"fields": tuple(SECTION_FIELDS["pre"])}),
        (_("Post-watchdog"), {"fields": tuple(SECTION_FIELDS["post"])}),
    )

    def save_model(
        self, request: HttpRequest, obj: WatchdogPolicy, form: Any, change: bool
    ) -> None:
        saved = services.policy_save(
            prompt=form.cleaned_data["prompt"], values=form.policy_values()
        )
        obj.pk, obj.tenant_id = saved.pk, saved.tenant_id
