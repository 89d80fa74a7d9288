"""Clients in the web app: registering one (alone or as a member of a household), the
client's page, changing their facts, opening a case, and linking a household.

Writes go through the services (cases.services, criteria.services for what needs the
checklist's threshold); every client shown is access-logged before the page renders.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import services as case_services
from cases.enums import CaseState
from cases.models import Case, Client
from cases.roles import roles_of
from cases.selectors import (
    cases_visible_to,
    clients_visible_to,
    household_members_of,
    open_case_of,
    search_terms,
)
from core.errors import Conflict, DomainError, InvalidInput
from criteria import services as criteria_services
from web import forms

from .common import perform, scoped, shown


def client_subject(client) -> tuple[int, int | None]:
    case = open_case_of(client)
    return client.pk, case.pk if case else None


def _unit_teams(request):
    teams = roles_of(request).caseload_teams
    if not teams:
        raise PermissionDenied(_("Registering clients is for Immigration Unit teams."))
    return teams


def _date(day) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


# The household, as a page shows it ----------------------------------------------------------


def household_context(request, client) -> dict:
    """The household of `client` for a page: each member the user may see with their open
    case's state (each one a read, logged here), the others counted but not named."""
    members = household_members_of(client)
    if not members:
        return {"household": None}
    visible = set(
        clients_visible_to(request.user)
        .filter(pk__in=[m.client_id for m in members])
        .values_list("pk", flat=True)
    )
    rows, hidden = [], 0
    for member in members:
        if member.client_id not in visible:
            hidden += 1
            continue
        member.open_case = open_case_of(member.client)
        member.is_self = member.client_id == client.pk
        rows.append(member)
    others = [m for m in rows if not m.is_self]
    if others:
        shown(
            request,
            *[(m.client_id, m.open_case.pk if m.open_case else None) for m in others],
        )
    return {"household": rows, "household_hidden": hidden}


# Register ---------------------------------------------------------------------------------


@login_required
def client_register(request):
    """Register a client; with ?household_of=<id>, as a member of that client's household."""
    _unit_teams(request)
    anchor = None
    anchor_id = request.GET.get("household_of") or request.POST.get("household_of")
    if anchor_id:
        anchor = scoped(
            request,
            clients_visible_to(request.user),
            int(anchor_id) if str(anchor_id).isdigit() else 0,
            client_subject,
        )
        shown(request, client_subject(anchor))
    form = forms.ClientRegisterForm(
        request.POST or None,
        household_of=anchor,
        anchor_in_household=bool(anchor and household_members_of(anchor)),
    )
    existing = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            relation = data.pop("relation", None)
            household = {"relation": relation}
            if "client_relation" in data:
                household["client_relation"] = data.pop("client_relation")
            try:
                if anchor is not None:
                    client = perform(
                        request,
                        case_services.client_create_in_household,
                        subjects_of=lambda c: [(c.pk, None), client_subject(anchor)],
                        household_of=anchor,
                        **household,
                        **data,
                    )
                else:
                    client = perform(
                        request,
                        case_services.client_create,
                        subjects_of=lambda c: [(c.pk, None)],
                        **data,
                    )
            except case_services.ClientExists as exc:
                existing = Client.objects.get(pk=exc.extra["client"])
                form.add_error(
                    "personal_identity_code",
                    _("A client with this personal identity code is already registered."),
                )
            except InvalidInput as exc:
                form.add_service_errors(exc)
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(
                    request,
                    _("Client registered: %(name)s.")
                    % {"name": f"{client.first_name} {client.last_name}"},
                )
                return redirect("web:client", pk=client.pk)
    return render(
        request,
        "web/client_form.html",
        {"form": form, "anchor": anchor, "existing": existing, "registering": True},
        status=status,
    )


# The client's page ------------------------------------------------------------------------


def client_page(request, client, status=200, **forms_given):
    shown(request, client_subject(client))
    teams = roles_of(request).caseload_teams
    cases = list(cases_visible_to(request.user).filter(client=client).order_by("-created_at"))
    open_case = next(
        (c for c in cases if c.state not in (CaseState.TRANSFERRED, CaseState.CLOSED)), None
    )
    context = {
        "client": client,
        "cases": cases,
        "open_case": open_case,
        "can_change": bool(teams),
        **household_context(request, client),
    }
    if teams and open_case is None:
        context["open_form"] = forms_given.get("open") or forms.CaseOpenForm(
            prefix="open",
            teams=teams,
            initial={"responsible_worker": request.user.pk, "team": teams[0].pk},
        )
    if teams:
        context["household_form"] = forms_given.get("household") or forms.HouseholdLinkForm(
            prefix="household", has_household=bool(context["household"])
        )
    return render(request, "web/client.html", context, status=status)


@login_required
def client_detail(request, pk: int):
    client = scoped(request, clients_visible_to(request.user), pk, client_subject)
    return client_page(request, client)


# Changing the facts -----------------------------------------------------------------------


