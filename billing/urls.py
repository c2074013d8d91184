from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("my-usage", views.my_usage, name="my_usage"),
    path("billing/wallet/", views.wallet, name="wallet"),
    path("billing/topup/", views.topup, name="topup"),
    path("billing/topup/done/", views.topup_done, name="topup_done"),
    path("billing/team/", views.team, name="team"),
    path("billing/team/topup/", views.team_topup, name="team_topup"),
    path("billing/team/caps/<uuid:user_uuid>/", views.team_cap, name="team_cap"),
    path("billing/team/auto-refill/", views.team_auto_refill, name="team_auto_refill"),
    path("billing/team/card/", views.team_card, name="team_card"),
    path("billing/earnings/", views.earnings, name="earnings"),
    path("billing/earnings/connect/", views.earnings_connect, name="earnings_connect"),
    path(
        "billing/earnings/prompts/<uuid:prompt_uuid>/markup/",
        views.earnings_prompt_markup,
        name="earnings_prompt_markup",
    ),
    path("billing/platform/", views.platform, name="platform"),
    path("billing/platform/export.csv", views.platform_export, name="platform_export"),
    path("billing/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
