"""The tenant-isolation matrix: every tenant-owned resource and the URLs that reach it.

Each app registers its resources here (later issues extend ``RESOURCES``). For every
resource, tests/tenancy/test_isolation.py checks that a user of another tenant, and
another user of the same tenant, get 404 from every URL, and that nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts import services as account_services, tenancy
from accounts.models import AlterEgo, ApiKey, User
from billing import services as billing_services
from billing.models import MemberCap
from chat import services as chat_services
from chat.models import Conversation, ConversationShare, Folder, Message
from marketplace import domains as marketplace_domains
from marketplace.models import Prompt, PromptDomain
from security.models import StoredFile
from security.services import file_signed_url
from spark.llm.models import UserProviderKey
from tests.factories import ApiKeyFactory, create_alter_ego, create_prompt
from tests.factories.files import stored_png
from watchdog import services as watchdog_services
from watchdog.models import WatchdogPolicy


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    bearer: bool = False  # call with the intruder's API key instead of their session
    body: dict[str, Any] | None = None  # sent as JSON


@dataclass(frozen=True)
class IsolatedResource:
    name: str
    create: Callable[[User], Any]  # makes an object owned by this user
    endpoints: Callable[[Any], list[Endpoint]]
    snapshot: Callable[[Any], Any]  # what must not change when an intruder tries


def _api_key_snapshot(api_key: ApiKey) -> Any:
    api_key.refresh_from_db()
    return (api_key.name, api_key.revoked_at)


def _provider_key_snapshot(key: UserProviderKey) -> Any:
    key.refresh_from_db()
    return (key.label, key.ciphertext, key.last_tested_at, key.last_test_ok)


def _prompt_snapshot(prompt: Prompt) -> Any:
    prompt.refresh_from_db()
    return (prompt.name, prompt.visibility, prompt.system_prompt, prompt.updated_at)


def _alter_ego_snapshot(alter_ego: AlterEgo) -> Any:
    if not AlterEgo.objects.filter(pk=alter_ego.pk).exists():
        return None
    alter_ego.refresh_from_db()
    return (alter_ego.name, alter_ego.description, alter_ego.is_default, alter_ego.updated_at)


def _conversation_with_answer(owner: User) -> Conversation:
    tenant = tenancy.home_tenant(owner)
    conversation = chat_services.conversation_create(user=owner, tenant=tenant, title="Mine")
    question = Message.objects.create(
        tenant=tenant, conversation=conversation, role="user", content="Hi", client_id="c1"
    )
    answer = Message.objects.create(
        tenant=tenant,
        conversation=conversation,
        role="assistant",
        content="Hello",
        reply_to=question,
        last_seq=2,
    )
    # rated, so that an intruder's DELETE of the rating would show
    chat_services.message_feedback_set(message=answer, user=owner, rating="up", reason="Nice")
    conversation.answer_uuid = answer.uuid  # type: ignore[attr-defined]
    return conversation


def _conversation_snapshot(conversation: Conversation) -> Any:
    if not Conversation.objects.filter(pk=conversation.pk).exists():
        return None
    conversation.refresh_from_db()
    messages = list(
        Message.objects.filter(conversation=conversation)
        .order_by("pk")
        .values_list("content", "status", "superseded", "feedback__rating", "feedback__reason")
    )
    return (
        conversation.title,
        conversation.folder_id,
        conversation.position,
        conversation.model_id,
        conversation.alter_ego_id,
        conversation.pinned_at,
        conversation.archived_at,
        conversation.updated_at,
        messages,
    )


def _conversation_endpoints(conversation: Conversation) -> list[Endpoint]:
    base = f"/api/v1/conversations/{conversation.uuid}"
    answer = conversation.answer_uuid  # type: ignore[attr-defined]
    send = {"text": "intrusion", "client_id": "x1"}
    endpoints = []
    for bearer in (False, True):
        endpoints += [
            Endpoint("GET", f"{base}/", bearer),
            Endpoint("PATCH", f"{base}/", bearer, {"title": "Hacked", "folder": None}),
            Endpoint("PATCH", f"{base}/", bearer, {"pinned": True}),
            Endpoint("PATCH", f"{base}/", bearer, {"archived": True}),
            Endpoint("DELETE", f"{base}/", bearer),
            Endpoint("GET", f"{base}/messages/", bearer),
            Endpoint("GET", f"{base}/messages/?limit=1&before={answer}", bearer),
            Endpoint("POST", f"{base}/messages/", bearer, send),
            Endpoint("POST", f"{base}/messages/", bearer, {**send, "stream": True}),
            Endpoint("POST", f"{base}/messages/{answer}/regenerate/", bearer, {}),
            Endpoint("PUT", f"{base}/messages/{answer}/feedback/", bearer, {"rating": "down"}),
            Endpoint("DELETE", f"{base}/messages/{answer}/feedback/", bearer),
            Endpoint("GET", f"{base}/events/?message_id={answer}&after_seq=0", bearer),
            Endpoint("POST", f"{base}/cancel/", bearer),
        ]
    endpoints += [
        Endpoint("GET", f"/chat/{conversation.uuid}/"),
    ]
    return endpoints


def _conversation_share(owner: User) -> ConversationShare:
    conversation = _conversation_with_answer(owner)
    return chat_services.share_create(conversation=conversation)


def _conversation_share_snapshot(share: ConversationShare) -> Any:
    share.refresh_from_db()
    return (share.revoked_at, share.messages, _conversation_snapshot(share.conversation))


def _conversation_share_endpoints(share: ConversationShare) -> list[Endpoint]:
    """The owner's links, tried by others (the link itself is readable by design: what it
    may never do is reach the conversation, tests/chat/test_share.py)."""
    base = f"/api/v1/conversations/{share.conversation.uuid}/shares/"
    endpoints = []
    for bearer in (False, True):
        endpoints += [
            Endpoint("GET", base, bearer),
            Endpoint("POST", base, bearer),
            Endpoint("DELETE", f"{base}{share.uuid}/", bearer),
        ]
    return endpoints


def _folder_snapshot(folder: Folder) -> Any:
    if not Folder.objects.filter(pk=folder.pk).exists():
        return None
    folder.refresh_from_db()
    return (folder.name, folder.color, folder.parent_id, folder.position, folder.updated_at)


def _folder_endpoints(folder: Folder) -> list[Endpoint]:
    base = f"/api/v1/folders/{folder.uuid}/"
    endpoints = []
    for bearer in (False, True):
        endpoints += [
            Endpoint("GET", base, bearer),
            Endpoint("PATCH", base, bearer, {"name": "Hacked", "color": "#000000"}),
            Endpoint("DELETE", base, bearer),
            Endpoint("GET", f"/api/v1/conversations/?folder={folder.uuid}", bearer),
            Endpoint("POST", "/api/v1/folders/reorder/", bearer, {"parent": str(folder.uuid)}),
            Endpoint(
                "POST", "/api/v1/folders/", bearer, {"name": "In", "parent": str(folder.uuid)}
            ),
        ]
    return endpoints


def _folder_of(owner: User) -> Folder:
    return chat_services.folder_create(
        user=owner, tenant=tenancy.home_tenant(owner), name="Private", color="#123456"
    )


def _stored_file_snapshot(stored: StoredFile) -> Any:
    from django.core.files.storage import default_storage

    return (
        StoredFile.objects.filter(pk=stored.pk).values_list("sha256", flat=True).first(),
        default_storage.exists(stored.storage_key),
    )


def _member_cap(owner: User) -> MemberCap:
    cap = billing_services.member_cap_set(
        tenant=owner.membership.tenant, user=owner, monthly_cap=5_000_000
    )
    assert cap is not None
    return cap


def _member_cap_snapshot(cap: MemberCap) -> Any:
    cap.refresh_from_db()
    return (cap.monthly_cap, cap.action, cap.raise_step, cap.raise_max)


def _watchdog_policy(owner: User) -> WatchdogPolicy:
    prompt = create_prompt(owner=owner, visibility=Prompt.Visibility.PRIVATE)
    values = watchdog_services.policy_initial(prompt=prompt)
    return watchdog_services.policy_save(prompt=prompt, values={**values, "pre_frequency": 7})


def _watchdog_policy_snapshot(policy: WatchdogPolicy) -> Any:
    policy.refresh_from_db()
    return (policy.pre_frequency, policy.post_objectives, policy.mode, policy.updated_at)


def _prompt_domain(owner: User) -> PromptDomain:
    prompt = create_prompt(owner=owner, visibility=Prompt.Visibility.PUBLIC)
    return marketplace_domains.domain_add(
        user=owner,
        tenant=tenancy.home_tenant(owner),
        prompt=prompt,
        hostname=f"{prompt.slug}.owner.example.com",
    )


def _prompt_domain_snapshot(domain: PromptDomain) -> Any:
    rows = PromptDomain.objects.filter(prompt_id=domain.prompt_id).order_by("pk")
    return list(rows.values_list("hostname", "status", "last_checked_at", "updated_at"))


def _prompt_domain_endpoints(domain: PromptDomain) -> list[Endpoint]:
    base = f"/api/v1/domains/{domain.uuid}/"
    claim = {"prompt": str(domain.prompt.uuid), "hostname": "stolen.example.com"}
    endpoints = []
    for bearer in (False, True):
        endpoints += [
            Endpoint("GET", base, bearer),
            Endpoint("DELETE", base, bearer),
            Endpoint("POST", f"{base}verify/", bearer),
            Endpoint("POST", f"{base}activate/", bearer),
            Endpoint("POST", "/api/v1/domains/", bearer, claim),
        ]
    return endpoints


RESOURCES: list[IsolatedResource] = [
    IsolatedResource(
        name="conversation_share",
        create=_conversation_share,
        endpoints=_conversation_share_endpoints,
        snapshot=_conversation_share_snapshot,
    ),
    IsolatedResource(
        name="api_key",
        create=lambda owner: ApiKeyFactory.create(user=owner)[0],
        endpoints=lambda key: [
            Endpoint("GET", f"/api/v1/api-keys/{key.uuid}/"),
            Endpoint("GET", f"/api/v1/api-keys/{key.uuid}/", bearer=True),
            Endpoint("DELETE", f"/api/v1/api-keys/{key.uuid}/"),
            Endpoint("DELETE", f"/api/v1/api-keys/{key.uuid}/", bearer=True),
            Endpoint("POST", f"/settings/api-keys/{key.uuid}/revoke/"),
        ],
        snapshot=_api_key_snapshot,
    ),
    IsolatedResource(
        name="provider_key",
        create=lambda owner: account_services.provider_key_add(
            user=owner, provider="openai", api_key="sk-owner-secret-key-0001", label="mine"
        ),
        endpoints=lambda key: [
            Endpoint("GET", f"/api/v1/provider-keys/{key.uuid}/"),
            Endpoint("GET", f"/api/v1/provider-keys/{key.uuid}/", bearer=True),
            Endpoint("DELETE", f"/api/v1/provider-keys/{key.uuid}/"),
            Endpoint("DELETE", f"/api/v1/provider-keys/{key.uuid}/", bearer=True),
            Endpoint("POST", f"/api/v1/provider-keys/{key.uuid}/test/"),
            Endpoint("POST", f"/api/v1/provider-keys/{key.uuid}/test/", bearer=True),
            Endpoint("POST", f"/settings/provider-keys/{key.uuid}/delete/"),
            Endpoint("POST", f"/settings/provider-keys/{key.uuid}/test/"),
        ],
        snapshot=_provider_key_snapshot,
    ),
    IsolatedResource(
        name="prompt",
        create=lambda owner: create_prompt(owner=owner, visibility=Prompt.Visibility.PRIVATE),
        endpoints=lambda prompt: [
            Endpoint("GET", f"/api/v1/prompts/{prompt.uuid}/"),
            Endpoint("GET", f"/api/v1/prompts/{prompt.uuid}/", bearer=True),
            Endpoint("GET", f"/api/v1/prompts/{prompt.slug}/", bearer=True),
            Endpoint("PATCH", f"/api/v1/prompts/{prompt.uuid}/"),
            Endpoint("PATCH", f"/api/v1/prompts/{prompt.uuid}/", bearer=True),
            Endpoint("GET", f"/creator/prompts/{prompt.uuid}/edit/"),
            Endpoint("POST", f"/creator/prompts/{prompt.uuid}/edit/"),
            Endpoint("POST", f"/billing/earnings/prompts/{prompt.uuid}/markup/"),
            Endpoint("GET", f"/creator/prompts/{prompt.uuid}/page/"),
            Endpoint("POST", f"/creator/prompts/{prompt.uuid}/page/"),
            Endpoint("GET", f"/creator/prompts/{prompt.uuid}/stats/"),
            Endpoint("GET", f"/creator/prompts/{prompt.uuid}/page/wizard/"),
            Endpoint("POST", f"/creator/prompts/{prompt.uuid}/page/wizard/"),
            Endpoint("POST", f"/creator/prompts/{prompt.uuid}/page/publish/"),
            Endpoint("POST", f"/creator/prompts/{prompt.uuid}/page/unpublish/"),
        ],
        snapshot=_prompt_snapshot,
    ),
    IsolatedResource(
        name="alter_ego",
        create=lambda owner: create_alter_ego(user=owner, is_default=True),
        endpoints=lambda alter_ego: [
            Endpoint("GET", f"/api/v1/alter-egos/{alter_ego.uuid}/"),
            Endpoint("GET", f"/api/v1/alter-egos/{alter_ego.uuid}/", bearer=True),
            Endpoint("PATCH", f"/api/v1/alter-egos/{alter_ego.uuid}/"),
            Endpoint("PATCH", f"/api/v1/alter-egos/{alter_ego.uuid}/", bearer=True),
            Endpoint("DELETE", f"/api/v1/alter-egos/{alter_ego.uuid}/"),
            Endpoint("DELETE", f"/api/v1/alter-egos/{alter_ego.uuid}/", bearer=True),
            Endpoint("GET", f"/settings/alter-egos/{alter_ego.uuid}/edit/"),
            Endpoint("POST", f"/settings/alter-egos/{alter_ego.uuid}/edit/"),
            Endpoint("POST", f"/settings/alter-egos/{alter_ego.uuid}/default/"),
            Endpoint("POST", f"/settings/alter-egos/{alter_ego.uuid}/delete/"),
        ],
        snapshot=_alter_ego_snapshot,
    ),
    IsolatedResource(
        name="conversation",
        create=_conversation_with_answer,
        endpoints=_conversation_endpoints,
        snapshot=_conversation_snapshot,
    ),
    IsolatedResource(
        name="folder",
        create=_folder_of,
        endpoints=_folder_endpoints,
        snapshot=_folder_snapshot,
    ),
    IsolatedResource(
        name="stored_file",
        create=stored_png,
        endpoints=lambda stored: [
            Endpoint("GET", f"/api/v1/files/{stored.uuid}/"),
            Endpoint("GET", f"/api/v1/files/{stored.uuid}/", bearer=True),
            Endpoint("DELETE", f"/api/v1/files/{stored.uuid}/"),
            Endpoint("DELETE", f"/api/v1/files/{stored.uuid}/", bearer=True),
            # The owner's signed download link, tried by someone else.
            Endpoint("GET", file_signed_url(stored_file=stored, user=stored.owner)),
        ],
        snapshot=_stored_file_snapshot,
    ),
    IsolatedResource(
        name="member_cap",
        create=_member_cap,
        endpoints=lambda cap: [
            Endpoint("POST", f"/billing/team/caps/{cap.user.uuid}/"),
            Endpoint("GET", "/billing/team/"),
            Endpoint("POST", "/billing/team/topup/"),
            Endpoint("POST", "/billing/team/auto-refill/"),
            Endpoint("POST", "/billing/team/card/"),
        ],
        snapshot=_member_cap_snapshot,
    ),
    IsolatedResource(
        name="watchdog_policy",
        create=_watchdog_policy,
        endpoints=lambda policy: [
            Endpoint("GET", f"/creator/prompts/{policy.prompt.uuid}/watchdog/"),
            Endpoint("POST", f"/creator/prompts/{policy.prompt.uuid}/watchdog/"),
        ],
        snapshot=_watchdog_policy_snapshot,
    ),
    IsolatedResource(
        name="prompt_domain",
        create=_prompt_domain,
        endpoints=_prompt_domain_endpoints,
        snapshot=_prompt_domain_snapshot,
    ),
]
