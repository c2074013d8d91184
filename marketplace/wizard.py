"""The AI landing-page wizard: a few answers from the creator, one model call, a draft.

The creator picks a visual style, the site's languages and brand colours (checked for
WCAG AA contrast, with a suggested fix) and writes a brief. ``wizard_design`` asks the
wizard model (SPARK_LANDING_WIZARD_MODEL, through the ``spark.llm`` gateway) for a page as
JSON, checks it, saves it as a new draft version (sanitised like any other) and charges
the tokens to the creator through billing's recorder (SPARK_EXTRA_USAGE_RECORDER). The
offline ``demo`` provider answers with a real, deterministic page for each style.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _, gettext_lazy

from accounts.models import User
from marketplace.models import LandingPage, LandingPageVersion, Prompt
from spark.common.exceptions import ApplicationError
from spark.llm.client import get_gateway
from spark.llm.errors import LLMError
from spark.llm.models import LLMModel
from spark.llm.types import ChatMessage, ChatRequest, Completion, KeyContext

# Told to the model (and to the demo provider) in ChatRequest.metadata.
TASK = "landing_page"
STYLES = {
    "minimal": gettext_lazy("Minimal: quiet, lots of white space"),
    "bold": gettext_lazy("Bold: big type, strong colour blocks"),
    "editorial": gettext_lazy("Editorial: a magazine feature, serif headlines"),
    "playful": gettext_lazy("Playful: rounded, friendly, lively"),
}
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
AA_NORMAL_TEXT = 4.5
MAX_BRIEF = 2000

SYSTEM_PROMPT = """You design landing pages for AI assistants sold on a marketplace.
Answer with one JSON object and nothing else, with these string fields:
"title" (under 120 characters), "description" (under 300 characters, for search engines),
"html" (the page body: semantic HTML only, no <script>, no <style>, no inline style
attributes, no forms, no iframes; the main call-to-action link must have
href="{{ spark.start_url }}"), "css" (the stylesheet for that HTML).
Use the visual style, languages and colours the creator chose. Write the copy in the
first language listed; offer the others as short sections if there are several."""


@dataclass(frozen=True)
class WizardBrief:
    style: str
    languages: tuple[str, ...]
    accent_colour: str
    text_colour: str
    background_colour: str
    brief: str

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["languages"] = list(self.languages)
        return data


# --- colours -------------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def suggest_text_colour(*, text: str, background: str) -> str:
    """The nearest colour to ``text`` (darkened or lightened) that passes AA on
    ``background``."""
    towards_black = _luminance(background) > 0.18
    r, g, b = (int(text[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(1, 21):
        f = 1 - step / 20
        if towards_black:
            candidate = [round(c * f) for c in (r, g, b)]
        else:
            candidate = [round(c + (255 - c) * (1 - f)) for c in (r, g, b)]
        colour = "#{:02x}{:02x}{:02x}".format(*candidate)
        if contrast_ratio(colour, background) >= AA_NORMAL_TEXT:
            return colour
    return "#000000" if towards_black else "#ffffff"


def wizard_validate(
    *,
    style: str,
    languages: list[str] | tuple[str, ...],
    accent_colour: str,
    text_colour: str,
    background_colour: str,
    brief: str,
) -> WizardBrief:
    """The creator's answers, checked; ``ApplicationError(code="invalid")`` by field."""
    errors: dict[str, list[str]] = {}
    if style not in STYLES:
        errors["style"] = [_("Choose one of the four styles.")]
    known = {code for code, _name in settings.LANGUAGES}
    chosen = tuple(dict.fromkeys(code for code in languages if code))
    if not chosen or any(code not in known for code in chosen):
        errors["languages"] = [_("Choose at least one of the site's languages.")]
    colours = {
        "accent_colour": accent_colour.strip().lower(),
        "text_colour": text_colour.strip().lower(),
        "background_colour": background_colour.strip().lower(),
    }
    for field, value in colours.items():
        if not HEX.match(value):
            errors[field] = [_("Write a colour as # and six hex digits, like #1d3557.")]
    if "text_colour" not in errors and "background_colour" not in errors:
        ratio = contrast_ratio(colours["text_colour"], colours["background_colour"])
        if ratio < AA_NORMAL_TEXT:
            fix = suggest_text_colour(
                text=colours["text_colour"], background=colours["background_colour"]
            )
            errors["text_colour"] = [
                _(
                    "This text colour is hard to read on that background (contrast "
                    "%(ratio).1f:1, at least 4.5:1 is needed). Try %(fix)s."
                )
                % {"ratio": ratio, "fix": fix}
            ]
    brief = brief.strip()
    if not brief:
        errors["brief"] = [_("Tell the wizard what the page should say.")]
    elif len(brief) > MAX_BRIEF:
        errors["brief"] = [_("Keep the brief under 2000 characters.")]
    if errors:
        field, messages = next(iter(errors.items()))
        raise ApplicationError(f"{field}: {messages[0]}", code="invalid", details=errors)
    return WizardBrief(
        style=style,
        languages=chosen,
        brief=brief,
        **colours,
    )


