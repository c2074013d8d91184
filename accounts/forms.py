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

from accounts.models import ApiKey, User
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
        fields = ["display_name", "language"]


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
