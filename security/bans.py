"""The live ban state and the offence counters, in the Django cache.

With ``REDIS_URL`` set the default cache is Redis, so every web instance sees a ban the
moment another instance makes it; in the embedded default it is the in-process cache.
Each ban stores its expiry time as its value (and as the key's TTL), so "banned?" is one
``get``. Counters use a sliding window over two fixed buckets (the previous bucket's
count, weighted by how much of it still lies inside the window, plus the current one).

A Redis round trip through Django's cache costs ~130 µs here, more than everything else
the filter does, on every request. So each process remembers a lookup's answer for
``SPARK_FILTER_BAN_MEMO_SECONDS`` (2 s): a ban made on another instance takes effect here
within that time (this process's own bans and unbans at once). Requests that break a rule
are refused locally whatever the memo says.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches

from spark.observability import metrics

PREFIX = "spark:sec:"
MEMO_MAX_ENTRIES = 50_000

# ip -> (remember until, banned until or None); shared by the stores on the default cache.
_process_memo: dict[str, tuple[float, float | None]] = {}


def forget_memo() -> None:
    """Drop this process's remembered lookups (tests; after changing the cache by hand)."""
    _process_memo.clear()


@dataclass(frozen=True)
class BanDecision:
    ip: str
    offence: int  # 1 for a first ban, 2 for the next one within the memory period...
    seconds: int
    expires_at: float  # epoch seconds


def _ban_key(ip: str) -> str:
    return f"{PREFIX}ban:{ip}"


def _offence_key(ip: str) -> str:
    return f"{PREFIX}offences:{ip}"


class BanStore:
    """Bans and counters for client IPs in one cache (the default cache unless given)."""

    def __init__(self, cache: Any = None, *, memo_seconds: float | None = None) -> None:
        self._cache = cache
        # Stores on the default cache share the process memo; another cache (another
        # "instance" in tests) gets its own.
        self._memo = _process_memo if cache is None else {}
        self._memo_seconds = memo_seconds

    @property
    def cache(self) -> Any:
        return self._cache if self._cache is not None else caches["default"]

    @property
    def memo_seconds(self) -> float:
        if self._memo_seconds is not None:
            return self._memo_seconds
        return float(settings.SPARK_FILTER_BAN_MEMO_SECONDS)

    def _remember(self, ip: str, until: float | None) -> None:
        seconds = self.memo_seconds
        if seconds <= 0:
            return
        if len(self._memo) >= MEMO_MAX_ENTRIES:
            self._memo.clear()
        self._memo[ip] = (time.time() + seconds, until)

    def banned_until(self, ip: str) -> float | None:
        """When the ban of ``ip`` ends (epoch seconds), or None when it is not banned."""
        now = time.time()
        remembered = self._memo.get(ip) if self.memo_seconds > 0 else None
        if remembered is not None and remembered[0] > now:
            until = remembered[1]
            return until if until is not None and until > now else None
        value = self.cache.get(_ban_key(ip))
        until = float(value) if value is not None and float(value) > now else None
        self._remember(ip, until)
        return until

    def is_banned(self, ip: str) -> bool:
        return self.banned_until(ip) is not None

    def ban(self, ip: str, *, durations: Sequence[int], memory_seconds: int) -> BanDecision | None:
        """Ban ``ip`` for the length its offence count calls for; None if already banned.

        Each ban within ``memory_seconds`` of the previous one is one more offence, and
        the n-th offence lasts ``durations[n-1]`` (the last length repeats).
        """
        if self.is_banned(ip):
            return None
        offence = self._increment(_offence_key(ip), memory_seconds)
        seconds = int(durations[min(offence, len(durations)) - 1])
        expires_at = time.time() + seconds
        self.cache.set(_ban_key(ip), expires_at, timeout=seconds)
        self._remember(ip, expires_at)
        # Extend the offence memory from this ban on.
        self.cache.touch(_offence_key(ip), memory_seconds)
        metrics.ban_issued(offence)
        return BanDecision(ip=ip, offence=offence, seconds=seconds, expires_at=expires_at)

    def lift(self, ip: str, *, forget_offences: bool = True) -> None:
        """End a ban now (staff unban); by default the client starts again from a first offence."""
        keys = [_ban_key(ip)] + ([_offence_key(ip)] if forget_offences else [])
        self.cache.delete_many(keys)
        self._memo.pop(ip, None)

    def offences(self, ip: str) -> int:
        return int(self.cache.get(_offence_key(ip)) or 0)

    def hit(self, kind: str, ip: str, *, window: int) -> float:
        """Count one event of ``kind`` for ``ip``; the count within the last ``window`` s."""
        now = time.time()
        bucket = int(now // window)
        current = self._increment(f"{PREFIX}{kind}:{ip}:{bucket}", window * 2 + 5)
        previous = int(self.cache.get(f"{PREFIX}{kind}:{ip}:{bucket - 1}") or 0)
        elapsed = (now % window) / window
        return previous * (1.0 - elapsed) + current

    def reset(self, kind: str, ip: str, *, window: int) -> None:
        bucket = int(time.time() // window)
        self.cache.delete_many([f"{PREFIX}{kind}:{ip}:{b}" for b in (bucket - 1, bucket)])

    def _increment(self, key: str, timeout: int) -> int:
        if self.cache.add(key, 1, timeout=timeout):
            return 1
        try:
            return int(self.cache.incr(key))
        except ValueError:  # expired between add and incr
            self.cache.set(key, 1, timeout=timeout)
            return 1
