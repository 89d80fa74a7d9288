"""A household reviewed together: every member's readiness on one page (the criteria not
met and not assessed yet named, a link to each member's review), and the household's
transfer proposed from there, all or nothing (transfers.services.household).

Each member shown is a read: one access-log row per member, written before the page is
rendered; members outside the user's scope are counted, never named.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cases.enums import CaseState
from cases.models import HouseholdMember
from cases.roles import roles_of
from cases.selectors import cases_visible_to
from core.errors import Conflict, CriteriaNotMet, DomainError, InvalidInput
from transfers import services
from web import forms

from .common import case_subject, perform, scoped, shown


def _can_propose(request, case) -> bool:
    return case.team in roles_of(request).caseload_teams and case.state not in (
        CaseState.TRANSFERRED,
        CaseState.CLOSED,
    )


def household_review_page(request, case, membership, *, form=None, status=200):
    """The household's review (also shown again with the proposal form's errors): each
    member's readiness, logged one row per member before it is rendered."""
    rows, hidden = services.household_members_readiness(
        actor=request.user, household=membership.household
    )
    shown(
        request,
        case_subject(case),
        *[(row.member.client_id, row.case.pk if row.case else None) for row in rows],
    )
    all_ready = (
        not hidden and all(row.why is None for row in rows) and any(row.ready for row in rows)
    )
    can_propose = _can_propose(request, case)
    context = {
        "case": case,
        "client": case.client,
        "rows": rows,
        "hidden": hidden,
        "ready_count": sum(1 for row in rows if row.ready),
        "case_count": sum(1 for row in rows if row.case is not None),
        "all_ready": all_ready,
        "can_propose": can_propose,
        "propose_form": (form or forms.ProposeForm(prefix="household"))
        if (can_propose and all_ready) or form is not None
        else None,
    }
    return render(request, "web/household_review.html", context, status=status)


def _membership(request, case):
    membership = (
        HouseholdMember.objects.filter(client_id=case.client_id).select_related("household").first()
    )
    if membership is None:
        messages.warning(request, _("The client is not in a household."))
    return membership


@login_required
def household_review(request, pk: int):
    """The household of the case's client, reviewed together."""
    case = scoped(request, cases_visible_to(request.user), pk, case_subject)
    membership = _membership(request, case)
    if membership is None:
        return redirect("web:case", pk=case.pk)
    return household_review_page(request, case, membership)


@login_required
@require_POST
def household_propose(request, pk: int):
    """Propose the transfer of the case's whole household: one transfer per member's case,
    all or nothing; a household not ready is refused naming who and why (on the household's
    review, which names each member's reasons again)."""
    case = scoped(request, cases_visible_to(request.user), pk, case_subject)
    membership = _membership(request, case)
    if membership is None:
        return redirect("web:case", pk=case.pk)
    form = forms.ProposeForm(request.POST, prefix="household")
    if form.is_valid():
        try:
            transfers = perform(
                request,
                services.household_transfer_propose,
                subjects=[case_subject(case)],
                household=membership.household,
                # The consent (or legal basis), the handover summary and the rest of the
                # proposal form, as for one client's transfer.
                **form.cleaned_data,
            )
        except CriteriaNotMet as exc:
            messages.error(request, exc.detail)
            return redirect("web:household-review", pk=case.pk)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except (Conflict, DomainError) as exc:
            messages.error(request, exc.detail)
            return redirect("web:household-review", pk=case.pk)
        else:
            messages.success(
                request,
                ngettext(
                    "The household's transfer is proposed: %(n)s transfer, one handover.",
                    "The household's transfer is proposed: %(n)s transfers, one handover.",
                    len(transfers),
                )
                % {"n": len(transfers)},
            )
            return redirect("web:case", pk=case.pk)
    return household_review_page(request, case, membership, form=form, status=400)
