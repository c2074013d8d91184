"""``generate_image``: asks an image model (through the gateway) and shows the picture.

The image is stored like an upload (checked, re-encoded, under a generated key) and
shown through a short-lived link for the user; the tool log keeps the file's id so the
chat can sign a fresh link whenever the conversation is shown again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from chat.pipeline import ExtraUsage
from chat.tools import ToolContext, ToolResult
from security import services as security_services
from security.fetch import FetchError, afetch
from security.uploads import UploadRefused
from spark.common.asyncdb import db
from spark.llm.client import get_gateway
from spark.llm.errors import LLMError
from spark.llm.models import LLMModel
from spark.llm.types import Usage

MAX_PROMPT = 4000
SIZES = ("1024x1024", "1024x1536", "1536x1024")
QUALITIES = ("low", "medium", "high")


def _image_model() -> LLMModel | None:
    return LLMModel.objects.filter(slug=settings.SPARK_IMAGE_MODEL).first()


def _store(context: ToolContext, data: bytes) -> dict[str, Any]:
    stored = security_services.file_store(
        owner=context.user, tenant=context.tenant, kind="image", data=data, name="image.png"
    )
    url = security_services.file_signed_url(stored_file=stored, user=context.user)
    return {"file_id": str(stored.uuid), "url": url}


class GenerateImage:
    name = "generate_image"
    description = "Draw a picture from a detailed description, and show it to the user."
    parameters: dict[str, Any] = {
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "description": "What the picture shows, in detail."},
            "size": {
                "type": "string",
                "enum": list(SIZES),
                "description": "Square, portrait or landscape (default square).",
            },
            "quality": {
                "type": "string",
                "enum": list(QUALITIES),
                "description": "Higher quality costs more (default medium).",
            },
        },
        "required": ["prompt"],
    }
    timeout = 120.0

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        prompt = str(arguments.get("prompt", "")).strip()[:MAX_PROMPT]
        if not prompt:
            return ToolResult(content="No picture was described.", is_error=True)
        size = str(arguments.get("size") or SIZES[0])
        quality = str(arguments.get("quality") or "medium")
        if size not in SIZES or quality not in QUALITIES:
            return ToolResult(
                content=f"Size is one of {', '.join(SIZES)}; quality one of "
                f"{', '.join(QUALITIES)}.",
                is_error=True,
            )
        model = await db(_image_model)()
        if model is None:
            message = _("Image generation is not configured on this server.")
            return ToolResult(content=message, display={"error": message}, is_error=True)
        try:
            image = await get_gateway().generate_image(
                prompt,
                model=model.model_id,
                provider=model.provider,
                keys=context.key_context,
                size=size,
                quality=quality,
            )
            data = image.data
            if data is None and image.url:
                data = (await afetch(image.url)).content
        except (LLMError, FetchError) as error:
            return ToolResult(
                content=f"The image could not be made ({error}).",
                display={"error": _("The image could not be made.")},
                is_error=True,
            )
        if not data:
            return ToolResult(
                content="The image model returned nothing.",
                is_error=True,
                display={"error": _("The image could not be made.")},
            )
        try:
            display = await db(_store)(context, data)
        except UploadRefused as refused:
            return ToolResult(
                content=f"The image was refused ({refused.message}).",
                is_error=True,
                display={"error": _("The image could not be made.")},
            )
        display["prompt"] = image.revised_prompt or prompt
        display.update(size=size, quality=quality)
        usage = ExtraUsage(  # priced per image by size and quality (the catalogue's ToolPrice)
            kind="tool:generate_image",
            model_slug=model.slug,
            usage=Usage(),
            key_source=image.key_source,
            reference=display["file_id"],
            tool=self.name,
            variant=f"{size}/{quality}",
        )
        return ToolResult(
            content="The picture was made and shown to the user.", display=display, usage=usage
        )
