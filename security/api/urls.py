from django.urls import path

from security.api import views

urlpatterns = [
    path("files/", views.FileListView.as_view(), name="api_files"),
    path("files/<uuid:file_id>/", views.FileDetailView.as_view(), name="api_file_detail"),
]
