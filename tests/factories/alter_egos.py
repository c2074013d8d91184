from __future__ import annotations

from io import BytesIO
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts import services
from accounts.models import AlterEgo, User


def create_alter_ego(*, user: User, **fields: Any) -> AlterEgo:
    fields.setdefault("name", "Captain Nemo")
    fields.setdefault("description", "A reclusive submarine captain.")
    return services.alter_ego_create(user=user, **fields)


def image_upload(
    name: str = "avatar.png", *, size: tuple[int, int] = (64, 48), fmt: str = "PNG"
) -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", size, (200, 40, 120)).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")
