"""Forms for prompts: the creator page's and the admin's. They parse; services validate.

The creator form is built from ``initial`` and never bound to an instance, so a
rejected submission leaves the stored prompt untouched; ``prompt_create`` and
``prompt_update`` check every rule. The admin form asks ``prompt_validate`` too.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import add_application_error
from marketplace import selectors, services
from marketplace.models import Category, LandingPageVersion, Prompt
from spark.common.exceptions import ApplicationError
from spark.llm.models import LLMModel


class LinesField(forms.CharField):
    """A textarea whose value is a list of its non-empty lines."""

    widget = forms.Textarea

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(line) for line in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in str(text).splitlines() if line.strip()]

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(self.prepare_value(initial)) != self.to_python(data)


class CategoryChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Category) -> str:  # type: ignore[override]
        label = f"{obj.icon} {obj.name}".strip()
        return f"{label} (18+)" if obj.age_restricted else label


class PromptFieldsMixin(forms.Form):
    """The fields stored as lists (tools, conversation starters), shared with the admin."""

    enabled_tools = forms.MultipleChoiceField(
        label=_("Tools"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the model may do besides answering."),
    )
    starter_messages = LinesField(
        label=_("Conversation starters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Suggested first messages, one per line (up to six)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enabled_tools"].choices = selectors.tool_choices()  # type: ignore[attr-defined]


class PromptForm(PromptFieldsMixin, forms.ModelForm):  # type: ignore[type-arg]
    """The creator's prompt page."""

    category = CategoryChoiceField(
        label=_("Category"),
        queryset=Category.objects.order_by("position", "name"),
        required=False,
        empty_label=_("No category"),
    )

    class Meta:
        model = Prompt
        fields = [
            "name",
            "slug",
            "description",
            "avatar",
            "category",
            "system_prompt",
            "default_model",
            "allowed_models",
            "forced_model",
            "hide_model_name",
            "visibility",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "system_prompt": forms.Textarea(attrs={"rows": 16, "class": "mono"}),
            "allowed_models": forms.CheckboxSelectMultiple,
            "visibility": forms.RadioSelect,
        }
        help_texts = {
            "slug": _("The prompt's address. Leave empty to make one from the name."),
            "description": _("What the prompt does, shown in the catalogue."),
            "avatar": _("PNG, JPEG, WebP or GIF, at most 2 MB."),
            "system_prompt": _("The instructions the model follows. Users never see them."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        models = selectors.active_models()
        self.fields["slug"].required = False
        for name in ("default_model", "allowed_models", "forced_model"):
            self.fields[name].queryset = models  # type: ignore[attr-defined]
        self.fields["forced_model"].empty_label = _("None: users pick")  # type: ignore[attr-defined]
        self.fields["visibility"].choices = Prompt.Visibility.choices  # type: ignore[attr-defined]

    @classmethod
    def for_new(cls, data: Any = None, files: Any = None) -> PromptForm:
        first_model: LLMModel | None = selectors.active_models().first()
        initial = {"visibility": Prompt.Visibility.PRIVATE, "default_model": first_model}
        return cls(data, files, initial=initial)

    @classmethod
    def for_prompt(cls, prompt: Prompt, data: Any = None, files: Any = None) -> PromptForm:
        initial = {name: getattr(prompt, name) for name in cls.Meta.fields}
        initial["allowed_models"] = list(prompt.allowed_models.all())
        initial["enabled_tools"] = list(prompt.enabled_tools)
        initial["starter_messages"] = list(prompt.starter_messages)
        return cls(data, files, initial=initial)

    def service_fields(self, *, editing: bool) -> services.PromptFields:
        """The cleaned values for ``prompt_create``/``prompt_update``."""
        names = [*self.Meta.fields, "enabled_tools", "starter_messages"]
        fields: dict[str, Any] = {n: self.cleaned_data[n] for n in names if n != "avatar"}
        if not editing or "avatar" in self.changed_data:
            avatar = self.cleaned_data.get("avatar")
            if avatar is False or avatar:  # False: "clear" was ticked
                fields["avatar"] = avatar or None
        return fields  # type: ignore[return-value]

    def add_service_error(self, error: ApplicationError) -> None:
        add_application_error(self, error)


class PromptAdminForm(PromptFieldsMixin, forms.ModelForm):  # type: ignore[type-arg]
    """The admin's prompt form: the same rules as the creator page, through the service."""

    class Meta:
        model = Prompt
        fields = [
            "name",
            "slug",
            "tenant",
            "owner",
            "is_active",
            "description",
            "avatar",
            "category",
            "visibility",
            "system_prompt",
            "starter_messages",
            "enabled_tools",
            "default_model",
            "allowed_models",
            "forced_model",
            "hide_model_name",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or cleaned.get("tenant") is None:
            return cleaned
        fields = {
            name: cleaned[name]
            for name in services.PromptFields.__annotations__
            if name in cleaned and name != "avatar"
        }
        if "avatar" in self.changed_data and cleaned.get("avatar"):
            fields["avatar"] = cleaned["avatar"]
        existing = self.instance if self.instance.pk else None
        try:
            valid = services.prompt_validate(tenant=cleaned["tenant"], prompt=existing, **fields)
        except ApplicationError as error:
            add_application_error(self, error)
            return cleaned
        cleaned.update(valid)
        return cleaned


class LandingPageForm(forms.Form):
    """A landing page version as the creator writes it; ``landing_version_save`` checks it."""

    title = forms.CharField(label=_("Page title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=600,
        help_text=_("Shown by search engines and when the page is shared."),
    )
    source_format = forms.ChoiceField(
        label=_("Written in"), choices=LandingPageVersion.Format.choices
    )
    source = forms.CharField(
        label=_("Page"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "code"}),
        help_text=_(
            "HTML or Markdown. Scripts, forms, frames and inline styles are removed. "
            "Put {{ spark.start_url }} where a link should start a chat with this prompt."
        ),
    )
    css = forms.CharField(
        label=_("Stylesheet"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
        help_text=_("CSS for the page. Images and fonts load from https or data: URLs."),
    )

    def add_service_error(self, error: ApplicationError) -> None:
        add_application_error(self, error)


class ColourInput(forms.TextInput):
    input_type = "color"


class LandingWizardForm(forms.Form):
    """The wizard's questions; ``wizard.wizard_validate`` checks the answers."""

    style = forms.ChoiceField(label=_("Visual style"), widget=forms.RadioSelect)
    languages = forms.MultipleChoiceField(
        label=_("Languages of the page"), widget=forms.CheckboxSelectMultiple
    )
    accent_colour = forms.CharField(label=_("Brand colour"), widget=ColourInput, max_length=7)
    text_colour = forms.CharField(label=_("Text colour"), widget=ColourInput, max_length=7)
    background_colour = forms.CharField(
        label=_("Background colour"), widget=ColourInput, max_length=7
    )
    brief = forms.CharField(
        label=_("Brief"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Who the page is for, what to promise them, the tone to take."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from django.conf import settings

        from marketplace.wizard import STYLES

        super().__init__(*args, **kwargs)
        self.fields["style"].choices = list(STYLES.items())  # type: ignore[attr-defined]
        self.fields["languages"].choices = list(settings.LANGUAGES)  # type: ignore[attr-defined]

    def add_service_error(self, error: ApplicationError) -> None:
        add_application_error(self, error)
