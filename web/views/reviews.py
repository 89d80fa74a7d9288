"""The readiness review: the checklist page with the whole checklist in one form, a
supervisor's exception, and the two ways a review ends (not ready, or a transfer proposed).

The page works without JavaScript: each form posts and the page comes back (a redirect when
done, the page with the errors beside the fields when not). Nothing is swapped in place, so
focus and the live regions stay where the browser put them; an error summary at the top of
the checklist takes focus and links to each field in error."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cases import rules as date_rules
from cases.roles import roles_of
from core.errors import Conflict, DomainError, InvalidInput, RoutingNeedsManualChoice
from criteria import services as criteria_services
from criteria.enums import AssessmentStatus
from criteria.selectors import (
    assessments_visible_to,
    ordered_assessments,
    review_readiness,
    reviews_visible_to,
)
from transfers import services
from web import forms, labels

from .common import (
    act,
    assessment_subject,
    perform,
    review_subject,
    scoped,
    shown,
    today,
)
from .partners import home_base_context


def _routing(case) -> tuple:
    """(the routed team or None, why it could not be chosen or "")."""
    try:
        return services.routed_team_for(case), ""
    except RoutingNeedsManualChoice as exc:
        return None, exc.detail


def _readiness_context(review, assessments) -> dict:
    case = review.case
    readiness = review_readiness(review, assessments)
    names = {a.criterion.code: a.criterion.name for a in assessments}
    routed, routing_problem = _routing(case)
    return {
        "review": review,
        "case": case,
        "readiness": readiness,
        "unmet_names": [names.get(code, code) for code in readiness.not_met],
        "unassessed_names": [names.get(code, code) for code in readiness.unassessed],
        "exception_names": [names.get(code, code) for code in readiness.exceptions_possible],
        "missing_plan_names": [names.get(code, code) for code in readiness.missing_plans],
        "blocker_names": [labels.BLOCKERS.get(code, code) for code in readiness.blockers],
        "coordinator_missing": date_rules.ppt_coordinator_missing(
            is_ppt=case.client.is_ppt, coordinator=case.ppt_coordinator
        ),
        "at_cap": date_rules.is_at_cap(today=today(), cap=case.cap_on),
        "routed_team": routed,
        "routing_problem": routing_problem,
    }


def _assessment_form(assessment, data=None):
    initial = {
        "status": assessment.status if assessment.status != AssessmentStatus.UNASSESSED else None,
        "note": assessment.note,
        "plan_action": assessment.plan_action,
        "plan_owner": assessment.plan_owner,
        "plan_owner_user": assessment.plan_owner_user_id,
        "plan_target_on": assessment.plan_target_on,
        "multi_problem": assessment.multi_problem,
    }
    return forms.AssessmentForm(
        data,
        initial=initial,
        prefix=f"a{assessment.pk}",
        criterion=assessment.criterion,
        team=assessment.review.case.team,
    )


def _review_context(request, review, *, checklist=None, **forms_given) -> dict:
    """The checklist (one form per criterion, the posted ones from `checklist` when the page
    is shown again), the readiness summary and the decision forms."""
    assessments = checklist if checklist is not None else ordered_assessments(review)
    roles = roles_of(request)
    supervisor = review.case.team in roles.supervised_teams
    context = _readiness_context(review, assessments)
    editable = review.is_open and review.case.team in roles.caseload_teams
    possible = context["readiness"].exceptions_possible
    for assessment in assessments:
        if getattr(assessment, "form", None) is None:
            assessment.form = _assessment_form(assessment)
        if supervisor and assessment.criterion.exception_allowed and review.is_open:
            assessment.exception_form = forms_given.get(f"exception_{assessment.pk}") or (
                forms.ExceptionForm(
                    prefix=f"x{assessment.pk}",
                    target=f"x{assessment.pk}",
                    initial={"justification": assessment.exception_justification}
                    if assessment.exception_requested
                    else None,
                )
            )
        if (
            editable
            and assessment.criterion.code in possible
            and not assessment.exception_requested
            and not assessment.exception_approved
        ):
            assessment.request_form = forms_given.get(f"request_{assessment.pk}") or (
                forms.ExceptionRequestForm(prefix=f"r{assessment.pk}", target=f"r{assessment.pk}")
            )
    context.update(
        assessments=assessments,
        checklist_errors=[
            {"assessment": a, "field": a.form[name], "message": " ".join(errors)}
            for a in assessments
            if a.form.is_bound
            for name, errors in a.form.errors.items()
            if name in a.form.fields
        ],
        checklist_problems=[
            message for a in assessments if a.form.is_bound for message in a.form.non_field_errors()
        ],
        propose_form=forms_given.get("propose")
        or forms.ProposeForm(at_cap=context["at_cap"], prefix="propose"),
        not_ready_form=forms_given.get("not_ready") or forms.NotReadyForm(prefix="notready"),
        extension_form=forms_given.get("extension")
        or forms.ExtensionRequestForm(prefix="extension"),
        extension_requests=list(review.extension_requests.select_related("decided_by")),
        extension_threshold_on=criteria_services.extension_threshold_on(review),
        editable=editable,
    )
    if editable:
        context.update(
            home_base_context(review.case, back="review", form=forms_given.get("home_base"))
        )
    return context


def _review_page(request, review, *, checklist=None, status=200, **forms_given):
    """The checklist page, also shown again with a form's errors (each showing is a read)."""
    shown(request, review_subject(review))
    context = _review_context(request, review, checklist=checklist, **forms_given)
    return render(request, "web/review.html", context, status=status)


