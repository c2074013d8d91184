"""Report: the share of scanner probes the request filter refuses on first contact.

Sends every probe of ``tests/security/data/scanner_probes.txt`` through
``SecurityFilterMiddleware`` from its own new address with a browser's user agent (so only
the path rules decide), and prints the share refused per section of the list and overall,
with what got through. ``tests/security/test_scanner_probes.py`` asserts the overall
share; this prints the detail for docs/security.md.

    DJANGO_SETTINGS_MODULE=spark.settings.test .venv/bin/python -m bench.scanner_probes
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spark.settings.test")
django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from tests.security.filter_helpers import PROBES_FILE, FirstContact  # noqa: E402


def sections() -> dict[str, list[str]]:
    """The probes under each ``# --- name ---`` heading of the list."""
    found: dict[str, list[str]] = {}
    current = "(before any section)"
    for raw in PROBES_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("# ---"):
            current = line.strip("#- ").strip()
        elif line and not line.startswith("#"):
            found.setdefault(current, []).append(line)
    return found


def main() -> None:
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    contact = FirstContact()
    total = refused_total = 0
    missed_all: list[str] = []
    for name, probes in sections().items():
        missed = [probe for probe in probes if not contact.refused(probe)]
        refused = len(probes) - len(missed)
        total += len(probes)
        refused_total += refused
        missed_all += missed
        print(f"{refused:4}/{len(probes):<4} {refused / len(probes):6.1%}  {name}")
    print(f"{refused_total:4}/{total:<4} {refused_total / total:6.1%}  all probes")
    print("\nlet through:\n  " + "\n  ".join(missed_all))
    connection.creation.destroy_test_db(":memory:", verbosity=0)


if __name__ == "__main__":
    main()
