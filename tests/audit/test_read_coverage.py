"""One access-log path for every read, proved by walking every URL pattern.

Every URL pattern of the web app, the API and the admin (Django's URL resolver, walked
recursively) is requested by users of every role, with clients present whose names and
identity codes are canaries: path parameters are filled with the ids of real objects
(some in the user's scope, some not); pages are fetched, forms are posted with bad input so
that they are shown again (also as htmx requests), API actions are posted and patched
with bad input, admin lists are asked for their actions' forms. A response that shows a
client's name or identity code fails the test unless that request wrote an allowed
access-log row for that client.

A pattern the walk cannot fill or request must be listed in NOT_WALKED with the reason;
a new pattern that is neither walked nor listed fails `test_every_url_pattern_is_walked`,
so the coverage cannot rot.

Each request runs in a savepoint that is rolled back after its response is checked, so
an action that a post does carry out (a form with no fields) does not change what the
next request sees.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.test import Client as WebClient
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from audit.access import log_access
from audit.models import AccessLog, AccessOutcome
from cases import intake
from cases.enums import CaseState
from cases.models import Case, Client, ContactRequest
from cases.selectors import cases_visible_to, clients_visible_to
from core import clock
from criteria import services as criteria_services
from criteria.models import AssessmentStatus, CriterionAssessment, ExtensionRequest, Review
from criteria.selectors import (
    assessments_visible_to,
    extension_requests_visible_to,
    open_review_of,
    reviews_visible_to,
)
from exports.models import ExportFile
from notifications.models import Notification
from notifications.selectors import inbox_of
from notifications.services import notify
from partners.services import referral_send
from tests.factories import (
    Org,
    as_user,
    case_in_state,
    make_client,
    make_org,
    open_case,
    transfer_in_state,
)
from tests.partners.test_directory import partner
from transfers.enums import TransferState
from transfers.models import HandoverBooking, Transfer
from transfers.selectors import transfers_visible_to

pytestmark = pytest.mark.django_db

User = get_user_model()

# Patterns the walk does not request, each with the reason. Keyed like `pattern_key`.
NOT_WALKED = {
    "logout/": "signing out ends the walker's session; it shows no data (a redirect)",
    "admin/logout/": "signing out ends the walker's session; it shows no data",
    "i18n/setlang/": "sets the language cookie and redirects; shows no data",
    "referrals/<str:token>/": (
        "a partner's page opened by a signed token, not an id: the walk cannot sign one; "
        "tests/partners/test_referrals.py checks that every view and answer of it writes "
        "its access-log row and that an altered or expired link shows nothing"
    ),
}

# The web app's views that take a `pk`, and the model whose id it is. A new view with a
# path parameter must be added here (or to NOT_WALKED) before the walk passes.
WEB_PK_MODELS = {
    "case_detail": Case,
    "review_start": Case,
    "case_coordinator": Case,
    "case_close": Case,
    "case_home_base": Case,
    "case_referral_send": Case,
    "review_detail": Review,
    "review_not_ready": Review,
    "review_propose": Review,
    "review_assess": Review,
    "review_extension": Review,
    "review_bring_forward": Case,
    "extension_decide": ExtensionRequest,
    "approve_exception": CriterionAssessment,
    "request_exception": CriterionAssessment,
    "exception_decide": CriterionAssessment,
    "transfer_detail": Transfer,
    "transfer_action": Transfer,
    "notification_read": Notification,
    "client_access_report": Client,
    "client_detail": Client,
    "client_edit": Client,
    "case_open": Client,
    "household_add": Client,
    "household_leave": Client,
    "household_propose": Case,
    "household_review": Case,
    "transfer_letter": Transfer,
    "client_sms_consent": Client,
    "contact_request_detail": ContactRequest,
    "contact_request_action": ContactRequest,
    "export_download": ExportFile,
}

# Bad input for the forms whose empty post would be valid, so that they are shown again.
WEB_BAD_INPUT = {
    "case_coordinator": {"coordinator-coordinator": "x" * 201},
    "review_propose": {"propose-receiving_team": "0"},
    "reassign": {"to_worker": "0"},
    "client_edit": {"date_of_birth": "2999-01-01"},
    "household_add": {"household-member": "SILTA-999999"},
    "client_sms_consent": {"sms-phone_number": "12", "sms-sms_consent": "on"},
}


# The world: canary clients in every state ------------------------------------------------


def identity_code(born: dt.date, individual: int) -> str:
    digits = f"{born:%d%m%y}{individual:03d}"
    sign = "-" if born.year < 2000 else "A"
    return f"{digits[:6]}{sign}{digits[6:]}{'0123456789ABCDEFHJKLMNPRSTUVWXY'[int(digits) % 31]}"


@dataclass
class Canary:
    client: Client
    markers: tuple[str, ...]


@dataclass
class World:
    org: Org
    canaries: list[Canary] = field(default_factory=list)
    serial: int = 0
    at_cap: Case | None = None

    def next_client_facts(self) -> dict[str, Any]:
        self.serial += 1
        born = dt.date(1980, 5, 17)
        return {
            "first_name": f"Qzfirst{self.serial:02d}",
            "last_name": f"Qzlast{self.serial:02d}",
            "date_of_birth": born,
            "personal_identity_code": identity_code(born, 100 + self.serial),
        }

    def track(self, client: Client) -> None:
        self.canaries.append(
            Canary(client, (client.first_name, client.last_name, client.personal_identity_code))
        )


def build_world() -> World:
    """A client in each case state and each transfer state, with notes that name them (free
    text often does), a review with an exception waiting, a case at the 5-year cap, a
    client with no case yet, and notices in every inbox."""
    world = World(make_org())
    org = world.org
    for state in (
        CaseState.ACTIVE,
        CaseState.REVIEW_DUE,
        CaseState.IN_REVIEW,
        CaseState.TRANSFER_PENDING,
        CaseState.CLOSED,
    ):
        # PPT clients where the case is still in the unit's hands (a proposal needs a
        # coordinator named, which the walk leaves for the coordinator form).
        ppt = state in (CaseState.ACTIVE, CaseState.REVIEW_DUE, CaseState.IN_REVIEW)
        case = case_in_state(org, state, is_ppt=ppt, **world.next_client_facts())
        world.track(case.client)
    in_review = Case.objects.get(state=CaseState.IN_REVIEW)
    for assessment in open_review_of(in_review).assessments.select_related("criterion"):
        status = (
            AssessmentStatus.NOT_MET
            if assessment.criterion.exception_allowed
            else AssessmentStatus.MET
        )
        if assessment.status != AssessmentStatus.NOT_APPLICABLE:
            criteria_services.assessment_update(
                actor=org.caseworker,
                assessment=assessment,
                status=status,
                note=f"Talks with {in_review.client.last_name} weekly",
                plan_action=f"{in_review.client.first_name} to visit Kela",
                plan_owner="Caseworker",
                plan_target_on=clock.today() + dt.timedelta(days=30),
            )
    # An extension waiting for a supervisor, and a plan past its date (time has passed).
    criteria_services.extension_request(
        actor=org.caseworker,
        review=open_review_of(in_review),
        next_review_on=in_review.integration_started_on + relativedelta(months=40),
        reason=f"{in_review.client.last_name} in therapy",
    )
    open_review_of(in_review).assessments.filter(status=AssessmentStatus.NOT_MET).update(
        plan_target_on=clock.today() - dt.timedelta(days=3)
    )
    # An exception request waiting for a supervisor (the supervisor page shows it).
    criteria_services.assessment_request_exception(
        actor=org.caseworker,
        assessment=open_review_of(in_review).assessments.filter(criterion__exception_allowed=True)[
            0
        ],
        justification=f"{in_review.client.first_name} has a flat promised",
    )
    for state in (
        TransferState.PROPOSED,
        TransferState.ACCEPTED,
        TransferState.BOOKING_REQUESTED,
        TransferState.BOOKED,
        TransferState.COMPLETED,
        TransferState.RETURNED,
        TransferState.CANCELLED,
    ):
        transfer = transfer_in_state(org, state, **world.next_client_facts())
        world.track(transfer.case.client)
    at_cap = world.at_cap = open_case(org, started_months_ago=61, **world.next_client_facts())
    world.track(at_cap.client)
    world.track(make_client(org, **world.next_client_facts()))
    # A referral to a partner whose purpose names the client (free text often does): the
    # case's referrals (API) and the disclosure log (admin) show it.
    active = Case.objects.filter(state=CaseState.ACTIVE).order_by("pk").first()
    assert active is not None
    referral_send(
        actor=org.caseworker,
        case=active,
        organisation=partner("Walk partner", languages="ara", email="walk-partner@example.org"),
        purpose=f"{active.client.first_name} {active.client.last_name} to the language club",
        shared_fields=["name", "language"],
        consent=True,
    )
    # Contact requests: one linked to a canary client (its name in the request too), one
    # routed and one waiting, both naming no one registered.
    for state in ("linked", "routed", "new"):
        contact = intake.contact_request_receive(
            organisation="Walk advice point",
            sender_name="Walk sender",
            sender_email="walk@example.org",
            client_name=f"{at_cap.client.first_name} {at_cap.client.last_name}"
            if state == "linked"
            else "Unregistered Person",
            message="Please call",
            consent=True,
        )
        if state != "new":
            intake.contact_request_route(
                actor=org.koto_supervisor, contact=contact, worker=org.caseworker
            )
        if state == "linked":
            intake.contact_request_link(actor=org.caseworker, contact=contact, client=at_cap.client)
    # The access log itself names clients (its admin list shows them).
    for canary in world.canaries:
        log_access(user=org.caseworker, action="web_read", subjects=[(canary.client.pk, None)])
    for user in users_of(org).values():
        notify(
            recipients=[user],
            kind="review_due",
            subject_key=f"walk:{user.pk}",
            on_date=clock.today(),
            reference=at_cap.reference,
            link=f"/cases/{at_cap.pk}/",
            case_id=at_cap.pk,
        )
    return world


def users_of(org: Org) -> dict[str, Any]:
    return {
        "caseworker": org.caseworker,
        "unit supervisor": org.koto_supervisor,
        "receiving worker": org.receiving_worker,
        "front desk": org.front_desk,
        "receiving supervisor": org.receiving_supervisor,
        "other region's supervisor": org.outsider,
    }


def superuser() -> Any:
    return User.objects.create_superuser("walk-admin", "walk@example.org", "pw")


def staff(user: Any) -> Any:
    """`user` in the admin with every permission on Silta's models: what they see is still
    their scope (the admin's querysets are the selectors)."""
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["cases", "criteria", "transfers", "notifications"]
        )
    )
    return user


