"""A person's own choice of theme (anonymous visitors keep theirs in a cookie)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from spark.common.models import BaseModel


class ThemePreference(BaseModel):
    """The theme a user chose; without a row the system's light or dark preference decides."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="theme_preference"
    )
    theme = models.CharField(_("theme"), max_length=40)

    class Meta:
        verbose_name = _("theme preference")
        verbose_name_plural = _("theme preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.theme}"
