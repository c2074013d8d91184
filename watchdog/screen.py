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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import re2

from watchdog.classifier import Model, get_model
from watchdog.decoders import decode_spans, looks_like_language

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
WINDOW = 320
# Python's \s also matches these; RE2's does not, so the prefilter sees them as spaces.
_RE2_BLIND_SPACES = re.compile(r"[\x0b\x1c-\x1f\x85\u1680\u2028\u2029]")
# Rules whose RE2 reading may miss a match on text with non-ASCII word characters (RE2's
# \w, \d and \b are ASCII; Python's are Unicode).
_UNICODE_CLASSES = re.compile(r"\\[wd]")
_NON_ASCII_WORD_CHAR = re.compile(r"[^\W\x00-\x7f]")


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
    *range(0xE0100, 0xE01F0),
]
_DELETE_INVISIBLE = dict.fromkeys(_INVISIBLE)
_INVISIBLE_CHARS = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u3164\ufeff\uffa0\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\U000e0100-\U000e01ef]+"
)

# Cyrillic and Greek letters that look like Latin ones (after lower-casing).
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
        "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ɩ": "i", "ո": "n", "ս": "u",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j", "ԍ": "g", "ı": "i",
        "һ": "h", "ӏ": "l", "ɑ": "a", "ꞵ": "b", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d",
        "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l",
        "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u",
        "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z", "ɒ": "a", "ǝ": "e", "ɐ": "a", "ʇ": "t",
        "ɯ": "m", "ɹ": "r", "ʎ": "y", "ʍ": "w", "ɥ": "h", "ɟ": "f", "ƃ": "g", "ɔ": "c",
        "ϐ": "b", "ϵ": "e", "ϱ": "p", "ϰ": "k", "ω": "w", "ѡ": "w", "ԧ": "h", "ꮪ": "s",
    }
)  # fmt: skip
_HOMOGLYPH_CHARS = re.compile("[" + "".join(re.escape(chr(c)) for c in _HOMOGLYPHS) + "]")
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


_DELETION = re.compile(r"[^\b\x7f][\b\x7f]")
_OVERRIDE = re.compile(r"\u202e([^\u202c\u202d\n]*)(?:\u202c|$)", re.MULTILINE)


def _apply_deletions(text: str) -> str:
    """Backspace and DEL erase the character before them, as a terminal would show it."""
    for _ in range(8):
        text, count = _DELETION.subn("", text)
        if not count:
            break
    return text.replace("\b", "").replace("\x7f", "")


def normalize(text: str) -> str:
    """The text the rules see: visible, Latin-lookalike, accent-free, lower-case."""
    if "\b" in text or "\x7f" in text:
        text = _apply_deletions(text)
    if text.isascii():
        return text.lower()
    if "\u202e" in text:  # right-to-left override: the reader sees the span reversed
        text = _OVERRIDE.sub(lambda m: m.group(1)[::-1], text)
    if max(text) >= "\U000e0000":
        text = _TAGS.sub(_decode_tags, text)
    text = unicodedata.normalize("NFKC", text).lower()
    if text.isascii():
        return text
    # str.translate with a dict costs a lookup per character: only when one can apply
    if _INVISIBLE_CHARS.search(text) is not None:
        text = _INVISIBLE_CHARS.sub("", text)
    if _HOMOGLYPH_CHARS.search(text) is not None:
        text = text.translate(_HOMOGLYPHS)
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


# --- signals: characters that hide or disguise text ------------------------------------------

