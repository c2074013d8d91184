"""Upload checks: what a file is, from its bytes; images decoded under a pixel cap and
re-encoded (dropping metadata and anything hidden after the image data).

The client's file name and declared content type are never trusted. The signature table
below is small on purpose: Spark accepts a short list of types per kind and refuses the
rest; executables, archives and markup are named so the refusal says why.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from spark.common.exceptions import ApplicationError


class UploadRefused(ApplicationError):
    """An upload Spark will not store; ``code`` says why."""

    status_code = 400
    default_code = "upload_refused"


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str


# (offset, magic bytes, content type, extension) for the types Spark accepts.
ACCEPTED_SIGNATURES: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (0, b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (0, b"GIF87a", "image/gif", "gif"),
    (0, b"GIF89a", "image/gif", "gif"),
    (8, b"WEBP", "image/webp", "webp"),  # after "RIFF" + size
    (0, b"%PDF-", "application/pdf", "pdf"),
    (0, b"OggS", "audio/ogg", "ogg"),
    (8, b"WAVE", "audio/wav", "wav"),  # after "RIFF" + size
    (0, b"ID3", "audio/mpeg", "mp3"),
    (0, b"\xff\xfb", "audio/mpeg", "mp3"),
    (0, b"\xff\xf3", "audio/mpeg", "mp3"),
    (0, b"\xff\xf2", "audio/mpeg", "mp3"),
    (0, b"fLaC", "audio/flac", "flac"),
    (0, b"\x1a\x45\xdf\xa3", "audio/webm", "webm"),  # WebM/Matroska: browser recordings
    (4, b"ftypM4A", "audio/mp4", "m4a"),
    (4, b"ftypisom", "audio/mp4", "m4a"),
    (4, b"ftypmp42", "audio/mp4", "m4a"),
)
EXECUTABLE_SIGNATURES = (
    b"MZ",  # Windows PE
    b"\x7fELF",  # Linux
    b"\xca\xfe\xba\xbe",  # Mach-O universal / Java class
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"#!",  # scripts
    b"\x00asm",  # WebAssembly
    b"dex\n",  # Android
)
ARCHIVE_SIGNATURES = (
    b"PK\x03\x04",  # zip, docx, jar, apk
    b"Rar!",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b",  # gzip
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # OLE: msi, doc, xls
)
MARKUP_STARTS = (b"<", b"<?", b"<!")

KIND_TYPES: dict[str, frozenset[str]] = {
    "image": frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
    "avatar": frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
    "document": frozenset({"application/pdf", "text/plain"}),
    "audio": frozenset(
        {"audio/mpeg", "audio/ogg", "audio/wav", "audio/flac", "audio/webm", "audio/mp4"}
    ),
}
IMAGE_KINDS = frozenset({"image", "avatar"})
# How each accepted image format is written back (GIF becomes a still PNG).
_REENCODE = {"PNG": ("PNG", "image/png", "png"), "JPEG": ("JPEG", "image/jpeg", "jpg")}
_REENCODE |= {"GIF": ("PNG", "image/png", "png"), "WEBP": ("WEBP", "image/webp", "webp")}


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data[:65536]:
        return False
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the sample's end is still text.
        return error.start >= len(data[:65536]) - 3
    return True


def sniff(data: bytes) -> Sniffed:
    """What ``data`` is, from its first bytes; raises for executables, archives, markup."""
    if data.startswith(EXECUTABLE_SIGNATURES):
        raise UploadRefused(
            _("Executable files are not accepted."), code="executable", status_code=415
        )
    if data.startswith(ARCHIVE_SIGNATURES):
        raise UploadRefused(_("Archives are not accepted."), code="archive", status_code=415)
    for offset, magic, content_type, extension in ACCEPTED_SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return Sniffed(content_type, extension)
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(MARKUP_STARTS):
        raise UploadRefused(
            _("HTML, SVG and XML files are not accepted."), code="markup", status_code=415
        )
    if data and _looks_like_text(data):
        return Sniffed("text/plain", "txt")
    raise UploadRefused(
        _("This type of file is not accepted."), code="unsupported_type", status_code=415
    )


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def reencode_image(data: bytes, *, max_pixels: int) -> ProcessedImage:
    """Decode an image under a pixel cap and write it back without metadata.

    The cap is checked from the header, before any pixel is decoded, so a small file that
    claims a huge canvas (a decompression bomb) costs nothing.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in _REENCODE:
                    raise UploadRefused(
                        _("This type of image is not accepted."),
                        code="unsupported_type",
                        status_code=415,
                    )
                width, height = image.size
                if width * height > max_pixels:
                    raise UploadRefused(
                        _("The image is too large (too many pixels)."), code="image_too_large"
                    )
                image.seek(0)
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                pil_format, content_type, extension = _REENCODE[image.format]
                if pil_format == "JPEG" and upright.mode not in ("RGB", "L"):
                    upright = upright.convert("RGB")
                elif pil_format == "PNG" and upright.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                    upright = upright.convert("RGBA")
                out = io.BytesIO()
                upright.save(out, format=pil_format)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadRefused(
            _("The image is too large (too many pixels)."), code="image_too_large"
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise UploadRefused(_("The image could not be read."), code="invalid_image") from error
    return ProcessedImage(out.getvalue(), content_type, extension, width, height)
