"""Reads for billing: wallets, usage reports, team, earnings and platform dashboards.

Each function says whose data it returns; pages call them with the signed-in user and
the request's tenant, so nobody reaches another tenant's or another user's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Membership, Tenant, User
from billing import ledger, policy as billing_policy
from billing.models import Account, Payout, Refill, TenantBillingPolicy, TopUp, UsageRecord
from billing.payments import earnings_available, earnings_pending
from billing.services import month_start
from chat.costs import use_label
from marketplace.selectors import prompt_get_for_owner, prompt_list_for_owner
from spark.tenancy.context import unscoped


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # inclusive

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


MAX_RANGE_DAYS = 366


def date_range_from(params: Any, *, default_days: int = 30) -> DateRange:
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (invalid or missing: the last ``default_days``)."""
    today = timezone.localdate()

    def parse(name: str) -> date | None:
        try:
            return date.fromisoformat(str(params.get(name, "")))
        except ValueError:
            return None

    end = parse("to") or today
    start = parse("from") or end - timedelta(days=default_days - 1)
    if start > end:
        start, end = end, start
    if (end - start).days >= MAX_RANGE_DAYS:
        start = end - timedelta(days=MAX_RANGE_DAYS - 1)
    return DateRange(start, end)


def _in_range(qs: QuerySet[UsageRecord], period: DateRange) -> QuerySet[UsageRecord]:
    return qs.filter(created_at__gte=period.since, created_at__lt=period.until)


@dataclass(frozen=True)
class UsageReport:
    period: DateRange
    total_cost: int
    total_tokens: int
    messages: int
    daily: list[dict[str, Any]]  # {day, cost, tokens}
    by_model: list[dict[str, Any]]  # {label, cost, tokens, count}
    by_prompt: list[dict[str, Any]]
    by_use: list[dict[str, Any]]  # answers, images by size and quality, searches, ...

    def chart_data(self) -> dict[str, Any]:
        return {
            "days": [row["day"].isoformat() for row in self.daily],
            "cost_usd": [row["cost"] / 1_000_000 for row in self.daily],
            "tokens": [row["tokens"] for row in self.daily],
            "by_model": [
                {"label": row["label"], "cost_usd": row["cost"] / 1_000_000}
                for row in self.by_model
            ],
            "by_prompt": [
                {"label": row["label"], "cost_usd": row["cost"] / 1_000_000}
                for row in self.by_prompt
            ],
            "by_use": [
                {"label": row["label"], "cost_usd": row["cost"] / 1_000_000} for row in self.by_use
            ],
        }


def _report(qs: QuerySet[UsageRecord], period: DateRange) -> UsageReport:
    qs = _in_range(qs, period)
    totals = qs.aggregate(
        cost=Sum("total"), input=Sum("input_tokens"), output=Sum("output_tokens"), n=Count("id")
    )
    per_day = {
        row["day"]: row
        for row in qs.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(cost=Sum("total"), input=Sum("input_tokens"), output=Sum("output_tokens"))
        .order_by("day")
    }
    daily = []
    for day in period.days:
        row = per_day.get(day)
        daily.append(
            {
                "day": day,
                "cost": int(row["cost"] or 0) if row else 0,
                "tokens": int((row["input"] or 0) + (row["output"] or 0)) if row else 0,
            }
        )
    by_model = [
        {
            "label": row["model_slug"],
            "cost": int(row["cost"] or 0),
            "tokens": int((row["input"] or 0) + (row["output"] or 0)),
            "count": row["n"],
        }
        for row in qs.values("model_slug")
        .annotate(
            cost=Sum("total"), input=Sum("input_tokens"), output=Sum("output_tokens"), n=Count("id")
        )
        .order_by("-cost", "model_slug")[:20]
    ]
    by_prompt = [
        {
            "label": row["prompt__name"] or "—",
            "cost": int(row["cost"] or 0),
            "tokens": int((row["input"] or 0) + (row["output"] or 0)),
            "count": row["n"],
        }
        for row in qs.values("prompt__name")
        .annotate(
            cost=Sum("total"), input=Sum("input_tokens"), output=Sum("output_tokens"), n=Count("id")
        )
        .order_by("-cost", "prompt__name")[:20]
    ]
    return UsageReport(
        period=period,
        by_use=_by_use(qs),
        total_cost=int(totals["cost"] or 0),
        total_tokens=int((totals["input"] or 0) + (totals["output"] or 0)),
        messages=int(totals["n"] or 0),
        daily=daily,
        by_model=by_model,
        by_prompt=by_prompt,
    )


def _by_use(qs: QuerySet[UsageRecord]) -> list[dict[str, Any]]:
    """Cost by kind of use (chat.costs names them): the answers' tokens, each image size and
    quality, web searches, supervision."""
    totals: dict[str, dict[str, Any]] = {}
    for row in qs.values("kind", "detail").annotate(
        cost=Sum("total"), input=Sum("input_tokens"), output=Sum("output_tokens"), n=Count("id")
    ):
        label = use_label(row["kind"], row["detail"])
        entry = totals.setdefault(label, {"label": label, "cost": 0, "tokens": 0, "count": 0})
        entry["cost"] += int(row["cost"] or 0)
        entry["tokens"] += int((row["input"] or 0) + (row["output"] or 0))
        entry["count"] += row["n"]
    return sorted(totals.values(), key=lambda entry: (-entry["cost"], entry["label"]))[:20]


def usage_report_for_user(*, user: User, period: DateRange) -> UsageReport:
    """The user's own usage in the active tenant."""
    return _report(UsageRecord.objects.filter(user=user), period)


