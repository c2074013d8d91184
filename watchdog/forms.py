"""The policy form, shared by the creator's page and the admin. It parses; the service's
``policy_validate`` holds the rules, and its messages land on the fields they concern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.forms import LinesField
from marketplace.selectors import active_models
from watchdog import services
from watchdog.models import WatchdogPolicy

SECTION_FIELDS = {
    "pre": [
        "pre_enabled",
        "pre_model",
        "pre_objectives",
        "pre_steering",
        "pre_frequency",
        "failure_mode",
        "pre_may_take_over",
        "pre_may_lock",
    ],
    "post": [
        "post_enabled",
        "post_model",
        "mode",
        "post_objectives",
        "post_steering",
        "post_frequency",
        "hint_max_chars",
        "takeover_threshold",
        "post_may_take_over",
        "post_may_lock",
    ],
}


class WatchdogPolicyForm(forms.ModelForm):  # type: ignore[type-arg]
    pre_objectives = LinesField(
        label=_("Objectives"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What the guard protects, one per line (1 to 20, each up to 500 characters)."),
    )
    post_objectives = LinesField(
        label=_("Objectives"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "What the assistant must keep doing in its role, one per line (1 to 20, each up "
            "to 500 characters)."
        ),
    )

    class Meta:
        model = WatchdogPolicy
        fields = [*SECTION_FIELDS["pre"], *SECTION_FIELDS["post"]]
        widgets = {
            "pre_steering": forms.Textarea(attrs={"rows": 4}),
            "post_steering": forms.Textarea(attrs={"rows": 6}),
            "failure_mode": forms.RadioSelect,
        }
        labels = {
            "pre_enabled": _("Check messages before the model sees them"),
            "post_enabled": _("Review the conversation after answers"),
            "pre_model": _("Evaluator model"),
            "post_model": _("Evaluator model"),
            "pre_steering": _("Steering prompt"),
            "post_steering": _("Steering prompt"),
            "pre_frequency": _("Ask the LLM guard every Nth message"),
            "post_frequency": _("Review every Nth message"),
            "pre_may_take_over": _("May answer in the assistant's place on an alert"),
            "post_may_take_over": _("May answer in the assistant's place"),
            "pre_may_lock": _("May close the conversation on an alert"),
            "post_may_lock": _("May close the conversation on an alert"),
        }
        help_texts = {
            "pre_steering": _("Extra guidance for the guard (up to 5000 characters)."),
            "post_steering": _(
                "How the assistant should behave (up to 5000 characters). Empty: the mode's "
                "default persona."
            ),
            "hint_max_chars": _("The longest hint the watchdog may give the assistant."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("pre_model", "post_model"):
            field = self.fields[name]
            field.queryset = active_models()  # type: ignore[attr-defined]
            field.required = False
            field.empty_label = _("Default evaluator")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        already = set(self.errors)  # a field that failed to parse keeps its own message
        for name, messages in services.policy_validate(cleaned).items():
            if name in already:
                continue
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        return cleaned

    def policy_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}