# The URL patterns ------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the pattern's full route, as NOT_WALKED names it
    pattern: URLPattern
    surface: str  # "web", "api", "admin" or "other"
    params: tuple[str, ...]


def _route_text(pattern: Any) -> str:
    return str(pattern.pattern)


def pattern_key(parts: list[str]) -> str:
    return "".join(parts)


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(resolver: URLResolver, parts: list[str], namespace: str) -> None:
        for entry in resolver.url_patterns:
            text = _route_text(entry)
            if isinstance(entry, URLResolver):
                walk(entry, [*parts, text], entry.namespace or namespace)
                continue
            key = pattern_key([*parts, text])
            surface = {"web": "web", "api-v1": "api", "admin": "admin"}.get(namespace, "other")
            params = tuple(entry.pattern.regex.groupindex)
            routes.append(Route(key, entry, surface, params))

    walk(get_resolver(), [], "")
    return routes


# Filling path parameters -----------------------------------------------------------------


def _model_of(route: Route) -> type[models.Model] | None:
    callback = route.pattern.callback
    if route.surface == "admin":
        # The admin's own views carry their ModelAdmin; others (a user's password) are its
        # bound methods behind admin_view's wrapper.
        found: Any = callback
        while found is not None:
            owner = getattr(found, "model_admin", None) or getattr(found, "__self__", None)
            if isinstance(owner, admin.ModelAdmin):
                return owner.model
            found = getattr(found, "__wrapped__", None)
        return None
    if route.surface == "api" and hasattr(callback, "cls"):
        queryset = getattr(callback.cls, "queryset", None)
        return queryset.model if queryset is not None else None
    if route.surface == "web":
        return WEB_PK_MODELS.get(callback.__name__)
    return None


