"""Every page and API operation, tried by every principal on every kind of Host.

Principals: a member of Acme (an enterprise tenant, its owner), a member of another tenant
(a public-tenant user) and an anonymous visitor; by session and by API key. Hosts: Acme's
own domain, another tenant's domain (Shop, a curator site), the platform host and an
unknown host. ``TABLE`` holds what each operation answers in each situation; a route of
the URL resolver or an operation of the API schema without a row fails the test, and a
row that answers something else fails it with the row it did answer (docs/tenancy.md).

How a cell maps to a situation is the tenancy rule itself:

- an unknown host is refused by Django (400), as production's ALLOWED_HOSTS does;
- an API key on a site of a tenant other than its own is refused: 403 ``tenant_mismatch``;
- Acme's member on Acme's domain or the platform host acts in Acme (``member_*``);
- the outsider on the platform host acts in their own tenant, where Acme's objects do not
  exist (``stranger_*``);
- anyone else is anonymous: on the platform host (``anon_platform``), on Shop's site
  (``anon_site``: a signed-in non-member is a visitor there), or on Acme's members-only
  site (``gated``).

Nothing any non-member cell does changes a row of Acme's or any wallet; each member cell
runs in a savepoint that is rolled back, so one cell's DELETE does not decide the next's.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.db.models import Q
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator

from accounts import services as account_services
from accounts.models import Membership, Tenant, User
from billing.models import Account, Entry, Hold
from marketplace.models import Prompt
from security.services import file_signed_url
from spark.tenancy.context import unscoped
from tests.billing.conftest import fund_tenant
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory, create_prompt, create_user
from tests.isolation import RESOURCES

ACME = "acme.example"
SHOP = "shop.example"
PLATFORM = "testserver"
UNKNOWN = "unknown.example"
HOSTS = {"own": ACME, "other": SHOP, "platform": PLATFORM, "unknown": UNKNOWN}

COLUMNS = (
    "member_session",
    "member_key",
    "stranger_session",
    "stranger_key",
    "anon_platform",
    "anon_site",
    "gated",
)
MISMATCH = 403  # with {"code": "tenant_mismatch"}: the same for every operation
BAD_HOST = 400  # Django refuses a Host outside ALLOWED_HOSTS before any view runs


@dataclass(frozen=True)
class Op:
    """One operation and what it answers in each situation (in ``COLUMNS`` order)."""

    method: str
    path: str  # with {placeholders} for the member's objects (see ``World.values``)
    expect: tuple[int, ...]
    body: dict[str, Any] | None = None
    mismatch: int = MISMATCH  # what a key on another tenant's site gets
    turn: bool = False  # runs the send pipeline (its own threads: no rollback of a cell)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


# What each operation answers, in the situations of ``COLUMNS``:
#   ms = member_session, mk = member_key, ss = stranger_session, sk = stranger_key,
#   ap = anon_platform, as = anon_site, g = gated.
# Redirects (302) of pages are to the sign-in page (or, signed in, away from it); 401 is the
# API's not_authenticated; 404 the fetch-and-authorize "missing" of another tenant's object.
# Flags: "turn" (runs the send pipeline), "exempt" (probes: no tenant is resolved, so a key
# on another tenant's site is not refused either), "closed" (no tenant is resolved and
# nobody is answered: /metrics without an allowed address or token is a 404 for everyone).
# Placeholders are the member's objects in Acme (``World.values``).
#
# method path                                                       ms  mk  ss  sk  ap  as   g
TABLE_TEXT = """
GET    /                                                          200 200 200 200 200 200 302
GET    /healthz                                                   200 200 200 200 200 200 200 exempt
GET    /readyz                                                    200 200 200 200 200 200 200 exempt
GET    /metrics                                                   404 404 404 404 404 404 404 closed
GET    /admin/                                                    302 302 302 302 302 302 302
GET    /admin/security-overview/                                  302 302 302 302 302 302 302
GET    /admin/login/                                              403 403 403 403 302 302 302
POST   /admin/logout/                                             302 302 302 302 302 302 302
GET    /admin/password_change/                                    302 302 302 302 302 302 302
GET    /admin/password_change/done/                               302 302 302 302 302 302 302
GET    /admin/autocomplete/                                       302 302 302 302 302 302 302
GET    /admin/jsi18n/                                             302 302 302 302 302 302 302
GET    /admin/r/1/1/                                              302 302 302 302 302 302 302
GET    /admin/watchdog/watchdogevent/                             302 302 302 302 302 302 302
GET    /admin/watchdog/supervision/conversation/{chat}/           302 302 302 302 302 302 302
POST   /admin/watchdog/supervision/conversation/{chat}/lock/      302 302 302 302 302 302 302
GET    /admin/accounts/                                           302 302 302 302 302 302 302
GET    /admin/nowhere/                                            302 302 302 302 302 302 302
POST   /i18n/setlang/                                             302 302 302 302 302 302 302
GET    /jsi18n/                                                   200 200 200 200 200 200 200
GET    /accounts/login/                                           302 302 302 302 200 200 200
GET    /accounts/signup/                                          302 302 302 302 200 200 200
GET    /accounts/password/reset/                                  200 200 200 200 200 200 200
GET    /accounts/reauthenticate/                                  200 200 200 200 302 302 302
GET    /accounts/2fa/authenticate/                                302 302 302 302 302 302 302
GET    /accounts/2fa/reauthenticate/                              302 302 302 302 302 302 302
GET    /accounts/password/change/                                 200 200 200 200 302 302 302
GET    /accounts/password/set/                                    302 302 302 302 302 302 302
GET    /accounts/magic-link/                                      200 200 200 200 200 200 200
GET    /accounts/magic-link/sign-in/                              400 400 400 400 400 400 400
POST   /accounts/logout/                                          302 302 302 302 302 302 302
GET    /accounts/inactive/                                        200 200 200 200 200 200 200
GET    /accounts/reauthenticate/code/                             200 200 200 200 302 302 302
GET    /accounts/reauthenticate/code/confirm/                     302 302 302 302 302 302 302
GET    /accounts/email/                                           200 200 200 200 302 302 302
GET    /accounts/confirm-email/                                   200 200 200 200 200 200 200
GET    /accounts/login/code/confirm/                              302 302 302 302 302 302 302
GET    /accounts/confirm-email/nokey/                             200 200 200 200 200 200 200
GET    /accounts/password/reset/key/done/                         200 200 200 200 200 200 200
GET    /accounts/password/reset/key/1-nokey/                      200 200 200 200 200 200 200
GET    /accounts/password/reset/done/                             200 200 200 200 200 200 200
GET    /accounts/2fa/                                             200 200 200 200 302 302 302
GET    /accounts/2fa/totp/activate/                               302 302 302 302 302 302 302
GET    /accounts/2fa/totp/deactivate/                             404 404 404 404 302 302 302
GET    /accounts/2fa/recovery-codes/                              404 404 404 404 302 302 302
GET    /accounts/2fa/recovery-codes/generate/                     302 302 302 302 302 302 302
GET    /accounts/2fa/recovery-codes/download/                     404 404 404 404 302 302 302
GET    /accounts/3rdparty/login/cancelled/                        200 200 200 200 200 200 200
GET    /accounts/3rdparty/login/error/                            401 401 401 401 401 401 401
GET    /accounts/3rdparty/signup/                                 302 302 302 302 302 302 302
GET    /accounts/3rdparty/                                        200 200 200 200 302 302 302
GET    /accounts/social/login/cancelled/                          301 301 301 301 301 301 301
GET    /accounts/social/login/error/                              301 301 301 301 301 301 301
GET    /accounts/social/signup/                                   301 301 301 301 301 301 301
GET    /accounts/social/connections/                              301 301 301 301 301 301 301
GET    /accounts/google/login/                                    200 200 200 200 200 200 200
GET    /accounts/google/login/callback/                           401 401 401 401 401 401 401
POST   /accounts/google/login/token/                              401 401 401 401 401 401 401
GET    /accounts/sessions/                                        200 200 200 200 302 302 302
GET    /settings/                                                 200 200 200 200 302 302 302
GET    /settings/api-keys/                                        200 200 200 200 302 302 302
GET    /settings/appearance/                                      200 200 200 200 302 302 302
POST   /theme/                                                    400 400 400 400 400 400 302
POST   /settings/api-keys/{api_key}/revoke/                       302 302 404 404 302 302 302
GET    /settings/provider-keys/                                   200 200 200 200 302 302 302
POST   /settings/provider-keys/{provider_key}/delete/             302 302 404 404 302 302 302
POST   /settings/provider-keys/{provider_key}/test/               302 302 404 404 302 302 302
GET    /settings/alter-egos/                                      200 200 200 200 302 302 302
GET    /settings/alter-egos/{alter_ego}/edit/                     200 200 404 404 302 302 302
POST   /settings/alter-egos/{alter_ego}/default/                  302 302 404 404 302 302 302
POST   /settings/alter-egos/{alter_ego}/delete/                   302 302 404 404 302 302 302
GET    /prompts/                                                  200 200 200 200 200 200 302
POST   /settings/                                                 302 302 302 302 302 302 302
POST   /settings/api-keys/                                        200 200 200 200 302 302 302
POST   /settings/provider-keys/                                   302 302 302 302 302 302 302
POST   /settings/alter-egos/                                      302 302 302 302 302 302 302
POST   /settings/alter-egos/{alter_ego}/edit/                     302 302 404 404 302 302 302
POST   /creator/prompts/new/                                      200 200 200 200 302 302 302
POST   /creator/prompts/{private_prompt}/edit/                    200 200 404 404 302 302 302
POST   /creator/prompts/{private_prompt}/watchdog/                200 200 404 404 302 302 302
POST   /chat/new/                                                 302 302 302 302 302 302 302
GET    /creator/prompts/                                          200 200 200 200 302 302 302
GET    /creator/prompts/new/                                      200 200 200 200 302 302 302
GET    /creator/prompts/{private_prompt}/edit/                    200 200 404 404 302 302 302
GET    {file_url}                                                 200 200 404 404 404 404 302
GET    /chat/                                                     200 200 200 200 302 302 302
GET    /chat/new/                                                 200 200 200 200 302 302 302
GET    /chat/{chat}/                                              200 200 404 404 302 302 302
GET    /my-usage                                                  200 200 200 200 302 302 302
GET    /billing/wallet/                                           200 200 200 200 302 302 302
POST   /billing/topup/                                            302 302 302 302 302 302 302
GET    /billing/topup/done/                                       302 302 302 302 302 302 302
GET    /billing/team/                                             200 200 404 404 302 302 302
POST   /billing/team/topup/                                       302 302 404 404 302 302 302
POST   /billing/team/caps/{member}/                               302 302 404 404 302 302 302
POST   /billing/team/auto-refill/                                 302 302 404 404 302 302 302
POST   /billing/team/card/                                        302 302 404 404 302 302 302
GET    /billing/earnings/                                         200 200 200 200 302 302 302
POST   /billing/earnings/connect/                                 302 302 302 302 302 302 302
POST   /billing/earnings/prompts/{private_prompt}/markup/         302 302 404 404 302 302 302
GET    /billing/platform/                                         404 404 404 404 302 302 302
GET    /billing/platform/export.csv                               404 404 404 404 302 302 302
POST   /billing/stripe/webhook/                                   400 400 400 400 400 400 302
GET    /creator/prompts/{private_prompt}/watchdog/                200 200 404 404 302 302 302
GET    /creator/prompts/{private_prompt}/page/                    200 200 404 404 302 302 302
GET    /creator/prompts/{private_prompt}/stats/                   200 200 404 404 302 302 302
POST   /creator/prompts/{private_prompt}/page/                    302 302 404 404 302 302 302
GET    /creator/prompts/{private_prompt}/page/wizard/             200 200 404 404 302 302 302
POST   /creator/prompts/{private_prompt}/page/wizard/             302 302 404 404 302 302 302
POST   /creator/prompts/{private_prompt}/page/publish/            302 302 404 404 302 302 302
POST   /creator/prompts/{private_prompt}/page/unpublish/          302 302 404 404 302 302 302
GET    /api/v1/me/                                                200 200 200 200 401 401 401
GET    /internal/tls/ask?domain=unknown.example.com               403 403 403 403 403 403 403
GET    /api/v1/domains/                                           200 200 200 200 401 401 401
POST   /api/v1/domains/                                           201 201 404 404 401 401 401
GET    /api/v1/domains/{domain}/                                  200 200 404 404 401 401 401
DELETE /api/v1/domains/{domain}/                                  204 204 404 404 401 401 401
POST   /api/v1/domains/{domain}/verify/                           200 200 404 404 401 401 401
POST   /api/v1/domains/{domain}/activate/                         409 409 404 404 401 401 401
GET    /api/v1/api-keys/                                          200 403 200 403 401 401 401
POST   /api/v1/api-keys/                                          201 403 201 403 401 401 401
GET    /api/v1/api-keys/{api_key}/                                200 200 404 404 401 401 401
DELETE /api/v1/api-keys/{api_key}/                                204 204 404 404 401 401 401
GET    /api/v1/provider-keys/                                     200 200 200 200 401 401 401
POST   /api/v1/provider-keys/                                     201 201 201 201 401 401 401
GET    /api/v1/provider-keys/{provider_key}/                      200 200 404 404 401 401 401
DELETE /api/v1/provider-keys/{provider_key}/                      204 204 404 404 401 401 401
POST   /api/v1/provider-keys/{provider_key}/test/                 200 200 404 404 401 401 401
GET    /api/v1/alter-egos/                                        200 200 200 200 401 401 401
POST   /api/v1/alter-egos/                                        201 201 201 201 401 401 401
GET    /api/v1/alter-egos/{alter_ego}/                            200 200 404 404 401 401 401
PATCH  /api/v1/alter-egos/{alter_ego}/                            200 200 404 404 401 401 401
DELETE /api/v1/alter-egos/{alter_ego}/                            204 204 404 404 401 401 401
GET    /api/v1/prompts/                                           200 200 200 200 401 401 401
POST   /api/v1/prompts/                                           201 201 201 201 401 401 401
GET    /api/v1/prompts/{prompt}/                                  200 200 404 404 401 401 401
GET    /api/v1/prompts/{prompt_slug}/                             200 200 404 404 401 401 401
PATCH  /api/v1/prompts/{prompt}/                                  200 200 404 404 401 401 401
GET    /api/v1/models/                                            200 200 200 200 401 401 401
POST   /api/v1/files/                                             415 415 415 415 401 401 401
GET    /api/v1/files/{file}/                                      200 200 404 404 401 401 401
DELETE /api/v1/files/{file}/                                      204 204 404 404 401 401 401
GET    /api/v1/conversations/                                     200 200 200 200 401 401 401
POST   /api/v1/conversations/                                     201 201 201 201 401 401 401
GET    /api/v1/conversations/{chat}/                              200 200 404 404 401 401 401
PATCH  /api/v1/conversations/{chat}/                              200 200 404 404 401 401 401
DELETE /api/v1/conversations/{chat}/                              204 204 404 404 401 401 401
GET    /api/v1/conversations/{chat}/messages/                     200 200 404 404 401 401 401
POST   /api/v1/conversations/{chat}/messages/                     201 201 404 404 401 401 401 turn
POST   /api/v1/conversations/{chat}/messages/{reply}/regenerate/  201 201 404 404 401 401 401 turn
PUT    /api/v1/conversations/{chat}/messages/{reply}/feedback/    200 200 404 404 401 401 401
DELETE /api/v1/conversations/{chat}/messages/{reply}/feedback/    204 204 404 404 401 401 401
POST   /api/v1/conversations/{chat}/cancel/                       202 202 404 404 401 401 401
GET    /api/v1/conversations/{chat}/events/?message_id={reply} 200 200 404 404 401 401 401
GET    /api/v1/conversations/{chat}/shares/                       200 200 404 404 401 401 401
POST   /api/v1/conversations/{chat}/shares/                       201 201 404 404 401 401 401
DELETE /api/v1/conversations/{share_chat}/shares/{share}/         204 204 404 404 401 401 401
GET    /s/{share_token}/                                          200 200 404 404 404 404 302
POST   /s/{share_token}/continue/                                 302 302 404 404 302 302 302
GET    /api/v1/folders/                                           200 200 200 200 401 401 401
POST   /api/v1/folders/                                           201 201 201 201 401 401 401
POST   /api/v1/folders/reorder/                                   204 204 204 204 401 401 401
GET    /api/v1/folders/{folder}/                                  200 200 404 404 401 401 401
PATCH  /api/v1/folders/{folder}/                                  200 200 404 404 401 401 401
DELETE /api/v1/folders/{folder}/                                  204 204 404 404 401 401 401
GET    /api/v1/search/?q=Hello                                    200 200 200 200 401 401 401
GET    /api/schema/                                               200 200 200 200 200 200 401
GET    /api/docs/                                                 200 200 200 200 200 200 401
POST   /v1/chat/completions                                       401 200 401 200 401 401 401 turn
GET    /v1/models                                                 401 200 401 200 401 401 401
GET    /api/v1/no-such-route/                                     404 404 404 404 404 404 401
GET    /v1/no-such-route                                          404 404 404 404 404 404 401
"""

# The bodies sent with the operations that take one (JSON to the API, a form to pages).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/i18n/setlang/"): {"language": "es"},
    ("POST", "/settings/"): {"display_name": "Renamed"},
    ("POST", "/settings/api-keys/"): {"name": "another"},
    ("POST", "/settings/provider-keys/"): {
        "provider": "openai",
        "api_key": "sk-matrix-0000000000000002",
    },
    ("POST", "/settings/alter-egos/"): {"name": "Other me"},
    ("POST", "/settings/alter-egos/{alter_ego}/edit/"): {"name": "Renamed"},
    ("POST", "/creator/prompts/new/"): {"name": "New one"},
    ("POST", "/creator/prompts/{private_prompt}/edit/"): {"name": "Renamed"},
    ("POST", "/creator/prompts/{private_prompt}/watchdog/"): {},
    ("POST", "/creator/prompts/{private_prompt}/page/"): {
        "title": "Mine",
        "source_format": "html",
        "source": "<h1>Mine</h1>",
    },
    ("POST", "/creator/prompts/{private_prompt}/page/publish/"): {"version": "1"},
    ("POST", "/creator/prompts/{private_prompt}/page/wizard/"): {
        "style": "playful",
        "languages": ["en"],
        "accent_colour": "#5b4bdb",
        "text_colour": "#1d1d27",
        "background_colour": "#ffffff",
        "brief": "A page for everyone.",
    },
    ("POST", "/chat/new/"): {},
    ("POST", "/billing/topup/"): {"amount_usd": "10"},
    ("POST", "/billing/team/topup/"): {"amount_usd": "10"},
    ("POST", "/billing/team/caps/{member}/"): {"monthly_cap_usd": "1", "action": "block"},
    ("POST", "/billing/team/auto-refill/"): {},
    ("POST", "/billing/earnings/prompts/{private_prompt}/markup/"): {"markup_usd": "1"},
    ("POST", "/api/v1/api-keys/"): {"name": "another"},
    ("POST", "/api/v1/provider-keys/"): {"provider": "openai", "key": "sk-matrix-0000000000000001"},
    ("POST", "/api/v1/alter-egos/"): {"name": "Other me"},
    ("PATCH", "/api/v1/alter-egos/{alter_ego}/"): {"name": "Renamed"},
    ("POST", "/api/v1/prompts/"): {
        "name": "New one",
        "system_prompt": "Be brief.",
        "default_model": "demo",
    },
    ("PATCH", "/api/v1/prompts/{prompt}/"): {"name": "Renamed"},
    ("POST", "/api/v1/domains/"): {"prompt": "acme-public", "hostname": "new.example.com"},
    ("POST", "/api/v1/files/"): {},
    ("POST", "/api/v1/conversations/"): {"title": "New"},
    ("PATCH", "/api/v1/conversations/{chat}/"): {"title": "Renamed"},
    ("POST", "/api/v1/conversations/{chat}/messages/"): {"text": "Hello", "client_id": "m{n}"},
    ("POST", "/api/v1/conversations/{chat}/messages/{reply}/regenerate/"): {},
    ("PUT", "/api/v1/conversations/{chat}/messages/{reply}/feedback/"): {"rating": "up"},
    ("POST", "/api/v1/folders/"): {"name": "New", "color": "#123456"},
    ("POST", "/api/v1/folders/reorder/"): {"parent": None},
    ("PATCH", "/api/v1/folders/{folder}/"): {"name": "Renamed"},
    ("POST", "/v1/chat/completions"): {
        "model": "demo",
        "messages": [{"role": "user", "content": "Hi"}],
    },
}


def _parse(text: str) -> list[Op]:
    ops = []
    for line in text.strip().splitlines():
        method, path, *cells = line.split()
        statuses, flags = cells[: len(COLUMNS)], set(cells[len(COLUMNS) :])
        ops.append(
            Op(
                method,
                path,
                tuple(int(status) for status in statuses),
                body=BODIES.get((method, path)),
                mismatch=200 if "exempt" in flags else 404 if "closed" in flags else MISMATCH,
                turn="turn" in flags,
            )
        )
    return ops


TABLE = _parse(TABLE_TEXT)

# Django's generated ModelAdmin views are all wrapped by SparkAdminSite.admin_view (staff
# only); admin/ itself and Spark's own admin views stand for them in the table.
ADMIN_GENERATED = ("django.contrib.admin.options", "django.contrib.auth.admin")


@dataclass
class World:
    acme: Tenant
    shop: Tenant
    member: User
    outsider: User
    member_key: str
    outsider_key: str
    values: dict[str, str] = field(default_factory=dict)


def _build_world() -> World:
    acme = account_services.tenant_create(
        name="Acme", slug="acme", kind=Tenant.Kind.ENTERPRISE, allows_signup=False, domains=(ACME,)
    )
    shop = account_services.tenant_create(
        name="Shop", slug="shop", kind=Tenant.Kind.CURATOR, domains=(SHOP,)
    )
    public = Tenant.objects.get(kind=Tenant.Kind.PUBLIC)
    member = create_user(tenant=acme, email="ann@acme.example", role=Membership.Role.OWNER)
    outsider = create_user(tenant=public, email="pat@example.com")
    create_user(tenant=shop, email="sue@shop.example", role=Membership.Role.OWNER)
    fund_tenant(acme, 5_000_000)
    by_name = {resource.name: resource for resource in RESOURCES}
    with unscoped():
        objects = {name: resource.create(member) for name, resource in by_name.items()}
        prompt = create_prompt(
            owner=member, tenant=acme, name="Acme Public", visibility=Prompt.Visibility.PUBLIC
        )
    _key, member_key = ApiKeyFactory.create(user=member, name="member's")
    _key, outsider_key = ApiKeyFactory.create(user=outsider, name="outsider's")
    conversation = objects["conversation"]
    values = {
        "chat": str(conversation.uuid),
        "reply": str(conversation.answer_uuid),
        "folder": str(objects["folder"].uuid),
        "api_key": str(objects["api_key"].uuid),
        "provider_key": str(objects["provider_key"].uuid),
        "alter_ego": str(objects["alter_ego"].uuid),
        "prompt": str(prompt.uuid),
        "prompt_slug": prompt.slug,
        "private_prompt": str(objects["watchdog_policy"].prompt.uuid),
        "file": str(objects["stored_file"].uuid),
        "file_url": file_signed_url(stored_file=objects["stored_file"], user=member),
        "member": str(member.uuid),
        "share": str(objects["conversation_share"].uuid),
        "share_token": objects["conversation_share"].token,
        "share_chat": str(objects["conversation_share"].conversation.uuid),
        "domain": str(objects["prompt_domain"].uuid),
    }
    return World(acme, shop, member, outsider, member_key, outsider_key, values)


def _fresh_conversation(member: User) -> dict[str, str]:
    with unscoped():
        conversation = next(r for r in RESOURCES if r.name == "conversation").create(member)
    return {"chat": str(conversation.uuid), "reply": str(conversation.answer_uuid)}


def _acme_state(world: World) -> Any:
    """Every row of Acme's (with when it last changed), and Acme's and its member's money."""
    state: dict[str, Any] = {}
    with unscoped():
        for model in apps.get_models():
            names = {f.name for f in model._meta.get_fields()}
            if "tenant" not in names:
                continue
            rows = model._base_manager.filter(tenant=world.acme)
            stamp = "updated_at" if "updated_at" in names else "pk"
            state[model._meta.label] = sorted(rows.values_list("pk", stamp))
        wallets = Account.objects.filter(Q(tenant=world.acme) | Q(user=world.member))
        state["wallets"] = sorted(wallets.values_list("pk", "balance", "held"))
        state["holds"] = Hold.objects.filter(account__in=wallets).count()
        state["entries"] = Entry.objects.filter(account__in=wallets).count()
    return state


