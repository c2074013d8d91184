"""Tenant brand (logo, colours, forced theme), themes, tenant domains, branded email.

Built by its own issue; the app exists now so the layout shows the design."""