# Which objects, for whom ---------------------------------------------------------------


def samples(model: type[models.Model], world: World) -> list[str]:
    """A few objects of `model`, chosen to cover its states, the most workable first."""
    if model is Case:
        ids = [
            Case.objects.filter(state=state).values_list("pk", flat=True).first()
            for state, _label in CaseState.choices
        ]
        ids.append(world.at_cap.pk if world.at_cap else None)
    elif model is Transfer:
        ids = [
            Transfer.objects.filter(state=state).values_list("pk", flat=True).first()
            for state, _label in TransferState.choices
        ]
    elif model is Client:
        ids = [canary.client.pk for canary in world.canaries]
    elif model is CriterionAssessment:
        open_ones = CriterionAssessment.objects.filter(review__completed_at__isnull=True)
        ids = [
            *open_ones.filter(criterion__exception_allowed=True).values_list("pk", flat=True)[:1],
            *open_ones.exclude(status=AssessmentStatus.NOT_APPLICABLE).values_list("pk", flat=True)[
                :1
            ],
            *CriterionAssessment.objects.filter(review__completed_at__isnull=False).values_list(
                "pk", flat=True
            )[:1],
        ]
    else:
        ids = list(model._default_manager.order_by("-pk").values_list("pk", flat=True)[:3])
    found = [str(pk) for pk in dict.fromkeys(ids) if pk is not None]
    return found or [NO_SUCH_ID]  # none stored (no API token yet): the not-found answer


