"""Which models a prompt offers, and which one answers."""

from __future__ import annotations

import pytest

from accounts.models import User
from marketplace import selectors
from marketplace.models import Prompt
from spark.common.exceptions import ApplicationError
from spark.llm.models import LLMModel
from spark.tenancy.context import unscoped
from tests.factories import create_prompt

pytestmark = pytest.mark.django_db


def _model(slug: str) -> LLMModel:
    return LLMModel.objects.get(slug=slug)


def _reload(prompt: Prompt) -> Prompt:
    with unscoped():
        return Prompt.objects.select_related("default_model", "forced_model").get(pk=prompt.pk)


def test_default_model_alone_when_nothing_else_is_set(user: User) -> None:
    prompt = create_prompt(owner=user)
    assert selectors.prompt_models(prompt=prompt) == [_model("demo")]
    assert selectors.prompt_resolve_model(prompt=prompt) == _model("demo")
    assert selectors.prompt_resolve_model(prompt=prompt, requested_slug="demo") == _model("demo")


def test_a_model_the_prompt_does_not_offer_is_refused(user: User) -> None:
    prompt = create_prompt(owner=user)
    with pytest.raises(ApplicationError) as raised:
        selectors.prompt_resolve_model(prompt=prompt, requested_slug="openai-gpt-4o")
    assert raised.value.code == "model_not_allowed"
    assert raised.value.message == "This prompt does not allow that model."


def test_allowed_models_are_offered_and_the_default_is_picked_by_default(user: User) -> None:
    allowed = [_model("demo"), _model("openai-gpt-4o"), _model("gemini-2-5-flash")]
    prompt = create_prompt(
        owner=user, default_model=_model("openai-gpt-4o"), allowed_models=allowed
    )
    prompt = _reload(prompt)
    assert [m.slug for m in selectors.prompt_models(prompt=prompt)] == [
        "demo",
        "openai-gpt-4o",
        "gemini-2-5-flash",
    ]
    assert selectors.prompt_resolve_model(prompt=prompt) == _model("openai-gpt-4o")
    picked = selectors.prompt_resolve_model(prompt=prompt, requested_slug="gemini-2-5-flash")
    assert picked == _model("gemini-2-5-flash")
    with pytest.raises(ApplicationError, match="does not allow that model"):
        selectors.prompt_resolve_model(prompt=prompt, requested_slug="anthropic-claude-opus-4")


def test_forced_model_wins_whatever_the_user_picks(user: User) -> None:
    prompt = create_prompt(
        owner=user,
        allowed_models=[_model("demo"), _model("openai-gpt-4o")],
        forced_model=_model("openai-gpt-4o-mini"),
    )
    prompt = _reload(prompt)
    assert selectors.prompt_models(prompt=prompt) == [_model("openai-gpt-4o-mini")]
    assert selectors.prompt_resolve_model(prompt=prompt, requested_slug="demo") == _model(
        "openai-gpt-4o-mini"
    )


def test_a_model_switched_off_later_is_no_longer_offered(user: User) -> None:
    prompt = create_prompt(owner=user, allowed_models=[_model("demo"), _model("openai-gpt-4o")])
    LLMModel.objects.filter(slug="openai-gpt-4o").update(is_active=False)
    prompt = _reload(prompt)
    assert selectors.prompt_models(prompt=prompt) == [_model("demo")]
    with pytest.raises(ApplicationError, match="does not allow that model"):
        selectors.prompt_resolve_model(prompt=prompt, requested_slug="openai-gpt-4o")


def test_when_every_allowed_model_is_off_the_default_answers(user: User) -> None:
    prompt = create_prompt(owner=user, allowed_models=[_model("demo"), _model("openai-gpt-4o")])
    LLMModel.objects.filter(slug="openai-gpt-4o").update(is_active=False)
    prompt.allowed_models.set([_model("openai-gpt-4o")])
    prompt = _reload(prompt)
    assert selectors.prompt_models(prompt=prompt) == [_model("demo")]


def test_switched_off_forced_model_makes_the_prompt_unavailable(user: User) -> None:
    prompt = create_prompt(owner=user, forced_model=_model("openai-gpt-4o"))
    LLMModel.objects.filter(slug="openai-gpt-4o").update(is_active=False)
    prompt = _reload(prompt)
    assert selectors.prompt_models(prompt=prompt) == []
    with pytest.raises(ApplicationError) as raised:
        selectors.prompt_resolve_model(prompt=prompt)
    assert raised.value.code == "model_unavailable"
    assert raised.value.status_code == 503


def test_hidden_model_name_offers_one_choice_named_after_the_prompt(user: User) -> None:
    prompt = create_prompt(
        owner=user,
        name="Interview Coach",
        hide_model_name=True,
        default_model=_model("openai-gpt-4o"),
        allowed_models=[_model("openai-gpt-4o"), _model("demo")],
    )
    prompt = _reload(prompt)
    choices = selectors.prompt_model_choices(prompt=prompt)
    assert [(c.id, c.name, c.is_default) for c in choices] == [(None, "Interview Coach", True)]
    assert choices[0].model == _model("openai-gpt-4o")
    assert selectors.prompt_model_label(prompt=prompt, model=_model("openai-gpt-4o")) == (
        "Interview Coach"
    )


def test_visible_model_names_are_offered_with_the_default_marked(user: User) -> None:
    prompt = create_prompt(
        owner=user,
        default_model=_model("openai-gpt-4o"),
        allowed_models=[_model("demo"), _model("openai-gpt-4o")],
    )
    prompt = _reload(prompt)
    choices = selectors.prompt_model_choices(prompt=prompt)
    assert [(c.id, c.name, c.is_default) for c in choices] == [
        ("demo", "Demo (offline)", False),
        ("openai-gpt-4o", "GPT-4o", True),
    ]
