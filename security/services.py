"""Writes for security: the audit log, bans, auth-failure accounting, Cloudflare blocks.

The live ban state is in the cache (``security.bans.BanStore``); these services keep it
and the durable history (``Ban``, ``AuditLogEntry``, ``CloudflareBlock``) in step.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from security import selectors, uploads
from security.bans import BanStore
from security.integrations.cloudflare import CloudflareClient, CloudflareError
from security.models import AuditLogEntry, Ban, CloudflareBlock, StoredFile
from spark.common.net import client_ip
from spark.tenancy.context import tenant_scope

logger = logging.getLogger(__name__)

AUTH_FAILURE_KIND = "authfail"
NOT_FOUND_KIND = "404"


# --- audit log ---------------------------------------------------------------------------


def audit_record(
    *,
    action: str,
    source: str,
    request: HttpRequest | None = None,
    actor: Any = None,
    obj: models.Model | None = None,
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    path: str | None = None,
) -> AuditLogEntry:
    """Append one audit entry. Actor, IP, user agent and path default to the request's."""
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    content_type = ContentType.objects.get_for_model(obj) if obj is not None else None
    if ip is None and request is not None:
        ip = client_ip(request)
    if user_agent is None:
        user_agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    return AuditLogEntry.objects.create(
        source=source,
        action=action,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_email=getattr(actor, "email", "") or "",
        content_type=content_type,
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        changes=changes or {},
        ip=ip or None,
        user_agent=user_agent[:300],
        path=(path if path is not None else request.path if request is not None else "")[:300],
    )


