"""Billing pages in the navigation (SPARK_NAVIGATION), each shown to whom it opens for.

Usage: everyone. Wallet: people who pay for themselves (a team's members are paid for).
Team billing: the owners and managers of a team (not of the public tenant, where
everyone pays for themselves). Earnings:
creators (people with a prompt, or with money earned). Platform revenue: staff.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Tenant
from billing import policy, selectors
from billing.models import Account
from marketplace.models import Prompt
from spark.common.navigation import NavLink
from spark.tenancy.context import unscoped


def _is_creator(user: Any) -> bool:
    with unscoped():
        return (
            Prompt.objects.filter(owner=user).exists()
            # Opening the earnings page creates an empty account: only money makes a creator.
            or Account.objects.filter(kind=Account.Kind.CREATOR_EARNINGS, user=user)
            .exclude(balance=0)
            .exists()
        )


def nav_links(request: HttpRequest) -> list[NavLink]:
    user = request.user
    tenant = getattr(request, "tenant", None)
    links = [NavLink("usage", _("Usage"), reverse("billing:my_usage"), 40)]
    pays_for_self = tenant is None or (
        policy.payer_kind(tenant, policy.tenant_policy(tenant)) == "user"
    )
    if pays_for_self:
        links.append(NavLink("wallet", _("Wallet"), reverse("billing:wallet"), 50))
    manages = selectors.manager_membership(user=user, tenant=tenant) is not None  # type: ignore[arg-type]
    if manages and tenant is not None and tenant.kind != Tenant.Kind.PUBLIC:
        links.append(NavLink("team_billing", _("Team billing"), reverse("billing:team"), 55))
    if _is_creator(user):
        links.append(NavLink("earnings", _("Earnings"), reverse("billing:earnings"), 60))
    if user.is_staff:
        links.append(NavLink("platform", _("Platform revenue"), reverse("billing:platform"), 70))
    return links
