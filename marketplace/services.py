"""Writes for the marketplace: creating and changing prompts, with their rules checked.

``prompt_validate`` holds every rule a prompt's fields must follow (the creator pages,
the API and the admin all go through it); ``prompt_create`` and ``prompt_update``
validate, then write atomically. Errors are one ``ApplicationError`` (code
``invalid``) whose ``details`` maps each field to its messages, like DRF's.
"""

from __future__ import annotations

import re
import uuid as uuid_lib
from collections.abc import Sequence
from typing import Any, TypedDict, Unpack

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.avatars import avatar_clean, avatar_delete_on_commit
from accounts.models import Tenant, User
from marketplace import landing, selectors
from marketplace.models import Category, LandingPage, LandingPageVersion, Prompt
from spark.common.exceptions import ApplicationError, NotFound
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped

MAX_STARTER_MESSAGES = 6
MAX_STARTER_LENGTH = 300
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


class PromptFields(TypedDict, total=False):
    """The fields a creator sets (owner and tenant are given separately)."""

    name: str
    slug: str  # empty: made from the name
    description: str
    avatar: File | None  # type: ignore[type-arg]  # None clears it
    system_prompt: str
    default_model: LLMModel
    allowed_models: Sequence[LLMModel]
    forced_model: LLMModel | None
    hide_model_name: bool
    visibility: str
    enabled_tools: Sequence[str]
    category: Category | None
    starter_messages: Sequence[str]


class _Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.by_field:
            field, messages = next(iter(self.by_field.items()))
            raise ApplicationError(f"{field}: {messages[0]}", code="invalid", details=self.by_field)


def _max_length(field: str) -> int:
    return int(Prompt._meta.get_field(field).max_length)  # type: ignore[union-attr, arg-type]


def _slug_taken(*, tenant: Tenant, slug: str, exclude_pk: int | None) -> bool:
    with unscoped():
        taken = Prompt.objects.filter(tenant=tenant, slug=slug)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    return taken.exists()


def _looks_like_uuid(value: str) -> bool:
    try:
        uuid_lib.UUID(value)
    except ValueError:
        return False
    return True


def _slug_from_name(*, tenant: Tenant, name: str, exclude_pk: int | None) -> str:
    """A free slug made from the name: ``name``, ``name-2``, ``name-3``…"""
    base = slugify(name)[: _max_length("slug") - 8].strip("-_") or "prompt"
    if _looks_like_uuid(base):
        base = f"prompt-{base}"[: _max_length("slug") - 8]
    with unscoped():
        taken_qs = Prompt.objects.filter(tenant=tenant, slug__startswith=base)
    if exclude_pk is not None:
        taken_qs = taken_qs.exclude(pk=exclude_pk)
    taken = set(taken_qs.values_list("slug", flat=True))
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _model_unavailable(model: LLMModel) -> str:
    return _("%(model)s is not available.") % {"model": model.display_name}


