"""WebSocket routes of every app, gathered in one list for spark.asgi."""

from django.urls import URLPattern, URLResolver

from chat.routing import websocket_urlpatterns as chat_websockets
from watchdog.routing import websocket_urlpatterns as watchdog_websockets

websocket_urlpatterns: list[URLPattern | URLResolver] = [*chat_websockets, *watchdog_websockets]
