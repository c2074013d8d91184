"""The chat's place in the navigation (SPARK_NAVIGATION)."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from spark.common.navigation import NavLink


def nav_links(request: HttpRequest) -> list[NavLink]:
    return [NavLink("chat", _("Chat"), reverse("chat:app"), 10)]
