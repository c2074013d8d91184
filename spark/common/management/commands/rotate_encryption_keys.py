"""Re-encrypt every stored secret with the current encryption key (the first of
SPARK_ENCRYPTION_KEYS), so that older keys can then be removed. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from spark.common.crypto import DecryptionError, is_current, rotate_token
from spark.tenancy.context import unscoped


class Command(BaseCommand):
    help = "Re-encrypt every stored secret (SPARK_ENCRYPTED_FIELDS) with the current key."

    def handle(self, *args: Any, **options: Any) -> None:
        failures = 0
        for spec in settings.SPARK_ENCRYPTED_FIELDS:
            label, field = spec.rsplit(".", 1)
            model = apps.get_model(label)
            rotated = current = 0
            with unscoped(), transaction.atomic():
                rows = model._base_manager.select_for_update().exclude(**{field: ""})
                for pk, token in rows.values_list("pk", field).iterator():
                    if is_current(token):
                        current += 1
                        continue
                    try:
                        new_token = rotate_token(token)
                    except DecryptionError:
                        failures += 1
                        self.stderr.write(f"{spec} row {pk}: no configured key decrypts it")
                        continue
                    model._base_manager.filter(pk=pk).update(**{field: new_token})
                    rotated += 1
            self.stdout.write(f"{spec}: {rotated} re-encrypted, {current} already current")
        if failures:
            raise CommandError(f"{failures} secret(s) could not be decrypted with any key.")
