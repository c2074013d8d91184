"""Signal receivers: each hands the event to one service function, nothing more."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from security import services


@receiver(user_logged_in, dispatch_uid="security.sign_in")
def on_sign_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    services.sign_in_record(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="security.sign_out")
def on_sign_out(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    services.sign_out_record(request=request, user=user)


@receiver(user_login_failed, dispatch_uid="security.sign_in_failed")
def on_sign_in_failed(
    sender: Any, credentials: dict[str, Any] | None = None, request: Any = None, **kwargs: Any
) -> None:
    if request is None:  # authenticate() called outside a request (shell, tests): no client
        return
    credentials = credentials or {}
    account = str(credentials.get("email") or credentials.get("username") or "")
    services.auth_failure_record(request=request, account=account)
