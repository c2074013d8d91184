"""One linear RE2 pass over a long text: which of several patterns can match it.

The screen's long-text rule prefilter and the decoders' gates both ask this. A set only
proposes (its callers confirm with Python's ``re`` or scan only what fired), so what it
must never do is miss: Python's ``\\s`` also matches a few characters RE2's does not, so
those are read as spaces; and an RE2 set whose automaton runs out of memory matches
nothing, so a sentinel ``\\z`` proves each scan reached the end (``None``: it did not).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import re2

# Python's \s also matches these; RE2's does not.
_RE2_BLIND_SPACES = re.compile(r"[\x0b\x1c-\x1f\x85\u1680\u2028\u2029]")


def re2_options(max_mem: int) -> Any:
    options = re2.Options()
    options.max_mem = max_mem
    options.log_errors = False
    return options


def compiles(pattern: str, *, max_mem: int = 8 << 20) -> bool:
    """Whether RE2 reads ``pattern`` at all."""
    try:
        re2.compile(pattern, re2_options(max_mem))
    except re2.error:
        return False
    return True


class SearchSet:
    """``patterns`` as one RE2 set; ``matching(text)`` gives the indexes of those that match."""

    def __init__(self, patterns: Sequence[str], *, max_mem: int) -> None:
        self._set: Any = re2.Set.SearchSet(re2_options(max_mem))
        self._set.Add(r"\z")
        for pattern in patterns:
            self._set.Add(pattern)
        self._set.Compile()

    def matching(self, text: str) -> frozenset[int] | None:
        """Indexes (into ``patterns``) that match ``text``; None: the scan did not finish."""
        hits = self._set.Match(_RE2_BLIND_SPACES.sub(" ", text)) or []
        if 0 not in hits:
            return None
        return frozenset(hit - 1 for hit in hits if hit)
