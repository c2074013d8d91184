from django.urls import path

from accounts.api import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api_me"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="api_keys"),
    path("api-keys/<uuid:key_id>/", views.ApiKeyDetailView.as_view(), name="api_key_detail"),
    path("alter-egos/", views.AlterEgoListView.as_view(), name="api_alter_egos"),
    path(
        "alter-egos/<uuid:alter_ego_id>/",
        views.AlterEgoDetailView.as_view(),
        name="api_alter_ego_detail",
    ),
]
