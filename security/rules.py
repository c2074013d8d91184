"""The request filter's instant-block rules: loaded from ``security/rules/*.txt`` (data, one
pattern a line) and compiled once into a single matcher per target.

The fast path is one search over the path (and one over the user agent) with every
pattern as an alternative, compiled by RE2 (google-re2) into one automaton: linear time
whatever the input, about 1 µs for an ordinary URL against 300 patterns, where Python's
backtracking ``re`` takes ~50 µs for the same alternation. Only when it matches are the
patterns tried one by one to name the rule that fired (for the ban record and the admin's
hit counts). See ``security/rules/README.md`` for the file format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import re2
from django.conf import settings

RULES_DIR = Path(__file__).resolve().parent / "rules"
TARGETS = ("path", "user-agent")
_END = r"(?:[/?]|$)"
_SEGMENT_CHAR = r"[^/?\n]"


def segment_other_than(word: str, *, not_first: str = "") -> str:
    """A regex for the rest of one path segment (up to ``/``, ``?`` or the end): not
    empty, not ``word``, and not starting with a character of ``not_first``. RE2 has no
    negative lookahead, so it is spelled out: a proper prefix of ``word``, a prefix then
    a character that differs, or ``word`` and more."""
    alternatives = []
    for index, char in enumerate(word):
        prefix = re.escape(word[:index])
        excluded = re.escape(char + (not_first if index == 0 else ""))
        other = rf"[^{excluded}/?\n]{_SEGMENT_CHAR}*"
        alternatives.append(f"{prefix}{other}" if index == 0 else f"{prefix}(?:{other})?")
    alternatives.append(f"{re.escape(word)}{_SEGMENT_CHAR}+")
    return f"(?:{'|'.join(alternatives)}){_END}"


# Macros a rule can use (security/rules/README.md).
_MACROS = {
    "{end}": _END,
    # A dot-file or dot-folder segment other than /.well-known/ (RFC 8615); "." and ".."
    # are the traversal rules' to name.
    "{dot_segment}": r"\." + segment_other_than("well-known", not_first="."),
    # The path part of the matched line (rules that must not look into the query).
    "{path}": r"^[^?\n]*",
}
_FLAGS = re.IGNORECASE | re.MULTILINE  # the stdlib baseline's flags (RE2 gets the same)


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.never_capture = True
    return options


def _compile(regex: str) -> re2._Regexp:
    """RE2, multi-line, case-insensitive (no backtracking, so no catastrophic patterns)."""
    return re2.compile(f"(?m){regex}", _re2_options())


@dataclass(frozen=True)
class Rule:
    category: str
    target: str
    pattern: str
    source: str  # "file.txt:line", to find it again

    @property
    def regex(self) -> str:
        regex = self.pattern
        for macro, expansion in _MACROS.items():
            regex = regex.replace(macro, expansion)
        return regex


@dataclass(frozen=True)
class RuleMatch:
    category: str
    pattern: str
    target: str


class RuleFileError(ValueError):
    pass


def parse_rule_file(path: Path) -> list[Rule]:
    """The rules of one file; the category is the file's name without ``.txt``."""
    category = path.stem
    target: str | None = None
    rules: list[Rule] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@target"):
            target = line.removeprefix("@target").strip()
            if target not in TARGETS:
                raise RuleFileError(f"{path.name}:{number}: unknown target {target!r}")
            continue
        if target is None:
            raise RuleFileError(f"{path.name}:{number}: a pattern before any @target line")
        rule = Rule(category=category, target=target, pattern=line, source=f"{path.name}:{number}")
        try:
            _compile(rule.regex)
        except re2.error as error:
            raise RuleFileError(f"{rule.source}: {error}") from error
        rules.append(rule)
    return rules


def load_rules(paths: Iterable[Path] | None = None) -> list[Rule]:
    files = sorted(RULES_DIR.glob("*.txt")) if paths is None else list(paths)
    return [rule for path in files for rule in parse_rule_file(path)]


def decoded_target(path: str, query: str) -> str:
    """The text path rules see: the URL as received, then URL-decoded (twice), one per line."""
    text = f"{path}?{query}" if query else path
    if "%" in text or "+" in query:
        decoded = unquote(unquote(text.replace("+", " ")))
        if decoded != text:
            return f"{text}\n{decoded}"
    return text


class RuleMatcher:
    """All rules of a target compiled into one RE2 set (one automaton; the fast path).

    A set search answers "does any pattern match?" and "which ones?" in one pass, so
    naming the rule that fired costs nothing extra.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)
        self._sets: dict[str, Any] = {}
        self._own: dict[str, list[Rule]] = {}
        self._naive: dict[str, list[tuple[Rule, re.Pattern[str]]]] = {}
        for target in TARGETS:
            own = [rule for rule in self.rules if rule.target == target]
            self._own[target] = own
            self._naive[target] = [(rule, re.compile(rule.regex, _FLAGS)) for rule in own]
            if own:
                rule_set = re2.Set.SearchSet(_re2_options())
                for rule in own:
                    rule_set.Add(f"(?m){rule.regex}")
                rule_set.Compile()
                self._sets[target] = rule_set

    def _search(self, target: str, text: str) -> RuleMatch | None:
        rule_set = self._sets.get(target)
        if rule_set is None:
            return None
        hits = rule_set.Match(text)
        if not hits:
            return None
        rule = self._own[target][min(hits)]
        return RuleMatch(category=rule.category, pattern=rule.pattern, target=target)

    def match(self, *, path: str, query: str = "", user_agent: str = "") -> RuleMatch | None:
        """The first rule the request breaks, or None (the common case, kept cheap)."""
        found = self._search("path", decoded_target(path, query))
        if found is None and user_agent:
            found = self._search("user-agent", user_agent)
        return found

    def match_naive(self, *, path: str, query: str = "", user_agent: str = "") -> RuleMatch | None:
        """The same answer from a loop over every pattern with Python's ``re`` (the
        benchmark's baseline: what a straightforward filter does)."""
        text = decoded_target(path, query)
        for rule, regex in self._naive["path"]:
            if regex.search(text):
                return RuleMatch(category=rule.category, pattern=rule.pattern, target="path")
        for rule, regex in self._naive["user-agent"]:
            if user_agent and regex.search(user_agent):
                return RuleMatch(category=rule.category, pattern=rule.pattern, target="user-agent")
        return None


@lru_cache(maxsize=4)
def _matcher_for(files: tuple[str, ...]) -> RuleMatcher:
    return RuleMatcher(load_rules([Path(f) for f in files] if files else None))


def get_matcher() -> RuleMatcher:
    """The process-wide matcher, compiled once from SPARK_FILTER_RULE_FILES (or every file)."""
    return _matcher_for(tuple(settings.SPARK_FILTER_RULE_FILES))