def audit_purge(*, now: Any = None) -> int:
    """Delete audit entries older than SPARK_AUDIT_RETENTION_DAYS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SPARK_AUDIT_RETENTION_DAYS)
    deleted, _by_model = AuditLogEntry.objects.filter(created_at__lt=cutoff).delete()
    return int(deleted)


# --- sign-ins ----------------------------------------------------------------------------


def sign_in_record(*, request: HttpRequest | None, user: Any) -> AuditLogEntry:
    return audit_record(
        source=AuditLogEntry.Source.APP,
        action=AuditLogEntry.Action.SIGN_IN,
        request=request,
        actor=user,
        obj=user,
    )


def sign_out_record(*, request: HttpRequest | None, user: Any) -> AuditLogEntry | None:
    if user is None or not getattr(user, "pk", None):
        return None
    return audit_record(
        source=AuditLogEntry.Source.APP,
        action=AuditLogEntry.Action.SIGN_OUT,
        request=request,
        actor=user,
        obj=user,
    )


def auth_failure_record(
    *,
    request: HttpRequest | None = None,
    account: str = "",
    kind: str = AuditLogEntry.Action.SIGN_IN_FAILED,
    ip: str | None = None,
    path: str | None = None,
    user_agent: str | None = None,
) -> Ban | None:
    """A failed sign-in (or an invalid API key): audit it, and ban the IP past the limit.

    Takes the IP, path and user agent from ``request`` (HTTP) or as given (a WebSocket
    handshake, whose scope is no HttpRequest): both count against the same limit.
    Returns the ban when this failure was one too many.
    """
    if ip is None:
        ip = client_ip(request) if request is not None else ""
    if path is None:
        path = request.path if request is not None else ""
    if user_agent is None:
        user_agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    audit_record(
        source=AuditLogEntry.Source.SECURITY,
        action=kind,
        request=request,
        object_repr=account[:200],
        ip=ip,
        user_agent=user_agent,
        path=path,
    )
    window = settings.SPARK_FILTER_AUTH_FAILURE_WINDOW
    store = BanStore()
    if store.hit(AUTH_FAILURE_KIND, ip, window=window) < settings.SPARK_FILTER_AUTH_FAILURE_LIMIT:
        return None
    store.reset(AUTH_FAILURE_KIND, ip, window=window)
    return ban_create(
        ip=ip,
        reason=Ban.Reason.AUTH_FAILURES,
        path=path,
        user_agent=user_agent,
        store=store,
    )


# --- bans ----------------------------------------------------------------------------------


def ban_create(
    *,
    ip: str,
    reason: str,
    category: str = "",
    pattern: str = "",
    path: str = "",
    user_agent: str = "",
    actor: Any = None,
    store: BanStore | None = None,
) -> Ban | None:
    """Ban ``ip`` now (for longer on each repeat offence); None if it is already banned.

    The cache gets the ban first, so it holds even if the database write fails. A client
    banned SPARK_CLOUDFLARE_ESCALATE_AFTER times is also blocked at Cloudflare.
    """
    store = store or BanStore()
    decision = store.ban(
        ip,
        durations=settings.SPARK_BAN_DURATIONS,
        memory_seconds=settings.SPARK_BAN_MEMORY_SECONDS,
    )
    if decision is None:
        return None
    with transaction.atomic():
        ban = Ban.objects.create(
            ip=ip,
            reason=reason,
            category=category[:40],
            pattern=pattern[:200],
            path=path[:300],
            user_agent=user_agent[:300],
            offence=decision.offence,
            expires_at=timezone.now() + timedelta(seconds=decision.seconds),
        )
        audit_record(
            source=AuditLogEntry.Source.SECURITY,
            action=AuditLogEntry.Action.BAN,
            actor=actor,
            obj=ban,
            changes={
                "reason": reason,
                "category": category,
                "pattern": pattern,
                "offence": decision.offence,
                "seconds": decision.seconds,
            },
            ip=ip,
            user_agent=user_agent,
        )
        if decision.offence >= settings.SPARK_CLOUDFLARE_ESCALATE_AFTER and cloudflare_configured():
            cloudflare_block_request(ip=ip)
    return ban


def ban_lift(*, ip: str, actor: Any = None, request: HttpRequest | None = None) -> int:
    """Staff unban: the client may come back at once, starting again from a first offence.

    Ends the cache ban, marks the active ban rows lifted, and removes a Cloudflare block.
    Returns how many ban rows were lifted.
    """
    BanStore().lift(ip)
    now = timezone.now()
    with transaction.atomic():
        lifted = Ban.objects.filter(ip=ip, lifted_at__isnull=True, expires_at__gt=now).update(
            lifted_at=now, lifted_by=actor if getattr(actor, "pk", None) else None
        )
        audit_record(
            source=AuditLogEntry.Source.SECURITY,
            action=AuditLogEntry.Action.UNBAN,
            request=request,
            actor=actor,
            object_repr=ip,
            changes={"lifted": lifted},
        )
        for block in CloudflareBlock.objects.filter(ip=ip, status__in=CloudflareBlock.OPEN):
            block.expires_at = now
            block.save(update_fields=["expires_at", "updated_at"])
            transaction.on_commit(_enqueue_expiry)
    return int(lifted)


def not_found_record(
    *, ip: str, path: str, user_agent: str, good_bot: bool, store: BanStore | None = None
) -> Ban | None:
    """A 404 for ``ip``: past the limit within the window, the client is banned."""
    store = store or BanStore()
    window = settings.SPARK_FILTER_404_WINDOW
    limit = (
        settings.SPARK_FILTER_404_LIMIT_GOOD_BOTS if good_bot else settings.SPARK_FILTER_404_LIMIT
    )
    if store.hit(NOT_FOUND_KIND, ip, window=window) < limit:
        return None
    store.reset(NOT_FOUND_KIND, ip, window=window)
    return ban_create(
        ip=ip, reason=Ban.Reason.NOT_FOUND, path=path, user_agent=user_agent, store=store
    )


# --- Cloudflare ----------------------------------------------------------------------------


def cloudflare_configured() -> bool:
    return bool(settings.SPARK_CLOUDFLARE_API_TOKEN and settings.SPARK_CLOUDFLARE_ZONE_ID)


def _enqueue_push(block_id: int) -> None:
    from security import tasks  # tasks import services: resolve the cycle at call time

    tasks.cloudflare_block_push.delay(block_id=block_id)


def _enqueue_expiry() -> None:
    from security import tasks

    tasks.cloudflare_blocks_expire.delay()


def cloudflare_block_request(*, ip: str) -> CloudflareBlock:
    """Ask for a Cloudflare block of ``ip`` (one open block per IP); pushed by a task."""
    existing = CloudflareBlock.objects.filter(ip=ip, status__in=CloudflareBlock.OPEN).first()
    if existing is not None:
        return existing
    block = CloudflareBlock.objects.create(
        ip=ip,
        expires_at=timezone.now() + timedelta(seconds=settings.SPARK_CLOUDFLARE_BLOCK_SECONDS),
    )
    transaction.on_commit(lambda: _enqueue_push(block.pk))
    return block


def cloudflare_block_push(*, block_id: int, client: CloudflareClient | None = None) -> None:
    """Create the Cloudflare rule of a pending or failed block (once; safe to run again).

    A failure is recorded on the block (visible in the admin) and raised for a retry.
    """
    with transaction.atomic():
        block = CloudflareBlock.objects.select_for_update().get(pk=block_id)
        if block.status not in (CloudflareBlock.Status.PENDING, CloudflareBlock.Status.FAILED):
            return
        block.attempts += 1
        try:
            rule_id = (client or CloudflareClient.from_settings()).block_ip(
                block.ip, note=f"Spark: banned {settings.SPARK_CLOUDFLARE_ESCALATE_AFTER}+ times"
            )
        except CloudflareError as error:
            block.status = CloudflareBlock.Status.FAILED
            block.last_error = str(error)[:2000]
            block.save(update_fields=["status", "attempts", "last_error", "updated_at"])
            failure = error
        else:
            block.status = CloudflareBlock.Status.ACTIVE
            block.rule_id = rule_id
            block.last_error = ""
            block.save(update_fields=["status", "attempts", "rule_id", "last_error", "updated_at"])
            return
    raise failure


def cloudflare_blocks_expire(*, client: CloudflareClient | None = None) -> int:
    """Remove the Cloudflare rules of expired blocks; returns how many were removed.

    A removal that fails stays active with its error recorded, and is tried again on the
    next run of the periodic task.
    """
    now = timezone.now()
    removed = 0
    due = CloudflareBlock.objects.filter(status__in=CloudflareBlock.OPEN, expires_at__lte=now)
    for block in due:
        if block.rule_id:
            try:
                (client or CloudflareClient.from_settings()).delete_rule(block.rule_id)
            except CloudflareError as error:
                block.attempts += 1
                block.last_error = str(error)[:2000]
                block.save(update_fields=["attempts", "last_error", "updated_at"])
                continue
        block.status = CloudflareBlock.Status.REMOVED
        block.removed_at = now
        block.save(update_fields=["status", "removed_at", "updated_at"])
        removed += 1
    return removed


# --- stored files (uploads) ------------------------------------------------------------------

FILE_URL_SALT = selectors.FILE_URL_SALT


def _read_capped(data: bytes | IO[bytes], limit: int) -> bytes:
    """The upload's bytes, reading at most one byte past ``limit`` (never the whole of a
    huge file into memory)."""
    if isinstance(data, bytes):
        return data[: limit + 1]
    if hasattr(data, "seek"):
        data.seek(0)
    return bytes(data.read(limit + 1))


def storage_key_new(extension: str) -> str:
    """A generated storage path: three levels of random directories, never user input."""
    token = secrets.token_hex(16)
    return f"files/{token[0:2]}/{token[2:4]}/{token[4:6]}/{token}.{extension}"


def file_store(
    *, owner: Any, tenant: Any, kind: str, data: bytes | IO[bytes], name: str = ""
) -> StoredFile:
    """Check and store an upload for ``owner`` in ``tenant``; raises ``UploadRefused``.

    The size cap is per kind (SPARK_UPLOAD_MAX_BYTES); the type comes from the bytes
    and must be one the kind accepts; images are re-encoded under SPARK_UPLOAD_MAX_PIXELS.
    ``name`` is kept for display only.
    """
    if kind not in uploads.KIND_TYPES:
        raise uploads.UploadRefused(_("Unknown kind of upload."), code="invalid_kind")
    limit = int(settings.SPARK_UPLOAD_MAX_BYTES[kind])
    raw = _read_capped(data, limit)
    if len(raw) > limit:
        raise uploads.UploadRefused(
            _("The file is too large (at most %(mb).1f MB).") % {"mb": limit / 1_048_576},
            code="too_large",
            status_code=413,
        )
    if not raw:
        raise uploads.UploadRefused(_("The file is empty."), code="empty")
    sniffed = uploads.sniff(raw)
    if sniffed.content_type not in uploads.KIND_TYPES[kind]:
        raise uploads.UploadRefused(
            _("This type of file is not accepted here."), code="unsupported_type", status_code=415
        )
    width = height = None
    content, content_type, extension = raw, sniffed.content_type, sniffed.extension
    if kind in uploads.IMAGE_KINDS:
        image = uploads.reencode_image(raw, max_pixels=settings.SPARK_UPLOAD_MAX_PIXELS)
        content, content_type, extension = image.data, image.content_type, image.extension
        width, height = image.width, image.height
    key = default_storage.save(storage_key_new(extension), ContentFile(content))
    try:
        with transaction.atomic(), tenant_scope(tenant):
            return StoredFile.objects.create(
                tenant=tenant,
                owner=owner,
                kind=kind,
                storage_key=key,
                size=len(content),
                content_type=content_type,
                sha256=hashlib.sha256(content).hexdigest(),
                original_name=(name or "").replace("/", "_").replace("\\", "_")[-200:],
                width=width,
                height=height,
            )
    except Exception:
        default_storage.delete(key)  # no orphan bytes when the row cannot be written
        raise


def file_delete(*, stored_file: StoredFile) -> None:
    """Delete the row, then the bytes once the deletion is committed."""
    key = stored_file.storage_key
    stored_file.delete()
    transaction.on_commit(lambda: default_storage.delete(key))


def file_signed_url(*, stored_file: StoredFile, user: Any) -> str:
    """A short-lived download link that opens only for ``user`` (SPARK_FILE_URL_MAX_AGE)."""
    token = signing.dumps({"f": str(stored_file.uuid), "u": user.pk}, salt=FILE_URL_SALT)
    return reverse("file_download", kwargs={"token": token})