def usage_report_platform(*, period: DateRange) -> UsageReport:
    """Every tenant's usage (staff only)."""
    with unscoped():
        return _report(UsageRecord.objects.all(), period)


def wallet_for_user(*, user: User) -> Account:
    return ledger.user_wallet(user)


def topups_for_user(*, user: User) -> QuerySet[TopUp]:
    return TopUp.objects.filter(user=user, mode=TopUp.Mode.PAYMENT).order_by("-created_at")[:20]


# --- team (enterprise managers) ------------------------------------------------------------


def manager_membership(*, user: User, tenant: Tenant | None) -> Membership | None:
    """The user's manager membership of ``tenant``, or None (pages answer 404)."""
    if tenant is None:
        return None
    with unscoped():
        return Membership.objects.filter(
            user=user,
            tenant=tenant,
            role__in=[Membership.Role.OWNER, Membership.Role.MANAGER],
        ).first()


@dataclass(frozen=True)
class TeamMember:
    user: User
    role: str
    spent: int
    cap: Any

    @property
    def role_label(self) -> str:
        return str(Membership.Role(self.role).label)


def team_overview(*, tenant: Tenant) -> dict[str, Any]:
    wallet = ledger.tenant_wallet(tenant)
    with unscoped():
        policy = TenantBillingPolicy.objects.filter(tenant=tenant).first()
        memberships = list(
            Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__email")
        )
        spent = {
            row["user_id"]: int(row["total"] or 0)
            for row in UsageRecord.objects.filter(
                tenant=tenant, payer=wallet, created_at__gte=month_start()
            )
            .values("user_id")
            .annotate(total=Sum("total"))
        }
        caps = {cap.user_id: cap for cap in tenant_caps(tenant=tenant)}
        refills = list(Refill.objects.filter(tenant=tenant).order_by("-created_at")[:10])
    members = [
        TeamMember(m.user, m.role, spent.get(m.user_id, 0), caps.get(m.user_id))
        for m in memberships
    ]
    return {
        "wallet": wallet,
        "policy": policy,
        "members": members,
        "refills": refills,
        # What a member without a cap row starts with at their first draw.
        "default_cap": billing_policy.default_member_cap(),
    }


def tenant_caps(*, tenant: Tenant) -> list[Any]:
    from billing.models import MemberCap

    with unscoped():
        return list(MemberCap.objects.filter(tenant=tenant))


def team_member_get(*, tenant: Tenant, user_uuid: Any) -> User | None:
    with unscoped():
        membership = (
            Membership.objects.filter(tenant=tenant, user__uuid=user_uuid)
            .select_related("user")
            .first()
        )
    return membership.user if membership is not None else None


# --- earnings (creators) -------------------------------------------------------------------


def earnings_overview(*, user: User) -> dict[str, Any]:
    account = ledger.creator_earnings(user)
    with unscoped():
        paid = (
            Payout.objects.filter(user=user, status=Payout.Status.PAID).aggregate(
                total=Sum("amount")
            )["total"]
            or 0
        )
        payouts = list(Payout.objects.filter(user=user).order_by("-created_at")[:20])
        by_prompt = list(
            UsageRecord.objects.filter(prompt__owner=user, creator_fee__gt=0)
            .values("prompt__name")
            .annotate(earned=Sum("creator_fee"), n=Count("id"))
            .order_by("-earned")[:20]
        )
    from billing.models import ConnectAccount, PromptPricing

    prompts = list(prompt_list_for_owner(user=user))
    with unscoped():
        markups = dict(
            PromptPricing.objects.filter(prompt__in=prompts).values_list(
                "prompt_id", "markup_per_million"
            )
        )
    return {
        "prompts": [(prompt, markups.get(prompt.pk, 0)) for prompt in prompts],
        "account": account,
        "pending": earnings_pending(account),
        "available": earnings_available(account),
        "paid": int(paid),
        "payouts": payouts,
        "by_prompt": by_prompt,
        "connect": ConnectAccount.objects.filter(user=user).first(),
    }


# --- platform (staff) ----------------------------------------------------------------------


def platform_breakdowns(*, period: DateRange) -> dict[str, Any]:
    with unscoped():
        qs = _in_range(UsageRecord.objects.all(), period)
        sums = {
            "cost": Sum("total"),
            "provider": Sum("provider_cost"),
            "platform": Sum("platform_fee"),
            "creator": Sum("creator_fee"),
            "curator": Sum("curator_fee"),
            "n": Count("id"),
        }
        totals = qs.aggregate(**sums)
        by_tenant = list(
            qs.values("tenant__name").annotate(**sums).order_by("-cost")[:50]  # type: ignore[misc]
        )
        top_users = list(
            qs.values("user__email").annotate(**sums).order_by("-cost")[:20]  # type: ignore[misc]
        )
    return {"totals": totals, "by_tenant": by_tenant, "top_users": top_users}


def platform_export_rows(*, period: DateRange) -> QuerySet[UsageRecord]:
    """Usage records in the period for the CSV export (every tenant's: staff only).

    The queryset is built unscoped, so it can be iterated later while the response streams.
    """
    with unscoped():
        return (
            _in_range(UsageRecord.objects.all(), period)
            .select_related("tenant", "user", "prompt")
            .order_by("created_at", "id")
        )


def prompt_of_creator(*, user: User, prompt_uuid: Any) -> Any:
    """One of the user's own prompts (in the active tenant), or ``Http404``."""
    return prompt_get_for_owner(user=user, slug_or_uuid=str(prompt_uuid))