_INVISIBLE_NEAR_LETTERS = re.compile(
    r"(?<=[A-Za-z])[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2060-\u2064\ufeff]+"
    r"|[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2060-\u2064\ufeff]+(?=[A-Za-z])"
)
_BIDI_OVERRIDE = re.compile(r"[\u202d\u202e]")
_MIXED_SCRIPT = re.compile(
    r"[a-zA-Z][\u0370-\u03ff\u0400-\u04ff\u0500-\u052f]|[\u0370-\u03ff\u0400-\u04ff\u0500-\u052f][a-zA-Z]"
)
_COMBINING_MARKS = re.compile(
    r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_ODD_VARIATION = re.compile(r"[\ufe00-\ufe0d\U000e0100-\U000e01ef]")
# Every character one of the signals above counts (one scan: most texts have none).
_DISGUISE_CHARS = re.compile(
    r"[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2060-\u2064\ufeff"
    r"\u202d\u202e\u0370-\u052f\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff"
    r"\ufe20-\ufe2f\ufe00-\ufe0d\U000e0100-\U000e01ef]"
)


def signal(text: str) -> str:
    """The rule id of a disguise the text carries on its own (empty: none).

    Counted on the raw text: invisible characters inside Latin words, bidirectional
    overrides, words mixing Latin with Cyrillic or Greek letters, stacked combining marks
    (zalgo), deletion characters, and variation selectors that carry no emoji style."""
    deletions = text.count("\b") + text.count("\x7f")
    if text.isascii() or _DISGUISE_CHARS.search(text) is None:
        return "heur.deletion_chars" if deletions >= 2 else ""
    if len(_INVISIBLE_NEAR_LETTERS.findall(text)) >= 3:
        return "heur.invisible_chars"
    if _BIDI_OVERRIDE.search(text):
        return "heur.bidi_override"
    if len(_MIXED_SCRIPT.findall(text)) >= 2:
        return "heur.homoglyphs"
    marks = len(_COMBINING_MARKS.findall(text))
    if marks >= 12 and marks > 0.8 * sum(1 for c in text if c.isalpha()):
        return "heur.zalgo"
    if len(_ODD_VARIATION.findall(text)) >= 4:
        return "heur.variation_selectors"
    if deletions >= 2:
        return "heur.deletion_chars"
    return ""


# --- adversarial suffixes (GCG-style token salad) -----------------------------------------------

_SUFFIX_TOKEN_WEIRD = re.compile(
    r"^(?=.*[A-Za-z])(?=.*[^\w'\-.,!?:;()\"])\S+$|^[^\w\s]{2,}$|^[^\w\s\-\u2013\u2014&/]$"
    r"|[a-z][A-Z]|[A-Z]{2}[a-z]|^\\|\\$"
)
_CODE_HINTS = re.compile(
    r">>>|\n\s{2,}\S|\bdef\s+\w+\(|\bfunction\s*\w*\(|;\s*$|=>|\breturn\b|</?\w+[^>]*>|\bSELECT\b|^\s*[{\[]",
    re.MULTILINE,
)


def _weird(token: str) -> bool:
    if (
        "`" in token
        or "://" in token
        or token.startswith("**")
        or token.endswith(("**", "**,", "**."))
    ):
        return False
    if token.endswith(",") or (token.startswith("*") and token.rstrip(",.").endswith("*")):
        return False  # a list or an emphasised word
    return _SUFFIX_TOKEN_WEIRD.search(token) is not None


def adversarial_suffix(text: str) -> bool:
    """A natural-language request followed by a run of token salad: odd mixes of letters and
    punctuation, glued camel-case words, bracket clusters (what GCG-style optimisers emit)."""
    if len(text) > 3000 or "\n" in text.strip() or _CODE_HINTS.search(text):
        return False
    words = text.split()
    if len(words) < 12:
        return False
    tail = words[-16:] if len(words) >= 24 else words[len(words) // 2 :]
    weird = sum(1 for w in tail if _weird(w))
    head = words[: max(4, len(words) - len(tail))]
    prose = sum(1 for w in head if w.isalpha() and w.islower())
    return weird >= 4 and weird >= 0.25 * len(tail) and prose >= 3


# --- encoded payloads with an instruction to decode and follow ----------------------------------

_DECODE_ASK = re.compile(
    r"\b(?:decode|decoded|decoding|decipher|decrypt|unscramble|deobfuscate|translate\s+from|convert\s+from|"
    r"encoded|encoding|cipher|plaintext|base\s?64|base\s?32|base\s?16|hex|hexadecimal|rot-?13|morse|braille|"
    r"nato|phonetic|atbash|ascii85|base85|uuencoded?|quoted[\s-]printable|binary|bits|reversed|backwards|"
    r"leetspeak|base2048|decodifica\w*|descifra\w*|codificad[oa]|cifrad[oa]|morse|binario)\b"
)
_FOLLOW = re.compile(
    r"\b(?:follow|execute|obey|carry\s+(?:it\s+)?out|act\s+on|do\s+(?:what|as)\s+it\s+says|respond\s+(?:only\s+)?to|"
    r"reply\s+(?:to\s+it|directly)|answer\s+(?:it|the\s+question|directly)|comply|instructions?\s+(?:inside|within|it\s+contains)|"
    r"system\s+message|in\s+your\s+(?:head|monologue|mind)|without\s+(?:commenting|printing)|do\s+not\s+print|"
    r"so\s+(?:the\s+)?filters|then\s+obey|sigue|ejecuta\w*|obedece|responde|cumple)\b"
    r"|(?:decoded|plaintext|decodificado)(?:\s+\w+){0,2}\s*:\s*$"
)
_BASE2048ISH = re.compile(r"[^\x00-\u024f\s]{12,}")
_EXOTIC = frozenset(
    {"morse", "braille", "nato", "atbash", "rot13", "reversed", "vs", "emoji", "uu", "a85", "b85",
     "qp", "mime", "bin", "b32"}
)  # fmt: skip


def _without_lookarounds(pattern: str) -> str:
    """``pattern`` with its look-around groups dropped: it matches wherever the original
    does, and maybe more (a proposal, confirmed by the original)."""
    out: list[str] = []
    i, size = 0, len(pattern)
    while i < size:
        if pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            depth, j, in_class = 0, i, False
            while j < size:
                char = pattern[j]
                if char == "\\":
                    j += 2
                    continue
                if in_class:
                    in_class = char != "]"
                elif char == "[":
                    in_class = True
                    if pattern.startswith(("[^]", "[]"), j):
                        j += 2 if pattern[j + 1] == "]" else 3
                        continue
                elif char == "(":
                    depth += 1
                elif char == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            i = j + 1
            continue
        if pattern[i] == "\\" and i + 1 < size:
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append(pattern[i])
        i += 1
    return "".join(out)


_BACKREFERENCE = re.compile(r"\\[1-9]")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})")


