"""Billing pages: usage, wallet and top-ups, the team page, earnings, the platform page,
and the Stripe webhook endpoint. Thin: validate, call one service or selector, render."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import payments, selectors, services
from billing.integrations.stripe_gateway import InvalidWebhook
from billing.models import MICROS_PER_USD, MemberCap
from security.ratelimit import rate_limit
from spark.common.exceptions import ApplicationError


def _dollars_to_micros(value: Decimal) -> int:
    return int((value * MICROS_PER_USD).to_integral_value())


class TopUpForm(forms.Form):
    amount_usd = forms.IntegerField(label=gettext_lazy("Amount (USD)"), min_value=1)
    code = forms.CharField(label=gettext_lazy("Discount code"), max_length=40, required=False)


class CapForm(forms.Form):
    monthly_cap_usd = forms.DecimalField(
        label=gettext_lazy("Monthly cap (USD)"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text=gettext_lazy("Empty: no cap."),
    )
    action = forms.ChoiceField(label=gettext_lazy("When reached"), choices=MemberCap.Action.choices)
    raise_step_usd = forms.DecimalField(
        label=gettext_lazy("Raise by (USD)"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        required=False,
    )
    raise_max_usd = forms.DecimalField(
        label=gettext_lazy("Up to (USD)"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        required=False,
    )


class AutoRefillForm(forms.Form):
    enabled = forms.BooleanField(label=gettext_lazy("Refill automatically"), required=False)
    threshold_usd = forms.DecimalField(
        label=gettext_lazy("When the balance drops below (USD)"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
    )
    amount_usd = forms.IntegerField(label=gettext_lazy("Add (USD)"), min_value=1)


def _absolute(request: HttpRequest, name: str) -> str:
    return request.build_absolute_uri(reverse(name))


# --- usage ---------------------------------------------------------------------------------


@login_required
@require_GET
def my_usage(request: HttpRequest) -> HttpResponse:
    period = selectors.date_range_from(request.GET)
    report = selectors.usage_report_for_user(user=request.user, period=period)  # type: ignore[arg-type]
    return render(
        request,
        "billing/my_usage.html",
        {"report": report, "chart": report.chart_data(), "period": period},
    )


# --- wallet and top-ups ----------------------------------------------------------------------


@login_required
@require_GET
def wallet(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "billing/wallet.html",
        {
            "wallet": selectors.wallet_for_user(user=request.user),  # type: ignore[arg-type]
            "topups": selectors.topups_for_user(user=request.user),  # type: ignore[arg-type]
            "form": TopUpForm(),
            "min_usd": services.settings.SPARK_TOPUP_MIN_USD,
            "max_usd": services.settings.SPARK_TOPUP_MAX_USD,
        },
    )


def _start_topup(request: HttpRequest, *, for_tenant: bool, back: str) -> HttpResponse:
    form = TopUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a whole number of dollars."))
        return redirect(back)
    try:
        topup = payments.topup_start(
            user=request.user,  # type: ignore[arg-type]
            tenant=request.tenant,  # type: ignore[attr-defined]
            amount_usd=form.cleaned_data["amount_usd"],
            code=form.cleaned_data["code"] or "",
            success_url=_absolute(request, "billing:topup_done") + "?session={CHECKOUT_SESSION_ID}",
            cancel_url=_absolute(request, back),
            for_tenant=for_tenant,
        )
    except ApplicationError as error:
        if error.status_code == 404:
            raise Http404 from None
        messages.error(request, error.message)
        return redirect(back)
    return redirect(topup.checkout_url)  # type: ignore[attr-defined]


@login_required
@require_POST
def topup(request: HttpRequest) -> HttpResponse:
    return _start_topup(request, for_tenant=False, back="billing:wallet")


@login_required
@require_GET
def topup_done(request: HttpRequest) -> HttpResponse:
    """Stripe sends the payer back here; the credit arrives with the webhook."""
    messages.success(request, _("Thank you. Your payment will show in a moment."))
    return redirect("billing:wallet")


# --- team (enterprise managers) --------------------------------------------------------------


def _managed_tenant(request: HttpRequest) -> Any:
    tenant = getattr(request, "tenant", None)
    if selectors.manager_membership(user=request.user, tenant=tenant) is None:  # type: ignore[arg-type]
        raise Http404
    return tenant


@login_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    tenant = _managed_tenant(request)
    overview = selectors.team_overview(tenant=tenant)
    policy = overview["policy"]
    refill_form = AutoRefillForm(
        initial={
            "enabled": policy.auto_refill_enabled if policy else False,
            "threshold_usd": Decimal(policy.refill_threshold) / MICROS_PER_USD if policy else 10,
            "amount_usd": policy.refill_amount // MICROS_PER_USD
            if policy and policy.refill_amount
            else 50,
        }
    )
    return render(
        request,
        "billing/team.html",
        {
            **overview,
            "tenant": tenant,
            "topup_form": TopUpForm(),
            "refill_form": refill_form,
            "cap_actions": MemberCap.Action.choices,
        },
    )


@login_required
@require_POST
def team_topup(request: HttpRequest) -> HttpResponse:
    _managed_tenant(request)
    return _start_topup(request, for_tenant=True, back="billing:team")


def _micros(value: Decimal | None) -> int:
    return _dollars_to_micros(value) if value is not None else 0


@login_required
@require_POST
def team_cap(request: HttpRequest, user_uuid: Any) -> HttpResponse:
    tenant = _managed_tenant(request)
    member = selectors.team_member_get(tenant=tenant, user_uuid=user_uuid)
    if member is None:
        raise Http404
    form = CapForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the cap's amounts."))
        return redirect("billing:team")
    data = form.cleaned_data
    cap = data["monthly_cap_usd"]
    try:
        services.member_cap_set(
            tenant=tenant,
            user=member,
            monthly_cap=_dollars_to_micros(cap) if cap is not None else None,
            action=data["action"],
            raise_step=_micros(data["raise_step_usd"]),
            raise_max=_micros(data["raise_max_usd"]),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Saved the cap of %(user)s.") % {"user": member})
    return redirect("billing:team")


@login_required
@require_POST
def team_auto_refill(request: HttpRequest) -> HttpResponse:
    tenant = _managed_tenant(request)
    form = AutoRefillForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the auto-refill amounts."))
        return redirect("billing:team")
    try:
        services.auto_refill_configure(
            tenant=tenant,
            enabled=form.cleaned_data["enabled"],
            threshold=_dollars_to_micros(form.cleaned_data["threshold_usd"]),
            amount=form.cleaned_data["amount_usd"] * MICROS_PER_USD,
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Saved auto-refill."))
    return redirect("billing:team")


@login_required
@require_POST
def team_card(request: HttpRequest) -> HttpResponse:
    tenant = _managed_tenant(request)
    try:
        url = payments.card_setup_start(
            user=request.user,  # type: ignore[arg-type]
            tenant=tenant,
            success_url=_absolute(request, "billing:team"),
            cancel_url=_absolute(request, "billing:team"),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("billing:team")
    return redirect(url)


# --- earnings (creators) ---------------------------------------------------------------------


@login_required
@require_GET
def earnings(request: HttpRequest) -> HttpResponse:
    overview = selectors.earnings_overview(user=request.user)  # type: ignore[arg-type]
    return render(
        request,
        "billing/earnings.html",
        {
            **overview,
            "threshold": services.settings.SPARK_PAYOUT_THRESHOLD_USD * MICROS_PER_USD,
            "hold_days": services.settings.SPARK_EARNINGS_HOLD_DAYS,
            "creator_share": services.policy.pricing_settings().creator_share_bp // 100,
            "chart": {
                "by_prompt": [
                    {"label": row["prompt__name"], "cost_usd": row["earned"] / MICROS_PER_USD}
                    for row in overview["by_prompt"]
                ]
            },
        },
    )


@login_required
@require_POST
def earnings_connect(request: HttpRequest) -> HttpResponse:
    try:
        url = payments.connect_onboarding_link(
            user=request.user,  # type: ignore[arg-type]
            refresh_url=_absolute(request, "billing:earnings"),
            return_url=_absolute(request, "billing:earnings"),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("billing:earnings")
    return redirect(url)


class MarkupForm(forms.Form):
    markup_usd = forms.DecimalField(
        label=gettext_lazy("Your price (USD per million tokens)"),
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=6,
    )


@login_required
@require_POST
def earnings_prompt_markup(request: HttpRequest, prompt_uuid: Any) -> HttpResponse:
    prompt = selectors.prompt_of_creator(user=request.user, prompt_uuid=prompt_uuid)  # type: ignore[arg-type]
    form = MarkupForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a price in dollars per million tokens."))
        return redirect("billing:earnings")
    try:
        services.prompt_markup_set(
            prompt=prompt, markup_per_million=_dollars_to_micros(form.cleaned_data["markup_usd"])
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Saved the price of %(prompt)s.") % {"prompt": prompt.name})
    return redirect("billing:earnings")


# --- platform (staff) ------------------------------------------------------------------------


def _staff_only(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise Http404


@login_required
@require_GET
def platform(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    period = selectors.date_range_from(request.GET)
    report = selectors.usage_report_platform(period=period)
    return render(
        request,
        "billing/platform.html",
        {
            "report": report,
            "chart": report.chart_data(),
            "period": period,
            **selectors.platform_breakdowns(period=period),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


EXPORT_COLUMNS = [
    "created_at",
    "tenant",
    "user",
    "kind",
    "model",
    "prompt",
    "key_source",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "provider_cost_micros",
    "platform_fee_micros",
    "creator_fee_micros",
    "curator_fee_micros",
    "total_micros",
    "uncollected_micros",
]


@login_required
@require_GET
@rate_limit("export", key="user")
def platform_export(request: HttpRequest) -> StreamingHttpResponse:
    _staff_only(request)
    period = selectors.date_range_from(request.GET)
    records = selectors.platform_export_rows(period=period)
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(EXPORT_COLUMNS)
        for record in records.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    record.created_at.isoformat(),
                    record.tenant.slug,
                    record.user.email,
                    record.kind,
                    record.model_slug,
                    record.prompt.name if record.prompt else "",
                    record.key_source,
                    record.input_tokens,
                    record.output_tokens,
                    record.cached_tokens,
                    record.provider_cost,
                    record.platform_fee,
                    record.creator_fee,
                    record.curator_fee,
                    record.total,
                    record.uncollected,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    filename = f"spark-usage-{period.start}-{period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Stripe ----------------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["POST"])
@rate_limit("webhook", key="ip")
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify the signature, store the raw event, process it in a task; 400 if invalid."""
    try:
        payments.webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except InvalidWebhook:
        return HttpResponseBadRequest("invalid signature")
    except (InvalidOperation, ValueError):
        return HttpResponseBadRequest("invalid payload")
    return HttpResponse("ok")
