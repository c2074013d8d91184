from django.urls import path

from chat import share_views, views

app_name = "chat"

urlpatterns = [
    path("chat/", views.app, name="app"),
    path("chat/new/", views.new, name="new"),
    path("chat/<uuid:conversation_uuid>/", views.conversation, name="conversation"),
    path("s/<str:token>/", share_views.share_page, name="share"),
    path("s/<str:token>/continue/", share_views.share_continue, name="share_continue"),
]
