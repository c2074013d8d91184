from django.urls import path

from marketplace.api import views

urlpatterns = [
    path("prompts/", views.PromptListView.as_view(), name="api_prompts"),
    path("prompts/<str:key>/", views.PromptDetailView.as_view(), name="api_prompt_detail"),
    path("models/", views.ModelListView.as_view(), name="api_models"),
]
