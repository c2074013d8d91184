"""Fill Spanish translations from docs/translations/*.tsv into locale/es (after makemessages).

    .venv/bin/python tools/translations.py          # fills empty msgstr, lists what is missing

Each engineer lists the strings they add as ``msgid<TAB>msgstr`` (newlines written as
``\\n``) in docs/translations/<area>.es.tsv; ``make messages`` extracts the catalogue,
runs this and compiles. Existing translations are kept; fuzzy guesses are replaced.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = [ROOT / "locale/es/LC_MESSAGES/django.po", ROOT / "locale/es/LC_MESSAGES/djangojs.po"]


def unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t")


def load_tsv() -> dict[str, str]:
    translations: dict[str, str] = {}
    for path in sorted((ROOT / "docs/translations").glob("*.tsv")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            if "\t" not in line:
                sys.stderr.write(f"{path.name}:{number}: no tab, skipped\n")
                continue
            msgid, msgstr = line.split("\t", 1)
            translations[unescape(msgid)] = unescape(msgstr)
    return translations


def fill(path: Path, translations: dict[str, str]) -> list[str]:
    po = polib.pofile(str(path))
    missing = []
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:  # makemessages' guess from a similar string: never trust it
            entry.flags.remove("fuzzy")
            entry.msgstr = ""
            entry.msgstr_plural = dict.fromkeys(entry.msgstr_plural, "")
        if entry.msgid_plural:
            if not any(entry.msgstr_plural.values()) and entry.msgid in translations:
                entry.msgstr_plural = {
                    0: translations[entry.msgid],
                    1: translations.get(entry.msgid_plural, translations[entry.msgid]),
                }
            elif not any(entry.msgstr_plural.values()):
                missing.append(entry.msgid)
            continue
        if not entry.msgstr:
            if entry.msgid in translations:
                entry.msgstr = translations[entry.msgid]
            else:
                missing.append(entry.msgid)
    po.metadata.setdefault("Language", "es")
    po.metadata["Plural-Forms"] = "nplurals=2; plural=(n != 1);"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    po.save(str(path))
    return missing


def main() -> int:
    translations = load_tsv()
    status = 0
    for path in CATALOGUES:
        if not path.exists():
            continue
        missing = fill(path, translations)
        for msgid in missing:
            sys.stdout.write(f"{path.name}: untranslated: {msgid!r}\n")
        status = status or (1 if missing else 0)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
