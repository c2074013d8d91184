"""Small, real files for upload tests (made with Pillow or by hand, never fetched)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from accounts.models import User
from accounts.tenancy import home_tenant
from security import services
from security.models import StoredFile


def png_bytes(
    width: int = 8, height: int = 8, color: tuple[int, int, int] = (200, 30, 90)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (16, 16), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPS latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header claiming a huge canvas, with a tiny compressed body: decoding it
    would need width × height bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    body = zlib.compress(b"\x00" * 1024, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def stored_png(owner: User) -> StoredFile:
    return services.file_store(
        owner=owner, tenant=home_tenant(owner), kind="image", data=png_bytes(), name="cat.png"
    )
