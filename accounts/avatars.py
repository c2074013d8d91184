"""Avatar images (alter egos, prompts): checked with Pillow, re-encoded, named by Spark.

An upload is accepted only if Pillow decodes it as PNG, JPEG, WebP or GIF within the
size and pixel limits; what is stored is a fresh WebP (at most 512×512, metadata
dropped) under a random name, so neither the bytes nor the path come from the user.
The general upload service in ``security/`` will take over these checks; callers keep
calling ``avatar_clean``.
"""

from __future__ import annotations

import uuid
import warnings
from io import BytesIO

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from spark.common.exceptions import ApplicationError

MAX_AVATAR_BYTES = 2 * 1024 * 1024
MAX_AVATAR_PIXELS = 4096 * 4096  # checked before decoding: a decompression-bomb guard
AVATAR_SIZE = 512
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})


def _invalid(message: str, field: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", code="invalid", details={field: [message]})


def avatar_clean(upload: File, *, field: str = "avatar") -> ContentFile:  # type: ignore[type-arg]
    """A re-encoded WebP copy of ``upload`` named ``<random>.webp``, or ``ApplicationError``."""
    if upload.size is not None and upload.size > MAX_AVATAR_BYTES:
        raise _invalid(_("The image is larger than 2 MB."), field)
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                if image.format not in ACCEPTED_FORMATS:
                    raise _invalid(_("Upload a PNG, JPEG, WebP or GIF image."), field)
                width, height = image.size
                if width * height > MAX_AVATAR_PIXELS:
                    raise _invalid(_("The image has too many pixels."), field)
                image.load()
                picture = ImageOps.exif_transpose(image) or image
                picture.thumbnail((AVATAR_SIZE, AVATAR_SIZE))
                if picture.mode not in ("RGB", "RGBA"):
                    picture = picture.convert("RGBA")
                out = BytesIO()
                picture.save(out, format="WEBP", quality=85)
    except ApplicationError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ):
        raise _invalid(_("The file is not an image Spark can read."), field) from None
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.webp")


def avatar_delete_on_commit(name: str | None) -> None:
    """Remove a replaced or cleared avatar file once the change is committed."""
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))
