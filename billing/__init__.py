"""Ledger, pricing, usage, Stripe, budgets, auto-refill, coupons, payouts.

Built by its own issue; the app exists now so the layout shows the design."""