@dataclass(frozen=True)
class Cell:
    principal: str  # member | outsider | anonymous
    auth: str  # session | key | none
    host: str  # own | other | platform | unknown

    @property
    def situation(self) -> str:
        if self.host == "unknown":
            return "bad_host"
        if self.principal == "anonymous":
            return {"own": "gated", "other": "anon_site", "platform": "anon_platform"}[self.host]
        home = "own" if self.principal == "member" else None  # the outsider's has no domain
        if self.auth == "key" and self.host != "platform" and self.host != home:
            return "mismatch"
        if self.principal == "member":
            return f"member_{self.auth}" if self.host in ("own", "platform") else "anon_site"
        if self.host == "platform":
            return f"stranger_{self.auth}"
        return "gated" if self.host == "own" else "anon_site"

    @property
    def acts(self) -> bool:
        """Whether the cell acts as a member of Acme (and may change Acme's rows)."""
        return self.situation in ("member_session", "member_key")


# The cells that act as Acme's member come last: Acme's rows are compared before them.
CELLS = sorted(
    (
        Cell(principal, auth, host)
        for principal, auths in (
            ("outsider", ("session", "key")),
            ("anonymous", ("none",)),
            ("member", ("session", "key")),
        )
        for auth in auths
        for host in HOSTS
    ),
    key=lambda cell: cell.acts,
)


