from django.urls import path

from security import views

urlpatterns = [
    path("files/<str:token>/", views.file_download, name="file_download"),
]
