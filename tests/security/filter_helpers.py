"""Send one request through the request filter alone, as a client's first contact."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from security.middleware import SecurityFilterMiddleware

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
PROBES_FILE = Path(__file__).resolve().parent / "data" / "scanner_probes.txt"


def _served(request: HttpRequest) -> HttpResponse:
    return HttpResponse("served")


def _addresses() -> Iterator[str]:
    """A fresh documentation-range address per request (198.18.0.0/15, benchmarking)."""
    for high, low in itertools.product(range(18, 20), range(256 * 256)):
        yield f"198.{high}.{low // 256}.{low % 256}"


class FirstContact:
    """Each request from its own new address, so only the rules decide (no earlier ban)."""

    def __init__(self) -> None:
        self.filter = SecurityFilterMiddleware(_served)
        self.addresses = _addresses()
        self.factory = RequestFactory()

    def refused(self, url: str, *, host: str = "testserver", user_agent: str = BROWSER_UA) -> bool:
        request = self.factory.get(
            url, REMOTE_ADDR=next(self.addresses), HTTP_USER_AGENT=user_agent, HTTP_HOST=host
        )
        return self.filter(request).status_code == 403


def scanner_probes() -> list[str]:
    lines = PROBES_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
