"""Custom domains for prompts: adding one, proving it by DNS, activating it, re-checking it.

A creator attaches a domain they own to a prompt (``domain_add``). Spark shows the records
to create (``domain_records``): a CNAME to ``SPARK_DOMAIN_CNAME_TARGET``, or for an apex
domain a TXT record ``_spark-challenge.<domain>`` holding the domain's token plus A / AAAA
records naming the platform's addresses. ``domain_verify`` asks the resolvers of
``SPARK_DNS_RESOLVERS`` (dnspython); ``domain_activate`` charges the one-time slot fee
through the ledger (billing plugs in as ``SPARK_DOMAIN_FEE_CHARGE``) and the domain serves
the prompt's landing page. The beat task re-verifies active domains daily, with backoff
after a failure, and suspends one whose records stay wrong.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dns.exception
import dns.nameserver
import dns.resolver
import idna
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from accounts.models import Tenant, TenantDomain, User
from marketplace.models import Prompt, PromptDomain
from spark.common.exceptions import ApplicationError, Conflict, NotFound
from spark.tenancy.context import unscoped

logger = logging.getLogger(__name__)

CHALLENGE_LABEL = "_spark-challenge"
MAX_DOMAINS_PER_PROMPT = 5
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


# --- names -----------------------------------------------------------------------------------


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_domain", details={"hostname": [message]})


def hostname_normalize(value: str) -> str:
    """The ASCII (punycode) lowercase form of a host name a person typed, or
    ``invalid_domain``: IP addresses, wildcards, single labels and malformed names are
    refused (a port or a trailing dot is dropped)."""
    text = (value or "").strip().lower().rstrip(".")
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0]
    if not text:
        raise _invalid(_("Enter a domain name, e.g. chat.example.com."))
    if "*" in text:
        raise _invalid(_("Wildcard domains are not supported: enter one host name."))
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        pass
    else:
        raise _invalid(_("Enter a domain name, not an IP address."))
    if text.count(":") == 1:  # a port
        text = text.split(":", 1)[0]
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        raise _invalid(_("Enter a domain name, not an IP address."))
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise _invalid(_("This is not a valid domain name.")) from None
    labels = ascii_name.split(".")
    if (
        len(labels) < 2
        or len(ascii_name) > 253
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise _invalid(_("This is not a valid domain name."))
    return ascii_name


def hostname_display(hostname: str) -> str:
    """A stored (punycode) host name as people read it."""
    try:
        return idna.decode(hostname)
    except (idna.IDNAError, UnicodeError):
        return hostname


def _host_only(host: str) -> str:
    host = (host or "").strip().lower().rstrip(".")
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _reserved_suffixes() -> set[str]:
    names = {
        *settings.SPARK_DOMAIN_RESERVED,
        settings.SPARK_DOMAIN_CNAME_TARGET,
        getattr(settings, "SPARK_LANDING_DOMAIN", ""),
    }
    return {_host_only(name) for name in names if name and _host_only(name)}


def _is_platform_domain(hostname: str) -> bool:
    for reserved in _reserved_suffixes():
        if hostname == reserved or hostname.endswith(f".{reserved}"):
            return True
    with unscoped():
        return TenantDomain.objects.filter(host=hostname).exists()


# --- reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DnsRecord:
    type: str
    name: str
    value: str


def domain_records(domain: PromptDomain) -> list[DnsRecord]:
    """What the creator creates at their DNS host: either the CNAME, or (for an apex
    domain, which cannot have one) the TXT challenge plus the address records."""
    records = [DnsRecord("CNAME", domain.hostname, settings.SPARK_DOMAIN_CNAME_TARGET)]
    records.append(DnsRecord("TXT", f"{CHALLENGE_LABEL}.{domain.hostname}", domain.token))
    records += [DnsRecord("A", domain.hostname, ip) for ip in settings.SPARK_DOMAIN_IPV4]
    records += [DnsRecord("AAAA", domain.hostname, ip) for ip in settings.SPARK_DOMAIN_IPV6]
    return records


def domains_for_owner(*, user: User, tenant: Tenant) -> list[PromptDomain]:
    """The domains of the user's prompts in the tenant they act in."""
    with unscoped():
        return list(
            PromptDomain.objects.filter(tenant=tenant, prompt__owner=user)
            .select_related("prompt")
            .order_by("hostname")
        )


