"""Encoders for the corpus: the ways an attacker hides a payload (the screen decodes them)."""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import random
from email.header import Header

MORSE = {
    "a": ".-", "b": "-...", "c": "-.-.", "d": "-..", "e": ".", "f": "..-.", "g": "--.",
    "h": "....", "i": "..", "j": ".---", "k": "-.-", "l": ".-..", "m": "--", "n": "-.",
    "o": "---", "p": ".--.", "q": "--.-", "r": ".-.", "s": "...", "t": "-", "u": "..-",
    "v": "...-", "w": ".--", "x": "-..-", "y": "-.--", "z": "--..", "0": "-----",
    "1": ".----", "2": "..---", "3": "...--", "4": "....-", "5": ".....", "6": "-....",
    "7": "--...", "8": "---..", "9": "----.", ".": ".-.-.-", ",": "--..--", "?": "..--..",
    "'": ".----.", "!": "-.-.--", ":": "---...",
}  # fmt: skip
NATO = {
    "a": "Alfa", "b": "Bravo", "c": "Charlie", "d": "Delta", "e": "Echo", "f": "Foxtrot",
    "g": "Golf", "h": "Hotel", "i": "India", "j": "Juliett", "k": "Kilo", "l": "Lima",
    "m": "Mike", "n": "November", "o": "Oscar", "p": "Papa", "q": "Quebec", "r": "Romeo",
    "s": "Sierra", "t": "Tango", "u": "Uniform", "v": "Victor", "w": "Whiskey", "x": "Xray",
    "y": "Yankee", "z": "Zulu",
}  # fmt: skip
BRAILLE = {
    "a": "⠁", "b": "⠃", "c": "⠉", "d": "⠙", "e": "⠑", "f": "⠋", "g": "⠛", "h": "⠓",
    "i": "⠊", "j": "⠚", "k": "⠅", "l": "⠇", "m": "⠍", "n": "⠝", "o": "⠕", "p": "⠏",
    "q": "⠟", "r": "⠗", "s": "⠎", "t": "⠞", "u": "⠥", "v": "⠧", "w": "⠺", "x": "⠭",
    "y": "⠽", "z": "⠵", " ": " ", ".": "⠲", ",": "⠂", "?": "⠦", "'": "⠄", "!": "⠖",
}  # fmt: skip
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "g": "9", "b": "8"}
EMOJI_LETTERS = {chr(ord("a") + i): chr(0x1F1E6 + i) for i in range(26)}  # regional indicators


def b64(text: str, rng: random.Random) -> str:
    return base64.b64encode(text.encode()).decode()


def b32(text: str, rng: random.Random) -> str:
    return base64.b32encode(text.encode()).decode()


def b16(text: str, rng: random.Random) -> str:
    out = text.encode().hex()
    style = rng.randrange(4)
    if style == 1:
        return out.upper()
    if style == 2:
        return " ".join(out[i : i + 2] for i in range(0, len(out), 2))
    if style == 3:
        return "".join(f"\\x{b:02x}" for b in text.encode())
    return out


