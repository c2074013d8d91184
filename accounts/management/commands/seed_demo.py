"""Seed the demo data of every app (idempotent) and print how to sign in.

Each app contributes a seeder listed in ``SPARK_DEMO_SEEDERS``: a callable that creates
what is missing and returns the lines to print.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Create the demo tenants, accounts and content if they are missing, and list them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="Print nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SPARK_DEMO_SEED_ALLOWED:
            raise CommandError("Demo data is not seeded with production settings.")
        lines: list[str] = []
        with transaction.atomic():
            for path in settings.SPARK_DEMO_SEEDERS:
                lines.extend(import_string(path)())
        if not options["quiet"]:
            for line in lines:
                self.stdout.write(line)
