"""What every page shares: paging, the subjects of access-log rows, the scoped lookup and
running one service for one form.

Reads are scoped by the same selectors as the API and write their access-log rows before
the page is rendered: every function that renders a client's data (the page, a form shown
again after bad input or a refusal, an htmx fragment) calls `shown` first, so no way of
reaching it can skip the row. Every action goes through the service that owns it, with its
access-log row in the same transaction (audit/access.py). An id outside the user's scope
is a 404 and a denied row, exactly as in the API.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from audit.access import Subject, get_in_scope_or_404, log_access, perform_and_log
from cases.models import Case
from core import clock
from core.errors import (
    ActorNotAllowed,
    Conflict,
    DomainError,
    InvalidInput,
    TransitionNotAllowed,
)
from transfers.models import Transfer

PAGE_SIZE = 25


def page_of(request, items, size: int = PAGE_SIZE):
    return Paginator(items, size).get_page(request.GET.get("page"))


def page_number_of(items: QuerySet, pk: int, field: str, size: int = PAGE_SIZE) -> int | None:
    """The page of `size` on which the item `pk` stands in `items`, ordered by `field` and
    then the id, counted in SQL; None if it is not among them."""
    at = items.filter(pk=pk).values_list(field, flat=True).first()
    if at is None:
        return None
    return (
        items.filter(Q(**{f"{field}__lt": at}) | Q(**{field: at, "pk__lt": pk})).count() // (size)
        + 1
    )


def today() -> dt.date:
    return clock.today()


# The (client id, case id) an access-log row names, for each kind of object ----------------


def case_subject(case) -> tuple[int, int]:
    return case.client_id, case.pk


def transfer_subject(transfer) -> tuple[int, int]:
    return transfer.case.client_id, transfer.case_id


def review_subject(review) -> tuple[int, int]:
    return review.case.client_id, review.case_id


def assessment_subject(assessment) -> tuple[int, int]:
    return assessment.review.case.client_id, assessment.review.case_id


# Reading and acting ----------------------------------------------------------------------


def scoped(request, queryset, pk: int, subject):
    """The object if the user may see it; otherwise 404, and a denied row when it exists."""
    return get_in_scope_or_404(
        queryset, pk, user=request.user, action="web_read", subject_of=subject
    )


def shown(request, *subjects: Subject, action: str = "web_read") -> None:
    """The access-log rows of what is about to be rendered: called by every function that
    renders client data, before it renders."""
    log_access(user=request.user, action=action, subjects=subjects)


def perform(request, service, *, subjects=None, subjects_of=None, **kwargs):
    """Runs one service with its access-log row in the same transaction (for `subjects`,
    or `subjects_of(result)` for a write that creates its subject). A role that may not
    act gets 403 and leaves a denied row."""
    try:
        return perform_and_log(
            service,
            user=request.user,
            action="web_transition",
            subjects=subjects,
            subjects_of=subjects_of,
            **kwargs,
        )
    except ActorNotAllowed as exc:
        raise PermissionDenied(exc.detail) from exc


def attempt(request, form, service, *, subject=None, subjects=None, **kwargs):
    """(result, problem). Bad input goes beside its field in `form`; a state that no longer
    allows the action is 'conflict' (someone else acted first); other refusals go above
    the form."""
    try:
        subjects = subjects if subjects is not None else [subject]
        return perform(request, service, subjects=subjects, **kwargs), None
    except InvalidInput as exc:
        form.add_service_errors(exc)
        return None, "invalid"
    except Conflict as exc:
        return exc, "conflict"
    except DomainError as exc:
        form.add_error(None, exc.detail)
        return None, "refused"


def stale(request, obj, conflict: Conflict | None = None, text: str | None = None) -> None:
    """Someone else acted first: say so, with the state the case or transfer is in now
    (for a review or an assessment, the service's own words; `text` when the action has
    words of its own)."""
    if text is not None:
        messages.warning(request, text)
        return
    if isinstance(obj, Transfer):
        text = _("Someone else acted first: the transfer is now “%(state)s”. Check and act again.")
    elif isinstance(obj, Case):
        text = _("Someone else acted first: the case is now “%(state)s”. Check and act again.")
    elif isinstance(conflict, TransitionNotAllowed):
        # Its words name codes (for the API): a contact request's step refused by its own
        # state, or a review's by its case's, is said with that state in words, read afresh.
        case = getattr(obj, "case", None)
        if case is None and getattr(obj, "review", None) is not None:
            case = obj.review.case  # an assessment's, an extension request's
        if hasattr(obj, "get_state_display"):
            text = _("Someone else acted first: this is now “%(state)s”. Check and act again.")
        elif isinstance(case, Case):
            obj = case
            text = _("Someone else acted first: the case is now “%(state)s”. Check and act again.")
        else:
            messages.warning(request, _("Someone else acted first. Check and act again."))
            return
        obj.refresh_from_db(fields=["state"])
    else:
        messages.warning(request, conflict.detail)
        return
    messages.warning(request, text % {"state": obj.get_state_display()})


def act(
    request, obj, form, service, *, target: str, subject, back: str, done, again, stale_text=None
):
    """One form, one service call on `obj` (passed as `target`): done, back to `back` with
    `done` said; bad input, `again(form)` with the errors beside the fields (400); a state
    that no longer allows it, back to `back` saying what the state is now (or `stale_text`
    when given)."""
    if form.is_valid():
        result, problem = attempt(
            request, form, service, subject=subject, **{target: obj}, **form.cleaned_data
        )
        if problem == "conflict":
            obj.refresh_from_db()
            stale(request, obj, result, stale_text)
            return redirect(back)
        if problem is None:
            messages.success(request, done(result) if callable(done) else done)
            return redirect(back)
    return again(form)


def htmx_redirect(request, url: str):
    """A redirect that htmx follows as a whole page."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
