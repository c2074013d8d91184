"""What share of a scanner's first requests the request filter refuses.

The probes (tests/security/data/scanner_probes.txt) are Spark's own list of what
scanners, botnets and directory brute-forcers ask a web server for. Each is sent from its
own address with a browser's user agent, so only the path rules decide (a scanner's own
user agent would be refused by the ``scanners`` rules whatever it asks for).
docs/security.md reports the share.
"""

from __future__ import annotations

import pytest

from tests.security.filter_helpers import FirstContact, scanner_probes

pytestmark = pytest.mark.django_db

MIN_REFUSED_SHARE = 0.90


def test_the_wordlist_holds_several_hundred_distinct_probes() -> None:
    probes = scanner_probes()
    assert len(probes) >= 500
    assert len(set(probes)) == len(probes)


def test_at_least_90_percent_of_scanner_probes_are_refused_on_first_contact() -> None:
    probes = scanner_probes()
    contact = FirstContact()
    missed = [probe for probe in probes if not contact.refused(probe)]
    share = 1 - len(missed) / len(probes)
    assert share >= MIN_REFUSED_SHARE, (
        f"{share:.1%} of {len(probes)} probes refused; let through:\n" + "\n".join(missed)
    )
