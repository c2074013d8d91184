"""Account pages in the navigation (SPARK_NAVIGATION): settings for all, the console for staff."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from spark.common.navigation import NavLink


def nav_links(request: HttpRequest) -> list[NavLink]:
    links = [NavLink("settings", _("Settings"), reverse("settings_profile"), 80)]
    if request.user.is_staff:
        links.append(NavLink("console", _("Console"), reverse("admin:index"), 90))
    return links
