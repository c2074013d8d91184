"""Demo money `make run` seeds: a small credit so the priced demo model can be tried.

Through the ledger's services like any grant (a balanced transaction from promotional
credit), once per account: the idempotency key makes running the seeder again a no-op.
"""

from __future__ import annotations

from accounts.demo import DEMO_USERS
from accounts.models import User
from billing import policy, services
from billing.models import MICROS_PER_USD
from spark.tenancy.context import unscoped

DEMO_CREDIT = 2 * MICROS_PER_USD  # $2: a few hundred answers of "Demo Plus"


def seed_demo_credit() -> list[str]:
    """SPARK_DEMO_SEEDERS entry (after the accounts seeder): credit who pays for themselves."""
    credited = []
    for spec in DEMO_USERS:
        with unscoped():
            user = User.objects.filter(email=spec.email).first()
            tenant = user.membership.tenant if user is not None else None
        if user is None or tenant is None:
            continue
        if policy.payer_kind(tenant, policy.tenant_policy(tenant)) != "user":
            continue  # a team member: the team's wallet pays
        services.wallet_grant(
            user=user,
            amount=DEMO_CREDIT,
            reason="Demo credit",
            idempotency_key=f"demo-credit:{user.pk}",
        )
        credited.append(spec.email)
    return [f"Demo wallets hold {services.usd(DEMO_CREDIT)} of credit: {', '.join(credited)}"]
