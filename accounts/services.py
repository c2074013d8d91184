"""Writes for accounts: users and memberships, tenants, API keys, email sign-in links."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TypedDict, Unpack
from urllib.parse import urlencode

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.base import File
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from sesame.utils import get_query_string

from accounts import tenancy
from accounts.avatars import avatar_clean, avatar_delete_on_commit
from accounts.models import AlterEgo, ApiKey, Membership, Tenant, TenantDomain, User
from security.models import AuditLogEntry
from security.services import audit_record
from spark.common.exceptions import ApplicationError
from spark.llm import services as llm_services
from spark.llm.models import KeyMode, UserProviderKey
from spark.tenancy.context import unscoped

API_KEY_PREFIX = "spk"
API_KEY_LAST_USED_RESOLUTION = timedelta(minutes=1)
MAGIC_LINK_SCOPE = "magic-link"


# --- tenants ---------------------------------------------------------------------------


@transaction.atomic
def tenant_create(
    *, name: str, slug: str, kind: str, allows_signup: bool = True, domains: tuple[str, ...] = ()
) -> Tenant:
    if kind == Tenant.Kind.PUBLIC:
        raise ApplicationError(_("There is only one public tenant."), code="public_tenant_exists")
    tenant = Tenant.objects.create(name=name, slug=slug, kind=kind, allows_signup=allows_signup)
    with unscoped():
        for index, host in enumerate(domains):
            TenantDomain.objects.create(tenant=tenant, host=host.lower(), is_primary=index == 0)
    hosts = [host.lower() for host in domains]
    transaction.on_commit(lambda: _forget_hosts(hosts))
    return tenant


def _forget_hosts(hosts: list[str]) -> None:
    for host in hosts:
        tenancy.forget_host(host)


def tenant_forget_cached(*, tenant: Tenant) -> None:
    """After a tenant or its domains change (admin), drop cached lookups."""
    tenancy.forget_tenant(tenant.pk)
    with unscoped():
        for host in TenantDomain.objects.filter(tenant=tenant).values_list("host", flat=True):
            tenancy.forget_host(host)


# --- users and memberships -------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    email: str,
    tenant: Tenant,
    password: str | None = None,
    role: str = Membership.Role.MEMBER,
    display_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    email_verified: bool = False,
    login_methods: str = User.LoginMethods.BOTH,
) -> User:
    """A user, their home membership and their primary email address."""
    user = User.objects.create_user(
        email=email,
        password=password,
        display_name=display_name,
        is_staff=is_staff,
        is_superuser=is_superuser,
        login_methods=login_methods,
    )
    membership_set(user=user, tenant=tenant, role=role)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=email_verified)
    return user


@transaction.atomic
def membership_set(
    *,
    user: User,
    tenant: Tenant,
    role: str = Membership.Role.MEMBER,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> Membership:
    """Make ``tenant`` the user's home tenant with ``role`` (creating or moving it).

    A change of role or tenant of an existing membership is audit-logged.
    """
    if role not in Membership.Role.values:
        raise ApplicationError(_("Unknown role."), code="invalid_role")
    with unscoped():
        before = Membership.objects.filter(user=user).values("tenant_id", "role").first()
        membership, _created = Membership.objects.update_or_create(
            user=user, defaults={"tenant": tenant, "role": role}
        )
    if before is not None and (before["tenant_id"], before["role"]) != (tenant.pk, role):
        audit_record(
            source=AuditLogEntry.Source.APP,
            action=AuditLogEntry.Action.ROLE_CHANGE,
            request=request,
            actor=actor,
            obj=membership,
            changes={
                "user": user.email,
                "role": [before["role"], role],
                "tenant": [before["tenant_id"], tenant.pk],
            },
        )
    transaction.on_commit(lambda: tenancy.forget_user(user.pk))
    return membership


def membership_ensure(*, user: User, tenant: Tenant) -> Membership:
    """The user's membership, creating one in ``tenant`` if they have none yet."""
    with unscoped():
        existing = Membership.objects.filter(user=user).select_related("tenant").first()
    return existing or membership_set(user=user, tenant=tenant)