def domain_get_for_owner(*, user: User, tenant: Tenant, uuid: Any) -> PromptDomain:
    """The user's own domain (of one of their prompts in this tenant), else 404."""
    with unscoped():
        domain = (
            PromptDomain.objects.filter(uuid=uuid, tenant=tenant, prompt__owner=user)
            .select_related("prompt")
            .first()
        )
    if domain is None:
        raise NotFound(_("No such domain."))
    return domain


SERVING_CACHE_SECONDS = 300


def _serving_key(hostname: str) -> str:
    return f"spark:prompt-domain:serving:{hostname}"


def serving_domain_forget(hostname: str) -> None:
    """Drop what ``is_serving_domain`` remembers of ``hostname`` (its status changed)."""
    cache.delete(_serving_key(hostname))


def is_serving_domain(host: str) -> bool:
    """Whether ``host`` is an active prompt domain: asked by the landing middleware for
    every host that is not the platform's, so remembered for a few minutes (and forgotten
    whenever the domain's status changes)."""
    try:
        hostname = hostname_normalize(_host_only(host))
    except ApplicationError:
        return False
    key = _serving_key(hostname)
    known = cache.get(key)
    if known is None:
        with unscoped():
            known = PromptDomain.objects.filter(
                hostname=hostname, status=PromptDomain.Status.ACTIVE
            ).exists()
        cache.set(key, known, SERVING_CACHE_SECONDS)
    return bool(known)


def is_platform_host(host: str) -> bool:
    """``host`` is the platform's own (a reserved name or under one): never a prompt domain,
    so the landing middleware answers it without a lookup."""
    bare = _host_only(host)
    return any(bare == name or bare.endswith(f".{name}") for name in _reserved_suffixes())


def active_domain_prompt(host: str) -> Prompt | None:
    """The prompt an active custom domain serves (the landing router asks), else None.

    A private or switched-off prompt is not served, even on its own domain.
    """
    try:
        hostname = hostname_normalize(_host_only(host))
    except ApplicationError:
        return None
    with unscoped():
        domain = (
            PromptDomain.objects.filter(hostname=hostname, status=PromptDomain.Status.ACTIVE)
            .select_related("prompt")
            .first()
        )
    if domain is None:
        return None
    prompt = domain.prompt
    if not prompt.is_active or prompt.visibility == Prompt.Visibility.PRIVATE:
        return None
    return prompt


def tls_allowed(host: str) -> bool:
    """Whether the TLS proxy may get a certificate for ``host`` (on-demand TLS): only for an
    active prompt domain of a served prompt, or a tenant's own domain."""
    if active_domain_prompt(host) is not None:
        return True
    try:
        hostname = hostname_normalize(_host_only(host))
    except ApplicationError:
        return False
    with unscoped():
        return TenantDomain.objects.filter(host=hostname).exists()


# --- DNS -------------------------------------------------------------------------------------


