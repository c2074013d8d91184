"""The local screen: a fast, in-process first look at every user message.

Rules are data (``watchdog/rules/*.rules``: ``<rule id> <category> <anchors> <regex>`` per
line), compiled once into one matcher: an index from anchor words (a rule can only match
a text containing one of its anchors; ``*``: always try it) to the compiled rules, so a
message costs one tokenization and the few rules its words call for. Before matching, a
message is normalized (NFKC, zero-width and other invisible characters removed, Unicode
tag characters decoded, Cyrillic/Greek look-alikes mapped to Latin, accents stripped,
lower-cased). Variants are screened too when the text calls for them:
leetspeak (``1gn0re``), letter-spaced words (``i g n o r e``), and payloads encoded in
base64, hex, URL escapes or ROT13, which are decoded and screened again.

A clear verdict costs tens of microseconds for an ordinary message; a flag sends the
message to the LLM guard (the screen never blocks by itself).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

RULES_DIR = Path(__file__).resolve().parent / "rules"
CATEGORIES = frozenset(
    {"system_info_extraction", "prompt_injection", "malicious_code", "jailbreak", "off_topic"}
)
MAX_DEPTH = 2  # encoded payloads inside encoded payloads, at most this deep
MAX_BLOBS = 8  # encoded blobs screened per message
MAX_ATTEMPTS = 64  # candidate blobs tried per message (long code pastes have many)
# Above this length a rule is searched only near its anchors (every rule's match spans
# far less than WINDOW characters), and the leetspeak variant is skipped (code is full of
# digits inside words).
LONG_TEXT = 2000
WINDOW = 600


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    anchors: frozenset[str]  # empty: always tried
    pattern: str


@dataclass(frozen=True, slots=True)
class ScreenResult:
    flagged: bool
    category: str = "none"
    rule: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"flagged": self.flagged, "category": self.category, "rule": self.rule}


CLEAR = ScreenResult(flagged=False)


def parse_rules(text: str, *, source: str = "<rules>") -> list[Rule]:
    """``<id> <category> <anchors> <regex>`` per line (anchors: comma-separated words, or
    ``*``); blank lines and ``#`` comments are skipped."""
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=3)
        if len(parts) != 4:
            raise ValueError(f"{source}:{number}: expected '<id> <category> <anchors> <regex>'")
        rule_id, category, anchors, pattern = parts
        if category not in CATEGORIES:
            raise ValueError(f"{source}:{number}: unknown category {category!r}")
        if not re.fullmatch(r"[a-z0-9_.]+", rule_id):
            raise ValueError(f"{source}:{number}: rule ids are [a-z0-9_.]+")
        words = frozenset() if anchors == "*" else frozenset(anchors.split(","))
        if any(not re.fullmatch(r"[a-z0-9]+", word) for word in words):
            raise ValueError(f"{source}:{number}: anchors are words [a-z0-9]+ or '*'")
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"{source}:{number}: {error}") from error
        rules.append(Rule(rule_id, category, words, pattern))
    return rules


def load_rules(directory: Path = RULES_DIR) -> list[Rule]:
    rules: list[Rule] = []
    for path in sorted(directory.glob("*.rules")):
        rules.extend(parse_rules(path.read_text(encoding="utf-8"), source=path.name))
    ids = [rule.id for rule in rules]
    duplicates = {rule_id for rule_id in ids if ids.count(rule_id) > 1}
    if duplicates:
        raise ValueError(f"duplicate rule ids: {sorted(duplicates)}")
    return rules


# --- normalization ---------------------------------------------------------------------

# Invisible characters that can hide inside words: zero-width spaces and joiners, bidi
# controls, word joiners, variation selectors, the soft hyphen, Hangul fillers.
_INVISIBLE = [
    *(0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFEFF, 0xFFA0),
    *range(0x180B, 0x1810),
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2070),
    *range(0xFE00, 0xFE10),
]
_DELETE_INVISIBLE = dict.fromkeys(_INVISIBLE)

# Cyrillic and Greek letters that look like Latin ones (after lower-casing).
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
        "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ɩ": "i", "ո": "n", "ս": "u",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j", "ԍ": "g", "ı": "i",
    }
)  # fmt: skip
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "|": "l"})  # fmt: skip
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff]")
_TAGS = re.compile(r"[\U000e0000-\U000e007f]+")
_LEETISH = re.compile(r"[a-z][013457@$|!][a-z]|\b[013457@$][a-z]{2}")
_SPACED = re.compile(r"(?:\b[a-z][ .\-_*]{1,3}){4,}[a-z]\b")
_NOT_LETTERS = re.compile(r"[^a-z]+")
_WORDS = re.compile(r"[a-z0-9]+")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{20,}={0,2}")
_HEX = re.compile(r"(?:\\x[0-9a-fA-F]{2}){8,}|(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}[ :]?){12,}")
_URLENCODED = re.compile(r"(?:%[0-9a-fA-F]{2}){6,}")
_MENTIONS_ROT13 = re.compile(r"\brot[ -]?13\b")


def _decode_tags(match: re.Match[str]) -> str:
    """Unicode tag characters spell ASCII invisibly ("ASCII smuggling"); make it visible."""
    return "".join(chr(ord(c) - 0xE0000) for c in match.group(0) if 0xE0020 <= ord(c) <= 0xE007E)


def normalize(text: str) -> str:
    """The text the rules see: visible, Latin-lookalike, accent-free, lower-case."""
    if text.isascii():
        return text.lower()
    text = _TAGS.sub(_decode_tags, text)
    text = unicodedata.normalize("NFKC", text).translate(_DELETE_INVISIBLE)
    text = text.lower().translate(_HOMOGLYPHS)
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return text


