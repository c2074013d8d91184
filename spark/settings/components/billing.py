"""Billing: Stripe keys and endpoints, top-up bounds, payouts, estimates, sign-up credit."""

from decimal import Decimal

from spark.settings.components import env

# Stripe's secret API key (sk_live_... / sk_test_...); empty disables payments.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
# The signing secret of the webhook endpoint (/billing/stripe/webhook/), whsec_...
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Stripe's API base URL (change only to point at a fake in tests or staging).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
# Top-ups through Checkout, in whole US dollars.
SPARK_TOPUP_MIN_USD = env.int("SPARK_TOPUP_MIN_USD", default=5)
SPARK_TOPUP_MAX_USD = env.int("SPARK_TOPUP_MAX_USD", default=500)
# Creators are paid when their available earnings reach this (US dollars).
SPARK_PAYOUT_THRESHOLD_USD = env.int("SPARK_PAYOUT_THRESHOLD_USD", default=50)
# Days earnings stay pending (the dispute window) before they can be paid out.
SPARK_EARNINGS_HOLD_DAYS = env.int("SPARK_EARNINGS_HOLD_DAYS", default=7)
# The most one answer's estimate may reserve (US dollars; 0 = no cap).
SPARK_BILLING_ESTIMATE_CAP_USD = Decimal(env.str("SPARK_BILLING_ESTIMATE_CAP_USD", default="5"))
# Promotional credit every new wallet starts with (US dollars; 0 = none).
SPARK_SIGNUP_CREDIT_USD = Decimal(env.str("SPARK_SIGNUP_CREDIT_USD", default="0"))
# The monthly cap (US dollars) a team member starts with on the team wallet; their cap row
# is made at their first draw. "none": no limit until a manager sets one.
_MEMBER_CAP = env.str("SPARK_BILLING_MEMBER_CAP_DEFAULT_USD", default="50").strip().lower()
SPARK_BILLING_MEMBER_CAP_DEFAULT_USD = None if _MEMBER_CAP in ("", "none") else Decimal(_MEMBER_CAP)
# Holds older than this are released by a sweeper (an answer's process died), in seconds.
SPARK_BILLING_HOLD_TTL_SECONDS = env.int("SPARK_BILLING_HOLD_TTL_SECONDS", default=900)

# Billing's tasks run on their own Celery queue.
CELERY_TASK_ROUTES = {"billing.tasks.*": {"queue": "billing"}}
# Settling an answer retries a transient database error (serialization failure, deadlock,
# lock timeout, lost connection) after each of these delays (seconds, comma-separated);
# after the last, the charge is left as a to-settle row for the settlement task.
SPARK_BILLING_SETTLE_RETRY_DELAYS = tuple(
    float(delay)
    for delay in env.list("SPARK_BILLING_SETTLE_RETRY_DELAYS", default=["0.05", "0.2", "1"])
)
