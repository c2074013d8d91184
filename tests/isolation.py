"""The tenant-isolation matrix: every tenant-owned resource and the URLs that reach it.

Each app registers its resources here (later issues extend ``RESOURCES``). For every
resource, tests/tenancy/test_isolation.py checks that a user of another tenant, and
another user of the same tenant, get 404 from every URL, and that nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts import services as account_services
from accounts.models import AlterEgo, ApiKey, User
from marketplace.models import Prompt
from spark.llm.models import UserProviderKey
from tests.factories import ApiKeyFactory, create_alter_ego, create_prompt
from watchdog import services as watchdog_services
from watchdog.models import WatchdogPolicy


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    bearer: bool = False  # call with the intruder's API key instead of their session


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


def _watchdog_policy(owner: User) -> WatchdogPolicy:
    prompt = create_prompt(owner=owner, visibility=Prompt.Visibility.PRIVATE)
    values = watchdog_services.policy_initial(prompt=prompt)
    return watchdog_services.policy_save(prompt=prompt, values={**values, "pre_frequency": 7})


def _watchdog_policy_snapshot(policy: WatchdogPolicy) -> Any:
    policy.refresh_from_db()
    return (policy.pre_frequency, policy.post_objectives, policy.mode, policy.updated_at)


RESOURCES: list[IsolatedResource] = [
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
        name="watchdog_policy",
        create=_watchdog_policy,
        endpoints=lambda policy: [
            Endpoint("GET", f"/creator/prompts/{policy.prompt.uuid}/watchdog/"),
            Endpoint("POST", f"/creator/prompts/{policy.prompt.uuid}/watchdog/"),
        ],
        snapshot=_watchdog_policy_snapshot,
    ),
]
