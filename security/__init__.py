"""Security: the audit log and the audited admin console (request filter, bans, SSRF-safe
fetching and uploads arrive with the security layer)."""