NO_SUCH_ID = "987654321"


def scope(route: Route, model: type[models.Model], user: Any) -> models.QuerySet:
    """What `user` may see of `model` on this surface: the admin's own queryset there,
    the domain's scoped selectors elsewhere (everything for models without client data)."""
    if route.surface == "admin":
        owner = getattr(route.pattern.callback, "model_admin", None)
        if owner is not None:
            request = RequestFactory().get("/admin/")
            request.user = user
            return owner.get_queryset(request)
    selectors = {
        Case: cases_visible_to,
        Client: clients_visible_to,
        Transfer: transfers_visible_to,
        Review: reviews_visible_to,
        CriterionAssessment: assessments_visible_to,
        ExtensionRequest: extension_requests_visible_to,
        Notification: inbox_of,
        ContactRequest: intake.contact_requests_visible_to,
    }
    if model in selectors:
        return selectors[model](user)
    if model is HandoverBooking:
        return HandoverBooking.objects.filter(transfer__in=transfers_visible_to(user))
    return model._default_manager.all()


@dataclass
class Objects:
    """The ids to fill a route's object parameter with, for one user: `read` (every
    visible sample and one outside the scope) and `write` (one visible sample, for the
    requests that post)."""

    read: list[str]
    write: list[str]


def objects_for(route: Route, world: World, user: Any) -> Objects | None:
    if "content_type_id" in route.params:
        first = samples(Client, world)[:1]
        return Objects(first, first)
    model = _model_of(route)
    if model is None:
        return None
    candidates = samples(model, world)
    visible_ids = {
        str(pk)
        for pk in scope(route, model, user)
        .filter(pk__in=[int(c) for c in candidates])
        .values_list("pk", flat=True)
    } or ({NO_SUCH_ID} & set(candidates))
    visible = [c for c in candidates if c in visible_ids]
    outside = [c for c in candidates if c not in visible_ids]
    return Objects(visible[: READS[route.surface]] + outside[:1], visible[:1])


# How many visible objects each user reads per route: every state's page in the web app
# (each state shows other forms); a few elsewhere, where the state changes no more than
# the values shown.
READS = {"web": 8, "api": 3, "admin": 2, "other": 1}


OBJECT_PARAMS = ("pk", "object_id", "id")
FIXED_PARAMS = {
    "format": ["json"],
    "app_label": None,  # filled from the admin's registry
    "content_type_id": None,  # filled with the client model's content type
    "url": ["no-such-page/"],
    # A supervisor's export: the overdue plans, the list that names its clients.
    "kind": ["plans"],
}


def fillings(route: Route, ids: list[str]) -> list[dict[str, str]]:
    """The path parameters for each of `ids` (or once, for a route without an object)."""
    fixed: dict[str, str] = {}
    for name in route.params:
        if name == "app_label":
            fixed[name] = "cases"
        elif name == "content_type_id":
            fixed[name] = str(ContentType.objects.get_for_model(Client).pk)
        elif name in FIXED_PARAMS:
            fixed[name] = FIXED_PARAMS[name][0]
    objects = [name for name in route.params if name in OBJECT_PARAMS]
    if not objects:
        return [fixed]
    return [{**fixed, objects[0]: pk} for pk in ids]


def knows(route: Route) -> bool:
    """Whether the walk can fill every parameter of `route`."""
    for name in route.params:
        if name not in OBJECT_PARAMS and name not in FIXED_PARAMS:
            return False
        by_model = name in OBJECT_PARAMS and "content_type_id" not in route.params
        if by_model and _model_of(route) is None:
            return False
    return True


