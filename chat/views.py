"""Chat pages: the app shell (sidebar, conversation, composer) that the ES modules drive.

The pages render the data the browser starts with as JSON (``json_script``); every change
afterwards goes through the REST API and the WebSocket (or SSE), so there is one set of
rules: the services behind them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_http_methods

from accounts import selectors as account_selectors
from accounts.models import AlterEgo, User
from chat import selectors, services
from chat.api.serializers import (
    ConversationSerializer,
    FolderSerializer,
    MessageSerializer,
    message_context,
)
from chat.models import Conversation
from marketplace import selectors as marketplace_selectors
from marketplace.models import Prompt
from spark.common.exceptions import ApplicationError

SIDEBAR_CONVERSATIONS = 200
TOP_PROMPTS = 6


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _avatar_url(obj: Any) -> str | None:
    return obj.avatar.url if obj is not None and obj.avatar else None


def _alter_egos(user: User) -> list[dict[str, Any]]:
    return [
        {
            "id": str(alter_ego.uuid),
            "name": alter_ego.name,
            "description": alter_ego.description,
            "avatar_url": _avatar_url(alter_ego),
            "is_default": alter_ego.is_default,
        }
        for alter_ego in account_selectors.alter_ego_list(user=user)
    ]


def _model_choices(request: HttpRequest, prompt: Prompt | None) -> list[dict[str, Any]]:
    """The picker's choices, each with its price and whether the person can afford it now
    (from ``SPARK_CHAT_MODEL_OFFERS``: billing answers, chat does not import it)."""
    if prompt is not None:
        picked = [
            ({"id": choice.id, "name": choice.name, "is_default": choice.is_default}, choice.model)
            for choice in marketplace_selectors.prompt_model_choices(prompt=prompt)
        ]
    else:
        default = services.default_model()
        picked = [
            ({"id": m.slug, "name": m.display_name, "is_default": m.pk == default.pk}, m)
            for m in marketplace_selectors.active_models()
        ]
    offers: dict[str, Any] = {}
    if settings.SPARK_CHAT_MODEL_OFFERS:
        offers = import_string(settings.SPARK_CHAT_MODEL_OFFERS)(
            user=_user(request),
            tenant=getattr(request, "tenant", None),
            prompt=prompt,
            models=[model for _choice, model in picked],
        )
    choices = []
    for choice, model in picked:
        offer = offers.get(model.slug)
        choice["price"] = offer.price if offer else ""
        choice["affordable"] = offer.affordable if offer else True
        choice["topup_url"] = offer.topup_url if offer else ""
        choices.append(choice)
    return choices


def _prompt_data(prompt: Prompt | None, tenant: Any) -> dict[str, Any] | None:
    if prompt is None:
        return None
    return {
        "id": str(prompt.uuid),
        "key": marketplace_selectors.prompt_chat_key(prompt=prompt, tenant=tenant),
        "name": prompt.name,
        "description": prompt.description,
        "avatar_url": _avatar_url(prompt),
        "starters": [str(text) for text in prompt.starter_messages or []],
        "hide_model_name": prompt.hide_model_name,
        "forced": prompt.forced_model_id is not None,
    }


def chat_start_url(prompt: Prompt, tenant: Any) -> str:
    key = marketplace_selectors.prompt_chat_key(prompt=prompt, tenant=tenant)
    return f"{reverse('chat:new')}?{urlencode({'prompt': key})}"


def _app_context(
    request: HttpRequest,
    *,
    conversation: Conversation | None = None,
    prompt: Prompt | None = None,
    mode: str,
) -> dict[str, Any]:
    user = _user(request)
    tenant = getattr(request, "tenant", None)
    latest = selectors.conversation_list(user=user, pinned_first=True)
    conversations = list(latest[:SIDEBAR_CONVERSATIONS])
    page_size = max(1, min(settings.SPARK_CHAT_PAGE_MESSAGES, selectors.MESSAGE_PAGE_MAX))
    folders = list(selectors.folder_list(user=user))
    if conversation is not None:
        prompt = conversation.prompt
    config: dict[str, Any] = {
        "mode": mode,
        "sidebar": {
            "folders": FolderSerializer(folders, many=True).data,
            "conversations": ConversationSerializer(conversations, many=True).data,
            "complete": len(conversations) < SIDEBAR_CONVERSATIONS,
        },
        "prompt": _prompt_data(prompt, tenant),
        "alter_egos": _alter_egos(user),
        "conversation": None,
        "messages": [],
        "has_earlier": False,
        "page_size": page_size,
        "models": [],
        "urls": {
            "app": reverse("chat:app"),
            "new": reverse("chat:new"),
            "alter_egos": reverse("settings_alter_egos"),
            "topup": "",
        },
    }
    if mode in ("new", "conversation"):
        try:
            config["models"] = _model_choices(request, prompt)
        except ApplicationError:
            config["models"] = []
        config["urls"]["topup"] = next(
            (m["topup_url"] for m in config["models"] if m["topup_url"]), ""
        )
    if conversation is not None:
        # The latest page only (a streaming answer is the latest message, so it is there);
        # the app loads earlier pages through the API as the reader scrolls up.
        page = selectors.message_page(conversation=conversation, limit=page_size)
        config["conversation"] = ConversationSerializer(conversation).data
        config["messages"] = MessageSerializer(
            page.messages, many=True, context=message_context(page.messages)
        ).data
        config["has_earlier"] = page.has_earlier
    elif mode == "new":
        default = account_selectors.alter_ego_default_for_user(user=user)
        config["default_alter_ego"] = str(default.uuid) if default else None
    top_prompts = []
    if mode == "home":
        catalogue = marketplace_selectors.prompt_catalog(user=user, tenant=tenant)[:TOP_PROMPTS]
        top_prompts = [(p, chat_start_url(p, tenant)) for p in catalogue]
    if conversation is not None:
        selected_alter_ego = config["conversation"]["alter_ego"]
        selected_model = (config["conversation"]["model"] or {}).get("id")
    else:
        selected_alter_ego = config.get("default_alter_ego")
        selected_model = next((m["id"] for m in config["models"] if m["is_default"]), None)
    return {
        "chat_config": config,
        "conversation": conversation,
        "prompt": prompt,
        "prompt_data": config["prompt"],
        "mode": mode,
        "top_prompts": top_prompts,
        "alter_egos": config["alter_egos"],
        "models": config["models"],
        "selected_alter_ego": selected_alter_ego or "",
        "selected_model": selected_model or "",
    }


@login_required
def app(request: HttpRequest) -> HttpResponse:
    """The chat home: the sidebar, and a start screen with the catalogue's top prompts."""
    return render(request, "chat/app.html", _app_context(request, mode="home"))


