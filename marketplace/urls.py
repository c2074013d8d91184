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
]
