"""A supervisor's pages: what needs attention in their teams, the figures, and changing the
responsible worker of a leaving worker's cases."""

from __future__ import annotations

from typing import Any

from dateutil.relativedelta import relativedelta
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.access import get_in_scope_or_404, log_access
from audit.report import client_report_pdf
from cases import services as case_services
from cases.enums import CaseState
from cases.models import case_reference
from cases.roles import roles_of
from cases.rules import cap_on
from cases.selectors import (
    cases_at_cap,
    clients_visible_to,
    open_cases_of_worker,
)
from core import clock
from criteria import services as criteria_services
from criteria.selectors import (
    assessments_visible_to,
    exception_requests_waiting,
    extension_requests_visible_to,
    extension_requests_waiting,
    overdue_plans,
    waiting_exceptions_of,
)
from exports import writers
from exports.tables import figure_list
from transfers import reports
from web import forms, labels

from .cases import PLANS_SHOWN
from .common import (
    PAGE_SIZE,
    assessment_subject,
    attempt,
    case_subject,
    page_number_of,
    scoped,
    stale,
    today,
)


def _supervised(request):
    teams = roles_of(request).supervised_teams
    if not teams:
        raise PermissionDenied(_("These pages are for supervisors."))
    return teams


def _page(request, items, name: str, *, count: int | None = None, number: int | None = None):
    """A first page of 25 (or the page asked for in `name`, or `number`) and the count, in
    SQL (or `count`, when counted a cheaper way), with the links to the page before and
    after (the other lists' pages kept)."""
    paginator = Paginator(items, PAGE_SIZE)
    if count is not None:
        paginator.count = count  # a cached_property, set ahead
    page = paginator.get_page(number or request.GET.get(name))

    def link(to: int) -> str:
        query = request.GET.copy()
        query[name] = to
        # The page's own path: the links work from a decision's form sent back too.
        return f"{reverse('web:supervisor')}?{query.urlencode()}#h-{name.removesuffix('_page')}"

    page.previous_link = link(page.previous_page_number()) if page.has_previous() else ""
    page.next_link = link(page.next_page_number()) if page.has_next() else ""
    return page


def _stalled(request, team_ids, on):
    """The stalled transfers, a page of them, each row with what is shown: the case's
    reference, the teams, the stage's label, since when and the working days (the case is
    not read, only its client's id for the access log)."""
    limits = reports.thresholds()
    stalled = reports.stalled_query(team_ids, on, limits)
    page = _page(
        request,
        stalled.select_related(None)
        .select_related("sending_team", "receiving_team")
        .annotate(case_client_id=F("case__client_id")),
        "stalled_page",
        # Counted without the case's join the page's rows need (the transfers alone).
        count=stalled.count(),
    )
    rows = [
        {
            "pk": row.transfer.pk,
            "reference": case_reference(row.transfer.case_id),
            "sending_team": row.transfer.sending_team.name,
            "receiving_team": row.transfer.receiving_team.name,
            "stage_label": labels.STAGES[row.stage],
            "since": row.since,
            "working_days": row.working_days,
            "subject": (row.transfer.case_client_id, row.transfer.case_id),
        }
        for row in reports.waiting_rows(page.object_list, on, limits)
    ]
    return page, rows


def _exceptions(request, team_ids):
    """Open reviews with an exception to decide, a page of them read as values (the
    review, its case and client ids), with the criteria waiting named for the reviews
    shown only (one query for the page's reviews, not their every assessment)."""
    page = _page(
        request,
        reports.exceptions_waiting_query(team_ids).values("pk", "case_id", "case__client_id"),
        "exceptions_page",
        count=reports.exceptions_waiting_count(team_ids),
    )
    reviews = list(page.object_list)
    criteria = waiting_exceptions_of([r["pk"] for r in reviews])
    items = [
        {
            "review_id": r["pk"],
            "reference": case_reference(r["case_id"]),
            "subject": (r["case__client_id"], r["case_id"]),
            "criteria": criteria.get(r["pk"], []),
        }
        for r in reviews
    ]
    return page, items


def _decisions_page(request, items, name: str, field: str, forms_given: dict | None, make):
    """A page of 25 requests waiting for a decision (oldest first, by `field`), each with
    its decision form: the one sent back with errors (`forms_given`), else `make(item)`.
    The page shown holds the request whose form came back, or the one `?exception=` names
    (where its notice points), unless a page is asked for."""
    focus = next(iter(forms_given or {}), None)
    if focus is None and name == "requests_page":
        focus = _int(request.GET.get("exception"))
    number = None
    if focus and not request.GET.get(name):
        number = page_number_of(items, focus, field)
    page = _page(request, items, name, number=number)
    for item in page.object_list:
        item.decision_form = (forms_given or {}).get(item.pk) or make(item)
    return page