def url_of(route: Route, kwargs: dict[str, str]) -> str:
    """The path: the pattern's route or regex with the parameters put in."""
    text = route.key
    for name, value in kwargs.items():
        text = re.sub(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", value, text)
    text = text.replace("^", "").replace("$", "").replace("\\.", ".")
    text = re.sub(r"/\?", "/", text)
    return "/" + text


# Requests and the check ------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    data: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: bool = False


def plan(route: Route, world: World, user: Any) -> list[Request]:
    """The requests `user` sends to `route`: reads of every visible object (and one outside
    the scope), and bad input posted to one visible object so a form is shown again."""
    objects = (
        objects_for(route, world, user)
        if any(name in OBJECT_PARAMS for name in route.params)
        else Objects([], [])
    )
    assert objects is not None, route.key
    reads = [url_of(route, kwargs) for kwargs in fillings(route, objects.read)]
    writes = [url_of(route, kwargs) for kwargs in fillings(route, objects.write)]
    callback = route.pattern.callback
    name = getattr(callback, "__name__", "")
    found: list[Request] = []
    if route.surface == "web":
        bad = WEB_BAD_INPUT.get(name, {})
        found += [Request("GET", path) for path in reads]
        for path in writes:
            found += [
                Request("POST", path, bad),
                Request("POST", path, bad, {"HX-Request": "true"}),
            ]
    elif route.surface == "api":
        methods = set(getattr(callback, "actions", None) or {"get": None})
        suffixed = "format" in route.params
        if "get" in methods:
            found += [Request("GET", path) for path in (writes if suffixed else reads)]
            if not suffixed:
                found += [Request("GET", path, headers={"Accept": "text/html"}) for path in writes]
        for method in ("post", "put", "patch"):
            if method in methods:
                found += [Request(method.upper(), path, {}, json=True) for path in writes]
    elif route.surface == "admin":
        kind = (route.pattern.name or "").rsplit("_", 1)[-1]
        if kind == "changelist":  # its posts are the actions, below
            found += [Request("GET", path) for path in reads]
        elif kind in ("change", "add") or not route.params:
            found += [Request("GET", path) for path in reads]
            found += [Request("POST", path, {}) for path in writes]
        else:  # history, delete, the redirect to change, view on site, the catch-all
            found += [Request("GET", path) for path in writes or reads[:1]]
        model_admin = getattr(callback, "model_admin", None)
        if kind == "add" and model_admin is not None:
            # A form opened with a related object chosen by id shows that object's label.
            for name in model_admin.raw_id_fields:
                related = model_admin.model._meta.get_field(name).related_model
                chosen = samples(related, world)
                found += [Request("GET", f"{writes[0]}?{name}={pk}") for pk in chosen[:2]]
        if kind == "changelist" and model_admin is not None:
            # Each action's own form (or the action itself, rolled back after).
            ids = objects_for_action(route, world, user)
            for action in model_admin.actions or []:
                action_name = getattr(action, "__name__", str(action))
                found.append(
                    Request("POST", writes[0], {"action": action_name, "_selected_action": ids})
                )
    else:
        found += [Request("GET", path) for path in reads]
        found += [Request("POST", path, {}) for path in writes]
    return found


def objects_for_action(route: Route, world: World, user: Any) -> list[str]:
    model = _model_of(route)
    assert model is not None
    return [str(pk) for pk in scope(route, model, user).values_list("pk", flat=True)[:5]]


@dataclass
class Leak:
    who: str
    request: str
    status: int
    clients: list[str]


def send(browser: WebClient, request: Request):
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in request.headers.items()}
    if request.method == "GET":
        return browser.get(request.path, **headers)
    if request.json:
        return browser.generic(
            request.method,
            request.path,
            data=json.dumps(request.data),
            content_type="application/json",
            **headers,
        )
    return browser.post(request.path, request.data, **headers)