def _nameserver(spec: str) -> dns.nameserver.Do53Nameserver:
    spec = spec.strip()
    port = 53
    if spec.startswith("["):
        address, _sep, rest = spec[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif spec.count(":") == 1:
        address, port_text = spec.split(":")
        port = int(port_text)
    else:
        address = spec
    return dns.nameserver.Do53Nameserver(address, port)


def resolver() -> dns.resolver.Resolver:
    """A resolver asking ``SPARK_DNS_RESOLVERS`` (the system's when the list is empty)."""
    specs = [spec for spec in settings.SPARK_DNS_RESOLVERS if spec.strip()]
    made = dns.resolver.Resolver(configure=not specs)
    if specs:
        made.nameservers = [_nameserver(spec) for spec in specs]
    made.lifetime = settings.SPARK_DNS_TIMEOUT_SECONDS
    made.timeout = settings.SPARK_DNS_TIMEOUT_SECONDS
    made.cache = None
    return made


class DnsUnavailable(Exception):
    pass


def _lookup(res: dns.resolver.Resolver, name: str, rdtype: str) -> list[str]:
    """The record values, lowercase, without the final dot; [] when there are none."""
    try:
        answer = res.resolve(name, rdtype, raise_on_no_answer=False, search=False)
    except dns.resolver.NXDOMAIN:
        return []
    except (dns.resolver.NoNameservers, dns.exception.Timeout) as error:
        raise DnsUnavailable(str(error)) from error
    values = []
    for record in answer:
        if rdtype == "TXT":
            values.append(b"".join(record.strings).decode("utf-8", "replace"))
        else:
            values.append(record.to_text().rstrip(".").lower())
    return values


@dataclass(frozen=True)
class Check:
    method: str  # PromptDomain.Method, or "" when not verified
    problem: str  # why not, readable


def dns_check(domain: PromptDomain) -> Check:
    """Whether the domain's DNS proves it points at Spark (CNAME, or TXT + addresses)."""
    res = resolver()
    target = settings.SPARK_DOMAIN_CNAME_TARGET.lower().rstrip(".")
    try:
        cnames = _lookup(res, domain.hostname, "CNAME")
        if target in cnames:
            return Check(PromptDomain.Method.CNAME, "")
        if cnames:
            return Check(
                "",
                _("%(domain)s is a CNAME to %(found)s, not to %(target)s.")
                % {"domain": domain.hostname, "found": cnames[0], "target": target},
            )
        tokens = _lookup(res, f"{CHALLENGE_LABEL}.{domain.hostname}", "TXT")
        if domain.token not in tokens:
            return Check(
                "",
                _("No CNAME to %(target)s and no TXT record %(name)s with the token was found.")
                % {"target": target, "name": f"{CHALLENGE_LABEL}.{domain.hostname}"},
            )
        addresses = _lookup(res, domain.hostname, "A") + _lookup(res, domain.hostname, "AAAA")
        ours = {
            ipaddress.ip_address(ip).compressed
            for ip in [*settings.SPARK_DOMAIN_IPV4, *settings.SPARK_DOMAIN_IPV6]
        }
        found = {ipaddress.ip_address(ip).compressed for ip in addresses}
        if not found:
            return Check("", _("The TXT record is right, but the domain has no A record."))
        strangers = sorted(found - ours)
        if strangers:
            return Check(
                "",
                _("The domain's address %(address)s is not one of ours (%(ours)s).")
                % {"address": strangers[0], "ours": ", ".join(sorted(ours))},
            )
        return Check(PromptDomain.Method.TXT, "")
    except DnsUnavailable:
        return Check("", _("The DNS servers did not answer. We will try again."))


# --- writes ----------------------------------------------------------------------------------


def domain_add(*, user: User, tenant: Tenant, prompt: Prompt, hostname: str) -> PromptDomain:
    """Attach ``hostname`` to the creator's prompt (unverified until its DNS proves it)."""
    if prompt.owner_id != user.pk or prompt.tenant_id != tenant.pk:
        raise NotFound(_("No such prompt."))
    name = hostname_normalize(hostname)
    if _is_platform_domain(name):
        raise _invalid(_("This domain belongs to the platform and cannot be used."))
    with transaction.atomic(), unscoped():
        existing = PromptDomain.objects.select_for_update().filter(hostname=name).first()
        if existing is not None:
            if existing.status != PromptDomain.Status.FAILED or existing.prompt_id == prompt.pk:
                raise Conflict(
                    _("This domain is already used by a prompt."),
                    code="domain_taken",
                    details={"hostname": [_("This domain is already used by a prompt.")]},
                )
            existing.delete()  # a failed claim (never verified) frees the name
        if PromptDomain.objects.filter(prompt=prompt).count() >= MAX_DOMAINS_PER_PROMPT:
            raise ApplicationError(
                _("A prompt has at most %(count)d domains.") % {"count": MAX_DOMAINS_PER_PROMPT},
                code="too_many_domains",
            )
        try:
            with transaction.atomic():
                return PromptDomain.objects.create(
                    tenant=tenant,
                    prompt=prompt,
                    hostname=name,
                    token=f"spark-{secrets.token_urlsafe(24)}",
                )
        except IntegrityError:  # claimed concurrently
            raise Conflict(
                _("This domain is already used by a prompt."), code="domain_taken"
            ) from None


def _deadline_passed(domain: PromptDomain, now: Any) -> bool:
    return domain.created_at + timedelta(days=settings.SPARK_DOMAIN_VERIFY_DAYS) <= now


def _backoff(failures: int) -> timedelta:
    """1 h, 4 h, 16 h ... capped at the daily re-check."""
    hours = min(4 ** max(failures - 1, 0), settings.SPARK_DOMAIN_RECHECK_HOURS)
    return timedelta(hours=hours)


def domain_verify(*, domain: PromptDomain) -> PromptDomain:
    """Check the DNS of a domain not yet verified (or suspended) and move it on.

    Unverified / pending / failed: verified when the records prove it, else pending (or
    failed once ``SPARK_DOMAIN_VERIFY_DAYS`` passed). A suspended domain whose records are
    right again becomes active (its fee was paid). An active one is re-checked.
    """
    if domain.status == PromptDomain.Status.ACTIVE:
        return domain_recheck(domain=domain)
    check = dns_check(domain)
    now = timezone.now()
    status = PromptDomain.Status
    updates: dict[str, Any] = {"last_checked_at": now, "last_error": check.problem[:300]}
    if check.method:
        updates.update(verified_by=check.method, check_failures=0)
        if domain.status == status.SUSPENDED:
            updates.update(
                status=status.ACTIVE,
                suspended_at=None,
                next_check_at=now + timedelta(hours=settings.SPARK_DOMAIN_RECHECK_HOURS),
            )
        else:
            updates.update(status=status.VERIFIED, verified_at=now, next_check_at=None)
    elif domain.status == status.SUSPENDED:
        updates.update(next_check_at=now + timedelta(hours=settings.SPARK_DOMAIN_RECHECK_HOURS))
    elif _deadline_passed(domain, now) and domain.status != status.FAILED:
        updates.update(status=status.FAILED, next_check_at=None)
    elif domain.status != status.FAILED:
        updates.update(
            status=status.PENDING,
            check_failures=domain.check_failures + 1,
            next_check_at=now + _backoff(domain.check_failures + 1),
        )
    return _update(domain, updates)


def domain_recheck(*, domain: PromptDomain) -> PromptDomain:
    """Re-verify an active domain: daily when it passes; after a failure again in 1 h, 4 h,
    16 h; suspended (it stops serving, and the creator is told) after
    ``SPARK_DOMAIN_SUSPEND_AFTER`` failures in a row."""
    check = dns_check(domain)
    now = timezone.now()
    updates: dict[str, Any] = {"last_checked_at": now, "last_error": check.problem[:300]}
    if check.method:
        updates.update(
            check_failures=0,
            verified_by=check.method,
            next_check_at=now + timedelta(hours=settings.SPARK_DOMAIN_RECHECK_HOURS),
        )
        return _update(domain, updates)
    failures = domain.check_failures + 1
    updates["check_failures"] = failures
    if failures >= settings.SPARK_DOMAIN_SUSPEND_AFTER:
        updates.update(
            status=PromptDomain.Status.SUSPENDED,
            suspended_at=now,
            next_check_at=now + timedelta(hours=settings.SPARK_DOMAIN_RECHECK_HOURS),
        )
        domain = _update(domain, updates)
        _tell_owner_suspended(domain)
        return domain
    updates["next_check_at"] = now + _backoff(failures)
    return _update(domain, updates)


def _update(domain: PromptDomain, updates: dict[str, Any]) -> PromptDomain:
    updates["updated_at"] = timezone.now()
    with unscoped():
        PromptDomain.objects.filter(pk=domain.pk).update(**updates)
        domain.refresh_from_db()
    transaction.on_commit(lambda: serving_domain_forget(domain.hostname))
    return domain


def _tell_owner_suspended(domain: PromptDomain) -> None:
    with unscoped():
        owner = User.objects.get(pk=domain.prompt.owner_id)
    subject = _("%(domain)s no longer serves %(prompt)s") % {
        "domain": domain.display_hostname,
        "prompt": domain.prompt.name,
    }
    body = _(
        "We checked the DNS records of %(domain)s several times and they no longer point at "
        "us: %(problem)s\nThe domain stopped serving your prompt's page. Fix the records and "
        "verify the domain again to bring it back."
    ) % {"domain": domain.display_hostname, "problem": domain.last_error}
    transaction.on_commit(
        lambda: send_mail(settings.EMAIL_SUBJECT_PREFIX + subject, body, None, [owner.email])
    )


def domain_activate(*, domain: PromptDomain, user: User) -> PromptDomain:
    """Start serving a verified domain: charge the one-time slot fee (once), then active.

    The fee is charged by ``SPARK_DOMAIN_FEE_CHARGE`` in the same database transaction as
    the status change; a creator who cannot pay gets HTTP 402 with a top-up link.
    """
    if domain.status == PromptDomain.Status.ACTIVE:
        return domain
    if domain.status != PromptDomain.Status.VERIFIED:
        raise Conflict(
            _("Verify the domain's DNS records before activating it."), code="domain_not_verified"
        )
    charge = import_string(settings.SPARK_DOMAIN_FEE_CHARGE)
    now = timezone.now()
    with transaction.atomic(), unscoped():
        locked = PromptDomain.objects.select_for_update().get(pk=domain.pk)
        if locked.status != PromptDomain.Status.VERIFIED:
            return locked
        reference = locked.fee_reference or charge(domain=locked, user=user)
        PromptDomain.objects.filter(pk=locked.pk).update(
            status=PromptDomain.Status.ACTIVE,
            activated_at=now,
            fee_reference=reference,
            check_failures=0,
            next_check_at=now + timedelta(hours=settings.SPARK_DOMAIN_RECHECK_HOURS),
            updated_at=now,
        )
        locked.refresh_from_db()
        transaction.on_commit(lambda: serving_domain_forget(locked.hostname))
    return locked


def domain_remove(*, domain: PromptDomain) -> None:
    """Detach the domain: it stops serving at once (the fee is not refunded)."""
    with unscoped():
        PromptDomain.objects.filter(pk=domain.pk).delete()
    transaction.on_commit(lambda: serving_domain_forget(domain.hostname))


def domains_due() -> list[int]:
    """The domains the beat task checks now: pending and suspended ones, active ones whose
    re-check is due, and unverified ones whose deadline passed (they fail)."""
    now = timezone.now()
    status = PromptDomain.Status
    deadline = now - timedelta(days=settings.SPARK_DOMAIN_VERIFY_DAYS)
    with unscoped():
        due = PromptDomain.objects.filter(
            Q(
                status__in=[status.PENDING, status.ACTIVE, status.SUSPENDED],
                next_check_at__lte=now,
            )
            | Q(status__in=[status.UNVERIFIED, status.PENDING], created_at__lte=deadline)
        )
        return list(due.order_by("next_check_at").values_list("pk", flat=True)[:1000])


def domain_check_by_id(*, domain_id: int) -> None:
    with unscoped():
        domain = PromptDomain.objects.select_related("prompt").filter(pk=domain_id).first()
    if domain is None:
        return
    if domain.status in (PromptDomain.Status.VERIFIED, PromptDomain.Status.FAILED):
        return
    domain_verify(domain=domain)
