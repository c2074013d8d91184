"""Prompts as products: categories, entitlements, landing pages, domains, analytics.

Built by its own issue; the app exists now so the layout shows the design."""
