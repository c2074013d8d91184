from django.urls import path

from accounts.api import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api_me"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="api_keys"),
    path("api-keys/<uuid:key_id>/", views.ApiKeyDetailView.as_view(), name="api_key_detail"),
    path("provider-keys/", views.ProviderKeyListView.as_view(), name="api_provider_keys"),
    path(
        "provider-keys/<uuid:key_id>/",
        views.ProviderKeyDetailView.as_view(),
        name="api_provider_key_detail",
    ),
    path(
        "provider-keys/<uuid:key_id>/test/",
        views.ProviderKeyTestView.as_view(),
        name="api_provider_key_test",
    ),
    path("alter-egos/", views.AlterEgoListView.as_view(), name="api_alter_egos"),
    path(
        "alter-egos/<uuid:alter_ego_id>/",
        views.AlterEgoDetailView.as_view(),
        name="api_alter_ego_detail",
    ),
]
