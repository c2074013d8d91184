"""Users, tenants, memberships and roles, sign-in adapters, the peppered hasher, API keys."""