def prompt_validate(
    *, tenant: Tenant, prompt: Prompt | None = None, **fields: Unpack[PromptFields]
) -> PromptFields:
    """The cleaned values of ``fields`` for a new prompt (``prompt=None``) or a change.

    Only the given fields are cleaned and returned (on creation, a slug is always
    returned); the rules that tie fields together are checked on the resulting prompt.
    Raises ``ApplicationError`` listing every field's problems.
    """
    unknown = set(fields) - set(PromptFields.__annotations__)
    if unknown:
        raise TypeError(f"unknown prompt fields: {sorted(unknown)}")
    creating = prompt is None
    exclude_pk = None if prompt is None else prompt.pk
    errors = _Errors()
    cleaned: dict[str, Any] = {}
    required = _("This field is required.")

    def given(field: str) -> bool:
        return creating or field in fields

    def resulting(field: str) -> Any:
        if field in cleaned:
            return cleaned[field]
        if field in fields:
            return fields[field]  # type: ignore[literal-required]
        if prompt is None:
            return None
        if field == "allowed_models":
            return list(prompt.allowed_models.all())
        return getattr(prompt, field)

    if given("name"):
        name = (fields.get("name") or "").strip()
        if not name:
            errors.add("name", required)
        elif len(name) > _max_length("name"):
            errors.add("name", _("The name is too long."))
        cleaned["name"] = name

    if given("slug"):
        slug = (fields.get("slug") or "").strip().lower()
        if slug:
            if len(slug) > _max_length("slug"):
                errors.add("slug", _("The slug is too long."))
            elif not SLUG_PATTERN.match(slug):
                errors.add(
                    "slug", _("Use lowercase letters, numbers, hyphens and underscores only.")
                )
            elif _looks_like_uuid(slug):
                errors.add("slug", _("A slug cannot look like a prompt ID."))
            elif _slug_taken(tenant=tenant, slug=slug, exclude_pk=exclude_pk):
                errors.add("slug", _("Another prompt already uses this slug."))
            cleaned["slug"] = slug
        elif resulting("name"):
            cleaned["slug"] = _slug_from_name(
                tenant=tenant, name=resulting("name"), exclude_pk=exclude_pk
            )

    if given("description"):
        description = (fields.get("description") or "").strip()
        if len(description) > _max_length("description"):
            errors.add("description", _("The description is too long."))
        cleaned["description"] = description

    if given("system_prompt"):
        system_prompt = (fields.get("system_prompt") or "").strip()
        if not system_prompt:
            errors.add("system_prompt", required)
        elif len(system_prompt) > _max_length("system_prompt"):
            errors.add("system_prompt", _("The system prompt is too long."))
        cleaned["system_prompt"] = system_prompt

    if given("default_model"):
        default_model = fields.get("default_model")
        if default_model is None:
            errors.add("default_model", required)
        elif not default_model.is_active:
            errors.add("default_model", _model_unavailable(default_model))
        cleaned["default_model"] = default_model

    if given("forced_model"):
        forced_model = fields.get("forced_model")
        if forced_model is not None and not forced_model.is_active:
            errors.add("forced_model", _model_unavailable(forced_model))
        cleaned["forced_model"] = forced_model

    if given("allowed_models"):
        allowed: dict[int, LLMModel] = {}
        for model in fields.get("allowed_models") or ():
            if not model.is_active:
                errors.add("allowed_models", _model_unavailable(model))
            allowed.setdefault(model.pk, model)
        cleaned["allowed_models"] = list(allowed.values())

    default_model = resulting("default_model")
    allowed_models = resulting("allowed_models") or []
    if (
        default_model is not None
        and allowed_models
        and default_model.pk not in {m.pk for m in allowed_models}
    ):
        errors.add("default_model", _("The default model must be one of the allowed models."))

    if given("hide_model_name"):
        cleaned["hide_model_name"] = bool(fields.get("hide_model_name", False))

    if given("visibility"):
        visibility = fields.get("visibility") or Prompt.Visibility.PRIVATE
        if visibility not in Prompt.Visibility.values:
            errors.add("visibility", _("Choose public, unlisted or private."))
        cleaned["visibility"] = visibility

    if given("enabled_tools"):
        known = selectors.tool_names()
        tools: list[str] = []
        for tool in fields.get("enabled_tools") or ():
            if tool not in known:
                errors.add("enabled_tools", _("Unknown tool: %(name)s.") % {"name": tool})
            elif tool not in tools:
                tools.append(tool)
        cleaned["enabled_tools"] = tools

    if given("category"):
        category = fields.get("category")
        if category is not None and not isinstance(category, Category):
            errors.add("category", _("Choose a category."))
        cleaned["category"] = category

    if given("starter_messages"):
        starters = [s.strip() for s in fields.get("starter_messages") or () if s and s.strip()]
        if len(starters) > MAX_STARTER_MESSAGES:
            errors.add(
                "starter_messages",
                _("Give at most %(count)d conversation starters.")
                % {"count": MAX_STARTER_MESSAGES},
            )
        if any(len(s) > MAX_STARTER_LENGTH for s in starters):
            errors.add(
                "starter_messages",
                _("Keep each conversation starter under %(count)d characters.")
                % {"count": MAX_STARTER_LENGTH},
            )
        cleaned["starter_messages"] = starters

    if "avatar" in fields:
        upload = fields.get("avatar")
        if upload:
            try:
                cleaned["avatar"] = avatar_clean(upload)
            except ApplicationError as error:
                for message in (error.details or {}).get("avatar", [error.message]):
                    errors.add("avatar", message)
        else:
            cleaned["avatar"] = None

    errors.raise_if_any()
    return cleaned  # type: ignore[return-value]


def _write(prompt: Prompt, cleaned: PromptFields) -> Prompt:
    values: dict[str, Any] = dict(cleaned)
    allowed_models = values.pop("allowed_models", None)
    if "avatar" in values:
        avatar = values.pop("avatar")
        avatar_delete_on_commit(prompt.avatar.name if prompt.avatar else "")
        if avatar:
            prompt.avatar.save(avatar.name or "avatar.webp", avatar, save=False)
        else:
            prompt.avatar = ""  # type: ignore[assignment]
    for field, value in values.items():
        setattr(prompt, field, value)
    try:
        with transaction.atomic():
            prompt.save()
    except IntegrityError:
        if _slug_taken(tenant=prompt.tenant, slug=prompt.slug, exclude_pk=prompt.pk):
            message = _("Another prompt already uses this slug.")
            raise ApplicationError(
                f"slug: {message}", code="invalid", details={"slug": [message]}
            ) from None
        raise
    if allowed_models is not None:
        prompt.allowed_models.set(allowed_models)
    return prompt


@transaction.atomic
def prompt_create(*, owner: User, tenant: Tenant, **fields: Unpack[PromptFields]) -> Prompt:
    """A new prompt owned by ``owner`` in ``tenant`` (private unless a visibility is given).

    Needs a name, a system prompt and a default model; an empty slug is made from the
    name.
    """
    cleaned = prompt_validate(tenant=tenant, prompt=None, **fields)
    return _write(Prompt(owner=owner, tenant=tenant), cleaned)


