"""Pre-watchdog and security guard, post-watchdog, escalation, dashboards.

Built by its own issue; the app exists now so the layout shows the design."""