def a85(text: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return base64.a85encode(text.encode(), adobe=rng.random() < 0.3).decode()
    return base64.b85encode(text.encode()).decode()


def uu(text: str, rng: random.Random) -> str:
    data = text.encode()
    lines = [
        binascii.b2a_uu(data[i : i + 45]).decode().rstrip("\n") for i in range(0, len(data), 45)
    ]
    body = "\n".join(lines)
    return f"begin 644 msg.txt\n{body}\n`\nend" if rng.random() < 0.6 else body


def qp(text: str, rng: random.Random) -> str:
    data = text.encode()
    if rng.random() < 0.7:  # encode every byte, as an obfuscator would
        return "".join(f"={b:02X}" for b in data)
    return quopri.encodestring(data, quotetabs=True).decode()


def mime(text: str, rng: random.Random) -> str:
    encoding = "b" if rng.random() < 0.5 else "q"
    if encoding == "b":
        return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="
    return (
        str(Header(text, "utf-8").encode())
        if rng.random() < 0.3
        else (
            "=?UTF-8?Q?"
            + "".join(f"={b:02X}" if not chr(b).isalnum() else chr(b) for b in text.encode())
            + "?="
        )
    )


def rot13(text: str, rng: random.Random) -> str:
    return codecs.encode(text, "rot13")


def atbash(text: str, rng: random.Random) -> str:
    out = []
    for c in text:
        if "a" <= c <= "z":
            out.append(chr(ord("z") - (ord(c) - ord("a"))))
        elif "A" <= c <= "Z":
            out.append(chr(ord("Z") - (ord(c) - ord("A"))))
        else:
            out.append(c)
    return "".join(out)


def morse(text: str, rng: random.Random) -> str:
    sep = rng.choice([" / ", " | ", "   "])
    return sep.join(" ".join(MORSE[c] for c in word if c in MORSE) for word in text.lower().split())


def braille(text: str, rng: random.Random) -> str:
    return "".join(BRAILLE.get(c, "") for c in text.lower())


def nato(text: str, rng: random.Random) -> str:
    words = []
    for word in text.lower().split():
        letters = [NATO[c] for c in word if c in NATO]
        if letters:
            words.append(" ".join(letters))
    return rng.choice([" / ", " (space) ", " - "]).join(words)


def leet(text: str, rng: random.Random) -> str:
    return "".join(LEET.get(c.lower(), c) if rng.random() < 0.8 else c for c in text)


def zalgo(text: str, rng: random.Random) -> str:
    marks = [chr(c) for c in range(0x0300, 0x036F)]
    return "".join(c + "".join(rng.choice(marks) for _ in range(rng.randint(1, 6))) for c in text)


def tags(text: str, rng: random.Random) -> str:
    return "".join(chr(0xE0000 + ord(c)) for c in text if 0x20 <= ord(c) < 0x7F)


def variation_selectors(text: str, rng: random.Random) -> str:
    """Each byte as a variation selector after a carrier emoji (VS1-16, VS17-256)."""
    out = []
    for b in text.encode():
        out.append(chr(0xFE00 + b) if b < 16 else chr(0xE0100 + b - 16))
    return rng.choice(["😊", "👍", "🙂", "a"]) + "".join(out)


def binary(text: str, rng: random.Random) -> str:
    return " ".join(f"{b:08b}" for b in text.encode())


def reverse(text: str, rng: random.Random) -> str:
    return text[::-1]


def emoji_letters(text: str, rng: random.Random) -> str:
    return " ".join("\u200b".join(EMOJI_LETTERS.get(c, c) for c in w) for w in text.lower().split())


# A base2048-style encoding: 11 bits per character over a block of 2048 code points. The real
# base2048 alphabet is a curated list; the screen detects the shape (a long run of one
# script's letters with no spaces) rather than the alphabet, so a contiguous CJK block works.
def base2048(text: str, rng: random.Random) -> str:
    bits = "".join(f"{b:08b}" for b in text.encode())
    bits += "0" * (-len(bits) % 11)
    return "".join(chr(0x4E00 + int(bits[i : i + 11], 2)) for i in range(0, len(bits), 11))


ENCODERS = {
    "base64": b64,
    "base32": b32,
    "hex": b16,
    "ascii85": a85,
    "uuencode": uu,
    "quoted-printable": qp,
    "mime": mime,
    "rot13": rot13,
    "atbash": atbash,
    "morse": morse,
    "braille": braille,
    "nato": nato,
    "leetspeak": leet,
    "zalgo": zalgo,
    "tags": tags,
    "variation-selectors": variation_selectors,
    "binary": binary,
    "reversed": reverse,
    "emoji": emoji_letters,
    "base2048": base2048,
}
NAMES = {
    "base64": ["base64", "Base64", "BASE64", "b64"],
    "base32": ["base32", "Base32", "BASE32"],
    "hex": ["hex", "hexadecimal", "base16", "Base16"],
    "ascii85": ["ascii85", "Ascii85", "base85"],
    "uuencode": ["uuencode", "UUencoded", "uu"],
    "quoted-printable": ["quoted-printable", "QP", "quoted printable"],
    "mime": ["MIME encoded-word", "MIME", "RFC 2047"],
    "rot13": ["ROT13", "rot13", "rot-13", "Caesar cipher (shift 13)"],
    "atbash": ["Atbash", "atbash cipher"],
    "morse": ["Morse", "morse code", "Morse code"],
    "braille": ["Braille", "braille"],
    "nato": ["NATO phonetic alphabet", "NATO alphabet", "phonetic alphabet"],
    "leetspeak": ["leetspeak", "l33t", "leet"],
    "zalgo": ["zalgo", "glitch text"],
    "tags": ["hidden text", "tag characters"],
    "variation-selectors": ["emoji", "hidden bytes"],
    "binary": ["binary", "bits", "8-bit binary"],
    "reversed": ["reversed text", "backwards"],
    "emoji": ["emoji letters", "flag letters"],
    "base2048": ["base2048", "Base2048"],
}
