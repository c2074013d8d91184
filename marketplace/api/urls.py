from django.urls import path

from marketplace.api import views

urlpatterns = [
    path("prompts/", views.PromptListView.as_view(), name="api_prompts"),
    path("prompts/<str:key>/", views.PromptDetailView.as_view(), name="api_prompt_detail"),
    path("models/", views.ModelListView.as_view(), name="api_models"),
    path("domains/", views.DomainListView.as_view(), name="api_domains"),
    path("domains/<uuid:uuid>/", views.DomainDetailView.as_view(), name="api_domain_detail"),
    path("domains/<uuid:uuid>/verify/", views.DomainVerifyView.as_view(), name="api_domain_verify"),
    path(
        "domains/<uuid:uuid>/activate/",
        views.DomainActivateView.as_view(),
        name="api_domain_activate",
    ),
]