def user_may_manage(*, actor: User, user: User) -> bool:
    """Platform staff manage everyone; an owner or manager manages their tenant's users."""
    if actor.is_staff:
        return True
    with unscoped():
        memberships = {
            m.user_id: m for m in Membership.objects.filter(user_id__in=[actor.pk, user.pk])
        }
    mine, theirs = memberships.get(actor.pk), memberships.get(user.pk)
    return bool(mine and theirs and mine.can_manage and mine.tenant_id == theirs.tenant_id)


def user_set_key_mode(*, actor: User, user: User, mode: str) -> User:
    """Set whose provider keys the user's chats use (own only, platform only, own first)."""
    if mode not in KeyMode.values:
        raise ApplicationError(_("Unknown key mode."), code="invalid_key_mode")
    if not user_may_manage(actor=actor, user=user):
        raise ApplicationError(
            _("Only staff or the user's manager can change their key mode."),
            code="permission_denied",
            status_code=403,
        )
    if user.llm_key_mode != mode:
        user.llm_key_mode = mode
        user.save(update_fields=["llm_key_mode"])
    return user


# --- provider keys (BYOK) -------------------------------------------------------------------


def provider_key_add(
    *, user: User, provider: str, api_key: str, label: str = ""
) -> UserProviderKey:
    """Store one of the user's own provider keys, in their home tenant."""
    return llm_services.provider_key_create(
        tenant=tenancy.home_tenant(user),
        user=user,
        provider=provider,
        api_key=api_key,
        label=label,
    )


# --- API keys ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _new_raw_key() -> tuple[str, str]:
    prefix = secrets.token_hex(4)
    return prefix, f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


def api_key_create(*, user: User, name: str, request: HttpRequest | None = None) -> CreatedApiKey:
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the key a name."), code="invalid_name")
    if len(name) > ApiKey._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ApplicationError(_("That name is too long."), code="invalid_name")
    tenant = tenancy.home_tenant(user)
    prefix, raw = _new_raw_key()
    with unscoped():
        api_key = ApiKey.objects.create(
            tenant=tenant, user=user, name=name, prefix=prefix, key_hash=api_key_hash(raw)
        )
    audit_record(
        source=AuditLogEntry.Source.APP,
        action=AuditLogEntry.Action.API_KEY_CREATE,
        request=request,
        actor=user,
        obj=api_key,
    )
    return CreatedApiKey(api_key=api_key, raw_key=raw)


def api_key_revoke(
    *, api_key: ApiKey, actor: User | None = None, request: HttpRequest | None = None
) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            source=AuditLogEntry.Source.APP,
            action=AuditLogEntry.Action.API_KEY_REVOKE,
            request=request,
            actor=actor,
            obj=api_key,
        )
    return api_key


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key`` (with its user), recording when it was used."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    with unscoped():
        api_key = (
            ApiKey.objects.select_related("user", "tenant")
            .filter(prefix=parts[1], revoked_at__isnull=True)
            .first()
        )
    if api_key is None or not hmac.compare_digest(api_key.key_hash, api_key_hash(raw_key)):
        return None
    if not api_key.user.is_active or not api_key.tenant.is_active:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > API_KEY_LAST_USED_RESOLUTION:
        with unscoped():
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --- alter egos --------------------------------------------------------------------------

MAX_ALTER_EGOS_PER_USER = 20


class AlterEgoFields(TypedDict, total=False):
    name: str
    description: str
    avatar: File | None  # type: ignore[type-arg]  # None clears it
    is_default: bool


def _alter_ego_invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", code="invalid", details={field: [message]})


def _alter_ego_apply(alter_ego: AlterEgo, fields: AlterEgoFields) -> None:
    unknown = set(fields) - set(AlterEgoFields.__annotations__)
    if unknown:
        raise TypeError(f"unknown alter ego fields: {sorted(unknown)}")
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not name:
            raise _alter_ego_invalid("name", _("Give the alter ego a name."))
        if len(name) > AlterEgo._meta.get_field("name").max_length:  # type: ignore[operator]
            raise _alter_ego_invalid("name", _("That name is too long."))
        alter_ego.name = name
    if "description" in fields:
        description = (fields["description"] or "").strip()
        if len(description) > AlterEgo._meta.get_field("description").max_length:  # type: ignore[operator]
            raise _alter_ego_invalid("description", _("That description is too long."))
        alter_ego.description = description
    if "avatar" in fields:
        previous = alter_ego.avatar.name if alter_ego.avatar else ""
        upload = fields["avatar"]
        if upload:
            cleaned = avatar_clean(upload)
            alter_ego.avatar.save(cleaned.name or "avatar.webp", cleaned, save=False)
        else:
            alter_ego.avatar = ""  # type: ignore[assignment]
        avatar_delete_on_commit(previous)


