"""Admin actions that call Silta's services, with an intermediate form where the service
needs input (a reason, a worker, a time). A state is never edited directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from core.errors import DomainError, InvalidInput

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse
    from django_stubs_ext import StrOrPromise

Runner = Callable[..., object]


def service_action(
    *,
    name: str,
    label: StrOrPromise,
    run: Runner,
    form_class: type[ActionForm] | None = None,
) -> Callable[[admin.ModelAdmin[Any], HttpRequest, QuerySet[Any]], HttpResponse | None]:
    """Build an admin action that calls `run(actor, obj, **cleaned_data)` for each
    selected object, each in its own transaction (the service's), and reports per object."""

    def action(
        modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
    ) -> HttpResponse | None:
        data: dict[str, Any] = {}
        if form_class is not None:
            form = form_class(request.POST if "apply" in request.POST else None, queryset=queryset)
            if not form.is_bound or not form.is_valid():
                return TemplateResponse(
                    request,
                    "admin/silta/action_form.html",
                    {
                        **modeladmin.admin_site.each_context(request),
                        "title": label,
                        "form": form,
                        "objects": list(queryset),
                        "action_name": name,
                        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                        "opts": modeladmin.model._meta,
                    },
                )
            data = form.cleaned_data
        done = 0
        for obj in queryset:
            try:
                run(request.user, obj, **data)
                done += 1
            except InvalidInput as exc:
                for field, message in exc.errors.items():
                    modeladmin.message_user(request, f"{obj}: {field}: {message}", messages.ERROR)
            except DomainError as exc:
                modeladmin.message_user(request, f"{obj}: {exc.detail}", messages.ERROR)
        if done:
            modeladmin.message_user(
                request,
                _("%(action)s: %(n)d done.") % {"action": label, "n": done},
                messages.SUCCESS,
            )
        return None

    action.__name__ = name
    return admin.action(description=label)(action)


class ActionForm(forms.Form):
    """Forms for actions receive the selected queryset (to limit choices)."""

    def __init__(self, *args: Any, queryset: QuerySet[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queryset = queryset
