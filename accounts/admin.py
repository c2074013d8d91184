"""Admin console: users with their tenant and role, tenants with domains, API keys."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts import services, tenancy
from accounts.models import ApiKey, Membership, Tenant, TenantDomain, User


class UserAdminCreationForm(BaseUserCreationForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = ("email",)


class UserAdminChangeForm(UserChangeForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(admin.StackedInline[Membership, User]):
    model = Membership
    can_delete = False
    extra = 1
    max_num = 1
    autocomplete_fields = ["tenant"]
    verbose_name = _("home tenant and role")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    ordering = ["email"]
    list_display = [
        "email",
        "display_name",
        "tenant_name",
        "role",
        "is_staff",
        "is_active",
        "last_login",
    ]
    list_filter = [
        "is_staff",
        "is_superuser",
        "is_active",
        "login_methods",
        "llm_key_mode",
        "membership__role",
        "membership__tenant__kind",
    ]
    search_fields = ["email", "display_name", "membership__tenant__name"]
    list_select_related = ["membership__tenant"]
    readonly_fields = ["uuid", "last_login", "date_joined"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password", "uuid")}),
        (_("Profile"), {"fields": ("display_name", "language")}),
        (_("Sign-in"), {"fields": ("login_methods", "can_change_password")}),
        (_("Provider keys"), {"fields": ("llm_key_mode",)}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
        (_("Sign-in"), {"fields": ("login_methods", "can_change_password")}),
    )

    @admin.display(description=_("tenant"), ordering="membership__tenant__name")
    def tenant_name(self, obj: User) -> str:
        membership = getattr(obj, "membership", None)
        return membership.tenant.name if membership else "—"

    @admin.display(description=_("role"), ordering="membership__role")
    def role(self, obj: User) -> str:
        membership = getattr(obj, "membership", None)
        return membership.get_role_display() if membership else "—"

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.membership_ensure(user=form.instance, tenant=tenancy.public_tenant())
        tenancy.forget_user(form.instance.pk)


class TenantDomainInline(admin.TabularInline[TenantDomain, Tenant]):
    model = TenantDomain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin[Tenant]):
    list_display = [
        "name",
        "slug",
        "kind",
        "is_active",
        "allows_signup",
        "member_count",
        "created_at",
    ]
    list_filter = ["kind", "is_active", "allows_signup"]
    search_fields = ["name", "slug", "domains__host"]
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["uuid", "created_at", "updated_at"]
    inlines = [TenantDomainInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return super().get_queryset(request).annotate(_member_count=Count("memberships"))

    @admin.display(description=_("members"), ordering="_member_count")
    def member_count(self, obj: Tenant) -> int:
        return int(getattr(obj, "_member_count", 0))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.tenant_forget_cached(tenant=form.instance)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = ["name", "prefix", "user", "tenant", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["tenant", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__email"]
    list_select_related = ["user", "tenant"]
    readonly_fields = [
        "uuid",
        "tenant",
        "user",
        "prefix",
        "key_hash",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are created by their owner, who sees the secret once

    @admin.action(description=_("Revoke selected keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset.filter(revoked_at__isnull=True):
            services.api_key_revoke(api_key=api_key, actor=request.user, request=request)  # type: ignore[arg-type]
        messages.success(request, _("The selected keys were revoked."))
