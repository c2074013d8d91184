"""Marketplace pages: the catalogue and the creator's prompts."""

from django.urls import path

from marketplace import views

app_name = "marketplace"

urlpatterns = [
    path("prompts/", views.catalog, name="catalog"),
    # Internal: the TLS proxy's on-demand certificate check (never routed publicly).
    path("internal/tls/ask", views.tls_ask, name="tls_ask"),
    path("creator/prompts/", views.creator_prompt_list, name="creator_prompts"),
    path("creator/prompts/new/", views.creator_prompt_create, name="creator_prompt_create"),
    path(
        "creator/prompts/<uuid:prompt_uuid>/edit/",
        views.creator_prompt_edit,
        name="creator_prompt_edit",
    ),
    path(
        "creator/prompts/<uuid:prompt_uuid>/page/",
        views.creator_landing_page,
        name="creator_landing_page",
    ),
    path(
        "creator/prompts/<uuid:prompt_uuid>/page/wizard/",
        views.creator_landing_wizard,
        name="creator_landing_wizard",
    ),
    path(
        "creator/prompts/<uuid:prompt_uuid>/page/publish/",
        views.creator_landing_publish,
        name="creator_landing_publish",
    ),
    path(
        "creator/prompts/<uuid:prompt_uuid>/page/unpublish/",
        views.creator_landing_unpublish,
        name="creator_landing_unpublish",
    ),
    path(
        "creator/prompts/<uuid:prompt_uuid>/stats/",
        views.creator_prompt_stats,
        name="creator_prompt_stats",
    ),
]
