"""``python -m tools.screen_corpus``: write the screen's corpus (train and held-out splits)."""

from __future__ import annotations

import json
import random
import zlib
from pathlib import Path

from tools.screen_corpus import attacks, innocents, ordinary

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "watchdog" / "screen_corpus"
PROJECT_DATA = ROOT / "tests" / "watchdog" / "data"
SEED = 14
SIZES = {
    "persona": 3000,
    "hijack": 3000,
    "indirect": 2400,
    "encoded": 4000,
    "tricks": 2400,
    "exfil": 2000,
    "extraction": 2400,
}
ORDINARY_GENERATED = 9000
HELD_OUT_SHARE = 5  # one template (or module) in five is held out


def held_out(key: str) -> bool:
    return zlib.crc32(key.encode()) % HELD_OUT_SHARE == 0


def project_lines(name: str) -> list[str]:
    lines = (PROJECT_DATA / name).read_text(encoding="utf-8").splitlines()
    return [
        line.replace("\\n", "\n") for line in lines if line.strip() and not line.startswith("#")
    ]


def build() -> dict[str, list[dict[str, object]]]:
    rng = random.Random(SEED)
    rows: dict[str, list[dict[str, object]]] = {"train": [], "heldout": []}
    seen: set[str] = set()

    def add(row: dict[str, object], key: str) -> None:
        text = str(row["text"])
        if text in seen or not text.strip():
            return
        seen.add(text)
        rows["heldout" if held_out(key) else "train"].append(row)

    for family, generate in attacks.FAMILIES.items():
        for example in generate(rng, SIZES[family]):
            row = {
                "text": example.text,
                "label": 1,
                "family": family,
                "category": example.category,
                "lang": example.lang,
                "template": example.template,
            }
            # the encoding is part of the template id; the held-out split is by framing
            add(
                row, example.template.rsplit(".", 1)[0] if family == "encoded" else example.template
            )
    for text in project_lines("injections.txt") + project_lines("unseen_shapes.txt"):
        add(
            {
                "text": text,
                "label": 1,
                "family": "known",
                "category": "",
                "lang": "",
                "template": "known",
            },
            "regression",
        )
    for text, kind, lang in ordinary.ordinary_messages(rng, ORDINARY_GENERATED):
        add({"text": text, "label": 0, "family": f"ordinary.{kind}", "lang": lang}, text)
    for text, lang in innocents.innocents(rng, 3000):
        add({"text": text, "label": 0, "family": "ordinary.innocent", "lang": lang}, text)
    for text, lang in innocents.follow_ups(rng, 2500):
        add({"text": text, "label": 0, "family": "ordinary.followup", "lang": lang}, text)
    # the project's regression set (tests/watchdog/data) is always trained on, never held out
    for text in project_lines("ordinary.txt"):
        add({"text": text, "label": 0, "family": "ordinary.project", "lang": ""}, "regression")
    for module, text in ordinary.stdlib_paragraphs():
        add(
            {"text": text, "label": 0, "family": "ordinary.stdlib", "lang": "en", "module": module},
            module,
        )
    for name, text in ordinary.stdlib_emails():
        add(
            {"text": text, "label": 0, "family": "ordinary.email", "lang": "en", "module": name},
            name,
        )
    for package, text in ordinary.package_descriptions():
        add(
            {
                "text": text,
                "label": 0,
                "family": "ordinary.readme",
                "lang": "en",
                "module": package,
            },
            package,
        )
    for msgid, text in ordinary.django_strings():
        add({"text": text, "label": 0, "family": "ordinary.ui", "lang": "", "module": msgid}, msgid)
    return rows


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for split, items in build().items():
        with (OUT / f"{split}.jsonl").open("w", encoding="utf-8") as handle:
            for row in items:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        attacks_n = sum(1 for r in items if r["label"] == 1)
        print(f"{split}: {len(items)} rows, {attacks_n} attacks, {len(items) - attacks_n} ordinary")


if __name__ == "__main__":
    main()
