"""Hypothesis over every form of the web app: whatever is typed (text with NUL, huge
strings, any unicode, dates from year 1 to 9999, negative and huge numbers, missing
fields, choices that were never offered), sent as a user the page offered the form to,
is never answered 5xx, and a refusal or an error re-render writes nothing.

The forms are found, not listed. Every route of the web app comes from the URL resolver;
each page is fetched as every role, with objects in each state that shows a form, and each
form on it (its action, its fields, its choices) becomes a target; a filter form (GET) is
also submitted with its choices to reach the forms behind it. The sign-in form is fetched
signed out, and the admin's add and change forms of clients and cases (where dates of
birth and integration starts are typed) as a staff member. A route that answers only POST
but appears in no page's form fails the test: give the fixture the state in which its
form shows.

Each example runs in a savepoint that is rolled back, so every one starts from the same
state. SILTA_FUZZ_EXAMPLES sets the examples per form (`make fuzz` runs 300).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client as Browser
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from cases import intake
from cases import services as case_services
from cases.enums import CaseState, Role
from cases.models import Case, Client, ContactRequest, Event
from core import clock
from criteria import services as criteria_services
from criteria.models import AssessmentStatus, CriterionAssessment, ExtensionRequest, Review
from criteria.selectors import open_review_of
from exports.models import ExportFile
from exports.tables import KINDS as EXPORT_KINDS
from notifications.models import Notification, OutboxMessage, OutboxStatus
from notifications.services import MAX_ATTEMPTS
from partners.models import Referral
from partners.services import referral_answer, referral_send, referral_token
from tests.factories import (
    assess_all_met,
    case_in_state,
    handover_slot,
    make_client,
    member,
    transfer_in_state,
)
from tests.partners.test_directory import partner
from transfers import services as transfer_services
from transfers.enums import TransferState
from transfers.models import HandoverBooking, Transfer

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("SILTA_FUZZ_EXAMPLES", "6"))

# What a path converter of the web app's routes is filled with, by the route's first
# segment. A new kind of object in a route must be added here (the test says so).
OBJECTS = {
    "cases": Case,
    "clients": Client,
    "reviews": Review,
    "assessments": CriterionAssessment,
    "transfers": Transfer,
    "notifications": Notification,
    "extensions": ExtensionRequest,
    "intake": ContactRequest,
    "supervisor": Client,  # the client's access log (a PDF)
    "supervisor/exports": ExportFile,  # a finished export, for its owner only
}
# Django's own forms in the page header; the language switch is fuzzed like any other.
NOT_SILTAS = {"logout", "admin:logout"}
ADMIN_PAGES = ["admin:cases_client_add", "admin:cases_case_add"]


# The forms, as found on the pages ---------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # text, date, datetime, number, choice, multichoice, checkbox, hidden
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    url: str
    method: str
    route: str
    htmx: bool
    fields: dict[str, Field] = field(default_factory=dict)
    role: str = ""


class _Forms(HTMLParser):
    """The forms of one page: action, method, htmx, and each named field with its kind
    and the choices offered."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: Field | None = None

    def _add(self, name: str, kind: str, option: str | None = None) -> Field:
        assert self.form is not None
        found = self.form.fields.setdefault(name, Field(name, kind))
        if kind == "checkbox" and found.options:
            found.kind = "multichoice"  # several boxes of one name
        if option is not None and option not in found.options:
            found.options.append(option)
        return found

    def handle_starttag(self, tag, attrs):
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.form = Form(
                url=a.get("action") or self.page_url,
                method=a.get("method", "get").lower(),
                route="",
                htmx="hx-post" in a,
            )
            self.forms.append(self.form)
        elif tag == "option" and self.select is not None:
            if a.get("value", "") not in self.select.options:
                self.select.options.append(a.get("value", ""))
        elif self.form is None or not a.get("name") or a["name"] == "csrfmiddlewaretoken":
            return
        elif tag == "input":
            self._add(a["name"], *_input_kind(a))
        elif tag == "textarea":
            self._add(a["name"], "text")
        elif tag == "select":
            self.select = self._add(a["name"], "multichoice" if "multiple" in a else "choice")
        elif tag == "button" and "value" in a:
            self._add(a["name"], "hidden", a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None


def _input_kind(a: dict[str, str]) -> tuple[str, str | None]:
    """(kind, the value offered, if any) of an <input>."""
    kind, css = a.get("type", "text"), a.get("class", "")
    if kind in ("radio", "checkbox"):
        return ("choice" if kind == "radio" else "checkbox"), a.get("value", "on")
    if kind in ("hidden", "submit", "button"):
        return "hidden", a.get("value", "")
    if kind == "date" or "vDateField" in css:
        return "date", None
    if kind == "datetime-local" or "vDateTimeField" in css:
        return "datetime", None
    if kind == "number" or "vIntegerField" in css:
        return "number", None
    return "text", None


def forms_of(page_url: str, html: str) -> list[Form]:
    parser = _Forms(page_url)
    parser.feed(html)
    for form in parser.forms:
        form.route = resolve(urlsplit(form.url).path).view_name
    return parser.forms


# The routes, from the URL resolver --------------------------------------------------------


def _patterns(patterns, namespace: str = "", prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace or ""
            yield from _patterns(entry.url_patterns, inner, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, prefix + str(entry.pattern), entry


def web_routes() -> list[tuple[str, str, URLPattern]]:
    """(name, route, pattern) of every route of the web app, and the sign-in."""
    return [
        (name, route, pattern)
        for name, route, pattern in _patterns(get_resolver().url_patterns)
        if name.startswith("web:") or name == "login"
    ]


def urls_of(name: str, route: str, pattern: URLPattern) -> list[str]:
    converters = list(pattern.pattern.converters)
    if not converters:
        return [reverse(name)]
    if converters == ["token"]:  # a partner's referral page: its signed link
        return [
            reverse(name, kwargs={"token": referral_token(referral)})
            for referral in Referral.objects.all()
        ]
    if converters == ["kind"]:
        return [reverse(name, kwargs={"kind": kind}) for kind in EXPORT_KINDS]
    assert converters == ["pk"], f"{name}: teach the test what fills {converters}"
    first = route.strip("/").split("/")[0]
    if route.startswith("supervisor/exports/"):
        first = "supervisor/exports"
    assert first in OBJECTS, f"{name}: teach the test (OBJECTS) what a {first} id is"
    return [
        reverse(name, kwargs={"pk": pk})
        for pk in OBJECTS[first].objects.values_list("pk", flat=True)
    ]


# What is typed ----------------------------------------------------------------------------

TODAY = clock.today()
NASTY = st.one_of(
    st.text(max_size=40),  # any unicode, NUL included
    st.text(max_size=20).map(lambda text: f"{text}\x00{text}"),
    st.integers(1_000, 300_000).map(lambda n: "ä" * n),
    st.sampled_from(
        ["", " ", "0", "-1", "9" * 40, "<script>alert(1)</script>", "' OR 1=1 --", "%00", "\u202e"]
    ),
)
DATES = st.one_of(
    st.dates().map(dt.date.isoformat),  # 0001-01-01 to 9999-12-31
    st.integers(-1_000, 2_500).map(lambda days: (TODAY + dt.timedelta(days=days)).isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "31.12.9999", "1.1.1", "-1"]),
    NASTY,
)
DATETIMES = st.one_of(
    st.datetimes().map(lambda moment: moment.isoformat(timespec="minutes")),
    st.integers(-200, 2_000).map(
        lambda hours: (clock.now() + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")
    ),
    st.sampled_from(["9999-12-31T23:59", "0001-01-01T00:00", "2026-13-01T25:61"]),
    NASTY,
)
NUMBERS = st.one_of(st.integers(-(10**30), 10**30).map(str), NASTY)


def value_of(spec: Field) -> st.SearchStrategy:
    if spec.kind == "date":
        return DATES
    if spec.kind == "datetime":
        return DATETIMES
    if spec.kind == "number":
        return NUMBERS
    if spec.kind in ("choice", "hidden", "checkbox") and spec.options:
        return st.one_of(st.sampled_from(spec.options), st.sampled_from(spec.options), NASTY)
    if spec.kind == "multichoice" and spec.options:
        return st.lists(st.one_of(st.sampled_from(spec.options), NASTY), max_size=4)
    return st.one_of(st.text(max_size=200), NASTY)


def inputs_for(form: Form) -> st.SearchStrategy:
    """Each field: a value of its kind, something nasty, or missing altogether."""
    return st.fixed_dictionaries(
        {
            name: st.one_of(st.none(), value_of(spec), value_of(spec))
            for name, spec in form.fields.items()
        }
    ).map(lambda drawn: {name: value for name, value in drawn.items() if value is not None})


# The state the forms show in ---------------------------------------------------------------


def _main_rows() -> dict:
    """The rows a form may change (the access log is left out: reading is logged)."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in (Client, Case, Review, CriterionAssessment, Transfer, HandoverBooking)
    } | {
        "counts": (
            Event.objects.count(),
            Notification.objects.count(),
            OutboxMessage.objects.count(),
        )
    }


@pytest.fixture
def world(org):
    """Objects in every state that shows a form, and a user for each role."""
    case_in_state(org, CaseState.ACTIVE, is_ppt=True)  # coordinator, close
    case_in_state(org, CaseState.REVIEW_DUE)  # start review
    in_review = case_in_state(org, CaseState.IN_REVIEW, housing_situation="homeless")
    # An exception for the supervisor to decide: housing not met, with a plan.
    housing = open_review_of(in_review).assessments.get(criterion__code="housing")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=housing,
        status=AssessmentStatus.NOT_MET,
        plan_action="Find a flat",
    )
    # Another not met, not yet asked for (the caseworker's request form) ...
    asking = case_in_state(org, CaseState.IN_REVIEW, housing_situation="homeless")
    criteria_services.assessment_update(
        actor=org.caseworker,
        assessment=open_review_of(asking).assessments.get(criterion__code="housing"),
        status=AssessmentStatus.NOT_MET,
        plan_action="Find a flat",
    )
    # ... and one asked for by the caseworker (the supervisor's approve-or-refuse form).
    criteria_services.assessment_request_exception(
        actor=org.caseworker, assessment=housing, justification="Temporary flat found"
    )
    ready = case_in_state(org, CaseState.IN_REVIEW)
    assess_all_met(org, ready)  # propose
    # A household (its review, leaving it) and a client with no case yet
    # (opening one).
    case_services.household_link(
        actor=org.caseworker, client=ready.client, member=in_review.client, relation="spouse"
    )
    # A household whose members are all ready: its review offers the transfer together.
    together = [case_in_state(org, CaseState.IN_REVIEW) for _ in range(2)]
    for case in together:
        assess_all_met(org, case)
    case_services.household_link(
        actor=org.caseworker,
        client=together[0].client,
        member=together[1].client,
        relation="spouse",
    )
    make_client(org, first_name="Nocase")
    # Contact requests: one waiting (route, close), one routed to the caseworker (link).
    for routed in (False, True):
        contact = intake.contact_request_receive(
            organisation="Neuvontapiste",
            sender_name="Neuvoja",
            sender_email="neuvoja@example.org",
            client_name="Amina Testinen",
            message="Soittakaa asiakkaalle.",
            consent=True,
        )
        if routed:
            intake.contact_request_route(
                actor=org.koto_supervisor, contact=contact, worker=org.caseworker
            )
    transfer_in_state(org, TransferState.PROPOSED)  # accept, return, cancel, ask
    transfer_in_state(org, TransferState.INFORMATION_REQUESTED)  # answer
    transfer_in_state(org, TransferState.BOOKING_REQUESTED)  # confirm
    transfer_in_state(org, TransferState.BOOKED)  # complete, rebook (the time has come)
    # Escorted, booked ahead: the sending worker confirms the time before it begins.
    escorted = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    transfer_services.transfer_confirm_booking(
        actor=org.front_desk,
        transfer=escorted,
        starts_at=handover_slot(days=4),
        place="Malmi FrontDesk",
        interpreter="TIMMI 9",
    )
    Transfer.objects.filter(pk=escorted.pk).update(escorted=True)
    failed = transfer_in_state(org, TransferState.ACCEPTED)  # retry
    OutboxMessage.objects.filter(key=f"booking:open:{failed.pk}").update(
        status=OutboxStatus.FAILED, attempts=MAX_ATTEMPTS, last_error="OperationalError"
    )
    # Referrals to a partner: one waiting for the answer, one accepted (the partner's page).
    kulmakivi = partner("Asukastalo Kulmakivi", district="Koillinen", languages="ara,fin")
    referred = case_in_state(org, CaseState.ACTIVE)
    for accept in (None, True):
        referral = referral_send(
            actor=org.caseworker,
            case=referred,
            organisation=kulmakivi,
            purpose="Kielikerho",
            shared_fields=["language"],
            consent=True,
        )
        if accept:
            referral_answer(referral=referral, accept=True)
    admin = member(org.koto, Role.CASEWORKER, is_staff=True)
    admin.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["add_client", "change_client", "view_client", "add_case", "view_case"]
        )
    )
    return {
        "caseworker": org.caseworker,
        "koto supervisor": org.koto_supervisor,
        "receiving worker": org.receiving_worker,
        "front desk": org.front_desk,
        "receiving supervisor": org.receiving_supervisor,
        "admin user": admin,
        "anonymous": None,
    }


def _client_for(user) -> Browser:
    client = Browser(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def discover(world) -> tuple[dict[str, Form], set[str]]:
    """Every form on every page of the web app, as each role sees it: {route: form}, one
    form per route (the first user the form was offered to acts), and the routes that
    answer only POST."""
    routes = web_routes()
    found: dict[str, Form] = {}
    post_only: set[str] = set()
    for role, user in world.items():
        client = _client_for(user)
        pages = []
        if role == "anonymous":
            pages = [reverse("login")]
        elif role == "admin user":
            pages = [reverse(name) for name in ADMIN_PAGES]
            pages += [reverse("admin:cases_client_change", args=[Client.objects.first().pk])]
        else:
            for name, route, pattern in routes:
                urls = urls_of(name, route, pattern)
                if name in post_only or (urls and client.get(urls[0]).status_code == 405):
                    post_only.add(name)  # a POST-only route: its form is on another page
                    continue
                pages += urls
        seen: set[str] = set()
        while pages:
            url = pages.pop(0)
            if url in seen:
                continue
            seen.add(url)
            page = client.get(url)
            assert page.status_code < 500, (role, url)
            if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
                continue
            for form in forms_of(url, page.content.decode()):
                if form.route in NOT_SILTAS:
                    continue
                key = f"{form.route} {form.method}"
                if key not in found:
                    form.role = role
                    found[key] = form
                if form.method == "get":
                    pages += _filtered(form)
    return found, post_only


def _filtered(form: Form) -> list[str]:
    """A filter form submitted with each choice of its fields (the forms behind a choice,
    such as the reassignment's, show only then)."""
    base = dict(parse_qsl(urlsplit(form.url).query))
    defaults = {name: spec.options[0] for name, spec in form.fields.items() if spec.options}
    urls = []
    for name, spec in form.fields.items():
        for option in [o for o in spec.options if o][:3]:
            query = urlencode({**base, **defaults, name: option})
            urls.append(f"{urlsplit(form.url).path}?{query}")
    return urls


# The test -----------------------------------------------------------------------------------


def test_every_web_form__generated_input__no_server_error_and_nothing_written_when_refused(
    world,
):
    forms, post_only = discover(world)
    routes_with_forms = {form.route for form in forms.values()}
    assert post_only <= routes_with_forms, (
        f"routes that take POST but whose form no page showed: {post_only - routes_with_forms}"
    )
    assert {f"{name} post" for name in ADMIN_PAGES} <= set(forms), sorted(forms)
    baseline = _main_rows()
    clients = {role: _client_for(user) for role, user in world.items()}
    cookies = {role: SimpleCookie(client.cookies) for role, client in clients.items()}
    for _key, form in sorted(forms.items(), key=lambda item: item[0]):
        _fuzz(form, clients[form.role], cookies[form.role], baseline)


def _fuzz(form: Form, client: Browser, cookies: SimpleCookie, baseline: dict) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=inputs_for(form), htmx=st.booleans() if form.htmx else st.just(False))
    def sent(data, htmx):
        note(f"{form.method.upper()} {form.url} as {form.role}")
        client.cookies = SimpleCookie(cookies)  # signed in again, whatever the last did
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        with transaction.atomic():
            if form.method == "post":
                answer = client.post(form.url, data, **headers)
            else:
                answer = client.get(urlsplit(form.url).path, data, **headers)
            assert answer.status_code < 500, (form.url, answer.status_code)
            body = answer.content.decode(errors="replace") if answer.status_code == 200 else ""
            if _main_rows() != baseline:
                assert form.method == "post", "a GET changed data"
                assert answer.status_code < 400, f"refused ({answer.status_code}) yet written"
                assert 'aria-invalid="true"' not in body, "an error re-render, yet written"
            transaction.set_rollback(True)

    sent()
