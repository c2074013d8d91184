"""Forms: email sign-in link requests, password reset, settings."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import ResetPasswordForm
from django import forms
from django.conf import settings
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from accounts.models import AlterEgo, ApiKey, User
from spark.common.exceptions import ApplicationError
from spark.llm.models import ByokProvider


class MagicLinkRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "placeholder": _("you@example.com")}
        ),
    )


class SparkResetPasswordForm(ResetPasswordForm):
    """Only accounts that may change their password get a reset link.

    Others (email-link-only accounts, or accounts whose password an admin manages) get
    an email saying how they sign in instead, so nobody waits for a link that never comes.
    """

    def clean_email(self) -> str:
        email = super().clean_email()
        users: list[Any] = list(self.users)
        self.users: list[Any] = [
            u for u in users if u.allows_password_login and u.can_change_password
        ]
        self.unavailable_users = [u for u in users if u not in self.users]
        return email

    def save(self, request: HttpRequest, **kwargs: Any) -> str:
        if self.unavailable_users and not self.users:
            user = self.unavailable_users[0]
            context = {"user": user, "site_name": settings.SPARK_SITE_NAME}
            subject = render_to_string(
                "accounts/email/password_reset_unavailable_subject.txt", context
            )
            body = render_to_string(
                "accounts/email/password_reset_unavailable_message.txt", context
            )
            send_mail(settings.EMAIL_SUBJECT_PREFIX + subject.strip(), body, None, [user.email])
            return str(self.cleaned_data["email"])
        return super().save(request, **kwargs)


class ProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("Browser default")), *list(settings.LANGUAGES)],
        required=False,
    )

    class Meta:
        model = User
        fields = ["display_name", "language", "shows_mature_content"]
        labels = {"shows_mature_content": _("I am 18 or older")}
        help_texts = {
            "shows_mature_content": _("Show prompts in age-restricted categories (such as Mature).")
        }


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=ApiKey._meta.get_field("name").max_length,  # type: ignore[arg-type]
        widget=forms.TextInput(attrs={"placeholder": _("e.g. My integration")}),
    )


class ProviderKeyForm(forms.Form):
    provider = forms.ChoiceField(label=_("Provider"), choices=ByokProvider.choices)
    api_key = forms.CharField(
        label=_("API key"),
        max_length=500,
        strip=True,
        # Never rendered back: a failed submission shows an empty field.
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
    )
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("optional, e.g. Work account")}),
    )


def add_application_error(form: forms.BaseForm, error: ApplicationError) -> None:
    """Show a service's ``ApplicationError`` on the form: per field when it names fields."""
    details = error.details if isinstance(error.details, dict) else {}
    placed = False
    for field, messages in details.items():
        target = field if field in form.fields else None
        for message in messages if isinstance(messages, list) else [messages]:
            form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, error.message)


class AlterEgoForm(forms.ModelForm):  # type: ignore[type-arg]
    """Parses a persona's fields; ``accounts.services`` validates and saves them.

    Built from ``initial`` (never bound to an instance), so a rejected submission leaves
    the stored alter ego untouched.
    """

    class Meta:
        model = AlterEgo
        fields = ["name", "description", "avatar", "is_default"]
        widgets = {
            "description": forms.Textarea(
                attrs={
                    "rows": 4,
                    "placeholder": _(
                        "e.g. A product manager at a small startup who prefers short answers."
                    ),
                }
            ),
        }

    @classmethod
    def for_alter_ego(
        cls, alter_ego: AlterEgo, data: Any = None, files: Any = None
    ) -> AlterEgoForm:
        initial = {
            "name": alter_ego.name,
            "description": alter_ego.description,
            "avatar": alter_ego.avatar,
            "is_default": alter_ego.is_default,
        }
        return cls(data, files, initial=initial)

    def service_fields(self, *, editing: bool) -> dict[str, Any]:
        """The cleaned values to hand to the service (the avatar only when it changed)."""
        fields = {key: self.cleaned_data[key] for key in ("name", "description", "is_default")}
        if "avatar" in self.changed_data or not editing:
            avatar = self.cleaned_data.get("avatar")
            if avatar is False or avatar:  # False: "clear" was ticked
                fields["avatar"] = avatar or None
        return fields
