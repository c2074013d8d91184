"""Chat in the console: the ratings users give answers (read-only), counted per rating and
per prompt by the filters' facets."""

from __future__ import annotations

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from chat.models import MessageFeedback
from spark.common.admin import ReadOnlyAdmin


@admin.register(MessageFeedback)
class MessageFeedbackAdmin(ReadOnlyAdmin):
    list_display = ["updated_at", "rating", "reason_short", "answer", "prompt", "tenant", "user"]
    list_filter = [
        "rating",
        ("prompt", admin.RelatedOnlyFieldListFilter),
        ("tenant", admin.RelatedOnlyFieldListFilter),
    ]
    show_facets = admin.ShowFacets.ALWAYS  # how many of each rating, per prompt
    search_fields = ["reason", "user__email", "prompt__name", "message__content"]
    list_select_related = ["message", "prompt", "tenant", "user"]
    date_hierarchy = "updated_at"

    @admin.display(description=_("reason"))
    def reason_short(self, feedback: MessageFeedback) -> str:
        return Truncator(feedback.reason).chars(80)

    @admin.display(description=_("answer"))
    def answer(self, feedback: MessageFeedback) -> str:
        return Truncator(feedback.message.content).chars(80)
