from django.urls import path

from watchdog.consumers import WatchdogAdminConsumer

websocket_urlpatterns = [
    path("ws/admin/watchdog/", WatchdogAdminConsumer.as_asgi()),
]
