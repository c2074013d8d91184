"""Clients of third-party services the security layer talks to (fixed, configured URLs)."""
