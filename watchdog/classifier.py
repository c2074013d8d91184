"""The screen's learned classifier: n-grams into a linear model, in pure Python.

Features (of the normalized text, see ``watchdog.screen.normalize``): each token, the pair
of consecutive tokens, and the character 3-5-grams of each word (with word boundaries, so
``<ignore>`` gives ``<ig``, ``ign`` ... ``re>``). A token's contribution is the sum of its
features' weights; a word's part is cached per process, so a message costs one dictionary
lookup per token plus one per token pair.

The text is scored in windows of ``WINDOW`` tokens (half-overlapping), and the message
scores as its worst window: an instruction buried in the middle of a long pasted document
counts as much as the same instruction alone. The model is trained the same way
(``tools/train_screen.py``: the positive window of an attack is its highest-scoring one),
from the corpus in ``watchdog/screen_corpus`` by ``make train-screen``.

The model file (``watchdog/screen_model.json.gz``) holds the pruned weights, the bias, the
decision threshold (a probability), and a small per-category head that names the category
of what it flags.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

MODEL_PATH = Path(__file__).resolve().parent / "screen_model.json.gz"
WINDOW = 40
STRIDE = 20
MAX_TOKENS = 12000  # a 32 KB message has ~6000; beyond this the tail is not scored
_TOKEN = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")
_CACHE_LIMIT = 50000
LONG_CANDIDATES = 4  # windows of a long text scored in full


def tokens(normal: str) -> list[str]:
    return _TOKEN.findall(normal)


def word_features(token: str) -> list[str]:
    """The features of one token: the token itself, and its character n-grams."""
    features = ["w" + token]
    if len(token) >= 2 and token[0].isalpha():
        padded = f"<{token}>"
        size = len(padded)
        for n in (3, 4, 5):
            for start in range(0, size - n + 1):
                features.append(padded[start : start + n])
    return features


def pair_feature(previous: str, token: str) -> str:
    return f"b{previous} {token}"


def windows(count: int) -> list[tuple[int, int]]:
    """Token index ranges scored: the whole text if short, else half-overlapping windows."""
    if count <= WINDOW:
        return [(0, count)]
    spans = [(start, min(count, start + WINDOW)) for start in range(0, count - STRIDE, STRIDE)]
    if spans[-1][1] < count:
        spans.append((count - WINDOW, count))
    return spans


# The model flags a window only if it also holds one of these words (or a word starting with
# one of the stems): the vocabulary of the attack families, in the languages Spark serves.
# It keeps the linear model from flagging ordinary text on style alone (quotes, short
# questions, code), which a corpus of written examples cannot cover.
GATE_WORDS = frozenset(
    """ignore ignora ignorad ignorez ignoriere disregard forget olvida olvidate oublie
    vergiss dimentica esqueca skip bypass override obey obedece comply jailbreak
    jailbroken dan stan developer desarrollador admin administrator root sudo god mode
    modo debug maintenance pretend finge imagine imagina hypothetically hipoteticamente
    roleplay role act actua actuas persona character personaje twin gemelo grandma
    grandmother abuela granny grandpa abuelo unfiltered uncensored unrestricted amoral
    unethical unaligned evil malvado rogue restrictions restricciones restriction filters
    filtros filter censorship censura rules reglas normas guidelines directrices policy
    policies politicas ethics etica moral morals limits limites tokens points puntos
    refuse refusing niegues negarte never nunca jamas instructions instruction
    instrucciones instruccion consignes anweisungen istruzioni instrucoes prompt prompts
    system sistema systeme preprompt verbatim textualmente palabra above arriba anterior
    anteriores previous prior earlier preceding initial iniciales original hidden oculto
    ocultas ocultos secret secreto secretas confidential reveal revela revelame reveals
    repeat repite print imprime output dump leak recite decode decodifica encoded
    codificado base64 rot13 morse cipher hex binary decrypt password contrasena
    credentials api key keys bomb bomba napalm meth metanfetamina explosive explosives
    weapon weapons poison veneno hack hackear malware ransomware keylogger virus phishing
    steal robar launder kill matar drugs illegal ilegal harmful stalk hotwire pwned hacked
    owned lol insult insulta attacker evil exfil webhook script onerror onload javascript
    cookie document eval exec popen drop union select sleep jndi class globals import curl
    wget rm tcp shell cmdshell assistant asistente ai ia model modelo chatbot llm chatgpt
    claude gpt gemini copilot agent agentes agents stop alto task tarea new nueva nuevo
    now ahora orders ordenes urgent urgente audit instead lugar simply simplemente
    actually realidad note nota important importante""".split()  # noqa: SIM905
)
GATE_STEMS = (
    "ignor",
    "instruc",
    "restric",
    "jailbr",
    "unfilt",
    "uncens",
    "unrestr",
    "decod",
    "reveal",
    "revel",
    "disreg",
    "overrid",
    "filtr",
    "censor",
    "system",
    "sistem",
    "prompt",
    "malw",
)


def gated(window: list[str]) -> bool:
    return any(t in GATE_WORDS or t.startswith(GATE_STEMS) for t in window)


@dataclass(frozen=True, slots=True)
class Verdict:
    probability: float
    flagged: bool
    category: str
    window: str  # the tokens of the worst window (for the rule name and for debugging)


class Model:
    def __init__(self, data: dict[str, Any]) -> None:
        self.weights: dict[str, float] = dict(data["weights"])
        self.bias = float(data["bias"])
        self.threshold = float(data["threshold"])
        self.logit_threshold = math.log(self.threshold / (1.0 - self.threshold))
        heads: dict[str, Any] = data.get("categories", {})
        self.heads: dict[str, tuple[float, dict[str, float]]] = {
            name: (float(head["bias"]), dict(head["weights"])) for name, head in heads.items()
        }
        self._word_cache: dict[str, float] = {}

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Model:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return cls(json.load(handle))

    def _word(self, token: str) -> float:
        cached = self._word_cache.get(token)
        if cached is not None:
            return cached
        get = self.weights.get
        value = sum(get(feature, 0.0) for feature in word_features(token))
        if len(self._word_cache) >= _CACHE_LIMIT:
            self._word_cache.clear()
        self._word_cache[token] = value
        return value

    def contributions(self, toks: list[str]) -> list[float]:
        get = self.weights.get
        word = self._word
        out = []
        previous = "^"
        for token in toks:
            out.append(word(token) + get(f"b{previous} {token}", 0.0))
            previous = token
        return out

    def logit(self, normal: str) -> tuple[float, tuple[int, int], list[str]]:
        toks = tokens(normal)[:MAX_TOKENS]
        if not toks:
            return self.bias, (0, 0), toks
        if len(toks) > 4 * WINDOW:
            return self._logit_long(toks)
        values = self.contributions(toks)
        prefix = [0.0]
        total = 0.0
        for value in values:
            total += value
            prefix.append(total)
        best, best_span = -math.inf, (0, len(toks))
        for start, end in windows(len(toks)):
            score = prefix[end] - prefix[start]
            if score > best:
                best, best_span = score, (start, end)
        return self.bias + best, best_span, toks

    def _logit_long(self, toks: list[str]) -> tuple[float, tuple[int, int], list[str]]:
        """Long texts: rank the windows on the words alone (cached per word), then score the
        few best with their token pairs too."""
        word = self._word
        prefix = [0.0]
        total = 0.0
        for token in toks:
            total += word(token)
            prefix.append(total)
        spans = windows(len(toks))
        ranked = sorted(spans, key=lambda span: prefix[span[0]] - prefix[span[1]])[:LONG_CANDIDATES]
        best, best_span = -math.inf, spans[0]
        for start, end in ranked:
            before = toks[start - 1] if start else "^"
            score = sum(self.contributions([before, *toks[start:end]])[1:])
            if score > best:
                best, best_span = score, (start, end)
        return self.bias + best, best_span, toks

    def category(self, toks: list[str]) -> str:
        best, name = -math.inf, "prompt_injection"
        features = {"w" + t for t in toks} | {
            pair_feature(a, b) for a, b in zip(["^", *toks], toks, strict=False)
        }
        for category, (bias, weights) in self.heads.items():
            score = bias + sum(weights.get(f, 0.0) for f in features)
            if score > best:
                best, name = score, category
        return name

    def check(self, normal: str) -> Verdict:
        logit, (start, end), toks = self.logit(normal)
        window = toks[start:end]
        flagged = logit >= self.logit_threshold and gated(window)
        probability = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))
        return Verdict(
            probability, flagged, self.category(window) if flagged else "none", " ".join(window)
        )


@lru_cache(maxsize=1)
def get_model() -> Model | None:
    """The committed model, or None when it has not been trained (the rules still run)."""
    if not MODEL_PATH.exists():
        return None
    return Model.load()
