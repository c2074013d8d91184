"""Measure the local screen on its corpus: ``python -m tools.eval_screen [split]``.

Prints the recall per attack family and the share of ordinary messages flagged, per
ordinary kind, on ``watchdog/screen_corpus/<split>.jsonl`` (default: ``heldout``), as the
Markdown table in ``docs/watchdog.md``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from watchdog.screen import get_screen  # noqa: E402


def measure(split: str) -> tuple[Counter[str], Counter[str]]:
    screen = get_screen()
    total: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    path = ROOT / "watchdog" / "screen_corpus" / f"{split}.jsonl"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            family = row["family"]
            total[family] += 1
            flagged[family] += screen.check(row["text"]).flagged
    return total, flagged


def main() -> None:
    split = sys.argv[1] if len(sys.argv) > 1 else "heldout"
    total, flagged = measure(split)
    attacks = sorted(f for f in total if not f.startswith("ordinary"))
    ordinary = sorted(f for f in total if f.startswith("ordinary"))
    print(f"| attack family ({split}) | messages | flagged | recall |")
    print("| --- | ---: | ---: | ---: |")
    for family in attacks:
        print(
            f"| {family} | {total[family]} | {flagged[family]} | {flagged[family] / total[family]:.1%} |"
        )
    n, k = sum(total[f] for f in attacks), sum(flagged[f] for f in attacks)
    print(f"| **all attacks** | {n} | {k} | **{k / n:.1%}** |")
    print()
    print(f"| ordinary kind ({split}) | messages | flagged | false positives |")
    print("| --- | ---: | ---: | ---: |")
    for family in ordinary:
        print(
            f"| {family.removeprefix('ordinary.')} | {total[family]} | {flagged[family]} | {flagged[family] / total[family]:.1%} |"
        )
    n, k = sum(total[f] for f in ordinary), sum(flagged[f] for f in ordinary)
    print(f"| **all ordinary** | {n} | {k} | **{k / n:.2%}** |")


if __name__ == "__main__":
    main()
