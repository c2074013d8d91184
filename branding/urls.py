from django.urls import path

from branding import views

urlpatterns = [
    path("theme/", views.theme_set, name="theme_set"),
    path("settings/appearance/", views.settings_appearance, name="settings_appearance"),
]