# --- the model call ---------------------------------------------------------------------------


def wizard_request(*, prompt: Prompt, brief: WizardBrief, model: LLMModel) -> ChatRequest:
    answers = {
        "prompt": {
            "name": prompt.name,
            "description": prompt.description,
            "conversation_starters": list(prompt.starter_messages),
        },
        **brief.as_json(),
    }
    return ChatRequest(
        provider=model.provider,
        model=model.model_id,
        messages=(
            ChatMessage(role="system", content=SYSTEM_PROMPT),
            ChatMessage(role="user", content=json.dumps(answers, ensure_ascii=False)),
        ),
        temperature=0.7,
        max_tokens=settings.SPARK_LANDING_WIZARD_MAX_TOKENS,
        response_format={"type": "json_object"},
        metadata={"spark_task": TASK},
    )


def _design_from(completion: Completion) -> dict[str, str]:
    """The page the model wrote, or ApplicationError saying what was wrong with it."""
    text = completion.text.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ApplicationError(
            _("The wizard's answer was not a page. Nothing was changed; try again."),
            code="wizard_bad_output",
            status_code=502,
        )
    design = {key: data.get(key) for key in ("title", "description", "html", "css")}
    if not all(isinstance(value, str) for value in design.values()) or not design["html"]:
        raise ApplicationError(
            _("The wizard's page was incomplete. Nothing was changed; try again."),
            code="wizard_bad_output",
            status_code=502,
        )
    return {key: str(value) for key, value in design.items()}


def _charge(*, user: User, prompt: Prompt, model: LLMModel, completion: Completion) -> None:
    path = settings.SPARK_EXTRA_USAGE_RECORDER
    usage = completion.usage
    if not path or not (usage.input_tokens or usage.output_tokens):
        return
    import_string(path)(
        tenant_id=prompt.tenant_id,
        user_id=user.pk,
        conversation_id=None,
        message_id=None,
        kind="landing_wizard",
        model_slug=model.slug,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_tokens=usage.cached_tokens,
        key_source=completion.key_source,
        idempotency_key=f"landing-wizard:{uuid.uuid4()}",
        prompt_id=prompt.pk,
    )


def wizard_model() -> LLMModel:
    model = LLMModel.objects.filter(
        slug=settings.SPARK_LANDING_WIZARD_MODEL, is_active=True
    ).first()
    if model is None:
        raise ApplicationError(
            _("The page wizard is not available right now."),
            code="model_unavailable",
            status_code=503,
        )
    return model


def wizard_design(*, page: LandingPage, user: User, brief: WizardBrief) -> LandingPageVersion:
    """Ask the model for a page, charge its tokens, save the page as a new draft.

    A failed or unusable answer writes no version (the live one stays) and says why; the
    tokens the model used are charged either way.
    """
    from marketplace import services

    prompt = page.prompt
    model = wizard_model()
    request = wizard_request(prompt=prompt, brief=brief, model=model)
    try:
        completion = async_to_sync(get_gateway().complete)(request, keys=KeyContext())
    except LLMError as error:
        raise ApplicationError(
            _("The wizard could not reach its model. Nothing was changed; try again later."),
            code="wizard_unavailable",
            status_code=503,
        ) from error
    _charge(user=user, prompt=prompt, model=model, completion=completion)
    design = _design_from(completion)
    return services.landing_version_save(
        page=page,
        author=user,
        title=design["title"][:120] or prompt.name,
        description=design["description"][:300],
        source=design["html"],
        css=design["css"],
        origin=LandingPageVersion.Origin.WIZARD,
        wizard_brief=brief.as_json(),
    )