def _prompt_from_query(request: HttpRequest, key: str) -> Prompt | None:
    if not key:
        return None
    return marketplace_selectors.prompt_get_for_chat(
        user=request.user, tenant=getattr(request, "tenant", None), slug_or_uuid=key
    )


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """A new chat, optionally with a prompt. GET creates nothing (links get prefetched);
    the conversation is created by POST (this page's form, or the API on the first message).
    """
    if request.method == "POST":
        return _create(request)
    prompt = _prompt_from_query(request, request.GET.get("prompt", "").strip())
    return render(request, "chat/app.html", _app_context(request, prompt=prompt, mode="new"))


def _create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    prompt = _prompt_from_query(request, request.POST.get("prompt", "").strip())
    alter_ego: AlterEgo | None = None
    alter_ego_key = request.POST.get("alter_ego", "").strip()
    if alter_ego_key:
        alter_ego = account_selectors.alter_ego_get_for_user(user=user, uuid=alter_ego_key)
    try:
        conversation = services.conversation_create(
            user=user,
            tenant=request.tenant,  # type: ignore[attr-defined]
            prompt=prompt,
            model_slug=request.POST.get("model", "").strip() or None,
            alter_ego=alter_ego,
        )
    except ApplicationError as error:
        context = _app_context(request, prompt=prompt, mode="new")
        context["error"] = error.message
        return render(request, "chat/app.html", context, status=400)
    return redirect("chat:conversation", conversation_uuid=conversation.uuid)


@login_required
def conversation(request: HttpRequest, conversation_uuid: str) -> HttpResponse:
    """One conversation: its messages (a streaming answer resumes), pickers, composer."""
    found = selectors.conversation_get_for_user(user=_user(request), uuid=conversation_uuid)
    return render(
        request, "chat/app.html", _app_context(request, conversation=found, mode="conversation")
    )
