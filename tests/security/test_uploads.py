"""Uploads: capped, sniffed from bytes, images re-encoded under a pixel cap, stored under
generated keys, served through short-lived links that open only for their user."""

from __future__ import annotations

import io
import re

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from accounts.models import User
from accounts.tenancy import home_tenant
from security import services
from security.models import StoredFile
from security.uploads import UploadRefused
from spark.tenancy.context import unscoped
from tests.conftest import signed_in
from tests.factories import ApiKeyFactory
from tests.factories.files import jpeg_with_exif, png_bomb, png_bytes, stored_png

pytestmark = pytest.mark.django_db

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56


def _store(user: User, data: bytes, kind: str = "image", name: str = "x.png") -> StoredFile:
    return services.file_store(
        owner=user, tenant=home_tenant(user), kind=kind, data=data, name=name
    )


def _no_files() -> bool:
    with unscoped():
        return not StoredFile.objects.exists()


def test_an_image_is_re_encoded_and_stored_under_a_generated_key(user: User) -> None:
    stored = _store(user, png_bytes(40, 30), name="../../etc/passwd.png")
    assert (stored.content_type, stored.width, stored.height) == ("image/png", 40, 30)
    assert re.fullmatch(
        r"files/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}\.png", stored.storage_key
    )
    assert "passwd" not in stored.storage_key and ".." not in stored.storage_key
    with default_storage.open(stored.storage_key) as handle:
        assert Image.open(handle).size == (40, 30)


def test_image_metadata_is_stripped(user: User) -> None:
    original = jpeg_with_exif()
    assert Image.open(io.BytesIO(original)).getexif()
    stored = _store(user, original, name="photo.jpg")
    with default_storage.open(stored.storage_key) as handle:
        assert not Image.open(handle).getexif()


def test_a_decompression_bomb_is_refused_before_decoding(user: User) -> None:
    bomb = png_bomb()
    assert len(bomb) < 200
    with pytest.raises(UploadRefused) as refused:
        _store(user, bomb)
    assert refused.value.code == "image_too_large"
    assert _no_files()


@override_settings(SPARK_UPLOAD_MAX_PIXELS=1_000_000)
def test_an_image_over_the_pixel_cap_is_refused(user: User) -> None:
    with pytest.raises(UploadRefused) as refused:
        _store(user, png_bytes(1001, 1000))
    assert refused.value.code == "image_too_large"
    assert _store(user, png_bytes(1000, 1000)).width == 1000


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (ELF, "cat.png", "executable"),
        (PE, "report.pdf", "executable"),
        (b"#!/bin/sh\nrm -rf /\n", "notes.txt", "executable"),
        (b"PK\x03\x04" + b"\x00" * 40, "cat.png", "archive"),
        (b"<svg onload=alert(1)>", "cat.png", "markup"),
        (b"  <html><script>alert(1)</script>", "cat.png", "markup"),
    ],
)
def test_disguised_executables_archives_and_markup_are_refused(
    user: User, data: bytes, name: str, code: str
) -> None:
    for kind in ("image", "document"):
        with pytest.raises(UploadRefused) as refused:
            _store(user, data, kind=kind, name=name)
        assert refused.value.code == code
        assert refused.value.status_code == 415
    assert _no_files()


def test_a_file_whose_bytes_do_not_match_its_kind_is_refused(user: User) -> None:
    with pytest.raises(UploadRefused) as refused:
        _store(user, b"%PDF-1.7\n...", kind="image", name="cat.png")
    assert refused.value.code == "unsupported_type"
    assert _store(user, b"%PDF-1.7\n...", kind="document", name="a.pdf").content_type == (
        "application/pdf"
    )


def test_a_broken_image_is_refused(user: User) -> None:
    with pytest.raises(UploadRefused) as refused:
        _store(user, png_bytes()[:40])
    assert refused.value.code == "invalid_image"


@override_settings(
    SPARK_UPLOAD_MAX_BYTES={"image": 1000, "avatar": 1000, "document": 50, "audio": 1}
)
def test_an_oversize_file_is_refused_per_kind(user: User) -> None:
    with pytest.raises(UploadRefused) as refused:
        _store(user, b"a" * 51, kind="document", name="a.txt")
    assert (refused.value.code, refused.value.status_code) == ("too_large", 413)
    assert _store(user, b"a" * 50, kind="document", name="a.txt").size == 50
    with pytest.raises(UploadRefused):
        _store(user, png_bytes(200, 200, (1, 2, 3)) + b"\x00" * 1000)


def test_upload_through_the_api_and_download_through_the_signed_link(user: User) -> None:
    client = signed_in(user)
    response = client.post(
        "/api/v1/files/",
        {"kind": "image", "file": SimpleUploadedFile("cat.png", png_bytes(), "text/html")},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png"  # from the bytes, not the client's claim
    download = client.get(body["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert b"".join(download.streaming_content) == _stored_bytes(body["id"])  # type: ignore[attr-defined]


def _stored_bytes(file_id: str) -> bytes:
    with unscoped():
        stored = StoredFile.objects.get(uuid=file_id)
    with default_storage.open(stored.storage_key) as handle:
        return bytes(handle.read())


def test_the_api_refuses_a_disguised_executable_and_stores_nothing(user: User) -> None:
    response = signed_in(user).post(
        "/api/v1/files/", {"kind": "image", "file": SimpleUploadedFile("cat.png", ELF, "image/png")}
    )
    assert response.status_code == 415
    assert response.json()["code"] == "executable"
    assert _no_files()


def test_a_signed_link_does_not_open_for_another_user(user: User, user_a: User) -> None:
    stored = stored_png(user)
    url = services.file_signed_url(stored_file=stored, user=user)
    assert signed_in(user).get(url).status_code == 200
    assert signed_in(user_a).get(url).status_code == 404
    assert Client().get(url).status_code == 404  # nor for nobody


def test_a_signed_link_expires(user: User) -> None:
    stored = stored_png(user)
    client = signed_in(user)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        url = services.file_signed_url(stored_file=stored, user=user)
        clock.shift(299)
        assert client.get(url).status_code == 200
        clock.shift(2)
        assert client.get(url).status_code == 404


def test_a_tampered_link_is_refused(user: User) -> None:
    url = services.file_signed_url(stored_file=stored_png(user), user=user)
    assert signed_in(user).get(url[:-3] + "abc/").status_code == 404


@override_settings(SPARK_FILE_SERVE_MODE="x-accel")
def test_nginx_serves_the_bytes_after_the_check_in_x_accel_mode(user: User) -> None:
    stored = stored_png(user)
    response = signed_in(user).get(services.file_signed_url(stored_file=stored, user=user))
    assert response["X-Accel-Redirect"] == "/protected-files/" + stored.storage_key
    assert response.content == b""


def test_deleting_a_file_removes_its_bytes(user: User, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    stored = stored_png(user)
    _key, raw = ApiKeyFactory.create(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().delete(
            f"/api/v1/files/{stored.uuid}/", headers={"Authorization": f"Bearer {raw}"}
        )
    assert response.status_code == 204
    assert not default_storage.exists(stored.storage_key)
    assert _no_files()