def _int(value: str | None) -> int | None:
    """A query parameter's positive integer (an id), or None for anything else."""
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 19 else None


def _worker_name(first: str, last: str, username: str) -> str:
    """As the templates show a user: the full name, else the username."""
    return f"{first} {last}".strip() or username


def _overdue(request, team_names: dict[int, str], on) -> dict:
    """The overdue reviews, filtered by team and worker, paged, with a count per worker:
    the page read as values (the columns shown and the ids the access log needs)."""
    team_ids = list(team_names)
    overdue = reports.overdue_reviews(team_ids, on)
    team_code = request.GET.get("team", "")
    if team_code:
        overdue = overdue.filter(team__code=team_code)
    worker = request.GET.get("worker", "")
    if worker:
        overdue = overdue.filter(responsible_worker__username=worker)
    counts = reports.overdue_counts(team_ids, on, team_code=team_code, worker=worker)
    by_worker = _count_per_worker(counts, team_names)
    page = _page(
        request,
        overdue.values(
            "pk",
            "client_id",
            "team_id",
            "review_due_on",
            "state",
            "responsible_worker__username",
            "responsible_worker__first_name",
            "responsible_worker__last_name",
        ),
        "page",
        count=sum(counts.values()),
    )
    rows = [
        {
            "pk": c["pk"],
            "reference": case_reference(c["pk"]),
            "team": team_names[c["team_id"]],
            "worker": _worker_name(
                c["responsible_worker__first_name"],
                c["responsible_worker__last_name"],
                c["responsible_worker__username"],
            ),
            "review_due_on": c["review_due_on"],
            "days_overdue": (on - c["review_due_on"]).days,
            "state": CaseState(c["state"]).label,
            "subject": (c["client_id"], c["pk"]),
        }
        for c in page.object_list
    ]
    return {
        "team_code": team_code,
        "worker": worker,
        "page": page,
        "overdue": rows,
        "by_worker": by_worker,
    }


def _count_per_worker(
    per_worker: dict[tuple[int, int], int], team_names: dict[int, str]
) -> list[dict]:
    """The overdue reviews per team and worker (reports.overdue_counts), named (the teams
    from those already read, the few workers in one query, not a join per case)."""
    counts = [(team, worker, n) for (team, worker), n in per_worker.items()]
    workers = {
        pk: (username, first, last)
        for pk, username, first, last in get_user_model()
        .objects.filter(pk__in={w for _t, w, _n in counts})
        .values_list("pk", "username", "first_name", "last_name")
    }
    rows: list[dict[str, Any]] = [
        {
            "team__name": team_names[team],
            "responsible_worker__username": workers[worker][0],
            "responsible_worker__first_name": workers[worker][1],
            "responsible_worker__last_name": workers[worker][2],
            "n": n,
        }
        for team, worker, n in counts
    ]
    rows.sort(key=lambda r: (-r["n"], r["team__name"], r["responsible_worker__username"]))
    return rows


def _cap(request, team_ids, on):
    """The open cases at the 5-year cap, a page of them read as values: the reference,
    the cap's date and the state shown (the client is not read)."""
    page = _page(
        request,
        cases_at_cap(team_ids, on).values("pk", "client_id", "integration_started_on", "state"),
        "cap_page",
    )
    rows = [
        {
            "pk": c["pk"],
            "reference": case_reference(c["pk"]),
            "cap_on": cap_on(c["integration_started_on"]),
            "state": CaseState(c["state"]).label,
            "subject": (c["client_id"], c["pk"]),
        }
        for c in page.object_list
    ]
    return page, rows


@login_required
def supervisor(request):
    return _supervisor_page(request)


