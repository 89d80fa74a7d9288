"""The partnership handbook (Kumppanuuskäsikirja): partner organisations by region,
language and kind of service, for every worker of a team (the handbook holds no client
data, so the search writes no access-log rows); a case's home base (kotipesä); referrals
to partners with the client's consent, and the partner's own page for one referral,
opened by a signed link that expires (no account), each view of it access-logged."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from audit.access import (
    PURPOSE_REFERRAL,
    ROLE_PARTNER_CONTACT,
    log_access,
    partner_link_actor,
    partner_team_code,
)
from cases.models import Region
from cases.roles import roles_of
from cases.selectors import cases_visible_to
from core.errors import DomainError, InvalidInput
from core.languages import language_choices
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from partners.enums import ReferralState, ServiceKind, SharedField
from partners.models import PartnerOrganisation, split_codes
from partners.selectors import home_base_of, home_base_suggestions, partners_search
from partners.services import (
    ReferralLinkExpired,
    ReferralLinkInvalid,
    home_base_record,
    referral_answer,
    referral_done,
    referral_from_token,
    referral_send,
)
from web.forms import SiltaForm
from web.labels import region_name

from .common import attempt, case_subject, page_of, scoped, stale


def served_languages() -> list[str]:
    codes: set[str] = set()
    for value in PartnerOrganisation.objects.filter(is_active=True).values_list(
        "languages", flat=True
    ):
        codes.update(split_codes(value))
    return sorted(codes)


class PartnerSearchForm(SiltaForm):
    region = forms.ChoiceField(label=gettext_lazy("Region"), required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language served"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind of service"), required=False)
    q = forms.CharField(label=gettext_lazy("Name or service"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        anything = [("", _("Any"))]
        self.fields["region"].choices = anything + [
            (str(region.pk), region_name(region)) for region in Region.objects.order_by("code")
        ]
        self.fields["language"].choices = anything + language_choices(served_languages())
        self.fields["kind"].choices = anything + list(ServiceKind.choices)


@login_required
def partner_directory(request):
    if not roles_of(request).memberships:
        raise PermissionDenied(_("The partnership handbook is for the teams' workers."))
    form = PartnerSearchForm(request.GET or None)
    found = partners_search()
    if form.is_valid():
        data = form.cleaned_data
        found = partners_search(
            region_id=int(data["region"]) if data["region"] else None,
            language=data["language"],
            kind=data["kind"],
            text=data["q"],
        )
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request,
        "web/partners.html",
        {"form": form, "page": page_of(request, found)},
        status=status,
    )


# The home base (kotipesä) on the review and the case page ----------------------------------


def needs_of(case) -> list[str]:
    """The kinds of service the client needs: the criteria not met in the case's latest
    review (their codes are kinds of service too)."""
    review = case.reviews.order_by("-started_at", "-pk").first()
    if review is None:
        return []
    return list(
        review.assessments.filter(status=AssessmentStatus.NOT_MET)
        .order_by("criterion__order")
        .values_list("criterion__code", flat=True)
    )


def organisation_choices(suggested, others, *, others_label) -> list:
    """A select's choices of partner organisations: nothing chosen first, then the
    suggested ones in their order, then the rest of `others` by name under `others_label`
    (a group left out when empty)."""
    rest = [
        (str(pk), name)
        for pk, name in others.exclude(pk__in=[o.pk for o in suggested])
        .order_by("name")
        .values_list("pk", "name")
    ]
    choices: list = [("", _("Choose"))]
    if suggested:
        choices.append((_("Suggested"), [(str(o.pk), o.name) for o in suggested]))
    if rest:
        choices.append((others_label, rest))
    return choices


class HomeBaseForm(SiltaForm):
    back = forms.ChoiceField(
        choices=[("case", "case"), ("review", "review")], widget=forms.HiddenInput
    )
    organisation = forms.ChoiceField(label=gettext_lazy("Home base"), required=False)
    reason = forms.CharField(
        label=gettext_lazy("Or: why the client has no home base"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, suggestions=(), region_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        others = PartnerOrganisation.objects.filter(is_active=True)
        if region_id:
            others = others.filter(region_id=region_id)
        self.fields["organisation"].choices = organisation_choices(
            [s.organisation for s in suggestions],
            others,
            others_label=_("Other organisations of the region"),
        )

    def clean_organisation(self):
        value = self.cleaned_data["organisation"]
        if not value:
            return None
        return PartnerOrganisation.objects.filter(pk=int(value), is_active=True).first()


def home_base_context(case, *, back: str, form=None) -> dict:
    """The suggestions near the client's address, the home base recorded, and the form
    to record it. The caller has access-logged the case it shows."""
    suggestions = home_base_suggestions(case, needs=needs_of(case))
    area = suggestions.postal_area
    if form is None:
        current = home_base_of(case)
        initial = {"back": back}
        if current is not None:
            initial["organisation"] = str(current.organisation_id or "")
            initial["reason"] = current.reason_none
        form = HomeBaseForm(
            prefix="homebase",
            initial=initial,
            suggestions=suggestions.items,
            region_id=area.region_id if area else None,
        )
    kinds = dict(ServiceKind.choices)
    return {
        "home_base": home_base_of(case),
        "home_base_suggestions": suggestions,
        "home_base_needs": [kinds.get(code, code) for code in suggestions.needs],
        "home_base_form": form,
    }


@login_required
@require_POST
def case_home_base(request, pk: int):
    """Record the home base (an organisation, or why none) from the review or the case
    page; bad input is shown again beside its field on the page it came from."""
    case = scoped(request, cases_visible_to(request.user), pk, case_subject)
    suggestions = home_base_suggestions(case, needs=needs_of(case))
    area = suggestions.postal_area
    form = HomeBaseForm(
        request.POST,
        prefix="homebase",
        suggestions=suggestions.items,
        region_id=area.region_id if area else None,
    )
    back = request.POST.get("homebase-back")
    review = open_review_of(case) if back == "review" else None

    def again(form):
        if review is not None:
            return review_page(request, review, status=400, home_base=form)
        return case_page(request, case, status=400, home_base=form)

    if not form.is_valid():
        return again(form)
    _done, problem = attempt(
        request,
        form,
        home_base_record,
        subject=case_subject(case),
        case=case,
        organisation=form.cleaned_data["organisation"],
        reason=form.cleaned_data["reason"],
    )
    if problem == "conflict":
        case.refresh_from_db()
        stale(request, case)
    elif problem:
        return again(form)
    else:
        messages.success(request, _("Home base recorded."))
    if review is not None:
        return redirect("web:review", pk=review.pk)
    return redirect("web:case", pk=case.pk)


def case_page(request, case, **kwargs):
    from .cases import case_page as page  # the case page uses this module's context

    return page(request, case, **kwargs)


def review_page(request, review, **kwargs):
    from .reviews import _review_page as page

    return page(request, review, **kwargs)


# Referrals to partners ------------------------------------------------------------------------


class ReferralForm(SiltaForm):
    organisation = forms.ChoiceField(label=gettext_lazy("Partner organisation"))
    purpose = forms.CharField(
        label=gettext_lazy("Purpose of the referral"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    shared_fields = forms.MultipleChoiceField(
        label=gettext_lazy("What the client agreed to share"),
        choices=SharedField.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "The client consented to this referral and to sharing what is chosen above"
        ),
        required=False,
    )

    def __init__(self, *args, suggestions=(), **kwargs):
        super().__init__(*args, **kwargs)
        # A referral reaches the partner by e-mail: only organisations with an address.
        self.fields["organisation"].choices = organisation_choices(
            [s.organisation for s in suggestions if s.organisation.email],
            PartnerOrganisation.objects.filter(is_active=True).exclude(email=""),
            others_label=_("All organisations in the handbook"),
        )

    def clean_organisation(self):
        value = self.cleaned_data["organisation"]
        return PartnerOrganisation.objects.filter(pk=int(value), is_active=True).first()


def referral_context(case, *, form=None) -> dict:
    """The case's referrals and the form to send one. The caller has logged the case."""
    if form is None:
        suggestions = home_base_suggestions(case, needs=needs_of(case))
        form = ReferralForm(prefix="referral", suggestions=suggestions.items)
    return {"referral_form": form}


