"""``manage.py ledger_check``: verify the ledger's invariants; exit 1 naming each violation."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.invariants import ledger_violations


class Command(BaseCommand):
    help = (
        "Verify the ledger: every transaction sums to zero, cached balances and holds equal "
        "their rows, no wallet below its floor, every charged usage record has its transaction, "
        "every generated answer has its usage record (or names the to-settle row it waits in)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_violations()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} ledger violation(s)", returncode=1)
        self.stdout.write(self.style.SUCCESS("The ledger is consistent."))
