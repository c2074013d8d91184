"""``{{ micros|usd }}``: micro-USD as dollars for display (never for arithmetic)."""

from __future__ import annotations

from django import template

from billing.services import usd as _usd

register = template.Library()


@register.filter
def usd(micros: int | None) -> str:
    return _usd(int(micros or 0))


@register.filter
def usd_precise(micros: int | None) -> str:
    """Six decimals, for per-message costs that round to $0.00."""
    value = int(micros or 0)
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}${value // 1_000_000}.{value % 1_000_000:06d}"


@register.filter
def dollars(micros: int | None) -> str:
    """A plain number of dollars for form inputs: 1234.5 → ``1234.50``."""
    value = int(micros or 0)
    return f"{value // 1_000_000}.{value % 1_000_000 // 10_000:02d}"


@register.filter
def dollars_exact(micros: int | None) -> str:
    """Every micro-dollar, for inputs whose value must survive a round trip: ``2.500000``."""
    value = int(micros or 0)
    return f"{value // 1_000_000}.{value % 1_000_000:06d}"
