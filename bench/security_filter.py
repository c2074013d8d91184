"""Benchmark: the cost of SecurityFilterMiddleware on ordinary requests.

Measures, in one run on this machine:

1. the per-request cost of the filter (p50/p90/p99, microseconds) with every rule loaded,
   against the same middleware whose matcher is a naive loop over the same patterns
   (Python's ``re``, one search per pattern);
2. the matcher alone, RE2 set against the naive loop;
3. Spark's request throughput through the whole Django stack (test client, WSGI handler,
   every middleware, the landing page) with and without the filter.

Run with ``make bench`` (in-process cache) or with ``REDIS_URL`` set to measure the ban
lookup against Redis. Timings are reported as measured and as ratios within the run.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable, Sequence

import django

from bench.common import percentile

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spark.settings.test")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache, caches  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from security.bans import BanStore  # noqa: E402
from security.middleware import SecurityFilterMiddleware  # noqa: E402
from security.rules import RuleMatcher, get_matcher  # noqa: E402

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
ORDINARY = [
    "/",
    "/accounts/login/?next=/settings/api-keys/",
    "/api/v1/me/",
    "/api/v1/api-keys/7b0c9a7e-1f1e-4b8a-9a57-2c1d3e4f5a6b/",
    "/p/interview-coach/?ref=newsletter&utm_source=mail",
    "/admin/accounts/user/?q=alice%40example.com",
    "/chat/7b0c9a7e-1f1e-4b8a-9a57-2c1d3e4f5a6b/",
    "/v1/chat/completions",
]


class NaiveMatcher:
    """The same rules, matched one pattern at a time with ``re``."""

    def __init__(self, matcher: RuleMatcher) -> None:
        self.match = matcher.match_naive


def _percentiles(samples: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(samples, 50),
        "p90": percentile(samples, 90),
        "p99": percentile(samples, 99),
        "mean": statistics.mean(samples),
    }


def _time_calls(
    call: Callable[[HttpRequest], object], requests: Sequence[HttpRequest], rounds: int
) -> list[float]:
    """Per-call wall time in microseconds."""
    samples: list[float] = []
    gc.disable()
    try:
        for _ in range(rounds):
            for request in requests:
                start = time.perf_counter_ns()
                call(request)
                samples.append((time.perf_counter_ns() - start) / 1000)
    finally:
        gc.enable()
    return samples


def bench_middleware(rounds: int = 3000) -> dict[str, dict[str, float]]:
    factory = RequestFactory()
    requests = [
        factory.get(url, HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=f"198.51.100.{i + 1}")
        for i, url in enumerate(ORDINARY)
    ]
    ok = HttpResponse("ok")

    def app(request: HttpRequest) -> HttpResponse:
        return ok

    matcher = get_matcher()
    fast = SecurityFilterMiddleware(app, matcher=matcher)
    naive = SecurityFilterMiddleware(app, matcher=NaiveMatcher(matcher))  # type: ignore[arg-type]
    # Every ban lookup goes to the cache (a client not seen in the last 2 s, or memo off).
    uncached = SecurityFilterMiddleware(app, matcher=matcher, store=BanStore(memo_seconds=0))
    for call in (
        app,
        fast,
        naive,
        uncached,
    ):  # warm up (and fill the client-IP cache on each request)
        _time_calls(call, requests, 50)
    results = {}
    bare = _time_calls(app, requests, rounds)
    for name, call in (
        ("filter (RE2 set)", fast),
        ("filter (naive loop)", naive),
        ("filter, no ban memo", uncached),
    ):
        samples = _time_calls(call, requests, rounds)
        overhead = [s - b for s, b in zip(samples, bare, strict=True)]
        results[name] = _percentiles(overhead)
    return results


def bench_matcher(rounds: int = 3000) -> dict[str, dict[str, float]]:
    matcher = get_matcher()
    cases = [url.partition("?") for url in ORDINARY]
    out: dict[str, dict[str, float]] = {}
    for name, match in (("RE2 set", matcher.match), ("naive loop", matcher.match_naive)):
        samples = []
        for _ in range(rounds):
            for path, _sep, query in cases:
                start = time.perf_counter_ns()
                match(path=path, query=query, user_agent=BROWSER_UA)
                samples.append((time.perf_counter_ns() - start) / 1000)
        out[name] = _percentiles(samples)
    return out


def _throughput(client: Client, seconds: float) -> float:
    done = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(20):
            response = client.get("/", HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="198.51.100.200")
            assert response.status_code == 200, response.status_code
        done += 20
    return done / seconds


def bench_throughput(seconds: float = 2.0, repeats: int = 5) -> dict[str, float]:
    without = [
        m for m in settings.MIDDLEWARE if m != "security.middleware.SecurityFilterMiddleware"
    ]
    with_rates, without_rates = [], []
    for _ in range(repeats):  # alternate, so drift hits both equally
        with_rates.append(_throughput(Client(), seconds))
        with override_settings(MIDDLEWARE=without):
            without_rates.append(_throughput(Client(), seconds))
    return {
        "with filter": statistics.median(with_rates),
        "without filter": statistics.median(without_rates),
    }


def main() -> None:
    from django.db import connection

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    cache.clear()
    backend = type(caches["default"]).__name__
    rules = len(get_matcher().rules)
    print(f"rules loaded: {rules}; cache: {backend}; python {os.sys.version.split()[0]}")  # type: ignore[attr-defined]

    print("\nPer-request cost of the filter on ordinary requests (µs, over a bare view call)")
    middleware = bench_middleware()
    for name, stats in middleware.items():
        print(
            f"  {name:22} p50 {stats['p50']:7.1f}  p90 {stats['p90']:7.1f}  p99 {stats['p99']:7.1f}"
        )
    ratio = middleware["filter (naive loop)"]["p50"] / middleware["filter (RE2 set)"]["p50"]
    print(f"  naive / RE2 (p50): {ratio:.1f}x")

    print("\nMatching alone (µs per request: path + user agent)")
    matcher = bench_matcher()
    for name, stats in matcher.items():
        print(
            f"  {name:22} p50 {stats['p50']:7.1f}  p90 {stats['p90']:7.1f}  p99 {stats['p99']:7.1f}"
        )
    print(f"  naive / RE2 (p50): {matcher['naive loop']['p50'] / matcher['RE2 set']['p50']:.1f}x")

    print("\nThroughput through the whole stack (GET /, test client, one process)")
    rates = bench_throughput()
    for name, rate in rates.items():
        print(f"  {name:22} {rate:8.0f} req/s")
    print(f"  with / without: {rates['with filter'] / rates['without filter']:.3f}")
    connection.creation.destroy_test_db(":memory:", verbosity=0)


if __name__ == "__main__":
    main()
