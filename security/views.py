"""Downloads of stored files through short-lived signed links, checked against the user."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.views.decorators.http import require_GET

from security import selectors
from security.models import StoredFile

INLINE_TYPES = ("image/", "audio/")


def _protect(response: HttpResponseBase, stored_file: StoredFile) -> HttpResponseBase:
    """Uploaded bytes never run as Spark's page: sandboxed, not sniffed, private."""
    disposition = "inline" if stored_file.content_type.startswith(INLINE_TYPES) else "attachment"
    extension = stored_file.storage_key.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f'{disposition}; filename="{stored_file.uuid}.{extension}"'
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def file_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """Serve a file to the user its link was made for (404 for anyone else)."""
    stored_file = selectors.stored_file_for_signed_token(token=token, user=request.user)
    mode = settings.SPARK_FILE_SERVE_MODE
    if mode == "x-accel":  # nginx serves the bytes from an internal location
        response = HttpResponse(content_type=stored_file.content_type)
        response["X-Accel-Redirect"] = settings.SPARK_FILE_X_ACCEL_PREFIX + stored_file.storage_key
        return _protect(response, stored_file)
    if mode == "redirect":  # object storage: a presigned URL that expires on its own
        return HttpResponseRedirect(default_storage.url(stored_file.storage_key))
    handle = default_storage.open(stored_file.storage_key, "rb")
    return _protect(FileResponse(handle, content_type=stored_file.content_type), stored_file)