def check(
    world: World, who: str, user: Any, browser: WebClient, request: Request
) -> tuple[Leak | None, int]:
    """Send `request` in a savepoint, find the canaries in the answer and the allowed rows
    the request wrote, then roll it all back. (The leak if any, the answer's status.)"""
    cookies = copy.deepcopy(browser.cookies)
    said = f"{request.method} {request.path} {request.headers or ''} {request.data or ''}"
    try:
        with transaction.atomic():
            before = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            response = send(browser, request)
            content = b"".join(response) if response.streaming else response.content
            text = content.decode(errors="replace")
            logged = set(
                AccessLog.objects.filter(
                    pk__gt=before, actor=user, outcome=AccessOutcome.ALLOWED
                ).values_list("client_id", flat=True)
            )
            shown = [
                canary
                for canary in world.canaries
                if any(marker in text for marker in canary.markers)
            ]
            unlogged = [c for c in shown if c.client.pk not in logged]
            transaction.set_rollback(True)
    except Exception as exc:  # a server error is a finding too: report it, walk on
        return Leak(who, said, 500, [f"raised {exc!r}"[:300]]), 500
    finally:
        browser.cookies = cookies
    if unlogged:
        found = [f"client {c.client.pk}" for c in unlogged]
        return Leak(who, said, response.status_code, found), response.status_code
    return None, response.status_code


def walk(
    surfaces: tuple[str, ...], world: World, users: dict[str, Any]
) -> tuple[list[Leak], dict[str, int]]:
    """Every route of `surfaces` as every user; (the leaks, the requests sent per route)."""
    leaks: list[Leak] = []
    sent: dict[str, int] = {}
    browsers = {}
    for who, user in users.items():
        browser = WebClient(raise_request_exception=True)
        browser.force_login(user)
        browsers[who] = browser
    for route in all_routes():
        if route.surface not in surfaces or route.key in NOT_WALKED:
            continue
        assert knows(route), f"the walk cannot fill {route.key}: walk it or list it"
        sent[route.key] = 0
        reads_refused = False  # a view that answers GET with 405 is asked by POST only
        for who, user in users.items():
            for request in plan(route, world, user):
                if request.method == "GET" and reads_refused:
                    continue
                leak, status = check(world, who, user, browsers[who], request)
                sent[route.key] += 1
                reads_refused |= request.method == "GET" and status == 405
                if leak is not None:
                    leaks.append(leak)
    return leaks, sent


@pytest.fixture
def world():
    return build_world()


def _report(leaks: list[Leak]) -> str:
    return "\n".join(
        f"{leak.who}: {leak.request} -> {leak.status}: {leak.clients}" for leak in leaks
    )


def test_web__no_client_data_without_its_access_log_row(world):
    leaks, sent = walk(
        ("web", "other"), world, users_of(world.org) | {"administrator": superuser()}
    )
    assert not leaks, _report(leaks)
    assert all(sent.values()), [key for key, n in sent.items() if not n]


def test_api__no_client_data_without_its_access_log_row(world):
    leaks, sent = walk(("api",), world, users_of(world.org) | {"administrator": superuser()})
    assert not leaks, _report(leaks)
    assert all(sent.values()), [key for key, n in sent.items() if not n]


def test_admin__no_client_data_without_its_access_log_row(world):
    org = world.org
    users = {
        "administrator": superuser(),
        "caseworker (staff)": staff(org.caseworker),
        "receiving supervisor (staff)": staff(org.receiving_supervisor),
    }
    leaks, sent = walk(("admin",), world, users)
    assert not leaks, _report(leaks)
    assert all(sent.values()), [key for key, n in sent.items() if not n]


def test_every_url_pattern_is_walked():
    """A pattern is walked by its surface's test or listed in NOT_WALKED with a reason;
    a new pattern the walk cannot fill fails here until it is one or the other."""
    routes = all_routes()
    stale = set(NOT_WALKED) - {route.key for route in routes}
    assert not stale, f"NOT_WALKED lists patterns that no longer exist: {sorted(stale)}"
    unknown = [route.key for route in routes if route.key not in NOT_WALKED and not knows(route)]
    assert not unknown, f"walk these or list them in NOT_WALKED with a reason: {unknown}"


# The holes the walk found, each on its own --------------------------------------------


def _rows(user, client_id, action=None):
    rows = AccessLog.objects.filter(actor=user, client_id=client_id, outcome="allowed")
    return rows.filter(action=action) if action else rows


