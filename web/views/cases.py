"""The caseworker's side of a case: the caseload, the case page and its actions (PPT
coordinator, closure, starting a review)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Q, Sum
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.access import log_access
from cases import rules as date_rules
from cases import services as case_services
from cases.enums import CaseAction, CaseState, Role
from cases.models import Case, TeamStateCount
from cases.roles import roles_of
from cases.selectors import (
    case_timeline,
    cases_matching,
    cases_visible_to,
    clients_without_case_matching,
)
from core.errors import Conflict
from criteria import services as criteria_services
from criteria.selectors import open_review_ids, overdue_plans
from partners.selectors import home_base_of
from transfers import services
from web import forms, labels

from .clients import household_context
from .common import PAGE_SIZE, act, case_subject, page_of, perform, scoped, shown, stale, today
from .partners import home_base_context, referral_context

GROUPS = ("overdue", "due", "soon", "in_review", "pending")
# Overdue plans listed under the caseload (and on the supervisor's page): the oldest, and
# how many there are in all.
PLANS_SHOWN = 25


def _group_filters(on: dt.date) -> dict[str, Q]:
    return {
        "overdue": Q(state=CaseState.REVIEW_DUE, review_due_on__lt=on),
        "due": Q(state=CaseState.REVIEW_DUE, review_due_on__gte=on),
        "soon": Q(state=CaseState.ACTIVE, review_due_on__lte=on + dt.timedelta(days=30)),
        "in_review": Q(state=CaseState.IN_REVIEW),
        "pending": Q(state=CaseState.TRANSFER_PENDING),
    }


def _group_counts(request, teams, filters_used: dict, on: dt.date) -> dict[str, int]:
    """How many cases each group holds. Every group is a state a team's own cases are in
    before any transfer, all within the reader's scope: counted over the team's (and the
    worker's) cases directly. On PostgreSQL the states come from the counts the database
    keeps (cases.TeamStateCount); only the review dates still ahead of the due ones and the
    active cases due within 30 days are counted from the cases (a date window, not the
    caseload's size), the overdue being the due ones less those not yet past their date."""
    team_ids = [t.pk for t in teams]
    if filters_used["team_code"]:
        team_ids = [t.pk for t in teams if t.code == filters_used["team_code"]]
    cases = Case.objects.filter(team_id__in=team_ids)
    kept = TeamStateCount.objects.filter(team_id__in=team_ids)
    if filters_used["who"] == "mine":
        cases = cases.filter(responsible_worker=request.user)
        kept = kept.filter(worker=request.user)
    filters = _group_filters(on)
    if connection.vendor != "postgresql":  # the embedded database keeps no counts
        return cases.aggregate(**{key: Count("pk", filter=q) for key, q in filters.items()})
    states = dict(kept.values_list("state").annotate(total=Sum("n")).values_list("state", "total"))
    due = cases.filter(filters["due"]).count()
    return {
        "overdue": states.get(CaseState.REVIEW_DUE, 0) - due,
        "due": due,
        "soon": cases.filter(filters["soon"]).count(),
        "in_review": states.get(CaseState.IN_REVIEW, 0),
        "pending": states.get(CaseState.TRANSFER_PENDING, 0),
    }


def _group_titles() -> dict[str, str]:
    return {
        "overdue": _("Review overdue"),
        "due": _("Review due"),
        "soon": _("Due within 30 days"),
        "in_review": _("In review"),
        "pending": _("Transfer pending"),
    }


def _caseload_filtered(request, cases, *, supervises_only: bool):
    """The caseload narrowed by the page's filters: whose, which team. A search (`q`: a
    name, an identity code, a case reference or a date of birth) looks through the whole
    team's cases unless "mine" is chosen."""
    query = request.GET.get("q", "").strip()[:100]
    who = request.GET.get("who") or ("team" if supervises_only or query else "mine")
    if who == "mine":
        cases = cases.filter(responsible_worker=request.user)
    team_code = request.GET.get("team", "")
    if team_code:
        cases = cases.filter(team__code=team_code)
    return cases, {"who": who, "team_code": team_code, "query": query}


def _search_page(request, cases, filters_used, teams):
    """A search's answer: every matching case of the scope in any state, and clients with
    no case yet, one access-log row per client shown."""
    query = filters_used["query"]
    page = page_of(
        request,
        cases_matching(cases, query).select_related("client").order_by("client__last_name", "id"),
    )
    waiting = list(clients_without_case_matching(request.user, query)[:25])
    log_access(
        user=request.user,
        action="web_search",
        subjects=[case_subject(c) for c in page] + [(c.pk, None) for c in waiting],
    )
    return render(
        request,
        "web/caseload.html",
        {
            "searching": True,
            "page": page,
            "clients_without_case": waiting,
            "teams": teams,
            "today": today(),
            **filters_used,
        },
    )


@login_required
def caseload(request):
    roles = roles_of(request)
    teams = roles.caseload_teams
    if not teams:
        raise PermissionDenied(_("The caseload is for Immigration Unit teams."))
    on = today()
    team_cases = cases_visible_to(request.user).filter(team__in=teams)
    cases, filters_used = _caseload_filtered(
        request, team_cases, supervises_only=not roles.teams([Role.CASEWORKER])
    )
    if filters_used["query"]:
        return _search_page(request, cases, filters_used, teams)
    filters = _group_filters(on)
    counts = _group_counts(request, teams, filters_used, on)
    group = request.GET.get("group")
    if group not in GROUPS:
        group = next((key for key in GROUPS if counts[key]), GROUPS[0])
    # The group's count is known: the page needs no second count of the same cases.
    paginator = Paginator(cases.filter(filters[group]).order_by("review_due_on", "id"), PAGE_SIZE)
    paginator.count = counts[group]  # a cached_property, set ahead
    page = paginator.get_page(request.GET.get("page"))
    plans = overdue_plans(
        on=on,
        team_ids=[t.pk for t in teams],
        worker=request.user if filters_used["who"] == "mine" else None,
    )
    if filters_used["team_code"]:
        team_cases = team_cases.filter(team__code=filters_used["team_code"])
    # "Mine": the plans the worker follows up, also those they own on a colleague's case.
    plans = plans.filter(review__case__in=team_cases.values("pk"))
    plans_shown = list(plans[:PLANS_SHOWN])
    log_access(
        user=request.user,
        action="web_list",
        subjects=[
            *[case_subject(c) for c in page],
            *[case_subject(p.review.case) for p in plans_shown],
        ],
    )
    open_reviews = open_review_ids(c.pk for c in page if c.state == CaseState.IN_REVIEW)
    for case in page:
        case.days_overdue = (on - case.review_due_on).days
        case.open_review_id = open_reviews.get(case.pk)
    titles = _group_titles()
    return render(
        request,
        "web/caseload.html",
        {
            "groups": [(key, titles[key], counts[key]) for key in GROUPS],
            "group": group,
            "group_title": titles[group],
            "page": page,
            "teams": teams,
            "today": on,
            "overdue_plans": plans_shown,
            "overdue_plans_count": (
                len(plans_shown) if len(plans_shown) < PLANS_SHOWN else plans.count()
            ),
            "show_worker": filters_used["who"] != "mine",
            **filters_used,
        },
    )


@login_required
def case_detail(request, pk: int):
    case = scoped(request, cases_visible_to(request.user), pk, case_subject)
    return case_page(request, case)


def _transfers_of(case) -> list:
    transfers = list(
        case.transfers.select_related("receiving_team", "receiving_worker", "routed_team")
        .prefetch_related("bookings")
        .order_by("-proposed_at")
    )
    for transfer in transfers:
        transfer.live_booking = max(transfer.bookings.all(), key=lambda b: b.pk, default=None)
    return transfers


def _case_forms(case, forms_given) -> dict:
    """The forms of an open case the user's team carries: closure, and the PPT coordinator."""
    at_cap = date_rules.is_at_cap(today=today(), cap=case.cap_on)
    found = {
        "close_form": forms_given.get("close") or forms.CloseForm(prefix="close", at_cap=at_cap)
    }
    if case.state == CaseState.ACTIVE:
        found["bring_forward_form"] = forms_given.get("bring_forward") or forms.BringForwardForm(
            prefix="forward"
        )
    if case.client.is_ppt:
        found["coordinator_form"] = forms_given.get("coordinator") or forms.CoordinatorForm(
            prefix="coordinator", initial={"coordinator": case.ppt_coordinator}
        )
    return found


def _event_words(event) -> str:
    """The event's words; a recomputed review date names both dates."""
    label = str(labels.event_label(event))
    if event.action == CaseAction.REVIEW_DATE_CHANGED and {"from", "to"} <= set(event.params):
        dates = [
            formats.date_format(dt.date.fromisoformat(event.params[key]), "SHORT_DATE_FORMAT")
            for key in ("from", "to")
        ]
        return f"{label}: {dates[0]} → {dates[1]}"
    return label


def case_page(request, case, status=200, **forms_given):
    """The case page, also shown again with a form's errors (each showing is a read)."""
    shown(request, case_subject(case))
    timeline = page_of(request, case_timeline(case, newest_first=True), size=30)
    for event in timeline:
        event.label = _event_words(event)
        event.who = labels.event_actor(event)
        event.why = labels.event_reason(event)
    can_review = case.team in roles_of(request).caseload_teams
    context = {
        "case": case,
        "client": case.client,
        "transfers": _transfers_of(case),
        "reviews": case.reviews.select_related("started_by").order_by("-started_at"),
        "timeline": timeline,
        # Shown again at a form's address after bad input: the timeline's pages lead here.
        "here": reverse("web:case", args=[case.pk]),
        "can_review": can_review,
        "can_report_access": bool(roles_of(request).supervised_teams),
        "today": today(),
        **household_context(request, case.client),
    }
    context["home_base"] = home_base_of(case)
    context["referrals"] = list(
        case.referrals.select_related("organisation", "sent_by").order_by("-sent_at", "-pk")
    )
    if can_review and case.state not in (CaseState.TRANSFERRED, CaseState.CLOSED):
        context.update(_case_forms(case, forms_given))
        context.update(home_base_context(case, back="case", form=forms_given.get("home_base")))
        context.update(referral_context(case, form=forms_given.get("referral")))
        context["household_review"] = bool(context["household"]) and (
            len(context["household"]) + context.get("household_hidden", 0) > 1
        )
    return render(request, "web/case.html", context, status=status)


@login_required
@require_POST
def case_coordinator(request, pk: int):
    case = scoped(request, cases_visible_to(request.user), pk, case_subject)
    return act(
        request,
        case,
        forms.CoordinatorForm(request.POST, prefix="coordinator"),
        case_services.case_set_coordinator,
        target="case",
        subject=case_subject(case),
        back=reverse("web:case", args=[case.pk]),
        done=_("PPT coordinator saved."),
        again=lambda form: case_page(request, case, status=400, coordinator=form),
    )


@login_required
@require_POST
def case_close(request, pk: int):
    case = scoped(request, cases_visible_to(request.user), pk, case_subject)
    at_cap = date_rules.is_at_cap(today=today(), cap=case.cap_on)
    return act(
        request,
        case,
        forms.CloseForm(request.POST, prefix="close", at_cap=at_cap),
        services.case_close,
        target="case",
        subject=case_subject(case),
        back=reverse("web:case", args=[case.pk]),
        done=_("The case is closed."),
        again=lambda form: case_page(request, case, status=400, close=form),
    )


@login_required
@require_POST
def review_start(request, pk: int):
    case = scoped(request, cases_visible_to(request.user), pk, case_subject)
    try:
        review = perform(
            request, criteria_services.review_start, subjects=[case_subject(case)], case=case
        )
    except Conflict:
        case.refresh_from_db()
        stale(request, case)
        return redirect("web:case", pk=case.pk)
    return redirect("web:review", pk=review.pk)


@login_required
@require_POST
def review_bring_forward(request, pk: int):
    case = scoped(request, cases_visible_to(request.user), pk, case_subject)
    return act(
        request,
        case,
        forms.BringForwardForm(request.POST, prefix="forward"),
        criteria_services.review_bring_forward,
        target="case",
        subject=case_subject(case),
        back=reverse("web:case", args=[case.pk]),
        done=_("The review is brought forward."),
        again=lambda form: case_page(request, case, status=400, bring_forward=form),
    )
