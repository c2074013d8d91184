"""Stripe behind a small facade: the only module that imports the ``stripe`` package.

Every call that creates something carries an idempotency key, so a retry (a redelivered
task, a reconciliation) never makes a second charge or transfer. Errors come out as
``PaymentDeclined`` (the card or the request was refused: final) or ``StripeUnavailable``
(network or Stripe trouble: try again later with the same key).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings


class StripeError(Exception):
    def __init__(self, message: str, *, code: str = "", payment_intent_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.payment_intent_id = payment_intent_id


class PaymentDeclined(StripeError):
    """Stripe refused (a declined card, an invalid request): retrying will not help."""


class StripeUnavailable(StripeError):
    """Stripe could not be reached or failed: retry later with the same idempotency key."""


class InvalidWebhook(Exception):
    """A webhook whose signature or payload is not valid."""


@lru_cache(maxsize=4)
def _client(api_key: str, base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key or "sk_test_unset",
        base_addresses={"api": base, "connect": base, "files": base},
        max_network_retries=2,
    )


def client() -> stripe.StripeClient:
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def _call(func: Any, params: dict[str, Any], idempotency_key: str | None = None) -> Any:
    options: dict[str, Any] = {}
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    try:
        return func(params=params, options=options)
    except stripe.CardError as error:
        details = getattr(error, "error", None)
        intent = getattr(details, "payment_intent", None) if details is not None else None
        intent_id = str(getattr(intent, "id", "") or "") if intent is not None else ""
        raise PaymentDeclined(
            error.user_message or str(error), code=error.code or "", payment_intent_id=intent_id
        ) from error
    except (stripe.InvalidRequestError, stripe.PermissionError, stripe.IdempotencyError) as error:
        raise PaymentDeclined(error.user_message or str(error), code=error.code or "") from error
    except stripe.StripeError as error:
        raise StripeUnavailable(str(error), code=getattr(error, "code", "") or "") from error


@dataclass(frozen=True)
class Session:
    id: str
    url: str


def checkout_payment_create(
    *,
    amount_cents: int,
    description: str,
    success_url: str,
    cancel_url: str,
    metadata: dict[str, str],
    customer_email: str,
    idempotency_key: str,
) -> Session:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "usd",
                    "unit_amount": amount_cents,
                    "product_data": {"name": description},
                },
            }
        ],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
    }
    if customer_email:
        params["customer_email"] = customer_email
    session = _call(client().v1.checkout.sessions.create, params, idempotency_key)
    return Session(id=session.id, url=session.url or "")


def checkout_setup_create(
    *,
    customer_id: str,
    success_url: str,
    cancel_url: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> Session:
    params = {
        "mode": "setup",
        "customer": customer_id,
        "currency": "usd",
        "payment_method_types": ["card"],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
    }
    session = _call(client().v1.checkout.sessions.create, params, idempotency_key)
    return Session(id=session.id, url=session.url or "")


def customer_create(
    *, email: str, name: str, metadata: dict[str, str], idempotency_key: str
) -> str:
    params = {"email": email, "name": name, "metadata": metadata}
    return str(_call(client().v1.customers.create, params, idempotency_key).id)


def setup_intent_payment_method(setup_intent_id: str) -> str:
    try:
        intent = client().v1.setup_intents.retrieve(setup_intent_id)
    except stripe.StripeError as error:
        raise StripeUnavailable(str(error)) from error
    method = intent.payment_method
    return str(method if isinstance(method, str) else getattr(method, "id", ""))


def card_label(payment_method_id: str) -> str:
    try:
        method = client().v1.payment_methods.retrieve(payment_method_id)
    except stripe.StripeError:
        return ""
    card = getattr(method, "card", None)
    if card is None:
        return ""
    return f"{str(card.brand).title()} •••• {card.last4}"


@dataclass(frozen=True)
class Charge:
    payment_intent_id: str
    status: str


def charge_off_session(
    *,
    amount_cents: int,
    customer_id: str,
    payment_method_id: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> Charge:
    """Charge a saved card with nobody present (auto-refill)."""
    params = {
        "amount": amount_cents,
        "currency": "usd",
        "customer": customer_id,
        "payment_method": payment_method_id,
        "off_session": True,
        "confirm": True,
        "metadata": metadata,
    }
    intent = _call(client().v1.payment_intents.create, params, idempotency_key)
    return Charge(payment_intent_id=intent.id, status=intent.status)


def express_account_create(*, email: str, metadata: dict[str, str], idempotency_key: str) -> str:
    params = {
        "type": "express",
        "email": email,
        "capabilities": {"transfers": {"requested": True}},
        "metadata": metadata,
    }
    return str(_call(client().v1.accounts.create, params, idempotency_key).id)


def account_link_create(*, account_id: str, refresh_url: str, return_url: str) -> str:
    params = {
        "account": account_id,
        "refresh_url": refresh_url,
        "return_url": return_url,
        "type": "account_onboarding",
    }
    return str(_call(client().v1.account_links.create, params).url)


def transfer_create(
    *, amount_cents: int, destination: str, metadata: dict[str, str], idempotency_key: str
) -> str:
    params = {
        "amount": amount_cents,
        "currency": "usd",
        "destination": destination,
        "metadata": metadata,
    }
    return str(_call(client().v1.transfers.create, params, idempotency_key).id)


def transfer_find(*, destination: str, metadata_key: str, value: str, since: int) -> str | None:
    """The id of the transfer to ``destination`` created at or after ``since`` (a Unix time)
    whose metadata names ``value`` under ``metadata_key``, if Stripe has one."""
    params = {"destination": destination, "created": {"gte": since}, "limit": 100}
    page = _call(client().v1.transfers.list, params)
    for transfer in page.auto_paging_iter():
        metadata = transfer.metadata.to_dict() if transfer.metadata else {}
        if metadata.get(metadata_key) == value:
            return str(transfer.id)
    return None


def webhook_verify(*, payload: bytes, signature: str) -> dict[str, Any]:
    """The event, if the ``Stripe-Signature`` header proves Stripe sent this payload."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise InvalidWebhook("no webhook secret is configured")
    try:
        text = payload.decode("utf-8")
        event = stripe.Webhook.construct_event(text, signature, secret)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
        raise InvalidWebhook(str(error)) from error
    data: dict[str, Any] = event.to_dict()
    if not data.get("id") or not data.get("type"):
        raise InvalidWebhook("an event needs an id and a type")
    return data
