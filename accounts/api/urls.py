from django.urls import path

from accounts.api import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api_me"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="api_keys"),
    path("api-keys/<uuid:key_id>/", views.ApiKeyDetailView.as_view(), name="api_key_detail"),
]
