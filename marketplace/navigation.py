"""The marketplace's pages in the navigation (SPARK_NAVIGATION): everyone browses the
catalogue and may write prompts of their own."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from spark.common.navigation import NavLink


def nav_links(request: HttpRequest) -> list[NavLink]:
    return [
        NavLink("prompts", _("Prompts"), reverse("marketplace:catalog"), 20),
        NavLink("my_prompts", _("My prompts"), reverse("marketplace:creator_prompts"), 30),
    ]
