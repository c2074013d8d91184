"""``manage.py wallet_grant``: credit a user's wallet from promotional credit (audit-logged)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from billing.models import MICROS_PER_USD
from billing.services import usd, wallet_grant
from security.models import AuditLogEntry
from security.services import audit_record
from spark.common.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Credit a user's wallet from promotional credit (a ledger transaction, audit-logged)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--amount-usd", required=True, help="e.g. 10 or 2.50")
        parser.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"no user with the email {options['email']}")
        try:
            dollars = Decimal(options["amount_usd"])
        except InvalidOperation:
            raise CommandError("--amount-usd must be a number of dollars") from None
        micros = dollars * MICROS_PER_USD
        if micros != micros.to_integral_value():
            raise CommandError("--amount-usd has more precision than a micro-dollar")
        try:
            txn = wallet_grant(user=user, amount=int(micros), reason=options["reason"])
        except ApplicationError as error:
            raise CommandError(error.message) from None
        audit_record(
            action="wallet_grant",
            source=AuditLogEntry.Source.SYSTEM,
            obj=txn,
            object_repr=f"{usd(int(micros))} to {user.email}",
            changes={"amount_micros": int(micros), "reason": options["reason"], "via": "command"},
        )
        self.stdout.write(self.style.SUCCESS(f"Granted {usd(int(micros))} to {user.email}."))
