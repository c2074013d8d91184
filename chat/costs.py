"""What a message's cost is made of, for its cost line and for /my-usage.

Billing stores each charged use of a message (the answer's tokens, an image, a web search
call, a supervision call) as a usage record with a ``kind`` and a ``detail``; the message
keeps the same parts (``Message.cost_parts``) so that showing them needs no query.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict

from django.utils.translation import gettext as _, gettext_lazy


class CostPart(TypedDict):
    kind: str  # the usage record's kind: answer, evaluator, tool, image
    detail: str  # e.g. "generate_image:1024x1024/medium", "web_search"
    cost_micros: int


class ShownCostPart(TypedDict):
    label: str
    cost_usd: str


# What a person calls each use. Keyed by tool name (a tool use's detail starts with it),
# else by usage kind.
USE_NAMES = {
    "answer": gettext_lazy("Answer"),
    "evaluator": gettext_lazy("Supervision"),
    "generate_image": gettext_lazy("Image"),
    "web_search": gettext_lazy("Web search"),
}


def cost_usd(micros: int) -> str:
    """µ$ as the decimal string the protocol uses (``"0.000725"``)."""
    return f"{Decimal(micros) / Decimal(1_000_000):.6f}"


def use_label(kind: str, detail: str) -> str:
    """ "Image (1024x1536, high)", "Web search", "Answer": one name for one kind of use."""
    tool, _sep, variant = detail.partition(":")
    name = USE_NAMES.get(tool) or USE_NAMES.get(kind) or tool or kind
    if variant:
        return _("%(name)s (%(variant)s)") % {
            "name": name,
            "variant": variant.replace("/", ", "),
        }
    return str(name)


def parts_from(records: list[Any]) -> list[CostPart]:
    """The parts of a message's cost from its usage records (anything with kind, detail and
    total)."""
    return [
        CostPart(kind=str(r.kind), detail=str(r.detail), cost_micros=int(r.total)) for r in records
    ]


def breakdown(parts: list[CostPart] | list[dict[str, Any]]) -> list[ShownCostPart]:
    """The cost line's parts, equal uses summed ("Web search" twice is one part), in the
    order they were first charged, free ones left out. Empty when the whole cost is the
    answer's tokens."""
    totals: dict[str, int] = {}
    for part in parts:
        label = use_label(str(part.get("kind", "")), str(part.get("detail", "")))
        totals[label] = totals.get(label, 0) + int(part.get("cost_micros", 0))
    totals = {label: micros for label, micros in totals.items() if micros}
    if set(totals) <= {use_label("answer", "")}:
        return []
    return [
        ShownCostPart(label=label, cost_usd=cost_usd(micros)) for label, micros in totals.items()
    ]
