"""The watchdog's pages for creators."""

from django.urls import path

from watchdog import views

app_name = "watchdog"

urlpatterns = [
    path(
        "creator/prompts/<uuid:prompt_uuid>/watchdog/",
        views.creator_policy,
        name="creator_policy",
    ),
]
