"""Spark's admin console: branded, audited, unscoped for staff, signing in through allauth.

Every ModelAdmin registered on this site (Spark's and third-party ones alike) is wrapped
with ``AuditedModelAdminMixin``, so every add, change, delete and action done in the
admin lands in the audit log with who, what, when and from which IP. With
``SPARK_STAFF_MFA_REQUIRED`` on, staff without an authenticator app (TOTP) are sent to set
one up before any console page opens.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext_lazy as _

from security import selectors
from security.models import AuditLogEntry
from security.services import audit_record
from spark.tenancy.context import unscoped

MAX_AUDITED_PKS = 500


def _with_audit(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(func)
    def audited(
        modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
    ) -> Any:
        pks = [str(pk) for pk in queryset.values_list("pk", flat=True)[:MAX_AUDITED_PKS]]
        audit_record(
            source=AuditLogEntry.Source.ADMIN,
            action=AuditLogEntry.Action.ACTION,
            request=request,
            object_repr=f"{name} on {len(pks)} {modeladmin.model._meta.verbose_name_plural}",
            changes={"action": name, "model": modeladmin.model._meta.label, "pks": pks},
        )
        return func(modeladmin, request, queryset)

    return audited


class AuditedModelAdminMixin:
    """Records admin additions, changes, deletions and actions in the audit log."""

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        audit_record(
            source=AuditLogEntry.Source.ADMIN,
            action=AuditLogEntry.Action.ADD,
            request=request,
            obj=obj,
            changes={"message": message},
        )
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        audit_record(
            source=AuditLogEntry.Source.ADMIN,
            action=AuditLogEntry.Action.CHANGE,
            request=request,
            obj=obj,
            changes={"message": message},
        )
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            audit_record(
                source=AuditLogEntry.Source.ADMIN,
                action=AuditLogEntry.Action.DELETE,
                request=request,
                obj=obj,
            )
        return super().log_deletions(request, queryset)  # type: ignore[misc]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)  # type: ignore[misc]
        audited = {}
        for name, (func, action_name, description) in actions.items():
            # Deletions are recorded per object by log_deletions, once confirmed.
            wrapped = func if name == "delete_selected" else _with_audit(name, func)
            audited[name] = (wrapped, action_name, description)
        return audited


class SparkAdminSite(admin.AdminSite):
    site_header = _("Spark console")
    site_title = _("Spark console")
    index_title = _("Platform administration")

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedModelAdminMixin):
            admin_class = type(
                f"Audited{admin_class.__name__}", (AuditedModelAdminMixin, admin_class), {}
            )
        super().register(model_or_iterable, admin_class, **options)

    def admin_view(  # type: ignore[override]
        self, view: Callable[..., Any], cacheable: bool = False
    ) -> Callable[..., Any]:
        """Staff see every tenant's rows: the admin runs with tenant scoping disabled."""
        protected = super().admin_view(view, cacheable)

        @wraps(protected)
        def unscoped_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if self.needs_mfa_setup(request):
                setup = reverse("mfa_activate_totp")
                return HttpResponseRedirect(
                    f"{setup}?{urlencode({'next': request.get_full_path()})}"
                )
            with unscoped():
                return protected(request, *args, **kwargs)

        return unscoped_view

    def needs_mfa_setup(self, request: HttpRequest) -> bool:
        """Staff must have TOTP before the console opens, when SPARK_STAFF_MFA_REQUIRED."""
        user = request.user
        if not settings.SPARK_STAFF_MFA_REQUIRED or not user.is_authenticated:
            return False
        if not user.is_staff:
            return False
        return not Authenticator.objects.filter(
            user_id=user.pk, type=Authenticator.Type.TOTP
        ).exists()

    def get_urls(self) -> list[URLResolver | URLPattern]:
        extra: list[URLResolver | URLPattern] = [
            path(
                "security-overview/",
                self.admin_view(self.security_overview),
                name="security_overview",
            )
        ]
        return extra + super().get_urls()

    def security_overview(self, request: HttpRequest) -> HttpResponse:
        """Top offenders, rule hit counts and recent security events on one page."""
        context = {
            **self.each_context(request),
            "title": _("Security overview"),
            "offenders": selectors.top_offenders(),
            "categories": selectors.category_hit_counts(),
            "rules": selectors.rule_hit_counts(),
            "events": selectors.recent_security_events(),
        }
        return render(request, "admin/security/overview.html", context)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """One sign-in for everything: allauth's (rate limits, MFA), then back here."""
        if request.user.is_authenticated and not request.user.is_staff:
            return render(
                request,
                "errors/403.html",
                {"message": _("The console is for platform staff. Your account is not staff.")},
                status=403,
            )
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