def _supervisor_page(request, *, status=200, decision_forms=None, exception_forms=None):
    """The supervisor's page, shown again with an extension or exception decision's errors."""
    teams = _supervised(request)
    team_names = {t.pk: t.name for t in teams}
    team_ids = list(team_names)
    on = today()
    context = _overdue(request, team_names, on)
    stalled_page, stalled = _stalled(request, team_ids, on)
    exceptions_page, exceptions = _exceptions(request, team_ids)
    cap_page, cap_cases = _cap(request, team_ids, on)
    requests_page = _decisions_page(
        request,
        exception_requests_waiting(team_ids),
        "requests_page",
        "exception_requested_at",
        exception_forms,
        lambda a: forms.ExceptionDecisionForm(prefix=f"x{a.pk}"),
    )
    requests = list(requests_page.object_list)
    extensions_page = _decisions_page(
        request,
        extension_requests_waiting(team_ids),
        "extensions_page",
        "requested_at",
        decision_forms,
        lambda e: forms.ExtensionDecisionForm(prefix=f"e{e.pk}"),
    )
    extensions = list(extensions_page.object_list)
    plans = overdue_plans(on=on, team_ids=team_ids)
    plans_shown = list(plans[:PLANS_SHOWN])
    # Rows only for the clients shown: each list is a page, never the whole caseload.
    log_access(
        user=request.user,
        action="web_list",
        subjects=[
            *[row["subject"] for row in context["overdue"]],
            *[row["subject"] for row in stalled],
            *[item["subject"] for item in exceptions],
            *[case_subject(a.review.case) for a in requests],
            *[row["subject"] for row in cap_cases],
            *[case_subject(e.review.case) for e in extensions],
            *[case_subject(p.review.case) for p in plans_shown],
        ],
    )
    context.update(
        teams=teams,
        stalled=stalled,
        stalled_page=stalled_page,
        exceptions=exceptions,
        exceptions_page=exceptions_page,
        requests=requests,
        requests_page=requests_page,
        cap_cases=cap_cases,
        cap_page=cap_page,
        extension_requests=extensions,
        extensions_page=extensions_page,
        overdue_plans=plans_shown,
        overdue_plans_count=len(plans_shown) if len(plans_shown) < PLANS_SHOWN else plans.count(),
        show_worker=True,
        export_links=True,
    )
    return render(request, "web/supervisor.html", context, status=status)


@login_required
@require_POST
def extension_decide(request, pk: int):
    """A supervisor approves or refuses an extension request, with the reason."""
    extension = scoped(
        request,
        extension_requests_visible_to(request.user),
        pk,
        lambda e: case_subject(e.review.case),
    )
    form = forms.ExtensionDecisionForm(request.POST, prefix=f"e{extension.pk}")
    back = reverse("web:supervisor")
    if form.is_valid():
        result, problem = attempt(
            request,
            form,
            criteria_services.extension_decide,
            subject=case_subject(extension.review.case),
            extension=extension,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
        )
        if problem == "conflict":
            stale(request, extension, result)
            return redirect(back)
        if problem is None:
            messages.success(
                request,
                (
                    _("Extension approved: %(reference)s.")
                    if result.status == "approved"
                    else _("Extension refused: %(reference)s.")
                )
                % {"reference": extension.review.case.reference},
            )
            return redirect(back)
    return _supervisor_page(request, status=400, decision_forms={extension.pk: form})


@login_required
@require_POST
def exception_decide(request, pk: int):
    """A supervisor approves or refuses a requested exception from the supervisor page
    (where the notice of the request points). Bad input comes back beside its field;
    a request someone else decided first says so."""
    _supervised(request)
    assessment = scoped(request, assessments_visible_to(request.user), pk, assessment_subject)
    form = forms.ExceptionDecisionForm(request.POST, prefix=f"x{assessment.pk}")
    back = criteria_services.exception_request_link(assessment.pk)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        text = form.cleaned_data["text"]
        service = (
            criteria_services.assessment_approve_exception
            if approve
            else criteria_services.assessment_refuse_exception
        )
        _done, problem = attempt(
            request,
            form,
            service,
            subject=assessment_subject(assessment),
            assessment=assessment,
            **({"justification": text} if approve else {"reason": text}),
        )
        if problem is None:
            messages.success(
                request, _("Exception approved.") if approve else _("Exception refused.")
            )
            return redirect(back)
        if problem == "conflict":
            messages.warning(request, _done.detail)
            return redirect(back)
    return _supervisor_page(request, status=400, exception_forms={assessment.pk: form})


def _bars(rows: list[tuple[str, float]]) -> list[dict]:
    """Rows for a horizontal bar chart: label, value and the bar's share of the widest."""
    top = max((value for _label, value in rows), default=0) or 1
    return [
        {"label": label, "value": value, "width": round(100 * value / top, 1)}
        for label, value in rows
    ]


def _months(request) -> int:
    try:
        return max(1, min(60, int(request.GET.get("months", 12))))
    except ValueError:
        return 12


# The figures whose chart the page draws as it always has; the others get a chart and,
# when they have more than a label and a value, the whole table of numbers.
_CLASSIC = ("median", "states", "months", "unmet")


