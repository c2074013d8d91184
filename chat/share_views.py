"""The shared-link pages: a read-only snapshot anyone with the link may read, and
"continue this conversation" for a signed-in reader (a copy of their own).

The page is ``noindex``, sends its URL (which holds the token) as referrer to no other
site (``same-origin``: its own forms still pass the CSRF origin check) and is not cached,
so a revoked link is a 404 at once.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from chat import selectors, services
from chat.models import ConversationShare
from marketplace.models import Prompt
from marketplace.selectors import prompt_get_for_chat


def _share(request: HttpRequest, token: str) -> ConversationShare:
    return selectors.share_get_by_token(
        token=token,
        site=getattr(request, "tenant_site", None),
        viewer_tenant=getattr(request, "tenant", None),
        viewer=request.user,
    )


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    """The snapshot, read-only, for anyone with the link (no sign-in needed)."""
    share = _share(request, token)
    context: dict[str, Any] = {
        "share": share,
        "shared_messages": share.messages,
        "can_continue": request.user.is_authenticated,
    }
    return _private(render(request, "chat/share.html", context))


def _prompt_for(request: HttpRequest, share: ConversationShare) -> Prompt | None:
    """The shared conversation's prompt, when this reader may chat with it."""
    if not share.prompt_key:
        return None
    try:
        return prompt_get_for_chat(
            user=request.user,
            tenant=getattr(request, "tenant", None),
            slug_or_uuid=share.prompt_key,
        )
    except Http404:
        return None


@login_required
@require_POST
def share_continue(request: HttpRequest, token: str) -> HttpResponse:
    """Copy the snapshot into a conversation of the reader's own, in their tenant."""
    share = _share(request, token)
    user = request.user
    assert isinstance(user, User)
    conversation = services.conversation_copy_from_share(
        share=share,
        user=user,
        tenant=request.tenant,  # type: ignore[attr-defined]
        prompt=_prompt_for(request, share),
    )
    return redirect("chat:conversation", conversation_uuid=conversation.uuid)
