"""Signing in, and the front page that sends each user to the page of their first role."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect

from cases.enums import Role
from cases.roles import roles_of


class SiltaLoginView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        for field in form.fields.values():
            field.widget.attrs["class"] = "hds-text-input__input"
        form.label_suffix = ""
        return form


@login_required
def home(request):
    roles = roles_of(request)
    if not roles.memberships and request.user.is_superuser:
        return redirect("admin:index")
    return redirect(
        {
            Role.CASEWORKER: "web:caseload",
            Role.RECEIVING_WORKER: "web:inbox",
            Role.FRONT_DESK: "web:desk",
            Role.SUPERVISOR: "web:supervisor",
        }.get(roles.first_role, "web:notifications")
    )
