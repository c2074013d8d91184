"""The one-time fee for a prompt's custom domain, through the ledger.

Plugged into marketplace as ``SPARK_DOMAIN_FEE_CHARGE`` (marketplace does not import
billing): ``marketplace.domains.domain_activate`` calls it inside its transaction, under
the domain's row lock, so the fee and the activation commit together or not at all.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from billing import ledger
from billing.models import MICROS_PER_USD, Account, Transaction
from billing.services import PaymentRequired, usd
from marketplace.models import PromptDomain


def domain_fee() -> int:
    """The slot fee in micro-USD (``SPARK_DOMAIN_FEE_USD``)."""
    return int(Decimal(settings.SPARK_DOMAIN_FEE_USD) * MICROS_PER_USD)


def domain_fee_charge(*, domain: PromptDomain, user: User) -> str:
    """Take the fee from the creator's wallet to platform revenue; the ledger key.

    Refused with ``insufficient_funds`` (HTTP 402, a top-up link in ``details``) when the
    wallet cannot cover it, or ``wallet_frozen`` after a dispute. Nothing is written then.
    """
    fee = domain_fee()
    key = f"domain-fee:{domain.uuid}"
    if fee <= 0:
        return key
    wallet = ledger.user_wallet(user)
    locked = ledger.accounts_lock([wallet.pk])[wallet.pk]
    if locked.is_frozen:
        raise PaymentRequired(
            _("This wallet is on hold after a payment dispute. Contact support."),
            code="wallet_frozen",
        )
    if locked.available < fee:
        raise PaymentRequired(
            _("Activating a domain costs %(fee)s. Add funds to your wallet first.")
            % {"fee": usd(fee)},
            details={
                "topup_url": reverse("billing:wallet"),
                "fee_usd": usd(fee),
                "available_usd": usd(max(locked.available, 0)),
            },
        )
    ledger.transaction_post(
        kind=Transaction.Kind.DOMAIN_FEE,
        idempotency_key=key,
        reference=f"domain:{domain.uuid}",
        legs=[(locked, -fee), (ledger.system_account(Account.Kind.PLATFORM_REVENUE), fee)],
        memo=domain.hostname,
        created_by=user,
    )
    return key
