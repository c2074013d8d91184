"""Landing analytics: visits and call-to-action clicks, counted server-side, kept as daily
totals. No raw IP address is ever stored, and no cookie is set.

A visitor is counted once a day per page through a keyed hash (HMAC-SHA256) of their
address and user agent, keyed by the secret key and the day, so it cannot be reversed nor
linked from one day to the next; those hashes are deleted after
SPARK_LANDING_VISITOR_HASH_DAYS. ``DNT: 1`` or ``Sec-GPC: 1`` means the visit is counted but
no hash is kept (so it is not a unique visitor). Known bots are counted apart.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.http import HttpRequest
from django.utils import timezone

from marketplace.models import LandingDailyStat, LandingVisitor, Prompt
from spark.common.net import client_ip
from spark.tenancy.context import unscoped

BOT_PATTERN = re.compile(
    r"bot|crawl|spider|slurp|preview|facebookexternalhit|headless|curl|wget|python-|httpx|"
    r"go-http-client|java/|okhttp|monitor|uptime",
    re.IGNORECASE,
)


def is_bot(user_agent: str) -> bool:
    return not user_agent.strip() or bool(BOT_PATTERN.search(user_agent))


def _opted_out(request: HttpRequest) -> bool:
    return request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1"


def visitor_fingerprint(*, ip: str, user_agent: str, day: date, prompt_id: int) -> str:
    """A one-way, per-day, per-page hash of who visited (never the address itself)."""
    key = hashlib.sha256(f"{settings.SECRET_KEY}:landing-visitor:{day.isoformat()}".encode())
    message = f"{prompt_id}|{ip}|{user_agent[:300]}".encode()
    return hmac.new(key.digest(), message, hashlib.sha256).hexdigest()


def _bump(*, prompt: Prompt, day: date, **increments: int) -> None:
    stat, _created = LandingDailyStat.objects.get_or_create(
        prompt=prompt, day=day, defaults={"tenant": prompt.tenant}
    )
    LandingDailyStat.objects.filter(pk=stat.pk).update(
        **{field: F(field) + amount for field, amount in increments.items() if amount}
    )


@transaction.atomic
def landing_visit_record(*, prompt: Prompt, request: HttpRequest) -> None:
    """Count one page view (in the prompt's tenant scope)."""
    day = timezone.now().date()
    user_agent = request.headers.get("User-Agent", "")
    if is_bot(user_agent):
        _bump(prompt=prompt, day=day, bot_visits=1)
        return
    new_visitor = 0
    if not _opted_out(request):
        fingerprint = visitor_fingerprint(
            ip=client_ip(request), user_agent=user_agent, day=day, prompt_id=prompt.pk
        )
        _visitor, created = LandingVisitor.objects.get_or_create(
            prompt=prompt, day=day, fingerprint=fingerprint, defaults={"tenant": prompt.tenant}
        )
        new_visitor = int(created)
    _bump(prompt=prompt, day=day, visits=1, unique_visitors=new_visitor)


@transaction.atomic
def landing_click_record(*, prompt: Prompt, request: HttpRequest) -> None:
    """Count one call-to-action click (bots are not counted)."""
    if is_bot(request.headers.get("User-Agent", "")):
        return
    _bump(prompt=prompt, day=timezone.now().date(), cta_clicks=1)


def landing_analytics_purge(*, today: date | None = None) -> tuple[int, int]:
    """Delete visitor hashes past their days and daily totals past retention (platform task)."""
    today = today or timezone.now().date()
    with unscoped():
        hashes, _ = LandingVisitor.objects.filter(
            day__lt=today - timedelta(days=settings.SPARK_LANDING_VISITOR_HASH_DAYS)
        ).delete()
        totals, _ = LandingDailyStat.objects.filter(
            day__lt=today - timedelta(days=settings.SPARK_LANDING_STATS_RETENTION_DAYS)
        ).delete()
    return hashes, totals


# --- what the creator sees ------------------------------------------------------------------


@dataclass(frozen=True)
class LandingTotals:
    visits: int
    unique_visitors: int
    cta_clicks: int
    bot_visits: int

    @property
    def click_rate(self) -> float | None:
        """Call-to-action clicks per visit, as a percentage (None with no visits)."""
        return round(100 * self.cta_clicks / self.visits, 1) if self.visits else None


def landing_stats(
    *, prompt: Prompt, days: int = 30, today: date | None = None
) -> tuple[list[LandingDailyStat], LandingTotals]:
    """The prompt's daily counts over the last ``days`` days (newest first), and totals."""
    today = today or timezone.now().date()
    rows = LandingDailyStat.objects.filter(
        prompt=prompt, day__gt=today - timedelta(days=days), day__lte=today
    ).order_by("-day")
    sums = rows.aggregate(
        visits=Sum("visits"),
        unique_visitors=Sum("unique_visitors"),
        cta_clicks=Sum("cta_clicks"),
        bot_visits=Sum("bot_visits"),
    )
    totals = LandingTotals(**{key: value or 0 for key, value in sums.items()})
    return list(rows), totals