def _figure_view(figure) -> dict:
    labels_at, value_at = figure.chart or ([0], len(figure.headers) - 1)
    rows = [[writers.text(value) for value in row] for row in figure.rows]
    return {
        "key": figure.key,
        "title": figure.title,
        "note": figure.note,
        "headers": figure.headers,
        "rows": rows,
        "label_title": " · ".join(str(figure.headers[i]) for i in labels_at),
        "value_title": figure.headers[value_at],
        "bars": _bars(
            [
                (" · ".join(cells[i] for i in labels_at), raw[value_at] or 0)
                for cells, raw in zip(rows, figure.rows, strict=True)
            ]
        )
        if figure.chart
        else [],
        "table": len(figure.headers) > 2,
    }


@login_required
def figures(request):
    teams = _supervised(request)
    months = _months(request)
    since = today() - relativedelta(months=months)
    language = translation.get_language() or "fi"
    found = {
        figure.key: figure
        for figure in figure_list([t.pk for t in teams], since=since, language=language)
    }
    median = found["median"].rows[0][1] if found["median"].rows else None

    def bars(key):
        view = _figure_view(found[key])
        for bar, row in zip(view["bars"], found[key].rows, strict=True):
            bar["value"] = row[-1]
        return view["bars"]

    return render(
        request,
        "web/figures.html",
        {
            "months": months,
            "since": since,
            "median": median,
            "by_state": bars("states"),
            "per_month": bars("months"),
            "unmet": bars("unmet"),
            "more": [_figure_view(f) for key, f in found.items() if key not in _CLASSIC],
        },
    )


def _reassign(request, form, team, cases, chosen):
    """Runs the reassignment of the chosen cases: a redirect when done, else None (the
    form carries the errors)."""
    ids = [int(v) for v in chosen if v.isascii() and v.isdigit() and len(v) < 12]
    result, problem = attempt(
        request,
        form,
        case_services.cases_reassign,
        subjects=[case_subject(c) for c in cases if c.pk in ids],
        team=team,
        from_worker=form.cleaned_data["from_worker"],
        to_worker=form.cleaned_data["to_worker"],
        case_ids=ids,
    )
    if problem is not None:
        return None
    worker = form.cleaned_data["to_worker"]
    messages.success(
        request,
        _("%(count)s cases moved to %(worker)s.")
        % {"count": len(result), "worker": worker.get_full_name() or worker},
    )
    return redirect(f"{reverse('web:reassign')}?team={team.code}")


@login_required
def reassign(request):
    teams = [t for t in _supervised(request) if t.is_immigration_unit]
    if not teams:
        raise PermissionDenied(_("Reassignment is for Immigration Unit supervisors."))
    posted = request.method == "POST"
    wanted = request.POST.get("team") or request.GET.get("team")
    team = next((t for t in teams if t.code == wanted), teams[0])
    from_id = request.POST.get("from_worker") or request.GET.get("from_worker") or ""
    form = forms.ReassignForm(
        request.POST if posted else None, team=team, initial={"from_worker": from_id}
    )
    leaving = None
    if from_id.isascii() and from_id.isdigit():
        leaving = form.fields["from_worker"].queryset.filter(pk=from_id).first()
    cases = []
    if leaving is not None:
        cases = list(open_cases_of_worker(team, leaving))
        log_access(user=request.user, action="web_list", subjects=[case_subject(c) for c in cases])
    chosen = set(request.POST.getlist("cases")) if posted else {str(c.pk) for c in cases}
    if posted and form.is_valid():
        done = _reassign(request, form, team, cases, chosen)
        if done is not None:
            return done
    return render(
        request,
        "web/reassign.html",
        {"form": form, "teams": teams, "team": team, "cases": cases, "chosen": chosen},
        status=400 if posted else 200,
    )


@login_required
def client_access_report(request, pk: int):
    """The client's own access-log report as a PDF the supervisor hands over (Act 703/2023
    gives the client the right to it). For the supervisors of a team that carries the
    client; making it is itself an access, logged before the report is made (and listed in
    it)."""
    _supervised(request)
    client = get_in_scope_or_404(
        clients_visible_to(request.user),
        pk,
        user=request.user,
        action="access_report",
        subject_of=lambda found: (found.pk, None),
    )
    log_access(user=request.user, action="access_report", subjects=[(client.pk, None)])
    pdf = client_report_pdf(
        client_name=f"{client.first_name} {client.last_name}",
        client_id=client.pk,
        made_by=request.user.get_full_name() or request.user.get_username(),
        now=clock.now(),
        team_names=labels.actor_team_names(),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="access-log-{client.pk}.pdf"'
    return response
