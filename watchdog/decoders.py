"""Decoders for the local screen: find encoded spans in a message and decode them.

Each finder is gated by a cheap regular expression (or a character range test), so an
ordinary message pays a few regex scans; what decodes to readable text is handed back to
the screen, which screens it again. The standard library does the decoding (``base64``,
``binascii``, ``quopri``, ``email.header``, ``codecs``); the small tables for Morse,
Braille and the NATO alphabet are here.

``decode_spans(text)`` returns ``Decoded(encoding, text)`` items, at most ``MAX_SPANS``.
``looks_like_language(text)`` says whether a decoded string reads as English or Spanish
(common-word ratio), which keeps random blobs (hashes, ids, keys) from counting.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.header import decode_header
from functools import lru_cache
from typing import Any

import re2

MAX_SPANS = 8
MAX_ATTEMPTS = 48  # candidate blobs tried per finder (long code pastes have many)


@dataclass(frozen=True, slots=True)
class Decoded:
    encoding: str
    text: str


# Common English and Spanish words (and a few French/German/Portuguese/Italian ones): a
# decoded string "reads as language" when enough of its words are here.
COMMON = frozenset(
    """a about above after again all also am an and any are as ask at be because been before
    being below between both but by can could did do does doing don down during each every
    few for from further get give had has have having he her here hers him his how i if in
    into is it its just know let like make me more most my no nor not now of off on once
    only or other our out over own please print reveal repeat same say secret she should
    show so some such system prompt tell than that the their them then there these they
    this those through to too under until up very want was we were what when where which
    while who why will with would write you your yours instructions ignore previous rules
    password admin answer question follow decode message following all now new mode
    without restrictions make how bomb hack steal kill code user data send email key api
    jailbreak dan pretend act as role quick brown fox jumps lazy dog capital france poem
    joke sea cats short el la los las de del que y en un una es por con para no se su al
    lo como mas pero sus le ya o este si porque esta entre cuando muy sin sobre tambien me
    hasta hay donde quien desde todo nos durante todos uno les ni contra otros ese eso
    ante ellos e esto mi antes algunos que unos yo otro otras otra el tanto esa estos
    mucho quienes nada muchos cual poco ella estar estas algunas algo nosotros tu tus
    ignora instrucciones anteriores muestra dime dame revela sistema contrasena eres
    restricciones como fabricar bomba le les des et est une pour pas qui dans ce il sont
    ne sur se plus tu ton tes der die das und ist nicht ein eine zu den mit sich auf fur
    du dein deine o os um uma com nao seu sua voce il di che non sono per una mi tuo""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[a-z']+")


def common_ratio(text: str) -> float:
    words = _WORD.findall(text.lower())
    if not words:
        return 0.0
    return sum(1 for w in words if w in COMMON) / len(words)


def looks_like_language(text: str, *, minimum_words: int = 3) -> bool:
    words = _WORD.findall(text.lower())
    if len(words) < minimum_words:
        return False
    return sum(1 for w in words if w in COMMON) / len(words) >= 0.3


def _printable(data: bytes) -> str | None:
    """``data`` as text if it is mostly readable UTF-8 (decoded payloads worth screening)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 6:
        return None
    readable = sum(1 for c in text if c.isprintable() or c in "\n\t\r")
    letters = sum(1 for c in text if c.isalpha())
    if readable < 0.95 * len(text) or letters < 0.5 * len(text):
        return None
    return text


# --- byte encodings ----------------------------------------------------------------------

_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,}={0,2}")
_BASE32 = re.compile(r"(?<![A-Za-z0-9=])[A-Z2-7]{16,}={0,6}(?![A-Za-z0-9])")
_HEX = re.compile(
    r"(?:\\x[0-9a-fA-F]{2}){6,}|(?<![0-9a-zA-Z])(?:[0-9a-fA-F]{2}[ :]?){10,}(?![0-9a-zA-Z])"
)
_URLENCODED = re.compile(r"(?:%[0-9a-fA-F]{2}){6,}")
_QP_GATE = re.compile(r"(?:=[0-9A-F]{2}[^\s=]{0,16}){3}")
_QP = re.compile(r"[^\s=]{0,40}(?:=[0-9A-Fa-f]{2}[^\s=]{0,16}|=\r?\n){4,}[^\s=]{0,40}")
_MIME = re.compile(r"=\?[\w-]+\?[bBqQ]\?[^?\s]+\?=")
_A85 = re.compile(r"<~[!-u\s]+~>|(?<!\S)[!-u]{20,}(?!\S)")
_B85 = re.compile(r"(?<!\S)[0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]{20,}(?!\S)")
_UU_LINE = re.compile(r"^[!-`]{8,61}$", re.MULTILINE)
_BINARY = re.compile(r"(?:[01]{8}[ ,]?){4,}")


def _b64(text: str) -> list[Decoded]:
    found = []
    for attempt, match in enumerate(_BASE64.finditer(text)):
        if attempt >= MAX_ATTEMPTS:
            break
        blob = match.group(0)
        if blob.isalpha() and (blob.islower() or blob.isupper()):
            continue  # a long word, not base64
        padded = blob.rstrip("=") + "=" * (-len(blob.rstrip("=")) % 4)
        try:
            data = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            continue
        decoded = _printable(data)
        if decoded is not None:
            found.append(Decoded("b64", decoded))
    return found


def _b32(text: str) -> list[Decoded]:
    found = []
    for match in _BASE32.finditer(text):
        blob = match.group(0).rstrip("=")
        try:
            data = base64.b32decode(blob + "=" * (-len(blob) % 8))
        except (binascii.Error, ValueError):
            continue
        decoded = _printable(data)
        if decoded is not None:
            found.append(Decoded("b32", decoded))
    return found


_HEX_GATE = re.compile(
    r"[0-9a-fA-F]{20}|(?:[0-9a-fA-F]{2}[ :]){9}[0-9a-fA-F]{2}|\\x[0-9a-fA-F]{2}\\x"
)


def _hex(text: str) -> list[Decoded]:
    found: list[Decoded] = []
    if _HEX_GATE.search(text) is None:
        return found
    for match in _HEX.finditer(text):
        digits = re.sub(r"\\x|[ :]", "", match.group(0))
        if len(digits) % 2:
            digits = digits[:-1]
        try:
            decoded = _printable(bytes.fromhex(digits))
        except ValueError:
            continue
        if decoded is not None:
            found.append(Decoded("hex", decoded))
    return found


def _url(text: str) -> list[Decoded]:
    from urllib.parse import unquote

    return [Decoded("url", unquote(m.group(0))) for m in _URLENCODED.finditer(text)]


def _qp(text: str) -> list[Decoded]:
    found: list[Decoded] = []
    if "=" not in text or _QP_GATE.search(text) is None:
        return found
    for match in _QP.finditer(text):
        decoded = _printable(quopri.decodestring(match.group(0).encode("ascii", "ignore")))
        if decoded is not None:
            found.append(Decoded("qp", decoded))
    return found


def _mime(text: str) -> list[Decoded]:
    found = []
    for match in _MIME.finditer(text):
        try:
            parts = decode_header(match.group(0))
        except (ValueError, LookupError):
            continue
        data = b"".join(p if isinstance(p, bytes) else p.encode() for p, _ in parts)
        decoded = _printable(data)
        if decoded is not None:
            found.append(Decoded("mime", decoded))
    return found


def _a85(text: str) -> list[Decoded]:
    found = []
    for attempt, match in enumerate(_A85.finditer(text)):
        if attempt >= MAX_ATTEMPTS:
            break
        blob = match.group(0)
        try:
            data = base64.a85decode(blob, adobe=blob.startswith("<~"), ignorechars=b" \t\n\r")
        except (ValueError, binascii.Error):
            continue
        decoded = _printable(data)
        if decoded is not None:
            found.append(Decoded("a85", decoded))
    for attempt, match in enumerate(_B85.finditer(text)):
        if attempt >= MAX_ATTEMPTS:
            break
        try:
            data = base64.b85decode(match.group(0))
        except (ValueError, binascii.Error):
            continue
        decoded = _printable(data)
        if decoded is not None:
            found.append(Decoded("b85", decoded))
    return found


def _uu(text: str) -> list[Decoded]:
    lines = [m.group(0) for m in _UU_LINE.finditer(text)]
    if not lines:
        return []
    data = bytearray()
    for line in lines:
        if line in {"`", "end"} or line.startswith("begin "):
            continue
        try:
            data += binascii.a2b_uu(line)
        except binascii.Error:
            continue
    decoded = _printable(bytes(data))
    return [Decoded("uu", decoded)] if decoded is not None else []


def _binary(text: str) -> list[Decoded]:
    found = []
    for match in _BINARY.finditer(text):
        bits = re.sub(r"[ ,]", "", match.group(0))
        data = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits) - 7, 8))
        decoded = _printable(data)
        if decoded is not None:
            found.append(Decoded("bin", decoded))
    return found


# --- symbol alphabets ----------------------------------------------------------------------

MORSE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g",
    "....": "h", "..": "i", ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n",
    "---": "o", ".--.": "p", "--.-": "q", ".-.": "r", "...": "s", "-": "t", "..-": "u",
    "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z", "-----": "0",
    ".----": "1", "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6",
    "--...": "7", "---..": "8", "----.": "9", ".-.-.-": ".", "--..--": ",", "..--..": "?",
    ".----.": "'", "-.-.--": "!", "---...": ":",
}  # fmt: skip
_MORSE = re.compile(
    r"(?:[.\-\u2022\u2013\u2014_]{1,7}(?:\s*[/|]\s*|\s+)){5,}[.\-\u2022\u2013\u2014_]{1,7}"
)
BRAILLE = {
    "⠁": "a", "⠃": "b", "⠉": "c", "⠙": "d", "⠑": "e", "⠋": "f", "⠛": "g", "⠓": "h",
    "⠊": "i", "⠚": "j", "⠅": "k", "⠇": "l", "⠍": "m", "⠝": "n", "⠕": "o", "⠏": "p",
    "⠟": "q", "⠗": "r", "⠎": "s", "⠞": "t", "⠥": "u", "⠧": "v", "⠺": "w", "⠭": "x",
    "⠽": "y", "⠵": "z", "⠲": ".", "⠂": ",", "⠦": "?", "⠄": "'", "⠖": "!", "⠀": " ",
}  # fmt: skip
_BRAILLE = re.compile(r"[\u2800-\u28ff][\u2800-\u28ff\s]{3,}")
NATO = {
    "alfa": "a", "alpha": "a", "bravo": "b", "charlie": "c", "delta": "d", "echo": "e",
    "foxtrot": "f", "golf": "g", "hotel": "h", "india": "i", "juliet": "j", "juliett": "j",
    "kilo": "k", "lima": "l", "mike": "m", "november": "n", "oscar": "o", "papa": "p",
    "quebec": "q", "romeo": "r", "sierra": "s", "tango": "t", "uniform": "u", "victor": "v",
    "whiskey": "w", "whisky": "w", "xray": "x", "x-ray": "x", "yankee": "y", "zulu": "z",
}  # fmt: skip
_NATO = re.compile(
    r"(?:\b(?:"
    + "|".join(sorted(NATO, key=len, reverse=True))
    + r")\b[\s,/()\-]*(?:space[\s)]*)?){5,}",
    re.IGNORECASE,
)


def _morse(text: str) -> list[Decoded]:
    found = []
    for match in _MORSE.finditer(text):
        blob = match.group(0).translate(str.maketrans("\u2022\u2013\u2014_", ".---"))
        words = re.split(r"\s*[/|]\s*|\s{3,}", blob.strip())
        decoded = " ".join("".join(MORSE.get(code, "") for code in w.split()) for w in words)
        if sum(c.isalpha() for c in decoded) >= 4:
            found.append(Decoded("morse", decoded))
    return found


def _braille(text: str) -> list[Decoded]:
    return [
        Decoded("braille", "".join(BRAILLE.get(c, " " if c.isspace() else "") for c in m.group(0)))
        for m in _BRAILLE.finditer(text)
    ]


def _nato(text: str) -> list[Decoded]:
    found: list[Decoded] = []
    low = text.lower()
    if not (
        ("tango" in low or "echo" in low or "sierra" in low or "romeo" in low)
        and ("oscar" in low or "alfa" in low or "alpha" in low or "india" in low)
    ):
        return found
    for match in _NATO.finditer(text):
        out = []
        for token in re.findall(r"[A-Za-z\-]+|/|\(space\)|\s{2,}|-", match.group(0)):
            low = token.lower()
            if low in NATO:
                out.append(NATO[low])
            elif token in {"/", "(space)", "-"} or token.isspace():
                out.append(" ")
        found.append(Decoded("nato", re.sub(r"\s+", " ", "".join(out)).strip()))
    return found


# --- invisible carriers ----------------------------------------------------------------------

_VARIATION = re.compile(r"[\ufe00-\ufe0f\U000e0100-\U000e01ef]{4,}")


def _variation_selectors(text: str) -> list[Decoded]:
    found = []
    for match in _VARIATION.finditer(text):
        data = bytes(
            (ord(c) - 0xFE00) if ord(c) <= 0xFE0F else (ord(c) - 0xE0100 + 16)
            for c in match.group(0)
        )
        decoded = _printable(data)
        if decoded is not None:
            found.append(Decoded("vs", decoded))
    return found


_REGIONAL = re.compile(r"[\U0001f1e6-\U0001f1ff](?:[\u200b\s]*[\U0001f1e6-\U0001f1ff]){5,}")


def _regional(text: str) -> list[Decoded]:
    return [
        Decoded(
            "emoji",
            "".join(
                chr(ord(c) - 0x1F1E6 + 97) if ord(c) >= 0x1F1E6 else (" " if c == " " else "")
                for c in m.group(0)
            ),
        )
        for m in _REGIONAL.finditer(text)
    ]


# --- letter substitutions ------------------------------------------------------------------

_ATBASH = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA",
)


_CODE_CHARS = re.compile(r"[=(){}\[\]<>\"_#\\/|]|>>>")


def letter_substitutions(text: str) -> list[Decoded]:
    """ROT13, Atbash and reversed text, per line: kept when the line reads as language only
    after the transform (cheap: str.translate and a word-set lookup)."""
    found = []
    for line in text.splitlines()[:40]:
        if len(line) < 16 or len(line) > 4000 or _CODE_CHARS.search(line):
            continue
        words = _WORD.findall(line.lower())
        if len(words) < 4:
            continue
        before = sum(1 for w in words if w in COMMON) / len(words)
        if before >= 0.3:
            continue
        for name, candidate in (
            ("rot13", codecs.encode(line, "rot13")),
            ("atbash", line.translate(_ATBASH)),
            ("reversed", line[::-1]),
        ):
            after = common_ratio(candidate)
            if after >= 0.45 and after >= before + 0.3:
                found.append(Decoded(name, candidate))
    return found


_FINDERS = (
    _mime, _b64, _b32, _hex, _url, _qp, _a85, _uu, _binary, _morse, _braille, _nato,
    _variation_selectors, _regional,
)  # fmt: skip

# One linear RE2 pass says which finders can find anything: each gate matches wherever its
# finder's own pattern could (look-arounds dropped, so a gate may fire for nothing; never
# the reverse). The finders then scan only texts their gate fired on.
_GATES: dict[Callable[[str], list[Decoded]], str] = {
    _mime: r"=\?[\w-]+\?[bBqQ]\?",
    _b64: r"[A-Za-z0-9+/_-]{16,}",
    _b32: r"[A-Z2-7]{16,}",
    _hex: _HEX_GATE.pattern,
    _url: _URLENCODED.pattern,
    _qp: _QP_GATE.pattern,
    _a85: r"<~|[!-u]{20,}|[0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]{20,}",  # ascii85, then base85
    _uu: r"(?m)^[!-`]{8,61}$",
    _binary: _BINARY.pattern,
    _morse: re.sub(r"\\u([0-9a-f]{4})", r"\\x{\1}", _MORSE.pattern),
    _braille: r"[\x{2800}-\x{28ff}][\x{2800}-\x{28ff}\s]{3,}",
    _nato: r"(?i)tango|echo|sierra|romeo",
    _variation_selectors: r"[\x{fe00}-\x{fe0f}\x{e0100}-\x{e01ef}]{4,}",
    _regional: r"[\x{1f1e6}-\x{1f1ff}]",
}
# Python's \s also matches these; RE2's does not: the gates read them as spaces.
_RE2_BLIND_SPACES = re.compile(r"[\x0b\x1c-\x1f\x85\u1680\u2028\u2029]")


@lru_cache(maxsize=1)
def _gate_set() -> tuple[Any, tuple[Callable[[str], list[Decoded]], ...]]:
    """The gates as one RE2 set (index 0: a sentinel that proves the scan reached the end)."""
    options = re2.Options()
    options.max_mem = 16 << 20
    options.log_errors = False
    gates: Any = re2.Set.SearchSet(options)
    gates.Add(r"\z")
    for pattern in _GATES.values():
        gates.Add(pattern)
    gates.Compile()
    return gates, tuple(_GATES)


def gated_finders(text: str) -> tuple[Callable[[str], list[Decoded]], ...]:
    """The finders worth running on ``text``, in their order (all of them if the scan fails)."""
    gates, finders = _gate_set()
    hits = gates.Match(_RE2_BLIND_SPACES.sub(" ", text)) or []
    if 0 not in hits:
        return _FINDERS
    fired = {finders[hit - 1] for hit in hits if hit}
    return tuple(finder for finder in _FINDERS if finder in fired)


def decode_spans(text: str) -> list[Decoded]:
    """Every encoded span in ``text`` that decodes to readable text (at most MAX_SPANS)."""
    found: list[Decoded] = []
    for finder in gated_finders(text):
        found.extend(finder(text))
        if len(found) >= MAX_SPANS:
            return found[:MAX_SPANS]
    if len(found) < MAX_SPANS:
        found.extend(letter_substitutions(text))
    # one decoded text once (base64 alphabets overlap base32, ascii85, hex)
    unique: dict[str, Decoded] = {}
    for item in found:
        unique.setdefault(item.text, item)
    return list(unique.values())[:MAX_SPANS]
