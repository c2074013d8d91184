"""Users, tenants, memberships and API keys."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from spark.common.models import BaseModel
from spark.llm.models import KeyMode
from spark.tenancy.managers import TenantManager


class Tenant(BaseModel):
    """An isolation boundary: whose users, prompts, wallets and branding these are."""

    class Kind(models.TextChoices):
        PUBLIC = "public", _("Public (aggregator)")
        ENTERPRISE = "enterprise", _("Enterprise team")
        CURATOR = "curator", _("Curator (white-label site)")
        STOREFRONT = "storefront", _("Storefront (a creator's captive users)")

    PUBLIC_SLUG = "public"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    is_active = models.BooleanField(_("active"), default=True)
    allows_signup = models.BooleanField(
        _("open for sign-up"),
        default=True,
        help_text=_("Whether people can create an account on this tenant's site themselves."),
    )

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(kind="public"),
                name="accounts_tenant_one_public",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.kind == self.Kind.PUBLIC


class TenantDomain(BaseModel):
    """A host name that serves a tenant's site (white-label curator sites, storefronts)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="domains")
    host = models.CharField(_("host"), max_length=253, unique=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    objects = TenantManager()

    class Meta:
        verbose_name = _("tenant domain")
        verbose_name_plural = _("tenant domains")
        indexes = [models.Index(fields=["tenant", "host"])]

    def __str__(self) -> str:
        return self.host


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Their home tenant is given by their Membership."""

    class LoginMethods(models.TextChoices):
        BOTH = "both", _("Password and email link")
        PASSWORD = "password", _("Password only")
        MAGIC_LINK = "magic_link", _("Email link only")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Platform staff can sign in to the admin console."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    login_methods = models.CharField(
        _("sign-in methods"),
        max_length=16,
        choices=LoginMethods.choices,
        default=LoginMethods.BOTH,
    )
    can_change_password = models.BooleanField(
        _("may change password"),
        default=True,
        help_text=_("Whether this user may change or reset their own password."),
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    llm_key_mode = models.CharField(
        _("provider key mode"),
        max_length=16,
        choices=KeyMode.choices,
        default=KeyMode.SYSTEM_ONLY,
        help_text=_(
            "Whose provider keys this user's chats use: the platform's, their own (BYOK), "
            "or their own first. Set by staff or the user's manager."
        ),
    )
    shows_mature_content = models.BooleanField(
        _("shows mature content"),
        default=False,
        help_text=_("Confirmed adult: prompts in age-restricted categories are shown."),
    )

    objects: ClassVar[UserManager] = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email.split("@", 1)[0]

    @property
    def allows_password_login(self) -> bool:
        return self.login_methods in (self.LoginMethods.BOTH, self.LoginMethods.PASSWORD)

    @property
    def allows_magic_link_login(self) -> bool:
        return self.login_methods in (self.LoginMethods.BOTH, self.LoginMethods.MAGIC_LINK)


class Membership(BaseModel):
    """A user's home tenant and role in it (one per user)."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MANAGER = "manager", _("Manager")
        MEMBER = "member", _("Member")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    objects = TenantManager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        indexes = [models.Index(fields=["tenant", "role"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.MANAGER)


class AlterEgo(BaseModel):
    """A persona the user can chat as: the model is told who it is talking to."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="alter_egos")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="alter_egos")
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(
        _("description"),
        max_length=2000,
        blank=True,
        help_text=_("Who you are in this persona; the model reads it."),
    )
    avatar = models.ImageField(_("avatar"), upload_to="alter-egos/", blank=True)
    is_default = models.BooleanField(_("use by default"), default=False)

    objects = TenantManager()

    class Meta:
        verbose_name = _("alter ego")
        verbose_name_plural = _("alter egos")
        ordering = ["name"]
        indexes = [models.Index(fields=["tenant", "user"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_default=True),
                name="accounts_alterego_one_default_per_user",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ApiKey(BaseModel):
    """A key for the REST and OpenAI-compatible APIs. Only its SHA-256 digest is stored."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