_requests = itertools.count()


def _send(world: World, op: Op, cell: Cell, sessions: dict[str, Client]) -> Any:
    path = op.path.format(**world.values)
    body = op.body
    if body is not None:  # "{n}" in a body: a fresh value per request (a client_id)
        body = json.loads(json.dumps(body).replace("{n}", str(next(_requests))))
    headers: dict[str, str] = {}
    if cell.auth == "key":
        client = Client()
        raw = world.member_key if cell.principal == "member" else world.outsider_key
        headers["Authorization"] = f"Bearer {raw}"
    elif cell.auth == "session":
        client = sessions[cell.principal]
    else:
        client = Client()
    kwargs: dict[str, Any] = {"HTTP_HOST": HOSTS[cell.host], "headers": headers}
    if body is None:
        return client.generic(op.method, path, **kwargs)
    if path.startswith(("/api/", "/v1/")):
        return client.generic(op.method, path, json.dumps(body), "application/json", **kwargs)
    return client.post(path, body, **kwargs)


def _outcome(world: World, op: Op, cell: Cell, sessions: dict[str, Client]) -> int:
    if not cell.acts or op.turn:
        return int(_send(world, op, cell, sessions).status_code)
    with transaction.atomic():
        status = int(_send(world, op, cell, sessions).status_code)
        transaction.set_rollback(True)
    return status