def _alter_ego_lock_user(user: User) -> None:
    """Serialise default changes of one user (the one-default constraint would race)."""
    User.objects.select_for_update().filter(pk=user.pk).first()


@transaction.atomic
def alter_ego_create(*, user: User, **fields: Unpack[AlterEgoFields]) -> AlterEgo:
    """A new persona for ``user`` in their home tenant; ``is_default`` moves the default."""
    _alter_ego_lock_user(user)
    with unscoped():
        if AlterEgo.objects.filter(user=user).count() >= MAX_ALTER_EGOS_PER_USER:
            raise ApplicationError(
                _("You can keep up to %(count)d alter egos.") % {"count": MAX_ALTER_EGOS_PER_USER},
                code="too_many_alter_egos",
            )
        alter_ego = AlterEgo(tenant=tenancy.home_tenant(user), user=user)
        _alter_ego_apply(alter_ego, {"name": "", **fields})
        is_default = bool(fields.get("is_default", False))
        if is_default:
            AlterEgo.objects.filter(user=user, is_default=True).update(is_default=False)
        alter_ego.is_default = is_default
        alter_ego.save()
    return alter_ego


@transaction.atomic
def alter_ego_update(*, alter_ego: AlterEgo, **fields: Unpack[AlterEgoFields]) -> AlterEgo:
    """Change the given fields; making it the default takes the default from the others."""
    _alter_ego_lock_user(alter_ego.user)
    _alter_ego_apply(alter_ego, fields)
    with unscoped():
        if fields.get("is_default"):
            AlterEgo.objects.filter(user_id=alter_ego.user_id, is_default=True).exclude(
                pk=alter_ego.pk
            ).update(is_default=False)
            alter_ego.is_default = True
        elif "is_default" in fields:
            alter_ego.is_default = False
        alter_ego.save()
    return alter_ego


def alter_ego_set_default(*, alter_ego: AlterEgo) -> AlterEgo:
    """Make this the persona new chats start with (the user's other one stops being it)."""
    return alter_ego_update(alter_ego=alter_ego, is_default=True)


@transaction.atomic
def alter_ego_delete(*, alter_ego: AlterEgo) -> None:
    """Delete it (chats that used it keep going without a persona) and its avatar file."""
    avatar_delete_on_commit(alter_ego.avatar.name if alter_ego.avatar else "")
    with unscoped():
        alter_ego.delete()


# --- email sign-in links -------------------------------------------------------------------


def magic_link_url(*, request: HttpRequest, user: User, next_url: str = "") -> str:
    query = get_query_string(user, scope=MAGIC_LINK_SCOPE)
    if next_url:
        query += "&" + urlencode({"next": next_url})
    return request.build_absolute_uri(reverse("magic_link_login") + query)


def magic_link_send(*, request: HttpRequest, email: str, next_url: str = "") -> None:
    """Email a one-time sign-in link if the account exists and allows email links.

    Says nothing about whether it did: the caller shows the same message either way.
    """
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not user.allows_magic_link_login:
        return
    context = {
        "user": user,
        "url": magic_link_url(request=request, user=user, next_url=next_url),
        "minutes": settings.SESAME_MAX_AGE // 60,
        "site_name": settings.SPARK_SITE_NAME,
    }
    with translation.override(user.language or translation.get_language()):
        subject = render_to_string("accounts/email/magic_link_subject.txt", context).strip()
        body = render_to_string("accounts/email/magic_link_message.txt", context)
    send_mail(settings.EMAIL_SUBJECT_PREFIX + subject, body, None, [user.email])


def magic_link_mark_email_verified(*, user: User) -> None:
    """Following a link sent to the address proves the user reads it."""
    EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