@pytest.mark.parametrize("htmx", [False, True])
def test_web__a_form_shown_again_after_bad_input_logs_its_read(org, client, htmx):
    """Closing a case, naming a coordinator, completing a review as not ready, assessing a
    criterion: the page (or the htmx fragment) that comes back shows the client's data."""
    case = case_in_state(org, CaseState.IN_REVIEW, is_ppt=True, last_name="Shownagain")
    review = open_review_of(case)
    assessment = review.assessments.exclude(status=AssessmentStatus.NOT_APPLICABLE).first()
    client.force_login(org.caseworker)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for url, data in (
        (f"/cases/{case.pk}/close/", {"close-reason": ""}),
        (f"/cases/{case.pk}/coordinator/", {"coordinator-coordinator": "x" * 201}),
        (f"/reviews/{review.pk}/not-ready/", {"notready-next_review_on": "someday"}),
        (f"/reviews/{review.pk}/assess/", {f"a{assessment.pk}-status": "not_met"}),
    ):
        before = _rows(org.caseworker, case.client_id).count()
        answer = client.post(url, data, **headers)
        assert answer.status_code in (200, 400), url
        assert _rows(org.caseworker, case.client_id, "web_read").count() == before + 1, url


def test_api__a_replayed_answer_logs_its_read_again(org):
    """The stored answer of an assessment holds its note: showing it again is a read."""
    case = case_in_state(org, CaseState.IN_REVIEW, last_name="Replayed")
    assessment = (
        open_review_of(case).assessments.exclude(status=AssessmentStatus.NOT_APPLICABLE).first()
    )
    api = as_user(org.caseworker)
    body = {"status": "met", "note": "Met Replayed at the library"}
    first = api.post(
        f"/api/v1/assessments/{assessment.pk}/assess/", body, HTTP_IDEMPOTENCY_KEY="note-1"
    )
    assert first.status_code == 200, first.json()
    replay = api.post(
        f"/api/v1/assessments/{assessment.pk}/assess/", body, HTTP_IDEMPOTENCY_KEY="note-1"
    )
    assert replay.json() == first.json()
    assert replay.json()["note"] == "Met Replayed at the library"
    [row] = _rows(org.caseworker, case.client_id, "api_replay")
    assert row.case_id == case.pk


def test_admin__access_log_list_and_entry_log_the_clients_they_name(org, client):
    case = open_case(org, last_name="Inthelog")
    log_access(user=org.caseworker, action="web_read", subjects=[(case.client_id, case.pk)])
    admin_user = superuser()
    client.force_login(admin_user)
    listed = client.get("/admin/audit/accesslog/")
    assert "Inthelog" in listed.content.decode()
    assert _rows(admin_user, case.client_id, "admin_list").exists()
    entry = AccessLog.objects.get(actor=org.caseworker)
    shown = client.get(f"/admin/audit/accesslog/{entry.pk}/change/")
    assert "Inthelog" in shown.content.decode()
    assert _rows(admin_user, case.client_id, "admin_view").exists()


def test_admin__a_clients_history_page_logs_its_read(org, client):
    case = open_case(org, last_name="Historied")
    client.force_login(staff(org.caseworker))
    page = client.get(f"/admin/cases/client/{case.client_id}/history/")
    assert "Historied" in page.content.decode()
    assert _rows(org.caseworker, case.client_id, "admin_history").exists()


def test_admin__a_case_form_never_names_a_client_chosen_by_id(org, client):
    """The raw-id widget looked the id up outside the user's scope and showed the name."""
    case = open_case(org, last_name="Elsewhere")
    client.force_login(staff(org.outsider))
    page = client.get(f"/admin/cases/case/add/?client={case.client_id}")
    assert page.status_code == 200
    assert "Elsewhere" not in page.content.decode()


def test_admin__a_service_refusing_a_valid_form_is_a_message_not_a_500(org, client):
    case = open_case(org, is_ppt=True)
    client.force_login(staff(org.receiving_supervisor))
    Case.objects.filter(pk=case.pk).update(receiving_team=org.adult)  # as after acceptance
    page = client.post(
        f"/admin/cases/case/{case.pk}/change/", {"ppt_coordinator": "Kela"}, follow=True
    )
    assert page.status_code == 200
    assert Case.objects.get(pk=case.pk).ppt_coordinator == ""
    assert AccessLog.objects.filter(
        actor=org.receiving_supervisor, action="admin_change", outcome="denied", case=case
    ).exists()
    # The refusal in words: the roles it needs, in the case's team.
    assert any(
        "Roolisi ei salli tätä" in str(m) and org.koto.name in str(m)
        for m in page.context["messages"]
    ), [str(m) for m in page.context["messages"]]