@transaction.atomic
def prompt_update(*, prompt: Prompt, actor: User, **fields: Unpack[PromptFields]) -> Prompt:
    """Change the given fields of ``prompt``. Only its owner or platform staff may."""
    if not (actor.is_staff or prompt.owner_id == actor.pk):
        raise NotFound(_("Not found."))
    cleaned = prompt_validate(tenant=prompt.tenant, prompt=prompt, **fields)
    return _write(prompt, cleaned)


def prompts_set_active(*, prompts: QuerySet[Prompt], is_active: bool) -> int:
    """Switch prompts on or off (moderation): a switched-off prompt is hidden and starts
    no chats. Returns how many changed."""
    changed = prompts.exclude(is_active=is_active)
    return changed.update(is_active=is_active, updated_at=timezone.now())


# --- landing pages ------------------------------------------------------------------------------


def landing_page_get_or_create(*, prompt: Prompt) -> LandingPage:
    """The prompt's landing page, given a free subdomain on first use (docs/marketplace.md)."""
    existing = LandingPage.objects.filter(prompt=prompt).select_related("published_version")
    page = existing.first()
    if page is not None:
        return page
    for candidate in landing.subdomain_candidates(prompt):
        with unscoped():
            taken = LandingPage.objects.filter(subdomain=candidate).exists()
        if taken:
            continue
        try:
            with transaction.atomic():
                return LandingPage.objects.create(
                    tenant=prompt.tenant, prompt=prompt, subdomain=candidate
                )
        except IntegrityError:
            page = existing.first()
            if page is not None:  # a concurrent request made it
                return page
    raise ApplicationError(_("No free address is left for this page."), code="conflict")


def landing_version_save(
    *,
    page: LandingPage,
    author: User | None,
    title: str,
    source: str,
    source_format: str = LandingPageVersion.Format.HTML,
    description: str = "",
    css: str = "",
    origin: str = LandingPageVersion.Origin.EDITOR,
    wizard_brief: dict[str, Any] | None = None,
) -> LandingPageVersion:
    """Save a new version (a draft until published): the source is kept as written and
    served only as sanitised HTML. Bad input changes nothing."""
    from django.conf import settings

    errors = _Errors()
    title = title.strip()
    if not title:
        errors.add("title", _("Give the page a title."))
    elif len(title) > 120:
        errors.add("title", _("Keep the title under 120 characters."))
    if len(description) > 300:
        errors.add("description", _("Keep the description under 300 characters."))
    if source_format not in LandingPageVersion.Format.values:
        errors.add("source_format", _("Choose HTML or Markdown."))
    if not source.strip():
        errors.add("source", _("The page is empty."))
    elif len(source.encode()) > settings.SPARK_LANDING_MAX_SOURCE_BYTES:
        errors.add(
            "source",
            _("The page is larger than %(limit)s kB.")
            % {"limit": settings.SPARK_LANDING_MAX_SOURCE_BYTES // 1000},
        )
    if len(css.encode()) > settings.SPARK_LANDING_MAX_CSS_BYTES:
        errors.add(
            "css",
            _("The stylesheet is larger than %(limit)s kB.")
            % {"limit": settings.SPARK_LANDING_MAX_CSS_BYTES // 1000},
        )
    html = ""
    if not errors.by_field:
        html = landing.render_source(source=source, source_format=source_format)
        if not html.strip():
            errors.add("source", _("Nothing of this page can be shown: it has no safe content."))
    errors.raise_if_any()
    css = landing.clean_css(css)
    with transaction.atomic():
        locked = LandingPage.objects.select_for_update().get(pk=page.pk)
        last = locked.versions.order_by("-number").values_list("number", flat=True).first()
        return LandingPageVersion.objects.create(
            tenant=page.tenant,
            page=locked,
            number=(last or 0) + 1,
            title=title,
            description=description.strip(),
            source_format=source_format,
            source=source,
            css=css,
            css_hash=landing.css_digest(css),
            html=html,
            origin=origin,
            author=author,
            wizard_brief=wizard_brief or {},
        )


def landing_publish(*, page: LandingPage, version: LandingPageVersion) -> LandingPage:
    """Make ``version`` (any of the page's, so also a roll-back) the one visitors see."""
    if version.page_id != page.pk:
        raise NotFound(_("That version is not this page's."))
    LandingPage.objects.filter(pk=page.pk).update(
        published_version=version, published_at=timezone.now(), updated_at=timezone.now()
    )
    page.refresh_from_db()
    return page


def landing_unpublish(*, page: LandingPage) -> LandingPage:
    """Back to the built-in page made from the prompt's fields."""
    LandingPage.objects.filter(pk=page.pk).update(
        published_version=None, published_at=None, updated_at=timezone.now()
    )
    page.refresh_from_db()
    return page