def _expected(op: Op, situation: str) -> int:
    if situation == "bad_host":
        return BAD_HOST
    if situation == "mismatch":
        return op.mismatch
    return op.expect[COLUMNS.index(situation)]


# The matrix makes many 404s from one client on purpose: the request filter would ban it.
# The hosts are listed as production lists them, so an unknown host is what it is there.
MATRIX_SETTINGS = override_settings(
    SPARK_FILTER_ALLOWLIST=["127.0.0.1"], ALLOWED_HOSTS=[PLATFORM, ACME, SHOP]
)


def _check(op: Op) -> None:
    world = _build_world()
    sessions = {"member": signed_in(world.member), "outsider": signed_in(world.outsider)}
    before = _acme_state(world)
    answered: dict[str, set[int]] = {}
    wrong: list[str] = []
    for cell in CELLS:
        if cell.acts and before is not None:
            assert _acme_state(world) == before, f"{op.id}: a non-member changed Acme's rows"
            before = None
        if cell.acts and op.turn:  # a turn's writes are not rolled back: a fresh chat each
            world.values.update(_fresh_conversation(world.member))
        status = _outcome(world, op, cell, sessions)
        answered.setdefault(cell.situation, set()).add(status)
        if len(op.expect) == len(COLUMNS) and status != _expected(op, cell.situation):
            wrong.append(f"{cell} ({cell.situation}): {status}")
    actual = tuple(
        sorted(answered[column])[0] if len(answered.get(column, ())) == 1 else -1
        for column in COLUMNS
    )
    assert not wrong and len(op.expect) == len(COLUMNS), (
        f"{op.id} answered {answered}; its row would be expect={actual}\n" + "\n".join(wrong)
    )


