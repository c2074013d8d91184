"""ASGI entry point: HTTP through Django, WebSockets through Channels with tenant scoping."""

import os

from django.core.asgi import get_asgi_application

from spark.server import leave_request_bodies_to_django

leave_request_bodies_to_django()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spark.settings.dev")

django_asgi_app = get_asgi_application()

from spark.common.checks import enforce_at_startup  # noqa: E402

# Daphne runs no system checks: a pool that the worker threads can starve refuses to start.
enforce_at_startup()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.middleware import ApiKeyAsgiMiddleware  # noqa: E402
from security.asgi import BannedClientAsgiMiddleware, CookieSocketOriginMiddleware  # noqa: E402
from spark.common.asgi import DatabaseUnavailableSocketMiddleware  # noqa: E402
from spark.routing import websocket_urlpatterns  # noqa: E402
from spark.tenancy.asgi import TenantScopeMiddleware  # noqa: E402

# Banned clients are turned away first, as the request filter does for HTTP; then browsers
# authenticate with the session cookie, integrations with a bearer API key (which replaces
# the cookie's user); a socket not authenticated by a key must come from a page of its own
# host (the Origin check that stands in for CSRF); and the connection's tenant is resolved
# and kept active for the consumer. A database that refuses work (overload, outage) closes
# the socket with an error frame and 4503, wherever it fails.
websocket_application = DatabaseUnavailableSocketMiddleware(
    BannedClientAsgiMiddleware(
        AuthMiddlewareStack(
            ApiKeyAsgiMiddleware(
                CookieSocketOriginMiddleware(
                    TenantScopeMiddleware(URLRouter(websocket_urlpatterns))
                )
            )
        )
    )
)

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})
