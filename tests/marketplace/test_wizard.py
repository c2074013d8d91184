"""The AI landing-page wizard: answers checked, one model call through the gateway, a
sanitised draft that visitors do not see until published, tokens charged to the creator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from billing import ledger
from billing.models import UsageRecord
from marketplace import landing, services, wizard
from marketplace.models import LandingPage, LandingPageVersion, Prompt
from spark.common.exceptions import ApplicationError
from spark.tenancy.context import tenant_scope, unscoped
from tests.billing.conftest import balance, fund, make_priced_model
from tests.conftest import signed_in
from tests.factories import create_prompt
from tests.fakes.llm import Reply

pytestmark = pytest.mark.django_db

ANSWERS: dict[str, Any] = {
    "style": "bold",
    "languages": ["en", "es"],
    "accent_colour": "#1D3557",
    "text_colour": "#1d1d27",
    "background_colour": "#ffffff",
    "brief": "For students writing their first essay. Promise clear, kind feedback.",
}


def _page(prompt: Prompt) -> LandingPage:
    with tenant_scope(prompt.tenant):
        return services.landing_page_get_or_create(prompt=prompt)


def _design(prompt: Prompt, **answers: Any) -> LandingPageVersion:
    brief = wizard.wizard_validate(**{**ANSWERS, **answers})
    with tenant_scope(prompt.tenant):
        return wizard.wizard_design(page=_page(prompt), user=prompt.owner, brief=brief)


def _wizard_usage(user: User) -> list[UsageRecord]:
    with unscoped():
        return list(UsageRecord.objects.filter(user=user, detail="landing_wizard"))


# --- the answers -------------------------------------------------------------------------------


def test_text_that_fails_aa_contrast_is_refused_with_a_colour_that_passes() -> None:
    with pytest.raises(ApplicationError) as caught:
        wizard.wizard_validate(**{**ANSWERS, "text_colour": "#aaaaaa"})
    message = caught.value.details["text_colour"][0]
    assert "2.3:1" in message
    suggested = message.rsplit("Try ", 1)[1].rstrip(".")
    assert wizard.contrast_ratio(suggested, "#ffffff") >= 4.5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("style", "brutalist"),
        ("languages", []),
        ("languages", ["xx"]),
        ("accent_colour", "red"),
        ("background_colour", "#12345"),
        ("brief", "   "),
    ],
)
def test_bad_answers_are_field_errors(field: str, value: Any) -> None:
    with pytest.raises(ApplicationError) as caught:
        wizard.wizard_validate(**{**ANSWERS, field: value})
    assert caught.value.code == "invalid" and field in caught.value.details


def test_contrast_ratio_matches_wcag() -> None:
    assert round(wizard.contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert round(wizard.contrast_ratio("#777777", "#ffffff"), 2) == 4.48


# --- the demo provider's pages -----------------------------------------------------------------


def test_the_demo_wizard_makes_a_distinct_deterministic_page_per_style(user: User) -> None:
    prompt = create_prompt(owner=user, name="Essay Coach", description="Feedback on essays.")
    designs = {}
    for style in wizard.STYLES:
        first = _design(prompt, style=style)
        again = _design(prompt, style=style)
        assert (first.html, first.css) == (again.html, again.css)
        designs[style] = (first.html, first.css)
        assert first.origin == LandingPageVersion.Origin.WIZARD
        assert first.wizard_brief["style"] == style
        assert "<script" not in first.html and 'href="{{ spark.start_url }}"' in first.html
        assert "#1d3557" in first.css
    assert len({css for _html, css in designs.values()}) == 4
    assert len({html for html, _css in designs.values()}) == 4
    assert 'lang="es"' in designs["bold"][0] and "Empieza a chatear" in designs["bold"][0]


def test_a_wizard_page_is_a_draft_until_the_creator_publishes_it(user: User) -> None:
    prompt = create_prompt(owner=user, name="Essay Coach", slug="essay-coach")
    page = _page(prompt)
    with tenant_scope(prompt.tenant):
        live = services.landing_version_save(
            page=page, author=user, title="Live", source="<h1>The live one</h1>"
        )
        services.landing_publish(page=page, version=live)

    draft = _design(prompt)

    host: dict[str, Any] = {"HTTP_HOST": landing.landing_host(page)}
    assert b"The live one" in Client().get("/", **host).content
    preview = Client().get(f"/_preview/{landing.preview_token(draft)}/", **host)
    assert b"Meet Essay Coach" in preview.content
    with tenant_scope(prompt.tenant):
        services.landing_publish(page=page, version=draft)
    shown = Client().get("/", **host).content.decode()
    assert "Meet Essay Coach" in shown and 'href="/start"' in shown


def test_the_wizards_tokens_are_recorded_against_the_creator_and_prompt(user: User) -> None:
    prompt = create_prompt(owner=user)
    _design(prompt)
    records = _wizard_usage(user)
    assert len(records) == 1
    assert records[0].prompt_id == prompt.pk and records[0].output_tokens > 0


# --- a real provider, at the wire ---------------------------------------------------------------


def _priced(settings: Any) -> None:
    make_priced_model(max_output_tokens=8000)
    settings.SPARK_LANDING_WIZARD_MODEL = "priced-gpt"


def test_a_provider_page_is_sanitised_and_its_tokens_charged_to_the_creators_wallet(
    user: User, llm_fakes: Any, settings: Any
) -> None:
    _priced(settings)
    fund(user, 1_000_000)
    wallet = ledger.user_wallet(user)
    before = balance(wallet)
    design = {
        "title": "Essays, fixed",
        "description": "Feedback in minutes.",
        "html": '<h1 onclick="x()">Essays</h1><script>steal()</script>'
        '<a href="{{ spark.start_url }}">Go</a>',
        "css": "h1{color:#1d3557}",
    }
    llm_fakes.openai.script(Reply(json.dumps(design), input_tokens=500, output_tokens=1000))
    prompt = create_prompt(owner=user)

    version = _design(prompt)

    assert (
        version.html
        == '<h1>Essays</h1><a href="{{ spark.start_url }}" rel="noopener noreferrer">Go</a>'
    )
    assert version.title == "Essays, fixed" and version.css == "h1{color:#1d3557}"
    call = llm_fakes.openai.model_calls[-1].json
    assert call["response_format"] == {"type": "json_object"}
    assert json.loads(call["messages"][1]["content"])["style"] == "bold"
    records = _wizard_usage(user)
    assert len(records) == 1 and records[0].output_tokens == 1000
    assert records[0].total > 0
    assert balance(wallet) == before - records[0].total


def test_an_unusable_answer_keeps_the_page_as_it_was_and_says_why(
    user: User, llm_fakes: Any, settings: Any
) -> None:
    _priced(settings)
    fund(user, 1_000_000)
    llm_fakes.openai.script(Reply("Sorry, I can't design pages.", output_tokens=10))
    prompt = create_prompt(owner=user)
    client = signed_in(user)

    response = client.post(f"/creator/prompts/{prompt.uuid}/page/wizard/", ANSWERS)

    assert response.status_code == 200
    assert "The wizard&#x27;s answer was not a page." in response.content.decode()
    with unscoped():
        assert not LandingPageVersion.objects.filter(page__prompt=prompt).exists()
    assert len(_wizard_usage(user)) == 1  # the tokens it used are still paid for


def test_refused_answers_make_no_model_call(user: User, llm_fakes: Any, settings: Any) -> None:
    _priced(settings)
    prompt = create_prompt(owner=user)
    response = signed_in(user).post(
        f"/creator/prompts/{prompt.uuid}/page/wizard/", {**ANSWERS, "text_colour": "#eeeeee"}
    )
    assert response.status_code == 200 and "Try #" in response.content.decode()
    assert llm_fakes.openai.model_calls == []
    assert _wizard_usage(user) == []


def test_the_wizard_page_flow_ends_on_the_editor_with_the_draft_previewed(user: User) -> None:
    prompt = create_prompt(owner=user, name="Essay Coach")
    client = signed_in(user)
    assert client.get(f"/creator/prompts/{prompt.uuid}/page/wizard/").status_code == 200

    response = client.post(
        f"/creator/prompts/{prompt.uuid}/page/wizard/", {**ANSWERS, "style": "editorial"}
    )

    assert response.status_code == 302
    editor = client.get(response["Location"]).content.decode()
    assert "The wizard made version 1." in editor
    assert "Preview of version 1" in editor and "/_preview/" in editor


def test_someone_elses_prompt_has_no_wizard(user: User) -> None:
    prompt = create_prompt(owner=user)
    other = signed_in(
        User.objects.create_user(email="else@example.com", password="x-long-password-1")
    )
    assert other.get(f"/creator/prompts/{prompt.uuid}/page/wizard/").status_code == 404
    assert other.post(f"/creator/prompts/{prompt.uuid}/page/wizard/", ANSWERS).status_code == 404
    assert _wizard_usage(user) == []
