from django.urls import path

from chat.api import shares, streaming, views

urlpatterns = [
    path("conversations/", views.ConversationListView.as_view(), name="api_conversations"),
    path(
        "conversations/<uuid:conversation_id>/",
        views.ConversationDetailView.as_view(),
        name="api_conversation_detail",
    ),
    path(
        "conversations/<uuid:conversation_id>/messages/",
        streaming.MessageListView.as_view(),
        name="api_conversation_messages",
    ),
    path(
        "conversations/<uuid:conversation_id>/messages/<uuid:message_id>/regenerate/",
        streaming.RegenerateView.as_view(),
        name="api_message_regenerate",
    ),
    path(
        "conversations/<uuid:conversation_id>/messages/<uuid:message_id>/feedback/",
        views.MessageFeedbackView.as_view(),
        name="api_message_feedback",
    ),
    path(
        "conversations/<uuid:conversation_id>/cancel/",
        streaming.CancelView.as_view(),
        name="api_conversation_cancel",
    ),
    path(
        "conversations/<uuid:conversation_id>/events/",
        streaming.EventsView.as_view(),
        name="api_conversation_events",
    ),
    path(
        "conversations/<uuid:conversation_id>/shares/",
        shares.ShareListView.as_view(),
        name="api_conversation_shares",
    ),
    path(
        "conversations/<uuid:conversation_id>/shares/<uuid:share_id>/",
        shares.ShareDetailView.as_view(),
        name="api_conversation_share_detail",
    ),
    path("folders/", views.FolderListView.as_view(), name="api_folders"),
    path("folders/reorder/", views.FolderReorderView.as_view(), name="api_folders_reorder"),
    path("folders/<uuid:folder_id>/", views.FolderDetailView.as_view(), name="api_folder_detail"),
    path("search/", views.SearchView.as_view(), name="api_search"),
]
