"""The landing origin's URLs (served by marketplace.middleware.LandingMiddleware only)."""

from django.urls import path

from marketplace import landing_views

urlpatterns = [
    path("", landing_views.page, name="landing_page"),
    path("start", landing_views.start, name="landing_start"),
    path("robots.txt", landing_views.robots, name="landing_robots"),
    path("assets/spark-landing.css", landing_views.base_stylesheet, name="landing_base_css"),
    path("assets/<str:digest>.css", landing_views.stylesheet, name="landing_stylesheet"),
    path("_preview/<str:token>/", landing_views.preview, name="landing_preview"),
]
