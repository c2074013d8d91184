"""Run the local screen over messages from standard input, one JSON verdict per line.

    python manage.py watchdog_screen < messages.txt
    python manage.py watchdog_screen --summary < messages.jsonl

Each input line is a message, or a JSON object with a ``text`` field (JSON lines). Each
output line is ``{"flagged": bool, "category": str, "rule": str}``, in input order, so an
operator can measure the screen (its flags and false positives) on their own data.
``--summary`` adds one JSON line on standard error: the number of messages, how many were
flagged, and the counts by category and by rule.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from watchdog.screen import get_screen


def message_of(line: str) -> str:
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except ValueError:
            return line.rstrip("\n")
        if isinstance(value, dict):
            if not isinstance(value.get("text"), str):
                raise CommandError(f"a JSON line needs a string 'text' field: {stripped[:80]}")
            return str(value["text"])
    return line.rstrip("\n")


class Command(BaseCommand):
    help = "Screen messages from standard input; print one JSON verdict per line."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--summary",
            action="store_true",
            help="Also print totals (messages, flagged, by category, by rule) to standard error.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        screen = get_screen()
        stdin = getattr(self, "stdin", None) or sys.stdin
        counts: Counter[str] = Counter()
        categories: Counter[str] = Counter()
        total = 0
        for line in stdin:
            if not line.strip():
                continue
            result = screen.check(message_of(line))
            total += 1
            if result.flagged:
                counts[result.rule] += 1
                categories[result.category] += 1
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        if options["summary"]:
            flagged = sum(counts.values())
            summary = {
                "messages": total,
                "flagged": flagged,
                "categories": dict(sorted(categories.items())),
                "rules": dict(counts.most_common()),
            }
            self.stderr.write(json.dumps(summary))