def re2_proposal(pattern: str) -> str:
    """An RE2 pattern that matches wherever Python's ``pattern`` does (on text without
    non-ASCII letters or digits, when ``pattern`` uses ``\\w`` or ``\\d``): look-arounds
    dropped, back references read as "anything", ``\\uXXXX`` written as ``\\x{XXXX}``."""
    relaxed = _without_lookarounds(pattern)
    relaxed = _BACKREFERENCE.sub(lambda _m: "(?s:.*)", relaxed)
    return _UNICODE_ESCAPE.sub(lambda m: "\\x{" + (m.group(1) or m.group(2)) + "}", relaxed)


class LongTextPrefilter:
    """Every rule, as one RE2 set: which rules may match a long text, in one linear pass
    (~0.1 ms for 32 KB, against ~20 ms for Python's searches near anchors).

    The set only proposes (its patterns are the rules without look-arounds, see
    ``re2_proposal``); a proposal is confirmed by the rule's own Python pattern, so
    verdicts keep the rules' semantics. On a text with non-ASCII letters or digits, a rule
    using ``\\w`` or ``\\d`` (ASCII in RE2) is left to the windowed search, as is a rule
    RE2 cannot read at all. A sentinel ``\\z`` proves each scan reached the end: an RE2
    set whose automaton runs out of memory matches nothing, and then every rule falls back
    to the windowed search rather than passing unseen.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        options = re2.Options()
        options.max_mem = 64 << 20
        options.log_errors = False
        self._set: Any = re2.Set.SearchSet(options)
        self._set.Add(r"\z")
        self.positions: list[int] = []  # set index - 1 -> rule position
        for position, rule in enumerate(rules):
            proposal = re2_proposal(rule.pattern)
            try:
                re2.compile(proposal, options)
            except re2.error:
                continue
            self._set.Add(proposal)
            self.positions.append(position)
        self._set.Compile()
        self.covered = frozenset(self.positions)
        self.covered_unicode = frozenset(
            p for p in self.positions if _UNICODE_CLASSES.search(rules[p].pattern) is None
        )

    def proposals(self, text: str) -> tuple[frozenset[int], frozenset[int]] | None:
        """(rules proposed, rules the set answered for) on ``text``; None: the scan failed."""
        ascii_words = text.isascii() or _NON_ASCII_WORD_CHAR.search(text) is None
        covered = self.covered if ascii_words else self.covered_unicode
        hits = self._set.Match(_RE2_BLIND_SPACES.sub(" ", text)) or []
        if 0 not in hits:
            return None
        proposed = frozenset(self.positions[hit - 1] for hit in hits if hit)
        return proposed & covered, covered


class Screen:
    """The compiled rules, indexed by anchor word; ``check`` returns the first that fires."""

    def __init__(self, rules: list[Rule], model: Model | None = None) -> None:
        self.model = model
        self.rules = list(rules)
        self.compiled = [re.compile(rule.pattern) for rule in rules]
        self.prefilter = LongTextPrefilter(self.rules)
        self.always = frozenset(i for i, rule in enumerate(rules) if not rule.anchors)
        index: dict[str, set[int]] = {}
        for position, rule in enumerate(rules):
            for word in rule.anchors:
                index.setdefault(word, set()).add(position)
        self.by_anchor = {word: frozenset(found) for word, found in index.items()}
        self.anchored = frozenset(range(len(rules))) - self.always

    def candidates(self, text: str) -> list[int]:
        """The rules worth trying on ``text`` (in file order): their anchors occur in it."""
        chosen = set(self.always)
        by_anchor = self.by_anchor
        for word in set(_WORDS.findall(text)):
            found = by_anchor.get(word)
            if found is not None:
                chosen |= found
        return sorted(chosen)

    def _match(self, text: str, *, squashed: bool = False) -> Rule | None:
        """The first rule matching ``text``. Anchor-less rules (the ``squash`` rules, written
        for letter-spaced text with the spaces removed) are tried only on that variant."""
        if len(text) > LONG_TEXT:
            return self._match_long(text, squashed=squashed)
        always = self.always
        for position in self.candidates(text):
            if not squashed and position in always:
                continue
            if self.compiled[position].search(text) is not None:
                return self.rules[position]
        return None

    def _match_long(self, text: str, *, squashed: bool = False) -> Rule | None:
        """The RE2 set's proposals, confirmed; the rules it cannot answer for are searched
        only in windows around their anchors' occurrences."""
        answered = self.prefilter.proposals(text)
        proposed, covered = answered if answered is not None else (frozenset(), frozenset())
        if not squashed:
            proposed -= self.always
        spans: dict[int, list[tuple[int, int]]] = (
            {position: [] for position in self.always - covered} if squashed else {}
        )
        by_anchor = self.by_anchor
        size = len(text)
        windowed = self.anchored - covered
        for match in _WORDS.finditer(text) if windowed else ():
            found = by_anchor.get(match.group())
            if found is None:
                continue
            found = found & windowed
            if not found:
                continue
            window = (max(0, match.start() - WINDOW), min(size, match.end() + WINDOW))
            for position in found:
                windows = spans.setdefault(position, [])
                if windows and window[0] <= windows[-1][1]:
                    windows[-1] = (windows[-1][0], window[1])
                else:
                    windows.append(window)
        for position in sorted(proposed | spans.keys()):
            compiled = self.compiled[position]
            windows = spans.get(position) or [(0, size)]
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
            if len(normal) > LONG_TEXT:  # only the spaced runs, squashed
                joined = "\n".join(
                    _NOT_LETTERS.sub("", m.group(0)) for m in _SPACED.finditer(normal)
                )
            else:
                joined = _SPACED.sub(lambda m: _NOT_LETTERS.sub("", m.group(0)), normal)
            variants.append(("spaced:", joined))
        if _MENTIONS_ROT13.search(normal):
            variants.append(("rot13:", codecs.decode(normal, "rot13")))
        for prefix, variant in variants:
            rule = self._match(variant, squashed=prefix == "spaced:")
            if rule is not None:
                return ScreenResult(True, rule.category, prefix + rule.id)
        disguise = signal(text)
        if disguise:
            return ScreenResult(True, "prompt_injection", disguise)
        if depth < MAX_DEPTH:
            decoded = self._decoded(text, normal, depth)
            if decoded is not None:
                return decoded
        if adversarial_suffix(text):
            return ScreenResult(True, "jailbreak", "heur.adversarial_suffix")
        if self.model is not None:
            leet = [variant for prefix, variant in variants if prefix == "leet:"]
            verdict = self.model.check(leet[0] if leet else normal)
            if verdict.flagged:
                return ScreenResult(True, verdict.category, "model.ngram")
        return CLEAR

    def _decoded(self, text: str, normal: str, depth: int) -> ScreenResult | None:
        spans = decode_spans(text)
        if not spans:
            return None
        asks = _DECODE_ASK.search(normal) is not None
        follow = _FOLLOW.search(normal) is not None
        for span in spans:
            inner = self.check(span.text, depth=depth + 1)
            if inner.flagged:
                return ScreenResult(True, inner.category, f"{span.encoding}:{inner.rule}")
        for span in spans:
            readable = looks_like_language(span.text) or len(span.text.split()) >= 4
            if readable and follow:
                return ScreenResult(True, "prompt_injection", f"enc.follow.{span.encoding}")
            if (
                span.encoding in _EXOTIC
                and looks_like_language(span.text)
                and (asks or len(span.text) * 2 >= len(normal) // 3)
            ):
                return ScreenResult(True, "prompt_injection", f"enc.{span.encoding}")
        return None


@lru_cache(maxsize=1)
def get_screen() -> Screen:
    """The process-wide screen, compiled from ``watchdog/rules`` on first use."""
    return Screen(load_rules(), get_model())


def screen(text: str) -> ScreenResult:
    return get_screen().check(text)