@pytest.mark.django_db
@MATRIX_SETTINGS
@pytest.mark.parametrize("op", [op for op in TABLE if not op.turn], ids=lambda op: op.id)
def test_each_operation_answers_each_principal_on_each_host_as_the_table_says(
    op: Op, llm_fakes: Any, fake_dns: Any
) -> None:
    _check(op)


@pytest.mark.django_db(transaction=True)
@MATRIX_SETTINGS
@pytest.mark.parametrize("op", [op for op in TABLE if op.turn], ids=lambda op: op.id)
def test_each_operation_that_runs_a_turn_answers_as_the_table_says(op: Op, llm_fakes: Any) -> None:
    _check(op)


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def _route_of(path: str) -> str:
    return str(resolve(path.split("?", 1)[0]).route)


_PLACEHOLDERS = re.compile(r"\{[a-z_]+\}")


_SAMPLES = {
    "{file_url}": "/files/a-signed-token/",
    "{prompt_slug}": "a-slug",
    "{share_token}": "a-share-token",
}


def _sample(path: str) -> str:
    """A path of the table with its placeholders filled with well-formed values."""
    return _PLACEHOLDERS.sub(
        lambda match: _SAMPLES.get(match[0], "00000000-0000-0000-0000-000000000000"), path
    )


def test_every_route_of_the_url_resolver_has_a_row() -> None:
    covered = {_route_of(_sample(op.path)).replace("^", "") for op in TABLE}  # re_path routes
    missing = []
    seen: set[str] = set()
    for route, pattern in _routes(get_resolver()):
        route = route.replace("^", "")
        if route in seen:  # shadowed by an earlier pattern with the same route
            continue
        seen.add(route)
        if pattern.callback.__module__ in ADMIN_GENERATED:
            continue
        if pattern.callback.__module__ == "django.views.generic.base" and route.startswith(
            "admin/"
        ):
            continue  # ModelAdmin's redirects from <id>/ to <id>/change/
        if route not in covered:
            missing.append(route)
    assert missing == [], f"routes without a row in TABLE: {missing}"


def test_every_operation_of_the_api_schema_has_a_row() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    rows = {(op.method, re.sub(r"\{[a-z_]+\}", "{}", op.path.split("?", 1)[0])) for op in TABLE}
    missing = [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
        and (method.upper(), re.sub(r"\{[a-z_]+\}", "{}", path)) not in rows
    ]
    assert missing == [], f"API operations without a row in TABLE: {missing}"