@login_required
def review_detail(request, pk: int):
    review = scoped(request, reviews_visible_to(request.user), pk, review_subject)
    return _review_page(request, review)


@login_required
@require_POST
def review_assess(request, pk: int):
    """The whole checklist in one form: every criterion answered or changed is saved at
    once, or, when any is wrong, nothing is, and the page comes back with every error beside
    its field and everything typed kept."""
    review = scoped(request, reviews_visible_to(request.user), pk, review_subject)
    assessments = ordered_assessments(review)
    for assessment in assessments:
        assessment.form = _assessment_form(assessment, request.POST)
    valid = [a.form.is_valid() for a in assessments]  # every form, to show every error
    back = reverse("web:review", args=[review.pk])
    if all(valid):
        changes = [(a, a.form.cleaned_data) for a in assessments if a.form.answered]
        if not changes:
            messages.info(request, _("Nothing to save: no criterion was changed."))
            return redirect(back)
        try:
            perform(
                request,
                criteria_services.review_assess,
                subjects=[review_subject(review)],
                review=review,
                changes=changes,
            )
        except criteria_services.ChecklistInvalid as exc:
            for assessment in assessments:
                if assessment.pk in exc.by_assessment:
                    assessment.form.add_service_errors(
                        InvalidInput(exc.by_assessment[assessment.pk])
                    )
        except Conflict as exc:
            messages.warning(request, exc.detail)
            return redirect(back)
        except DomainError as exc:
            assessments[0].form.add_error(None, exc.detail)
        else:
            messages.success(
                request,
                ngettext("Saved: %(count)d criterion.", "Saved: %(count)d criteria.", len(changes))
                % {"count": len(changes)},
            )
            return redirect(back)
    return _review_page(request, review, checklist=assessments, status=400)


@login_required
@require_POST
def approve_exception(request, pk: int):
    assessment = scoped(request, assessments_visible_to(request.user), pk, assessment_subject)
    review = assessment.review
    return act(
        request,
        assessment,
        forms.ExceptionForm(request.POST, prefix=f"x{assessment.pk}", target=f"x{assessment.pk}"),
        criteria_services.assessment_approve_exception,
        target="assessment",
        subject=assessment_subject(assessment),
        back=f"{reverse('web:review', args=[review.pk])}#c-{assessment.pk}",
        done=_("Exception approved: %(name)s.") % {"name": assessment.criterion},
        again=lambda form: _review_page(
            request, review, status=400, **{f"exception_{assessment.pk}": form}
        ),
    )


@login_required
@require_POST
def review_not_ready(request, pk: int):
    review = scoped(request, reviews_visible_to(request.user), pk, review_subject)
    return act(
        request,
        review,
        forms.NotReadyForm(request.POST, prefix="notready"),
        criteria_services.review_complete_not_ready,
        target="review",
        subject=review_subject(review),
        back=reverse("web:case", args=[review.case_id]),
        done=_("Review completed: the next review is planned."),
        again=lambda form: _review_page(
            request,
            review,
            status=400,
            not_ready=form,
            # The date typed, ready to ask for the approval it may need.
            extension=forms.ExtensionRequestForm(
                prefix="extension",
                initial={"next_review_on": form["next_review_on"].value()},
            ),
        ),
    )


@login_required
@require_POST
def review_propose(request, pk: int):
    review = scoped(request, reviews_visible_to(request.user), pk, review_subject)
    at_cap = date_rules.is_at_cap(today=today(), cap=review.case.cap_on)
    return act(
        request,
        review,
        forms.ProposeForm(request.POST, at_cap=at_cap, prefix="propose"),
        services.transfer_propose,
        target="review",
        subject=review_subject(review),
        back=reverse("web:case", args=[review.case_id]),
        done=lambda transfer: (
            _("Transfer proposed to %(team)s.") % {"team": transfer.receiving_team.name}
        ),
        again=lambda form: _review_page(request, review, status=400, propose=form),
    )


@login_required
@require_POST
def review_extension(request, pk: int):
    """The caseworker asks a supervisor to approve an extension past the threshold."""
    review = scoped(request, reviews_visible_to(request.user), pk, review_subject)
    return act(
        request,
        review,
        forms.ExtensionRequestForm(request.POST, prefix="extension"),
        criteria_services.extension_request,
        target="review",
        subject=review_subject(review),
        back=f"{reverse('web:review', args=[review.pk])}#decide",
        done=_("The extension waits for a supervisor's approval."),
        again=lambda form: _review_page(request, review, status=400, extension=form),
    )


@login_required
@require_POST
def request_exception(request, pk: int):
    """The caseworker asks a supervisor for an exception, with the justification."""
    assessment = scoped(request, assessments_visible_to(request.user), pk, assessment_subject)
    review = assessment.review
    return act(
        request,
        assessment,
        forms.ExceptionRequestForm(
            request.POST, prefix=f"r{assessment.pk}", target=f"r{assessment.pk}"
        ),
        criteria_services.assessment_request_exception,
        target="assessment",
        subject=assessment_subject(assessment),
        back=f"{reverse('web:review', args=[review.pk])}#c-{assessment.pk}",
        done=_("Exception requested: %(name)s. A supervisor decides.")
        % {"name": assessment.criterion},
        again=lambda form: _review_page(
            request, review, status=400, **{f"request_{assessment.pk}": form}
        ),
    )
