"""The web app: one page per question a worker asks, each action one form.

Reads are scoped by the same selectors as the API and write their access-log rows before
the page is rendered; every action goes through the service that owns it, with its
access-log row in the same transaction. An id outside the user's scope is a 404 and a
denied row, exactly as in the API.
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.access import log_access
from audit.models import AccessOutcome
from cases import rules as date_rules
from cases import services as case_services
from cases.enums import CaseState, Role
from cases.models import BookingHours, Case, Region
from cases.roles import roles_of
from cases.selectors import cases_visible_to, client_facts
from core import clock
from core.errors import (
    ActorNotAllowed,
    Conflict,
    DomainError,
    InvalidInput,
    RoutingNeedsManualChoice,
)
from criteria import rules
from criteria import services as criteria_services
from criteria.models import AssessmentStatus, CriterionAssessment, CriterionDefinition, Review
from criteria.selectors import criterion_facts
from notifications import selectors as notification_selectors
from notifications import services as notification_services
from notifications.channels import message_context
from transfers import reports, services
from transfers.enums import BookingStatus, TransferState
from transfers.models import HandoverBooking, Transfer
from transfers.selectors import RECEIVED_STATES, transfers_visible_to

from . import forms, labels

PAGE_SIZE = 25


# Helpers ---------------------------------------------------------------------------------


def _page(request, items, size: int = PAGE_SIZE):
    return Paginator(items, size).get_page(request.GET.get("page"))


def _case_subject(case) -> tuple[int, int]:
    return case.client_id, case.pk


def _transfer_subject(transfer) -> tuple[int, int]:
    return transfer.case.client_id, transfer.case_id


def _scoped(request, queryset, pk: int, subject):
    """The object if the user may see it; otherwise 404, and a denied row when it exists."""
    found = queryset.filter(pk=pk).first()
    if found is not None:
        return found
    outside = queryset.model._default_manager.filter(pk=pk).first()
    if outside is not None:
        log_access(
            user=request.user,
            action="web_read",
            outcome=AccessOutcome.DENIED,
            subjects=[subject(outside)],
        )
    raise Http404


def _perform(request, service, *, subjects, **kwargs):
    """Runs one service with its access-log row in the same transaction. A role that may
    not act gets 403 and leaves a denied row."""
    try:
        with transaction.atomic():
            result = service(actor=request.user, **kwargs)
            log_access(user=request.user, action="web_transition", subjects=subjects)
        return result
    except ActorNotAllowed as exc:
        log_access(
            user=request.user,
            action="web_transition",
            outcome=AccessOutcome.DENIED,
            subjects=subjects,
        )
        raise PermissionDenied(exc.detail) from exc


def _attempt(request, form, service, *, subject=None, subjects=None, **kwargs):
    """(result, problem). Bad input goes beside its field in `form`; a state that no longer
    allows the action is 'conflict' (someone else acted first); other refusals go above
    the form."""
    try:
        subjects = subjects if subjects is not None else [subject]
        return _perform(request, service, subjects=subjects, **kwargs), None
    except InvalidInput as exc:
        form.add_service_errors(exc)
        return None, "invalid"
    except Conflict as exc:
        return exc, "conflict"
    except DomainError as exc:
        form.add_error(None, exc.detail)
        return None, "refused"


def _stale(request, obj, conflict: Conflict | None = None) -> None:
    """Someone else acted first: say so, with the state the case or transfer is in now
    (for a review or an assessment, the service's own words)."""
    if isinstance(obj, Transfer):
        text = _("Someone else acted first: the transfer is now “%(state)s”. Check and act again.")
    elif isinstance(obj, Case):
        text = _("Someone else acted first: the case is now “%(state)s”. Check and act again.")
    else:
        messages.warning(request, conflict.detail)
        return
    messages.warning(request, text % {"state": obj.get_state_display()})


def _act(request, obj, form, service, *, target: str, subject, back: str, done, again):
    """One form, one service call on `obj` (passed as `target`): done, back to `back` with
    `done` said; bad input, `again(form)` with the errors beside the fields (400); a state
    that no longer allows it, back to `back` saying what the state is now."""
    if form.is_valid():
        result, problem = _attempt(
            request, form, service, subject=subject, **{target: obj}, **form.cleaned_data
        )
        if problem == "conflict":
            obj.refresh_from_db()
            _stale(request, obj, result)
            return redirect(back)
        if problem is None:
            messages.success(request, done(result) if callable(done) else done)
            return redirect(back)
    return again(form)


def _today() -> dt.date:
    return clock.today()


# Home, login, notifications --------------------------------------------------------------


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


@login_required
def notifications_inbox(request):
    notes = notification_selectors.inbox_of(request.user)
    if request.GET.get("unread"):
        notes = notes.filter(read_at__isnull=True)
    page = _page(request, notes)
    for note in page:
        note.headline = message_context(kind=note.kind, params=note.params)["headline"]
    return render(request, "web/notifications.html", {"page": page})


@login_required
@require_POST
def notification_read(request, pk: int):
    note = notification_selectors.inbox_of(request.user).filter(pk=pk).first()
    if note is None:
        raise Http404
    notification_services.notification_mark_read(user=request.user, notification=note)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("web:notifications")  # never a redirect to another site
    return redirect(back)


# Caseworker: caseload, case, review ------------------------------------------------------

GROUPS = ("overdue", "due", "soon", "in_review", "pending")


def _group_filters(today: dt.date) -> dict[str, Q]:
    return {
        "overdue": Q(state=CaseState.REVIEW_DUE, review_due_on__lt=today),
        "due": Q(state=CaseState.REVIEW_DUE, review_due_on__gte=today),
        "soon": Q(state=CaseState.ACTIVE, review_due_on__lte=today + dt.timedelta(days=30)),
        "in_review": Q(state=CaseState.IN_REVIEW),
        "pending": Q(state=CaseState.TRANSFER_PENDING),
    }


def _group_titles() -> dict[str, str]:
    return {
        "overdue": _("Review overdue"),
        "due": _("Review due"),
        "soon": _("Due within 30 days"),
        "in_review": _("In review"),
        "pending": _("Transfer pending"),
    }


@login_required
def caseload(request):
    roles = roles_of(request)
    teams = roles.caseload_teams
    if not teams:
        raise PermissionDenied(_("The caseload is for Immigration Unit teams."))
    today = _today()
    cases = cases_visible_to(request.user).filter(team__in=teams)
    supervises_only = not roles.teams([Role.CASEWORKER])
    who = request.GET.get("who") or ("team" if supervises_only else "mine")
    if who == "mine":
        cases = cases.filter(responsible_worker=request.user)
    team_code = request.GET.get("team", "")
    if team_code:
        cases = cases.filter(team__code=team_code)
    query = request.GET.get("q", "").strip()
    if query:
        digits = "".join(ch for ch in query if ch.isascii() and ch.isdigit())
        cases = cases.filter(pk=int(digits)) if digits and len(digits) < 12 else cases.none()
    filters = _group_filters(today)
    counts = cases.aggregate(**{key: Count("pk", filter=q) for key, q in filters.items()})
    group = request.GET.get("group")
    if group not in GROUPS:
        group = next((key for key in GROUPS if counts[key]), GROUPS[0])
    page = _page(request, cases.filter(filters[group]).order_by("review_due_on", "id"))
    log_access(user=request.user, action="web_list", subjects=[_case_subject(c) for c in page])
    for case in page:
        case.days_overdue = (today - case.review_due_on).days
    titles = _group_titles()
    return render(
        request,
        "web/caseload.html",
        {
            "groups": [(key, titles[key], counts[key]) for key in GROUPS],
            "group": group,
            "group_title": titles[group],
            "page": page,
            "who": who,
            "teams": teams,
            "team_code": team_code,
            "query": query,
            "today": today,
        },
    )


def _case_queryset(request):
    return cases_visible_to(request.user)


@login_required
def case_detail(request, pk: int):
    case = _scoped(request, _case_queryset(request), pk, _case_subject)
    log_access(user=request.user, action="web_read", subjects=[_case_subject(case)])
    return _case_page(request, case)


def _case_page(request, case, status=200, **forms_given):
    transfers = list(
        case.transfers.select_related("receiving_team", "receiving_worker", "routed_team")
        .prefetch_related("bookings")
        .order_by("-proposed_at")
    )
    for transfer in transfers:
        transfer.live_booking = max(transfer.bookings.all(), key=lambda b: b.pk, default=None)
    events = case.events.select_related("actor").order_by("-created_at", "-id")
    timeline = _page(request, events, size=30)
    for event in timeline:
        event.label = labels.EVENT_ACTIONS.get(event.action, event.action)
    can_review = case.team in roles_of(request).caseload_teams
    open_case = case.state not in (CaseState.TRANSFERRED, CaseState.CLOSED)
    context = {
        "case": case,
        "client": case.client,
        "transfers": transfers,
        "reviews": case.reviews.select_related("started_by").order_by("-started_at"),
        "timeline": timeline,
        "can_review": can_review,
        "today": _today(),
    }
    if can_review and open_case:
        at_cap = date_rules.is_at_cap(today=_today(), cap=case.cap_on)
        context["close_form"] = forms_given.get("close") or forms.CloseForm(
            prefix="close", at_cap=at_cap
        )
        if case.client.is_ppt:
            context["coordinator_form"] = forms_given.get("coordinator") or (
                forms.CoordinatorForm(
                    prefix="coordinator", initial={"coordinator": case.ppt_coordinator}
                )
            )
    return render(request, "web/case.html", context, status=status)


@login_required
@require_POST
def case_coordinator(request, pk: int):
    case = _scoped(request, _case_queryset(request), pk, _case_subject)
    return _act(
        request,
        case,
        forms.CoordinatorForm(request.POST, prefix="coordinator"),
        case_services.case_set_coordinator,
        target="case",
        subject=_case_subject(case),
        back=reverse("web:case", args=[case.pk]),
        done=_("PPT coordinator saved."),
        again=lambda form: _case_page(request, case, status=400, coordinator=form),
    )


@login_required
@require_POST
def case_close(request, pk: int):
    case = _scoped(request, _case_queryset(request), pk, _case_subject)
    at_cap = date_rules.is_at_cap(today=_today(), cap=case.cap_on)
    return _act(
        request,
        case,
        forms.CloseForm(request.POST, prefix="close", at_cap=at_cap),
        services.case_close,
        target="case",
        subject=_case_subject(case),
        back=reverse("web:case", args=[case.pk]),
        done=_("The case is closed."),
        again=lambda form: _case_page(request, case, status=400, close=form),
    )


@login_required
@require_POST
def review_start(request, pk: int):
    case = _scoped(request, _case_queryset(request), pk, _case_subject)
    try:
        review = _perform(
            request, criteria_services.review_start, subjects=[_case_subject(case)], case=case
        )
    except Conflict:
        case.refresh_from_db()
        _stale(request, case)
        return redirect("web:case", pk=case.pk)
    return redirect("web:review", pk=review.pk)


def _review_queryset(request):
    return Review.objects.filter(
        case__in=cases_visible_to(request.user).values("pk")
    ).select_related("case__client", "case__team", "case__responsible_worker", "template")


def _review_subject(review) -> tuple[int, int]:
    return review.case.client_id, review.case_id


def _assessments(review):
    return list(
        review.assessments.select_related("criterion", "exception_approved_by").order_by(
            "criterion__order"
        )
    )


def _readiness_context(review, assessments) -> dict:
    case = review.case
    readiness = rules.readiness(
        client_facts(case.client), [criterion_facts(a) for a in assessments]
    )
    names = {a.criterion.code: a.criterion.name for a in assessments}
    try:
        routed = services.routed_team_for(case)
        routing_problem = ""
    except RoutingNeedsManualChoice as exc:
        routed, routing_problem = None, exc.detail
    today = _today()
    return {
        "review": review,
        "case": case,
        "readiness": readiness,
        "unmet_names": [names.get(code, code) for code in readiness.unmet],
        "exception_names": [names.get(code, code) for code in readiness.exceptions_possible],
        "missing_plan_names": [names.get(code, code) for code in readiness.missing_plans],
        "blocker_names": [labels.BLOCKERS.get(code, code) for code in readiness.blockers],
        "coordinator_missing": date_rules.ppt_coordinator_missing(
            is_ppt=case.client.is_ppt, coordinator=case.ppt_coordinator
        ),
        "at_cap": date_rules.is_at_cap(today=today, cap=case.cap_on),
        "routed_team": routed,
        "routing_problem": routing_problem,
        "unassessed": sum(1 for a in assessments if a.status == AssessmentStatus.UNASSESSED),
    }


def _assessment_form(assessment, data=None):
    initial = {
        "status": assessment.status if assessment.status != AssessmentStatus.UNASSESSED else None,
        "note": assessment.note,
        "plan_action": assessment.plan_action,
        "plan_owner": assessment.plan_owner,
        "plan_target_on": assessment.plan_target_on,
        "multi_problem": assessment.multi_problem,
    }
    return forms.AssessmentForm(
        data, initial=initial, prefix=f"a{assessment.pk}", criterion=assessment.criterion
    )


def _is_supervisor_of(request, team) -> bool:
    return team in roles_of(request).supervised_teams


def _review_context(request, review, *, bound=None, **forms_given) -> dict:
    """The checklist (each criterion's form, `bound` in place of its own when given), the
    readiness summary and the decision forms."""
    assessments = _assessments(review)
    supervisor = _is_supervisor_of(request, review.case.team)
    for assessment in assessments:
        assessment.form = (
            bound if bound is not None and bound.prefix == f"a{assessment.pk}" else None
        ) or _assessment_form(assessment)
        if supervisor and assessment.criterion.exception_allowed and review.is_open:
            assessment.exception_form = forms_given.get(f"exception_{assessment.pk}") or (
                forms.ExceptionForm(prefix=f"x{assessment.pk}")
            )
    context = _readiness_context(review, assessments)
    context.update(
        assessments=assessments,
        propose_form=forms_given.get("propose")
        or forms.ProposeForm(at_cap=context["at_cap"], prefix="propose"),
        not_ready_form=forms_given.get("not_ready") or forms.NotReadyForm(prefix="notready"),
        editable=review.is_open and review.case.team in roles_of(request).caseload_teams,
    )
    return context


def _review_page(request, review, *, bound=None, status=200, **forms_given):
    context = _review_context(request, review, bound=bound, **forms_given)
    return render(request, "web/review.html", context, status=status)


@login_required
def review_detail(request, pk: int):
    review = _scoped(request, _review_queryset(request), pk, _review_subject)
    log_access(user=request.user, action="web_read", subjects=[_review_subject(review)])
    return _review_page(request, review)


def _assessment_queryset(request):
    return CriterionAssessment.objects.filter(
        review__in=_review_queryset(request).values("pk")
    ).select_related("criterion", "review__case__client", "review__case__team")


def _assessment_subject(assessment) -> tuple[int, int]:
    return assessment.review.case.client_id, assessment.review.case_id


def _assessment_fragment(request, review, form):
    """The criterion's form again, with the readiness summary and the proposal beside it
    swapped out of band (htmx)."""
    context = _review_context(request, review, bound=form)
    context.update(
        assessment=next(a for a in context["assessments"] if a.form is form),
        oob=True,
    )
    return render(request, "web/partials/assessment_saved.html", context)


@login_required
@require_POST
def assess(request, pk: int):
    assessment = _scoped(request, _assessment_queryset(request), pk, _assessment_subject)
    review = assessment.review
    form = _assessment_form(assessment, request.POST)
    if form.is_valid():
        result, problem = _attempt(
            request,
            form,
            criteria_services.assessment_update,
            subject=_assessment_subject(assessment),
            assessment=assessment,
            **form.cleaned_data,
        )
        if problem == "conflict":
            messages.warning(request, result.detail)
            return _redirect(request, reverse("web:review", args=[review.pk]))
        if problem is None:
            if not request.htmx:
                messages.success(request, _("Saved: %(name)s.") % {"name": assessment.criterion})
                return redirect(f"{reverse('web:review', args=[review.pk])}#c-{assessment.pk}")
            assessment.refresh_from_db()
            form = _assessment_form(assessment)
            form.saved = True
    if request.htmx:
        return _assessment_fragment(request, review, form)
    return _review_page(request, review, bound=form)


def _redirect(request, url: str):
    """A redirect that htmx follows as a whole page."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_POST
def approve_exception(request, pk: int):
    assessment = _scoped(request, _assessment_queryset(request), pk, _assessment_subject)
    review = assessment.review
    return _act(
        request,
        assessment,
        forms.ExceptionForm(request.POST, prefix=f"x{assessment.pk}"),
        criteria_services.assessment_approve_exception,
        target="assessment",
        subject=_assessment_subject(assessment),
        back=f"{reverse('web:review', args=[review.pk])}#c-{assessment.pk}",
        done=_("Exception approved: %(name)s.") % {"name": assessment.criterion},
        again=lambda form: _review_page(
            request, review, status=400, **{f"exception_{assessment.pk}": form}
        ),
    )


@login_required
@require_POST
def review_not_ready(request, pk: int):
    review = _scoped(request, _review_queryset(request), pk, _review_subject)
    return _act(
        request,
        review,
        forms.NotReadyForm(request.POST, prefix="notready"),
        criteria_services.review_complete_not_ready,
        target="review",
        subject=_review_subject(review),
        back=reverse("web:case", args=[review.case_id]),
        done=_("Review completed: the next review is planned."),
        again=lambda form: _review_page(request, review, status=400, not_ready=form),
    )


@login_required
@require_POST
def review_propose(request, pk: int):
    review = _scoped(request, _review_queryset(request), pk, _review_subject)
    at_cap = date_rules.is_at_cap(today=_today(), cap=review.case.cap_on)
    return _act(
        request,
        review,
        forms.ProposeForm(request.POST, at_cap=at_cap, prefix="propose"),
        services.transfer_propose,
        target="review",
        subject=_review_subject(review),
        back=reverse("web:case", args=[review.case_id]),
        done=lambda transfer: (
            _("Transfer proposed to %(team)s.") % {"team": transfer.receiving_team.name}
        ),
        again=lambda form: _review_page(request, review, status=400, propose=form),
    )


# Receiving team: inbox and the transfer page ---------------------------------------------

INBOX_TABS = {
    "new": [TransferState.PROPOSED],
    "open": [TransferState.ACCEPTED, TransferState.BOOKING_REQUESTED, TransferState.BOOKED],
    "done": [TransferState.COMPLETED, TransferState.RETURNED, TransferState.CANCELLED],
}


@login_required
def inbox(request):
    teams = roles_of(request).receiving_teams
    if not teams:
        raise PermissionDenied(_("The inbox is for regional teams."))
    transfers = transfers_visible_to(request.user).filter(receiving_team__in=teams)
    team_code = request.GET.get("team", "")
    if team_code:
        transfers = transfers.filter(receiving_team__code=team_code)
    counts = transfers.aggregate(
        **{tab: Count("pk", filter=Q(state__in=states)) for tab, states in INBOX_TABS.items()}
    )
    tab = request.GET.get("tab")
    if tab not in INBOX_TABS:
        tab = "new"
    page = _page(request, transfers.filter(state__in=INBOX_TABS[tab]).order_by("proposed_at", "id"))
    log_access(user=request.user, action="web_list", subjects=[_transfer_subject(t) for t in page])
    today = _today()
    for transfer in page:
        transfer.waited = (today - transfer.proposed_at.astimezone(clock.tz()).date()).days
    tabs = [
        ("new", _("Awaiting decision"), counts["new"]),
        ("open", _("Accepted, handover ahead"), counts["open"]),
        ("done", _("Handled"), counts["done"]),
    ]
    return render(
        request,
        "web/inbox.html",
        {"tabs": tabs, "tab": tab, "page": page, "teams": teams, "team_code": team_code},
    )


def _transfer_queryset(request):
    return transfers_visible_to(request.user).select_related("case__team", "sending_worker")


def _transfer_page(request, transfer, status=200, **forms_given):
    roles = roles_of(request)
    receiving = transfer.receiving_team in roles.receiving_teams
    desk = transfer.receiving_team in roles.desk_teams
    full = transfer.sending_team in roles.caseload_teams or transfer.state in RECEIVED_STATES
    booking = transfer.bookings.order_by("-pk").first()
    context = {
        "transfer": transfer,
        "case": transfer.case,
        "full": full,
        "booking": booking,
        "can_open_case": full,
        "waited": (_today() - transfer.proposed_at.astimezone(clock.tz()).date()).days,
    }
    state = transfer.state
    if receiving and state == TransferState.PROPOSED:
        context["accept_form"] = forms_given.get("accept") or forms.AcceptForm(
            team=transfer.receiving_team, prefix="accept"
        )
        context["return_form"] = forms_given.get("return") or forms.ReturnForm(prefix="return")
    if (receiving or desk) and state == TransferState.BOOKING_REQUESTED:
        context["confirm_form"] = forms_given.get("confirm") or forms.ConfirmBookingForm(
            prefix="confirm",
            initial={"place": transfer.receiving_team.front_desk_location},
        )
        context["booking_hours"] = BookingHours.objects.filter(team=transfer.receiving_team)
    if (receiving or desk) and state == TransferState.BOOKED:
        context["complete_form"] = forms.SiltaForm(prefix="complete")
        context["rebook_form"] = forms_given.get("rebook") or forms.RebookForm(prefix="rebook")
    return render(request, "web/transfer.html", context, status=status)


@login_required
def transfer_detail(request, pk: int):
    transfer = _scoped(request, _transfer_queryset(request), pk, _transfer_subject)
    log_access(user=request.user, action="web_read", subjects=[_transfer_subject(transfer)])
    return _transfer_page(request, transfer)


# Each action on a transfer: its form (and the form's prefix on the page), its service,
# what is said when it is done, and what the form needs to know about the transfer.
TRANSFER_ACTIONS = {
    "accept": (
        forms.AcceptForm,
        services.transfer_accept,
        gettext_lazy("Transfer accepted. The front desk books the handover."),
        lambda transfer: {"team": transfer.receiving_team},
    ),
    "return": (
        forms.ReturnForm,
        services.transfer_return,
        gettext_lazy("Transfer returned to the Immigration Unit."),
        None,
    ),
    "confirm": (
        forms.ConfirmBookingForm,
        services.transfer_confirm_booking,
        gettext_lazy("Handover booked."),
        None,
    ),
    "complete": (
        forms.SiltaForm,
        services.transfer_complete,
        gettext_lazy("Handover recorded as held: the case is transferred."),
        None,
    ),
    "rebook": (
        forms.RebookForm,
        services.transfer_rebook,
        gettext_lazy("Recorded. The handover is to be booked again."),
        None,
    ),
}


@login_required
@require_POST
def transfer_action(request, pk: int, action: str):
    form_class, service, done, form_kwargs = TRANSFER_ACTIONS[action]
    transfer = _scoped(request, _transfer_queryset(request), pk, _transfer_subject)
    form = form_class(request.POST, prefix=action, **(form_kwargs(transfer) if form_kwargs else {}))
    return _act(
        request,
        transfer,
        form,
        service,
        target="transfer",
        subject=_transfer_subject(transfer),
        back=reverse("web:transfer", args=[transfer.pk]),
        done=done,
        again=lambda form: _transfer_page(request, transfer, status=400, **{action: form}),
    )


# Front desk ------------------------------------------------------------------------------


@login_required
def desk(request):
    teams = roles_of(request).desk_teams
    if not teams:
        raise PermissionDenied(_("The booking queue is for front desks."))
    bookings = HandoverBooking.objects.filter(transfer__receiving_team__in=teams).select_related(
        "transfer__case__client", "transfer__receiving_team", "transfer__receiving_worker"
    )
    queue = _page(
        request,
        bookings.filter(
            transfer__state=TransferState.BOOKING_REQUESTED, status=BookingStatus.REQUESTED
        ).order_by("requested_at", "id"),
    )
    booked = list(
        bookings.filter(
            transfer__state=TransferState.BOOKED, status=BookingStatus.CONFIRMED
        ).order_by("starts_at", "id")[:50]
    )
    log_access(
        user=request.user,
        action="web_list",
        subjects=[_transfer_subject(b.transfer) for b in [*queue, *booked]],
    )
    hours = BookingHours.objects.filter(team__in=teams).select_related("team")
    return render(
        request,
        "web/desk.html",
        {"queue": queue, "booked": booked, "hours": hours, "teams": teams, "now": clock.now()},
    )


# Supervisor ------------------------------------------------------------------------------


def _supervised(request):
    teams = roles_of(request).supervised_teams
    if not teams:
        raise PermissionDenied(_("These pages are for supervisors."))
    return teams


def _stalled_rows(team_ids, today) -> list[dict]:
    """The stalled transfers as table rows, each with its stage's label (the report's rows
    are frozen, so the label goes in a row of the page's own)."""
    return [
        {
            "transfer": row.transfer,
            "stage_label": labels.STAGES[row.stage],
            "since": row.since,
            "working_days": row.working_days,
        }
        for row in reports.stalled_transfers(team_ids, today)
    ]


@login_required
def supervisor(request):
    teams = _supervised(request)
    team_ids = [t.pk for t in teams]
    today = _today()
    overdue = reports.overdue_reviews(team_ids, today)
    team_code = request.GET.get("team", "")
    if team_code:
        overdue = overdue.filter(team__code=team_code)
    worker = request.GET.get("worker", "")
    if worker:
        overdue = overdue.filter(responsible_worker__username=worker)
    by_worker = (
        overdue.order_by()
        .values(
            "team__name",
            "responsible_worker__username",
            "responsible_worker__first_name",
            "responsible_worker__last_name",
        )
        .annotate(n=Count("pk"))
        .order_by("-n", "team__name", "responsible_worker__username")
    )
    page = _page(request, overdue)
    for case in page:
        case.days_overdue = (today - case.review_due_on).days
    stalled = _stalled_rows(team_ids, today)
    open_reviews = (
        Review.objects.filter(case__team__in=teams, completed_at__isnull=True)
        .select_related("case__client", "case__team", "case__responsible_worker")
        .prefetch_related("assessments__criterion")
        .order_by("started_at")
    )
    exceptions = []
    for review in open_reviews:
        assessments = sorted(review.assessments.all(), key=lambda a: a.criterion.order)
        readiness = rules.readiness(
            client_facts(review.case.client), [criterion_facts(a) for a in assessments]
        )
        wanted = [
            a.criterion.name
            for a in assessments
            if a.criterion.code in readiness.exceptions_possible
            and a.status == AssessmentStatus.NOT_MET
        ]
        if wanted:
            exceptions.append({"review": review, "criteria": wanted})
    cap_cases = list(
        Case.objects.filter(
            team__in=teams,
            integration_started_on__lte=today - relativedelta(months=date_rules.CAP_MONTHS),
        )
        .exclude(state__in=[CaseState.TRANSFERRED, CaseState.CLOSED])
        .select_related("team", "responsible_worker")
        .order_by("integration_started_on", "id")
    )
    log_access(
        user=request.user,
        action="web_list",
        subjects=[
            *[_case_subject(c) for c in page],
            *[_transfer_subject(row["transfer"]) for row in stalled],
            *[_case_subject(item["review"].case) for item in exceptions],
            *[_case_subject(c) for c in cap_cases],
        ],
    )
    return render(
        request,
        "web/supervisor.html",
        {
            "teams": teams,
            "team_code": team_code,
            "worker": worker,
            "page": page,
            "by_worker": by_worker,
            "stalled": stalled,
            "exceptions": exceptions,
            "cap_cases": cap_cases,
        },
    )


def _bars(rows: list[tuple[str, float]]) -> list[dict]:
    """Rows for a horizontal bar chart: label, value and the bar's share of the widest."""
    top = max((value for _label, value in rows), default=0) or 1
    return [
        {"label": label, "value": value, "width": round(100 * value / top, 1)}
        for label, value in rows
    ]


@login_required
def figures(request):
    teams = _supervised(request)
    try:
        months = max(1, min(60, int(request.GET.get("months", 12))))
    except ValueError:
        months = 12
    since = _today() - relativedelta(months=months)
    data = reports.figures([t.pk for t in teams], since=since)
    states = dict(CaseState.choices)
    names = {}  # each code's name in the latest checklist version that has it
    for criterion in CriterionDefinition.objects.filter(
        code__in=[row["criterion"] for row in data["criteria_most_often_unmet"]]
    ).order_by("-template__version"):
        names.setdefault(criterion.code, criterion.name)
    regions = {r.code: r for r in Region.objects.all()}

    def region_name(code):
        region = regions.get(code)
        return getattr(region, f"name_{request.LANGUAGE_CODE[:2]}", code) if region else code

    return render(
        request,
        "web/figures.html",
        {
            "months": months,
            "since": since,
            "median": data["median_days_due_to_transferred"],
            "by_state": _bars([(states[s], n) for s, n in data["cases_by_state"].items()]),
            "per_month": _bars(
                [
                    (f"{row['month']} · {region_name(row['region'])}", row["transfers"])
                    for row in data["transfers_per_month"]
                ]
            ),
            "unmet": _bars(
                [
                    (names.get(row["criterion"], row["criterion"]), row["count"])
                    for row in data["criteria_most_often_unmet"]
                ]
            ),
        },
    )


@login_required
def reassign(request):
    teams = [t for t in _supervised(request) if t.is_immigration_unit]
    if not teams:
        raise PermissionDenied(_("Reassignment is for Immigration Unit supervisors."))
    wanted = request.POST.get("team") or request.GET.get("team")
    team = next((t for t in teams if t.code == wanted), teams[0])
    from_id = request.POST.get("from_worker") or request.GET.get("from_worker") or ""
    form = forms.ReassignForm(
        request.POST if request.method == "POST" else None,
        team=team,
        initial={"from_worker": from_id},
    )
    leaving = None
    if from_id.isascii() and from_id.isdigit():
        leaving = form.fields["from_worker"].queryset.filter(pk=from_id).first()
    cases = []
    if leaving is not None:
        cases = list(
            Case.objects.filter(team=team, responsible_worker=leaving)
            .exclude(state__in=[CaseState.TRANSFERRED, CaseState.CLOSED])
            .select_related("client")
            .order_by("review_due_on", "id")
        )
        log_access(user=request.user, action="web_list", subjects=[_case_subject(c) for c in cases])
    chosen = {str(c.pk) for c in cases}
    if request.method == "POST":
        chosen = set(request.POST.getlist("cases"))
        if form.is_valid():
            ids = [int(v) for v in chosen if v.isascii() and v.isdigit() and len(v) < 12]
            result, problem = _attempt(
                request,
                form,
                case_services.cases_reassign,
                subjects=[_case_subject(c) for c in cases if c.pk in ids],
                team=team,
                from_worker=form.cleaned_data["from_worker"],
                to_worker=form.cleaned_data["to_worker"],
                case_ids=ids,
            )
            if problem is None:
                worker = form.cleaned_data["to_worker"]
                messages.success(
                    request,
                    _("%(count)s cases moved to %(worker)s.")
                    % {"count": len(result), "worker": worker.get_full_name() or worker},
                )
                return redirect(f"{reverse('web:reassign')}?team={team.code}")
    return render(
        request,
        "web/reassign.html",
        {"form": form, "teams": teams, "team": team, "cases": cases, "chosen": chosen},
        status=400 if request.method == "POST" else 200,
    )
