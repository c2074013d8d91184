"""Tenant isolation: the scope context, middleware, consumer mixin, task base, API mixin, checks.

Built on django-scopes (ContextVar based, fail-closed): with no tenant scope active, a
query through a scoped manager raises instead of returning every tenant's rows.
"""
