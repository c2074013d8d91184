"""Writes for spark.llm: users' own provider keys (BYOK)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from django.utils import timezone
from django.utils.translation import gettext as _

from spark.common.crypto import decrypt_str, encrypt_str
from spark.common.exceptions import ApplicationError
from spark.llm.errors import AuthError, LLMError, ProviderTimeout, ProviderUnavailable, RateLimited
from spark.llm.models import ByokProvider, UserProviderKey

MIN_KEY_LENGTH = 12
MAX_KEY_LENGTH = 500


def provider_key_create(
    *, tenant: Any, user: Any, provider: str, api_key: str, label: str = ""
) -> UserProviderKey:
    """Store a user's own key: encrypted, with only its first and last four characters
    kept in clear for the mask."""
    api_key = api_key.strip()
    label = label.strip()
    if provider not in ByokProvider.values:
        raise ApplicationError(_("Choose a provider."), code="invalid_provider")
    if (
        len(api_key) < MIN_KEY_LENGTH
        or len(api_key) > MAX_KEY_LENGTH
        or any(c.isspace() for c in api_key)
    ):
        raise ApplicationError(_("That does not look like an API key."), code="invalid_key")
    if len(label) > 100:
        raise ApplicationError(_("That label is too long."), code="invalid_label")
    return UserProviderKey.objects.create(
        tenant=tenant,
        user=user,
        provider=provider,
        label=label,
        ciphertext=encrypt_str(api_key),
        first4=api_key[:4],
        last4=api_key[-4:],
    )


def provider_key_delete(*, key: UserProviderKey) -> None:
    key.delete()


@dataclass(frozen=True)
class KeyTestResult:
    ok: bool
    code: str
    message: str


def _test_message(error: LLMError) -> str:
    if isinstance(error, AuthError):
        return _("The provider refused this key.")
    if isinstance(error, RateLimited):
        return _("The key works but is rate limited right now.")
    if isinstance(error, ProviderTimeout):
        return _("The provider did not answer in time. Try again later.")
    if isinstance(error, ProviderUnavailable):
        return _("The provider could not be reached. Try again later.")
    return _("The provider rejected the test: %(reason)s") % {"reason": error.message}


def provider_key_test(*, key: UserProviderKey) -> KeyTestResult:
    """Make a cheap real call with the key (list the provider's models) and record the
    outcome. A rate-limited key counts as working: the provider accepted it."""
    from spark.llm.client import get_gateway
    from spark.llm.providers.http import close_shared_client

    api_key = decrypt_str(key.ciphertext)

    async def check() -> int:
        try:
            return await get_gateway().check_key(key.provider, api_key)
        finally:
            await close_shared_client()  # this event loop ends with the call

    try:
        async_to_sync(check)()
    except LLMError as error:
        ok = isinstance(error, RateLimited)
        result = KeyTestResult(ok=ok, code=error.code, message=_test_message(error))
    else:
        result = KeyTestResult(ok=True, code="ok", message=_("The key works."))
    key.last_tested_at = timezone.now()
    key.last_test_ok = result.ok
    key.save(update_fields=["last_tested_at", "last_test_ok", "updated_at"])
    return result
