"""Create an API key for a user and print it once (for operators and integrations)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Create an API key for the user with this email and print the key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The key owner's email address.")
        parser.add_argument(
            "--name", default="Command line", help="A name to recognise the key by."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"No user with the email {options['email']!r}.")
        if not user.is_active:
            raise CommandError(f"The user {user.email} is inactive.")
        created = services.api_key_create(user=user, name=options["name"])
        self.stderr.write(
            f"Created key {created.api_key.name!r} for {user.email}. "
            "Store it now: it is not shown again."
        )
        self.stdout.write(created.raw_key)
