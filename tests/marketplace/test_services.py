"""Creating and changing prompts: every rule, with field-aware errors, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import tenancy
from accounts.models import Tenant, User
from marketplace import services
from marketplace.models import Prompt
from spark.common.exceptions import ApplicationError, NotFound
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped
from tests.factories import category, create_prompt, create_user, demo_model, image_upload

pytestmark = pytest.mark.django_db


def _model(slug: str) -> LLMModel:
    return LLMModel.objects.get(slug=slug)


def _prompt_count() -> int:
    with unscoped():
        return Prompt.objects.count()


def _create_error(owner: User, **fields: Any) -> dict[str, list[str]]:
    before = _prompt_count()
    with pytest.raises(ApplicationError) as raised:
        create_prompt(owner=owner, **fields)
    assert raised.value.code == "invalid"
    assert _prompt_count() == before
    details: dict[str, list[str]] = raised.value.details
    return details


def test_a_prompt_is_created_with_every_field(user: User, public_tenant: Tenant) -> None:
    prompt = services.prompt_create(
        owner=user,
        tenant=public_tenant,
        name="  Travel Planner ",
        description="Plans trips.",
        system_prompt="You plan trips.",
        default_model=demo_model(),
        allowed_models=[demo_model(), _model("openai-gpt-4o")],
        hide_model_name=True,
        visibility=Prompt.Visibility.UNLISTED,
        enabled_tools=["web_search", "web_search"],
        category=category("productivity"),
        starter_messages=["Plan a weekend in Lisbon", "  ", "Pack for a hike"],
    )
    with unscoped():
        stored = Prompt.objects.get(pk=prompt.pk)
    assert stored.name == "Travel Planner"
    assert stored.slug == "travel-planner"
    assert stored.tenant == public_tenant
    assert stored.owner == user
    assert [m.slug for m in stored.allowed_models.all()] == ["demo", "openai-gpt-4o"]
    assert stored.enabled_tools == ["web_search"]
    assert stored.starter_messages == ["Plan a weekend in Lisbon", "Pack for a hike"]
    assert stored.visibility == "unlisted"
    assert stored.hide_model_name is True


def test_new_prompts_are_private_unless_told(user: User) -> None:
    prompt = services.prompt_create(
        owner=user,
        tenant=tenancy.home_tenant(user),
        name="Notes",
        system_prompt="Take notes.",
        default_model=demo_model(),
    )
    assert prompt.visibility == Prompt.Visibility.PRIVATE


def test_missing_fields_are_each_reported(user: User) -> None:
    details = _create_error(user, name=" ", system_prompt="", default_model=None)
    assert details == {
        "name": ["This field is required."],
        "system_prompt": ["This field is required."],
        "default_model": ["This field is required."],
    }


def test_slugs_are_made_from_the_name_and_kept_unique_per_tenant(user: User, user_b: User) -> None:
    first = create_prompt(owner=user, name="Café Helper")
    second = create_prompt(owner=user, name="Café Helper")
    third = create_prompt(owner=user, name="Café Helper")
    elsewhere = create_prompt(owner=user_b, name="Café Helper")
    assert [first.slug, second.slug, third.slug] == [
        "cafe-helper",
        "cafe-helper-2",
        "cafe-helper-3",
    ]
    assert elsewhere.slug == "cafe-helper"


def test_a_taken_slug_is_refused(user: User) -> None:
    create_prompt(owner=user, slug="tutor")
    assert _create_error(user, slug="tutor") == {"slug": ["Another prompt already uses this slug."]}


def test_the_same_slug_is_fine_in_another_tenant(user: User, user_b: User) -> None:
    create_prompt(owner=user, slug="tutor")
    assert create_prompt(owner=user_b, slug="tutor").slug == "tutor"


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Has Spaces", "Use lowercase letters, numbers, hyphens and underscores only."),
        ("-leading", "Use lowercase letters, numbers, hyphens and underscores only."),
        ("7a0c8f1e-6a4b-4f3e-9d2c-1b2a3c4d5e6f", "A slug cannot look like a prompt ID."),
    ],
)
def test_malformed_slugs_are_refused(user: User, slug: str, message: str) -> None:
    assert _create_error(user, slug=slug) == {"slug": [message]}


def test_switched_off_models_cannot_be_chosen(user: User) -> None:
    off = _model("ollama-llama3-1")
    assert off.is_active is False
    assert _create_error(user, default_model=off) == {
        "default_model": ["Llama 3.1 (local Ollama) is not available."]
    }
    assert _create_error(user, forced_model=off) == {
        "forced_model": ["Llama 3.1 (local Ollama) is not available."]
    }
    details = _create_error(user, allowed_models=[demo_model(), off])
    assert details == {"allowed_models": ["Llama 3.1 (local Ollama) is not available."]}


def test_the_default_model_must_be_one_of_the_allowed_models(user: User) -> None:
    details = _create_error(
        user, default_model=demo_model(), allowed_models=[_model("openai-gpt-4o")]
    )
    assert details == {"default_model": ["The default model must be one of the allowed models."]}


def test_unknown_tools_are_refused(user: User) -> None:
    assert _create_error(user, enabled_tools=["web_search", "rm_rf"]) == {
        "enabled_tools": ["Unknown tool: rm_rf."]
    }


def test_known_tools_come_from_the_setting(user: User, settings: Any) -> None:
    settings.SPARK_TOOL_CHOICES = [("calculator", "Calculator")]
    assert create_prompt(owner=user, enabled_tools=["calculator"]).enabled_tools == ["calculator"]
    assert _create_error(user, enabled_tools=["web_search"]) == {
        "enabled_tools": ["Unknown tool: web_search."]
    }


def test_too_many_or_too_long_conversation_starters_are_refused(user: User) -> None:
    assert _create_error(user, starter_messages=[f"Hi {n}" for n in range(7)]) == {
        "starter_messages": ["Give at most 6 conversation starters."]
    }
    assert _create_error(user, starter_messages=["x" * 301]) == {
        "starter_messages": ["Keep each conversation starter under 300 characters."]
    }


def test_the_error_message_names_the_first_field(user: User) -> None:
    with pytest.raises(ApplicationError) as raised:
        create_prompt(owner=user, name="")
    assert raised.value.message == "name: This field is required."


# --- updates -----------------------------------------------------------------------------


def test_owner_updates_only_the_given_fields(user: User) -> None:
    prompt = create_prompt(owner=user, name="Tutor", description="Old")
    services.prompt_update(prompt=prompt, actor=user, description="New", visibility="private")
    with unscoped():
        stored = Prompt.objects.get(pk=prompt.pk)
    assert (stored.name, stored.slug, stored.description, stored.visibility) == (
        "Tutor",
        "tutor",
        "New",
        "private",
    )


def test_clearing_the_slug_makes_a_new_one_from_the_name(user: User) -> None:
    prompt = create_prompt(owner=user, name="Tutor")
    services.prompt_update(prompt=prompt, actor=user, name="Math Tutor", slug="")
    assert prompt.slug == "math-tutor"


def test_a_prompt_keeps_its_own_slug_on_update(user: User) -> None:
    prompt = create_prompt(owner=user, name="Tutor")
    services.prompt_update(prompt=prompt, actor=user, slug="tutor", name="Tutor")
    assert prompt.slug == "tutor"


def test_changing_allowed_models_checks_the_default(user: User) -> None:
    prompt = create_prompt(owner=user, allowed_models=[demo_model(), _model("openai-gpt-4o")])
    with pytest.raises(ApplicationError) as raised:
        services.prompt_update(prompt=prompt, actor=user, allowed_models=[_model("openai-gpt-4o")])
    assert raised.value.details == {
        "default_model": ["The default model must be one of the allowed models."]
    }
    with unscoped():
        stored = Prompt.objects.get(pk=prompt.pk)
    assert sorted(m.slug for m in stored.allowed_models.all()) == ["demo", "openai-gpt-4o"]


def test_another_user_cannot_update_a_prompt(user: User, public_tenant: Tenant) -> None:
    prompt = create_prompt(owner=user, name="Tutor")
    intruder = create_user(tenant=public_tenant, email="intruder@example.com")
    with pytest.raises(NotFound):
        services.prompt_update(prompt=prompt, actor=intruder, name="Hacked")
    with unscoped():
        assert Prompt.objects.get(pk=prompt.pk).name == "Tutor"


def test_staff_may_update_any_prompt(user: User, staff: User) -> None:
    prompt = create_prompt(owner=user, name="Tutor")
    services.prompt_update(prompt=prompt, actor=staff, name="Moderated")
    with unscoped():
        assert Prompt.objects.get(pk=prompt.pk).name == "Moderated"


def test_switching_prompts_off_and_on(user: User) -> None:
    prompt = create_prompt(owner=user)
    with unscoped():
        assert services.prompts_set_active(prompts=Prompt.objects.all(), is_active=False) == 1
        assert services.prompts_set_active(prompts=Prompt.objects.all(), is_active=False) == 0
        assert Prompt.objects.get(pk=prompt.pk).is_active is False


# --- avatars ------------------------------------------------------------------------------


def test_avatar_is_stored_as_a_re_encoded_webp_under_a_random_name(user: User) -> None:
    prompt = create_prompt(owner=user, avatar=image_upload("../../etc/passwd.png"))
    assert str(prompt.avatar).startswith("prompt-avatars/")
    assert str(prompt.avatar).endswith(".webp")
    assert "passwd" not in str(prompt.avatar)
    with default_storage.open(str(prompt.avatar)) as stored:
        assert stored.read(12)[8:12] == b"WEBP"


def test_large_pictures_are_scaled_down(user: User) -> None:
    from PIL import Image

    prompt = create_prompt(owner=user, avatar=image_upload(size=(1600, 800)))
    with default_storage.open(str(prompt.avatar)) as stored, Image.open(stored) as image:
        assert image.size == (512, 256)


def test_a_file_that_is_not_an_image_is_refused(user: User) -> None:
    fake = SimpleUploadedFile("avatar.png", b"<?php echo 'hi'; ?>", content_type="image/png")
    assert _create_error(user, avatar=fake) == {
        "avatar": ["The file is not an image Spark can read."]
    }


def test_images_over_two_megabytes_are_refused(user: User) -> None:
    big = SimpleUploadedFile("big.png", b"\0" * (2 * 1024 * 1024 + 1), content_type="image/png")
    assert _create_error(user, avatar=big) == {"avatar": ["The image is larger than 2 MB."]}


def test_images_with_too_many_pixels_are_refused_before_decoding(user: User) -> None:
    assert _create_error(user, avatar=image_upload(size=(5000, 5000))) == {
        "avatar": ["The image has too many pixels."]
    }


def test_other_image_formats_are_refused(user: User) -> None:
    assert _create_error(user, avatar=image_upload("a.bmp", fmt="BMP")) == {
        "avatar": ["Upload a PNG, JPEG, WebP or GIF image."]
    }


def test_replacing_an_avatar_deletes_the_old_file(
    user: User, django_capture_on_commit_callbacks: Any
) -> None:
    prompt = create_prompt(owner=user, avatar=image_upload())
    old = str(prompt.avatar)
    with django_capture_on_commit_callbacks(execute=True):
        services.prompt_update(prompt=prompt, actor=user, avatar=image_upload("new.png"))
    assert str(prompt.avatar) != old
    assert not default_storage.exists(old)
    assert default_storage.exists(str(prompt.avatar))
    with django_capture_on_commit_callbacks(execute=True):
        services.prompt_update(prompt=prompt, actor=user, avatar=None)
    with unscoped():
        assert Prompt.objects.get(pk=prompt.pk).avatar.name == ""
