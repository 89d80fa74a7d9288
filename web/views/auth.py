"""Signing in and out, the page of a sign-in refused after too many failures, the page of a
city account that no directory group gives access to, and the front page that sends each
user to the page of their first role."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache

from cases.enums import Role
from cases.roles import roles_of
from core.throttling import locked_until, retry_after


class SiltaLoginView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        for field in form.fields.values():
            field.widget.attrs["class"] = "hds-text-input__input"
        form.label_suffix = ""
        return form


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the answer to a sign-in (Silta's or the admin's) refused by
    django-axes, in the user's language: 429, when to try again (also as Retry-After), and
    whom to contact. The password was not checked."""
    until = locked_until(request, credentials)
    response = TemplateResponse(
        request, "registration/locked_out.html", {"until": until}, status=429
    )
    if until is not None:
        response["Retry-After"] = str(retry_after(until))
    return response.render()


class SiltaLogoutView(LogoutView):
    """Signing out. A user who signed in with the city's account is signed out of the
    city's identity service too (its end-session address, kept in the session at sign-in
    by helusers' pipeline step), which sends the browser back to the sign-in page; so the
    next person at a shared computer cannot sign in as them without a password."""

    def post(self, request, *args, **kwargs):
        end_session = request.session.get("social_auth_end_session_url")
        response = super().post(request, *args, **kwargs)
        if end_session:
            return HttpResponseRedirect(end_session)
        return response


@never_cache
def no_access(request: HttpRequest) -> HttpResponse:
    """The answer to a city sign-in whose directory groups give no team in Silta (nor the
    admin), or whose account an administrator has turned off: 403, what to do, and no
    session. In the language chosen on the sign-in page."""
    return TemplateResponse(request, "registration/no_access.html", status=403)


@login_required
def home(request):
    roles = roles_of(request)
    if not roles.memberships and request.user.is_staff:
        return redirect("admin:index")
    return redirect(
        {
            Role.CASEWORKER: "web:caseload",
            Role.RECEIVING_WORKER: "web:inbox",
            Role.FRONT_DESK: "web:desk",
            Role.SUPERVISOR: "web:supervisor",
        }.get(roles.first_role, "web:notifications")
    )
