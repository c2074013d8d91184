"""What the benchmarks share: percentiles, and starting a helper process (a fake provider)
that prints ``READY <url>`` once it listens."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0–100) of ``values``."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def start_ready_process(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    """Start ``args`` in the project folder and wait for its ``READY <url>`` line.

    The process keeps its stdin open: it exits when the benchmark closes it (or dies).
    """
    process = subprocess.Popen(
        args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("READY "):
        process.kill()
        raise RuntimeError(f"{args[2] if len(args) > 2 else args[0]} did not start: {line!r}")
    return process, line.removeprefix("READY ")