@login_required
def client_edit(request, pk: int):
    client = scoped(request, clients_visible_to(request.user), pk, client_subject)
    _unit_teams(request)
    shown(request, client_subject(client))
    initial = {name: getattr(client, name) for name in case_services.CLIENT_FIELDS}
    form = forms.ClientForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            case_before = open_case_of(client)
            due_before = case_before.review_due_on if case_before else None
            try:
                perform(
                    request,
                    criteria_services.client_update,
                    subjects=[client_subject(client)],
                    client=client,
                    **form.cleaned_data,
                )
            except case_services.ClientExists:
                form.add_error(
                    "personal_identity_code",
                    _("A client with this personal identity code is already registered."),
                )
            except InvalidInput as exc:
                form.add_service_errors(exc)
            except Conflict as exc:
                messages.warning(request, exc.detail)
                return redirect("web:client", pk=client.pk)
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, _("The client's details are saved."))
                if case_before is not None:
                    case_after = Case.objects.get(pk=case_before.pk)
                    if case_after.review_due_on != due_before:
                        messages.info(
                            request,
                            _(
                                "The review date changed with the client's details: "
                                "%(old)s → %(new)s."
                            )
                            % {"old": _date(due_before), "new": _date(case_after.review_due_on)},
                        )
                    return redirect("web:case", pk=case_before.pk)
                return redirect("web:client", pk=client.pk)
    return render(
        request,
        "web/client_form.html",
        {"form": form, "client": client, "registering": False, "sms_form": _sms_form(client)},
        status=status,
    )


def _sms_form(client, data=None):
    return forms.SmsConsentForm(
        data,
        prefix="sms",
        initial={"phone_number": client.phone_number, "sms_consent": client.sms_consent},
    )


@login_required
@require_POST
def client_sms_consent(request, pk: int):
    """The client's number and consent to text messages: its own form on the client's
    edit page, its own service and event."""
    client = scoped(request, clients_visible_to(request.user), pk, client_subject)
    _unit_teams(request)
    sms_form = _sms_form(client, request.POST)
    if sms_form.is_valid():
        try:
            perform(
                request,
                case_services.client_set_sms_consent,
                subjects=[client_subject(client)],
                client=client,
                **sms_form.cleaned_data,
            )
        except InvalidInput as exc:
            sms_form.add_service_errors(exc)
        except DomainError as exc:
            sms_form.add_error(None, exc.detail)
        else:
            messages.success(request, _("The consent to text messages is saved."))
            return redirect("web:client-edit", pk=client.pk)
    shown(request, client_subject(client))
    initial = {name: getattr(client, name) for name in case_services.CLIENT_FIELDS}
    return render(
        request,
        "web/client_form.html",
        {
            "form": forms.ClientForm(initial=initial),
            "client": client,
            "registering": False,
            "sms_form": sms_form,
        },
        status=400,
    )


# Opening a case ---------------------------------------------------------------------------


@login_required
@require_POST
def case_open(request, pk: int):
    client = scoped(request, clients_visible_to(request.user), pk, client_subject)
    teams = _unit_teams(request)
    form = forms.CaseOpenForm(request.POST, prefix="open", teams=teams)
    if form.is_valid():
        try:
            case = perform(
                request,
                criteria_services.case_open,
                subjects_of=lambda c: [(c.client_id, c.pk)],
                client=client,
                **form.cleaned_data,
            )
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(
                request,
                _("Case opened. The first review is due on %(date)s.")
                % {"date": _date(case.review_due_on)},
            )
            return redirect("web:case", pk=case.pk)
    return client_page(request, client, status=400, open=form)


# The household ----------------------------------------------------------------------------


def _member_by_text(request, text: str):
    """The client in the user's scope whose case reference or identity code is `text`."""
    terms = search_terms(text)
    visible = clients_visible_to(request.user)
    if terms.kind == "identity_code":
        return visible.filter(personal_identity_code=terms.value).first()
    if terms.kind == "reference":
        case = cases_visible_to(request.user).filter(pk=terms.value).first()
        return case.client if case else None
    return None


@login_required
@require_POST
def household_add(request, pk: int):
    client = scoped(request, clients_visible_to(request.user), pk, client_subject)
    _unit_teams(request)
    has_household = bool(household_members_of(client))
    form = forms.HouseholdLinkForm(request.POST, prefix="household", has_household=has_household)
    if form.is_valid():
        member = _member_by_text(request, form.cleaned_data["member"])
        if member is None:
            form.add_error(
                "member", _("No client in your caseload has this case reference or identity code.")
            )
        else:
            try:
                perform(
                    request,
                    case_services.household_link,
                    subjects=[client_subject(client), client_subject(member)],
                    client=client,
                    member=member,
                    relation=form.cleaned_data["relation"],
                    **(
                        {"client_relation": form.cleaned_data["client_relation"]}
                        if "client_relation" in form.cleaned_data
                        else {}
                    ),
                )
            except InvalidInput as exc:
                form.add_service_errors(exc)
            except DomainError as exc:
                form.add_error("member", exc.detail)
            else:
                messages.success(request, _("Household member added."))
                return redirect("web:client", pk=client.pk)
    return client_page(request, client, status=400, household=form)


@login_required
@require_POST
def household_leave(request, pk: int):
    client = scoped(request, clients_visible_to(request.user), pk, client_subject)
    _unit_teams(request)
    try:
        perform(
            request,
            case_services.household_leave,
            subjects=[client_subject(client)],
            client=client,
        )
    except DomainError as exc:
        messages.warning(request, exc.detail)
    else:
        messages.success(request, _("The client is no longer in the household."))
    return redirect("web:client", pk=client.pk)