@login_required
@require_POST
def case_referral_send(request, pk: int):
    case = scoped(request, cases_visible_to(request.user), pk, case_subject)
    suggestions = home_base_suggestions(case, needs=needs_of(case))
    form = ReferralForm(request.POST, prefix="referral", suggestions=suggestions.items)
    if not form.is_valid():
        return case_page(request, case, status=400, referral=form)
    _done, problem = attempt(
        request,
        form,
        referral_send,
        subject=case_subject(case),
        case=case,
        organisation=form.cleaned_data["organisation"],
        purpose=form.cleaned_data["purpose"],
        shared_fields=form.cleaned_data["shared_fields"],
        consent=form.cleaned_data["consent"],
    )
    if problem == "conflict":
        case.refresh_from_db()
        stale(request, case)
    elif problem:
        return case_page(request, case, status=400, referral=form)
    else:
        messages.success(request, _("Referral sent. The partner gets a link by e-mail."))
    return redirect("web:case", pk=case.pk)


# The partner's page, opened by the signed link (no account) ------------------------------------


class PartnerAnswerForm(SiltaForm):
    note = forms.CharField(
        label=gettext_lazy("Note to the caseworker (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PartnerDoneForm(SiltaForm):
    outcome = forms.CharField(
        label=gettext_lazy("Outcome"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the outcome: what was done with the client.")},
    )


def _partner_read(referral) -> None:
    """The access-log row of one view of the partner's page, before it is shown."""
    log_access(
        user=partner_link_actor(),
        action="partner_link_read",
        subjects=[(referral.case.client_id, referral.case_id)],
        purpose=PURPOSE_REFERRAL,
        role_and_team=(ROLE_PARTNER_CONTACT, partner_team_code(referral.organisation_id)),
    )


def _shared_view(referral) -> list[tuple[str, str]]:
    """Only what the consent allows, as (label, value)."""
    client = referral.case.client
    labels = dict(SharedField.choices)
    shown_fields = []
    for code in referral.shared:
        if code == SharedField.NAME:
            value = f"{client.first_name} {client.last_name}"
        elif code == SharedField.DATE_OF_BIRTH:
            value = formats.date_format(client.date_of_birth, "SHORT_DATE_FORMAT")
        elif code == SharedField.LANGUAGE:
            value = client.language_name
            if client.interpreter_needed:
                value += " · " + str(_("needs an interpreter"))
        elif code == SharedField.ADDRESS:
            value = ", ".join(
                part
                for part in (client.street_address, client.postal_code, client.post_office)
                if part
            )
        elif code == SharedField.HOUSEHOLD:
            value = str(client.children_count)
        elif code == SharedField.CASEWORKER:
            worker = referral.sent_by
            value = " · ".join(
                part
                for part in (worker.get_full_name() or worker.get_username(), worker.email)
                if part
            )
        else:
            continue
        shown_fields.append((str(labels[code]), value))
    return shown_fields


def _partner_page(request, referral, *, status=200, answer=None, done=None):
    _partner_read(referral)
    response = render(
        request,
        "web/partner_referral.html",
        {
            "referral": referral,
            "shared": _shared_view(referral),
            "answer_form": answer or PartnerAnswerForm(prefix="answer"),
            "done_form": done or PartnerDoneForm(prefix="done"),
            "states": ReferralState,
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


def _link_problem(request, problem):
    response = render(
        request,
        "web/partner_link_invalid.html",
        {"expired": isinstance(problem, ReferralLinkExpired)},
        status=problem.http_status,
    )
    add_never_cache_headers(response)
    return response


@csrf_protect
def partner_referral(request, token: str):
    """One referral's page for the partner's contact: what the consent allows and the
    answer. Every view writes an access-log row; an altered or expired link shows only
    that it cannot be opened."""
    try:
        referral = referral_from_token(token)
    except (ReferralLinkExpired, ReferralLinkInvalid) as problem:
        return _link_problem(request, problem)
    if request.method != "POST":
        return _partner_page(request, referral)
    action = request.POST.get("action")
    form: SiltaForm
    if action in ("accept", "decline"):
        form = PartnerAnswerForm(request.POST, prefix="answer")
        if not form.is_valid():
            return _partner_page(request, referral, status=400, answer=form)
        run = lambda: referral_answer(  # noqa: E731
            referral=referral, accept=action == "accept", note=form.cleaned_data["note"]
        )
        said = _("Thank you: your answer is recorded.")
    elif action == "done":
        form = PartnerDoneForm(request.POST, prefix="done")
        if not form.is_valid():
            return _partner_page(request, referral, status=400, done=form)
        run = lambda: referral_done(  # noqa: E731
            referral=referral, outcome=form.cleaned_data["outcome"]
        )
        said = _("Thank you: the outcome is recorded.")
    else:
        return _partner_page(request, referral, status=400)
    try:
        with transaction.atomic():
            run()
            log_access(
                user=partner_link_actor(),
                action="partner_link_answer",
                subjects=[(referral.case.client_id, referral.case_id)],
                purpose=PURPOSE_REFERRAL,
                role_and_team=(ROLE_PARTNER_CONTACT, partner_team_code(referral.organisation_id)),
            )
    except InvalidInput as exc:
        form.add_service_errors(exc)
        kwargs = {"answer": form} if action != "done" else {"done": form}
        return _partner_page(request, referral, status=400, **kwargs)
    except DomainError:
        messages.warning(request, _("This referral has already been answered."))
        return redirect(request.path)
    messages.success(request, said)
    return redirect(request.path)
