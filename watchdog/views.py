"""The creator's page for a prompt's watchdog policy (``/creator/prompts/<uuid>/watchdog/``)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from accounts.forms import add_application_error
from marketplace.selectors import prompt_get_for_owner
from spark.common.exceptions import ApplicationError
from watchdog import selectors, services
from watchdog.forms import SECTION_FIELDS, WatchdogPolicyForm


@login_required
@require_http_methods(["GET", "POST"])
def creator_policy(request: HttpRequest, prompt_uuid: str) -> HttpResponse:
    """Edit the policy; "auto-fill" fills the form with a proposal, unsaved."""
    prompt = prompt_get_for_owner(user=request.user, slug_or_uuid=prompt_uuid)
    if request.method == "POST" and "autofill" in request.POST:
        form = WatchdogPolicyForm(initial=services.policy_initial(prompt=prompt))
        if is_ratelimited(
            request,
            group="watchdog:autofill",
            key="user",
            rate=settings.SPARK_WATCHDOG_AUTOFILL_RATE,
            method="POST",
            increment=True,
        ):
            messages.error(request, _("Too many proposals in a short time. Try again later."))
        else:
            values, from_llm = services.policy_propose(prompt=prompt)
            form = WatchdogPolicyForm(initial=values)
            if from_llm:
                messages.info(request, _("The form holds a proposal. Review it, then save."))
            else:
                messages.info(
                    request,
                    _(
                        "No proposal came back from the model; the form holds a starting point "
                        "drawn from your prompt. Review it, then save."
                    ),
                )
    elif request.method == "POST":
        form = WatchdogPolicyForm(request.POST)
        if form.is_valid():
            try:
                services.policy_save(prompt=prompt, values=form.policy_values())
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("The watchdog policy was saved."))
                return redirect("watchdog:creator_policy", prompt_uuid=prompt.uuid)
    else:
        form = WatchdogPolicyForm(initial=services.policy_initial(prompt=prompt))
    sections = {name: [form[field] for field in fields] for name, fields in SECTION_FIELDS.items()}
    return render(
        request,
        "watchdog/creator_policy.html",
        {
            "form": form,
            "prompt": prompt,
            "sections": sections,
            "output_stops": selectors.output_stops_for_prompt(prompt=prompt),
        },
    )