def hidden_tag_text(text: str) -> str:
    """What Unicode tag characters in ``text`` spell (empty when there are none)."""
    if text.isascii():
        return ""
    return "".join(_decode_tags(m) for m in _TAGS.finditer(text))


def _printable(data: bytes) -> str | None:
    """``data`` as text if it is mostly readable UTF-8 (decoded payloads worth screening)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 8:
        return None
    readable = sum(1 for c in text if c.isprintable() or c in "\n\t\r")
    letters = sum(1 for c in text if c.isalpha())
    if readable < 0.95 * len(text) or letters < 0.5 * len(text):
        return None
    return text


def _decoded_payloads(text: str) -> list[tuple[str, str]]:
    """(encoding, decoded text) for the encoded blobs in ``text`` that decode to text."""
    found: list[tuple[str, str]] = []
    for attempt, match in enumerate(_BASE64.finditer(text)):
        if attempt >= MAX_ATTEMPTS:
            break
        blob = match.group(0)
        padded = blob + "=" * (-len(blob) % 4)
        try:
            data = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            continue
        decoded = _printable(data)
        if decoded is not None:
            found.append(("b64", decoded))
        if len(found) >= MAX_BLOBS:
            return found
    for match in _HEX.finditer(text):
        digits = re.sub(r"\\x|[ :]", "", match.group(0))
        try:
            decoded = _printable(bytes.fromhex(digits))
        except ValueError:
            continue
        if decoded is not None:
            found.append(("hex", decoded))
    for match in _URLENCODED.finditer(text):
        found.append(("url", unquote(match.group(0))))
    return found[:MAX_BLOBS]


class Screen:
    """The compiled rules, indexed by anchor word; ``check`` returns the first that fires."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = list(rules)
        self.compiled = [re.compile(rule.pattern) for rule in rules]
        self.always = frozenset(i for i, rule in enumerate(rules) if not rule.anchors)
        index: dict[str, set[int]] = {}
        for position, rule in enumerate(rules):
            for word in rule.anchors:
                index.setdefault(word, set()).add(position)
        self.by_anchor = {word: frozenset(found) for word, found in index.items()}

    def candidates(self, text: str) -> list[int]:
        """The rules worth trying on ``text`` (in file order): their anchors occur in it."""
        chosen = set(self.always)
        by_anchor = self.by_anchor
        for word in set(_WORDS.findall(text)):
            found = by_anchor.get(word)
            if found is not None:
                chosen |= found
        return sorted(chosen)

    def _match(self, text: str) -> Rule | None:
        if len(text) > LONG_TEXT:
            return self._match_long(text)
        for position in self.candidates(text):
            if self.compiled[position].search(text) is not None:
                return self.rules[position]
        return None

    def _match_long(self, text: str) -> Rule | None:
        """Search each rule only in windows around its anchors' occurrences."""
        spans: dict[int, list[tuple[int, int]]] = {position: [] for position in self.always}
        by_anchor = self.by_anchor
        size = len(text)
        for match in _WORDS.finditer(text):
            found = by_anchor.get(match.group())
            if found is None:
                continue
            window = (max(0, match.start() - WINDOW), min(size, match.end() + WINDOW))
            for position in found:
                windows = spans.setdefault(position, [])
                if windows and window[0] <= windows[-1][1]:
                    windows[-1] = (windows[-1][0], window[1])
                else:
                    windows.append(window)
        for position in sorted(spans):
            compiled = self.compiled[position]
            windows = spans[position] or [(0, size)]
            if any(compiled.search(text, start, end) for start, end in windows):
                return self.rules[position]
        return None

    def match_all(self, text: str) -> list[Rule]:
        """Every rule matching ``text`` itself, anchors ignored (tests keep anchors honest)."""
        return [r for r, c in zip(self.rules, self.compiled, strict=True) if c.search(text)]

    def check(self, text: str, *, depth: int = 0) -> ScreenResult:
        hidden = hidden_tag_text(text)
        if len(hidden.strip()) >= 8:  # flag emoji use a few tag letters; sentences do not
            inner = self.check(hidden, depth=depth + 1) if depth < MAX_DEPTH else CLEAR
            return ScreenResult(
                True, inner.category if inner.flagged else "prompt_injection",
                f"tags:{inner.rule}" if inner.flagged else "heur.invisible_text",
            )  # fmt: skip
        normal = normalize(text)
        variants = [("", normal)]
        if len(normal) <= LONG_TEXT and _LEETISH.search(normal):
            variants.append(("leet:", normal.translate(_LEET)))
        if _SPACED.search(normal):
            joined = _SPACED.sub(lambda m: _NOT_LETTERS.sub("", m.group(0)), normal)
            variants.append(("spaced:", joined))
        if _MENTIONS_ROT13.search(normal):
            variants.append(("rot13:", codecs.decode(normal, "rot13")))
        for prefix, variant in variants:
            rule = self._match(variant)
            if rule is not None:
                return ScreenResult(True, rule.category, prefix + rule.id)
        if depth < MAX_DEPTH:
            for encoding, decoded in _decoded_payloads(text):
                inner = self.check(decoded, depth=depth + 1)
                if inner.flagged:
                    return ScreenResult(True, inner.category, f"{encoding}:{inner.rule}")
        return CLEAR


@lru_cache(maxsize=1)
def get_screen() -> Screen:
    """The process-wide screen, compiled from ``watchdog/rules`` on first use."""
    return Screen(load_rules())


def screen(text: str) -> ScreenResult:
    return get_screen().check(text)
