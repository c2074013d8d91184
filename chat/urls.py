from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("chat/", views.app, name="app"),
    path("chat/new/", views.new, name="new"),
    path("chat/<uuid:conversation_uuid>/", views.conversation, name="conversation"),
]
