"""Security: the request filter and bans, rate-limit policy, SSRF-safe fetching, safe
uploads, the audit log and the audited admin console. See docs/security.md."""
