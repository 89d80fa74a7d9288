"""Helsinki's organisation and a demo caseload, built through the services.

Fictional people only: clients' and workers' names are invented combinations of common
Finnish, Finland-Swedish and foreign given names and surnames (never a real person's), and
identity codes use the individual numbers 900-999 that are never issued to real persons
(temporary codes).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from cases import intake
from cases import services as case_services
from cases.enums import (
    CaseState,
    ClosureReason,
    HouseholdRelation,
    HousingSituation,
    Role,
    TeamKind,
)
from cases.models import BookingHours, Case, MeetingHours, Membership, PostalArea, Region, Team
from core import clock, workdays
from core.errors import DomainError
from criteria import services as criteria_services
from criteria.models import AssessmentStatus
from criteria.selectors import open_review_of
from notifications.models import NotificationPreference
from partners.models import PartnerOrganisation
from transfers import services
from transfers.enums import BookingStatus
from transfers.reminders import due_sweep

User = get_user_model()

# (code, name, paired region). The pairs are data: change them in the admin.
IMMIGRATION_UNIT_TEAMS = [
    ("koto1", "Koto-tiimi 1", "lansi"),
    ("koto2", "Koto-tiimi 2", "pohjoinen"),
    ("koto3", "Koto-tiimi 3", "ita"),
    ("koto4", "Koto-tiimi 4", "etela"),
    ("paperittomat", "Paperittomien tiimi", None),
    ("jalkihuolto", "Jälkihuolto", None),
]
# (code, name, kind, region, front desk address, team whose front desk it uses). Several
# teams of a kind in a region and a desk that serves several teams, as DOMAIN.md found
# them; the postal codes are split between them in cases/data/demo_team_split.csv (demo
# data: plausible, not a claim about Helsinki's real division).
ADULT, YOUTH, NORTH = TeamKind.ADULT, TeamKind.YOUTH, "pohjoinen"
REGIONAL_TEAMS = [
    ("etela-aiso", "Etelä: aikuissosiaalityö", ADULT, "etela", "Kalasatama", None),
    ("etela-nuoret", "Etelä: nuorten tiimi", YOUTH, "etela", "Kalasatama", None),
    ("ita-aiso", "Itä: aikuissosiaalityö", ADULT, "ita", "Itäkeskus", None),
    ("ita-nuoret", "Itä: nuorten tiimi Kontula", YOUTH, "ita", "Kontula", None),
    ("ita-nuoret-vuosaari", "Itä: nuorten tiimi Vuosaari", YOUTH, "ita", "Vuosaari", None),
    ("lansi-aiso", "Länsi: aikuissosiaalityö", ADULT, "lansi", "Haaga", None),
    ("lansi-nuoret", "Länsi: nuorten tiimi", YOUTH, "lansi", "Haaga", None),
    ("pohjoinen-aiso", "Pohjoinen: aikuissosiaalityö 1", ADULT, NORTH, "Malmi FrontDesk", None),
    ("pohjoinen-aiso-2", "Pohjoinen: aikuissosiaalityö 2", ADULT, NORTH, "", "pohjoinen-aiso"),
    ("pohjoinen-nuoret", "Pohjoinen: nuorten tiimi", YOUTH, NORTH, "", "pohjoinen-aiso"),
]  # fmt: skip
TEAM_SPLIT = Path(__file__).resolve().parent.parent / "cases" / "data" / "demo_team_split.csv"
YOUTH_AGE_LIMIT = 30
UNIT_ROLES = [Role.CASEWORKER, Role.SUPERVISOR]
REGIONAL_ROLES = [Role.RECEIVING_WORKER, Role.FRONT_DESK, Role.SUPERVISOR]

FIRST_NAMES = [
    "Amina",
    "Mohamed",
    "Fatima",
    "Ahmad",
    "Hodan",
    "Abdi",
    "Zahra",
    "Ali",
    "Mariam",
    "Yonas",
    "Semhar",
    "Oksana",
    "Dmytro",
    "Nasrin",
    "Farid",
    "Layla",
    "Omar",
    "Sara",
    "Hassan",
    "Khadija",
    "Olena",
    "Bilal",
    "Rahel",
    "Ibrahim",
]
LAST_NAMES = [
    "Ahmadi",
    "Hussein",
    "Abdullahi",
    "Haile",
    "Karimi",
    "Farah",
    "Tesfaye",
    "Kovalenko",
    "Rahimi",
    "Osman",
    "Mohammadi",
    "Shevchenko",
    "Ali",
    "Yusuf",
    "Hosseini",
    "Gebremedhin",
    "Warsame",
    "Bondarenko",
    "Noori",
    "Jama",
]
# The demo workers, one name each (given to the users in the order of their usernames):
# invented combinations, as in a Helsinki workplace, so lists show people, not roles.
WORKER_NAMES = [
    ("Kaisa", "Lehtimäki"),
    ("Dawit", "Berhane"),
    ("Outi", "Vesterinen"),
    ("Johanna", "Lindqvist"),
    ("Ahmed", "Dualeh"),
    ("Petra", "Kallioniemi"),
    ("Mikael", "Sundström"),
    ("Leyla", "Karaca"),
    ("Tuomas", "Ylikangas"),
    ("Riikka", "Saarnio"),
    ("Nadia", "Rahmani"),
    ("Jari", "Nurmela"),
    ("Satu", "Hirvelä"),
    ("Olena", "Melnyk"),
    ("Henrik", "Åkerlund"),
    ("Anu", "Kettula"),
    ("Samir", "Haddad"),
    ("Marjut", "Peltoniemi"),
    ("Eeva", "Rautiola"),
    ("Lan", "Nguyen"),
    ("Ville", "Koskimaa"),
    ("Hanna", "Öhman"),
    ("Yusuf", "Abdirahman"),
    ("Minna", "Tervola"),
    ("Laura", "Haapakoski"),
    ("Aleksi", "Moilanen"),
    ("Sanna", "Pelkonen"),
    ("Kristiina", "Ek"),
    ("Mohammed", "Al-Sayed"),
    ("Pirjo", "Leinonen"),
    ("Irina", "Sokolova"),
    ("Teemu", "Vainikka"),
    ("Helmi", "Aaltonen"),
    ("Fadumo", "Hirsi"),
    ("Niklas", "Grönqvist"),
    ("Päivi", "Salonen"),
    ("Elina", "Kaukonen"),
    ("Amir", "Tavakoli"),
    ("Katja", "Honkanen"),
    ("Reetta", "Mäenpää"),
]
# The Immigration Unit's supervisor over all its teams (a supervisor's scope is the teams
# they are a supervisor in: cases/roles.py), besides each team's own supervisor.
UNIT_SUPERVISOR = "maahanmuuttoyksikko-supervisor"
UNIT_SUPERVISOR_NAME = ("Eija", "Koivumäki")
LANGUAGES = ["ara", "som", "prs", "pus", "tir", "ukr", "rus", "ckb", "fas", "eng", "fra"]
HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def temporary_identity_code(born: dt.date, serial: int) -> str:
    """A well-formed code in the temporary range 900-999, never a real person's."""
    sign = {1900: "-", 2000: "A"}[born.year // 100 * 100]
    individual = 900 + serial % 100
    digits = f"{born:%d%m%y}{individual:03d}"
    return f"{born:%d%m%y}{sign}{individual:03d}{HETU_CHECK[int(digits) % 31]}"


@dataclass
class Organisation:
    teams: dict[str, Team] = field(default_factory=dict)
    users: dict[tuple[str, str], object] = field(default_factory=dict)


@transaction.atomic
def ensure_helsinki_organisation(*, password: str) -> Organisation:
    """Teams, booking hours and one user per role per team (idempotent)."""
    org = Organisation()
    regions = {r.code: r for r in Region.objects.all()}
    for code, name, region in IMMIGRATION_UNIT_TEAMS:
        org.teams[code], _ = Team.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": TeamKind.IMMIGRATION_UNIT,
                "region": regions.get(region),
                "front_desk_location": "Kalasatama",
            },
        )
    for code, name, kind, region_code, office, desk in REGIONAL_TEAMS:
        team, created = Team.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "region": regions[region_code],
                "max_client_age": YOUTH_AGE_LIMIT if kind == TeamKind.YOUTH else None,
                "front_desk_location": office,
                "front_desk_team": org.teams[desk] if desk else None,
            },
        )
        if created and desk is None:  # a shared desk keeps one set of hours: its own
            BookingHours.objects.bulk_create(
                BookingHours(team=team, weekday=day, opens_at=dt.time(9), closes_at=dt.time(11, 30))
                for day in range(5)
            )
        if created:
            MeetingHours.objects.bulk_create(
                MeetingHours(
                    team=team, weekday=day, opens_at=dt.time(8, 30), closes_at=dt.time(15, 30)
                )
                for day in range(5)
            )
        org.teams[team.code] = team
    _name_postal_areas_teams(org)

    staff = _staff_group()
    hashed = make_password(password)
    places = [
        (code, team, role)
        for code, team in org.teams.items()
        for role in (UNIT_ROLES if team.is_immigration_unit else REGIONAL_ROLES)
        # A team whose front desk is another team's has no front desk users of its own.
        if not (role == Role.FRONT_DESK and team.front_desk_team_id)
    ]
    usernames = sorted(f"{code}-{role}".replace("_", "-") for code, _team, role in places)
    names = dict(zip(usernames, WORKER_NAMES, strict=False))
    for code, team, role in places:
        username = f"{code}-{role}".replace("_", "-")
        user = _demo_user(username, names.get(username, ("", username)), team, hashed, staff)
        Membership.objects.get_or_create(user=user, team=team, role=role)
        org.users[code, role] = user
    unit_supervisor = _demo_user(UNIT_SUPERVISOR, UNIT_SUPERVISOR_NAME, None, hashed, staff)
    for team in org.teams.values():
        if team.is_immigration_unit:
            Membership.objects.get_or_create(user=unit_supervisor, team=team, role=Role.SUPERVISOR)
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", password=password)
    return org


def _name_postal_areas_teams(org: Organisation) -> None:
    """The routing table names each postal code's adult and youth team: the demo split
    where it gives one (cases/data/demo_team_split.csv), else the region's only team of
    the kind."""
    with TEAM_SPLIT.open(encoding="utf-8", newline="") as handle:
        split = {(row["postal_code"], row["kind"]): row["team"] for row in csv.DictReader(handle)}
    only: dict[tuple[int | None, str], list[Team]] = {}
    for team in org.teams.values():
        only.setdefault((team.region_id, team.kind), []).append(team)
    for area in PostalArea.objects.select_for_update():
        for kind, column in ((TeamKind.ADULT, "adult_team"), (TeamKind.YOUTH, "youth_team")):
            code = split.get((area.postal_code, kind))
            teams = [org.teams[code]] if code else only.get((area.region_id, kind), [])
            if getattr(area, column) is None and len(teams) == 1:
                setattr(area, column, teams[0])
        area.save(update_fields=["adult_team", "youth_team"])


def _demo_user(username: str, name: tuple[str, str], team: Team | None, hashed, staff):
    """A demo worker with a person's name (a user from an older demo, named after its role
    and team, gets one too)."""
    first_name, last_name = name
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": first_name, "last_name": last_name, "is_staff": True},
    )
    if created:
        user.password = hashed  # one hash for all: PBKDF2 is slow by design
        user.email = f"{username}@example.invalid"
        user.save(update_fields=["password", "email"])
        user.groups.add(staff)
        # E-mail copies go to the console backend in the quick start.
        NotificationPreference.objects.create(user=user, email=True)
    elif team is not None and user.last_name == team.name:
        user.first_name, user.last_name = first_name, last_name
        user.save(update_fields=["first_name", "last_name"])
    return user


def _staff_group() -> Group:
    """Workers use the admin until the web app lands: view and change Silta's models,
    add clients and cases. What they may do beyond that, the services decide."""
    group, _ = Group.objects.get_or_create(name="Silta workers")
    perms = Permission.objects.filter(
        content_type__app_label__in=["cases", "audit", "transfers", "criteria", "notifications"]
    ).filter(codename__regex=r"^(view|change)_") | Permission.objects.filter(
        codename__in=["add_client", "add_case"]
    )
    group.permissions.set(perms)
    return group


def load_demo(*, clients: int = 200, seed: int = 2019, password: str | None = None) -> dict:
    """The organisation plus about `clients` clients in every state. Returns a summary."""
    password = password or secrets.token_urlsafe(9)
    org = ensure_helsinki_organisation(password=password)
    rng = random.Random(seed)
    postal_codes = list(PostalArea.objects.values_list("postal_code", flat=True))
    koto = ["koto1", "koto2", "koto3", "koto4"]
    plan = _demo_plan(clients)
    today = clock.today()
    for i, kind in enumerate(plan):
        team_code = koto[i % 4]
        team = org.teams[team_code]
        worker = org.users[team_code, Role.CASEWORKER]
        supervisor = org.users[team_code, Role.SUPERVISOR]
        age = rng.choice([19, 23, 27, 29, 31, 35, 42, 48, 55, 63])
        born = today - relativedelta(years=age, days=rng.randint(1, 360))
        months = {"due_soon": 23, "due_today": 24, "overdue": 25, "at_cap": 61}.get(
            kind, rng.randint(3, 22) if kind == "active" else rng.randint(24, 40)
        )
        started = today - relativedelta(months=months)
        if kind == "overdue":
            started -= dt.timedelta(days=rng.randint(1, 40))
        if kind == "due_soon":
            started += dt.timedelta(days=rng.randint(-25, 0))
        client = case_services.client_create(
            actor=worker,
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            date_of_birth=born,
            personal_identity_code=temporary_identity_code(born, i) if i % 5 else None,
            language=rng.choice(LANGUAGES),
            interpreter_needed=rng.random() < 0.7,
            street_address=f"Demokatu {i + 1}",
            postal_code="00099" if kind == "manual_routing" else rng.choice(postal_codes),
            post_office="Helsinki",
            housing_situation=(
                HousingSituation.HOMELESS if kind == "homeless" else HousingSituation.SETTLED
            ),
            children_count=rng.choice([0, 0, 1, 2, 3]),
            family_reunification_pending=kind == "reunification",
            is_ppt=rng.random() < 0.1,
        )
        case = criteria_services.case_open(
            actor=worker,
            client=client,
            team=team,
            responsible_worker=worker,
            integration_started_on=started,
            ppt_coordinator="Malmin terveysasema, omahoitaja" if client.is_ppt else "",
        )
        try:
            _bring_to(
                kind,
                case,
                org=org,
                team_code=team_code,
                worker=worker,
                supervisor=supervisor,
                rng=rng,
                today=today,
            )
        except DomainError as exc:  # a demo must not half-load silently
            raise RuntimeError(f"demo case {case.reference} ({kind}): {exc.detail}") from exc
    _demo_households(org)
    ensure_demo_partners()
    _demo_contact_requests(org, rng)
    due_sweep()
    return {
        "password": password,
        "clients": clients,
        "users": sorted(
            f"{user.username} ({user.get_full_name()})"
            for user in User.objects.filter(memberships__isnull=False).distinct()
        ),
    }


def _demo_households(org) -> None:
    """A household in each Immigration Unit team: two clients of the team with open cases
    (those in review first) live together as spouses, so the household's review has
    members to show, ready or not."""
    preferred = [CaseState.IN_REVIEW, CaseState.REVIEW_DUE, CaseState.ACTIVE]
    for team_code in ("koto1", "koto2", "koto3", "koto4"):
        cases = sorted(
            Case.objects.filter(team=org.teams[team_code], state__in=preferred),
            key=lambda case: (preferred.index(case.state), case.pk),
        )[:2]
        if len(cases) == 2:
            case_services.household_link(
                actor=org.users[team_code, Role.CASEWORKER],
                client=cases[0].client,
                member=cases[1].client,
                relation=HouseholdRelation.SPOUSE,
            )


def _demo_contact_requests(org, rng) -> None:
    """Contact requests in every state of the intake queue: waiting, routed to Koto 2's
    caseworker, linked to one of that worker's clients, and closed."""
    supervisor = org.users["koto2", Role.SUPERVISOR]
    worker = org.users["koto2", Role.CASEWORKER]
    for state in ["new", "new", "routed", "linked", "closed"]:
        contact = intake.contact_request_receive(
            organisation=rng.choice(["Monikulttuurinen neuvontapiste", "Asukastalo Kulmakivi"]),
            sender_name="Neuvoja Esimerkki",
            sender_email="neuvonta@example.org",
            client_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            client_language="prs",
            message="Asiakas pyytää yhteydenottoa asumisasiassa. Hän on antanut suostumuksen.",
            consent=True,
        )
        if state == "new":
            continue
        intake.contact_request_route(actor=supervisor, contact=contact, worker=worker)
        if state == "linked":
            case = worker.responsible_cases.filter(state=CaseState.ACTIVE).first()
            if case is not None:
                intake.contact_request_link(actor=worker, contact=contact, client=case.client)
        elif state == "closed":
            intake.contact_request_close(actor=worker, contact=contact, reason="duplicate")


# The partnership handbook's demo organisations: invented names, addresses and contacts.
# (name, region, district, kinds of service, languages, opening hours, address, postal code)
DEMO_PARTNERS = [
    (
        "Asukastalo Kulmakivi",
        "pohjoinen",
        "Koillinen",
        "residents_house,leisure,language",
        "fin,ara,som,prs",
        "ma–pe 9–16",
        "Kulmakivenkuja 3",
        "00700",
    ),
    (
        "Malmin kohtaamispaikka Silmu",
        "pohjoinen",
        "Koillinen",
        "residents_house,family,children",
        "fin,ara,tir,ukr",
        "ma–to 10–18",
        "Silmunpolku 5",
        "00700",
    ),
    (
        "Pohjoisen naisten olohuone",
        "pohjoinen",
        "",
        "residents_house,family,health",
        "fin,som,ara,fas",
        "ti ja to 12–17",
        "Olohuoneentie 2",
        "00640",
    ),
    (
        "Työpolku ry",
        "pohjoinen",
        "Pohjoinen",
        "study_work,language",
        "fin,eng,rus,ukr",
        "ma–pe 8–15",
        "Työpolku 12",
        "00620",
    ),
    (
        "Itäkeskuksen asukastupa Lyhty",
        "ita",
        "Itäinen",
        "residents_house,leisure,authorities",
        "fin,som,ara,ckb",
        "ma–pe 9–15",
        "Lyhtykatu 7",
        "00930",
    ),
    (
        "Vuosaaren perhekeskus Rantakoti",
        "ita",
        "Itäinen",
        "family,children,residents_house",
        "fin,som,rus,ukr",
        "ma–pe 9–16",
        "Rantakodinkatu 1",
        "00980",
    ),
    (
        "Kontulan neuvontapiste Apu",
        "ita",
        "",
        "authorities,finances,housing",
        "fin,ara,prs,pus,fas",
        "ke 10–14",
        "Apukuja 4",
        "00940",
    ),
    (
        "Herttoniemen kielikahvila",
        "ita",
        "Kaakkoinen",
        "language,leisure",
        "fin,ukr,rus,tir",
        "to 15–18",
        "Kahvilankuja 2",
        "00800",
    ),
    (
        "Kallion asukastalo Laituri",
        "etela",
        "Keskinen",
        "residents_house,leisure,language",
        "fin,ara,som,eng,fra",
        "ma–pe 10–17",
        "Laiturinkatu 8",
        "00530",
    ),
    (
        "Keskustan terveysneuvonta Hoiva",
        "etela",
        "",
        "health,family",
        "fin,ara,som,tir,fas,prs",
        "ma–to 9–15",
        "Hoivakatu 10",
        "00100",
    ),
    (
        "Eteläinen opinto-ohjaus Suunta",
        "etela",
        "Eteläinen",
        "study_work,authorities",
        "fin,eng,fra,ara",
        "ma–pe 9–16",
        "Suunnantie 6",
        "00150",
    ),
    (
        "Kannelmäen asukastalo Pihapiiri",
        "lansi",
        "Läntinen",
        "residents_house,leisure,children",
        "fin,ara,som,prs,pus",
        "ma–pe 9–16",
        "Pihapiirinkuja 1",
        "00420",
    ),
    (
        "Läntinen talousneuvonta Kukkaro",
        "lansi",
        "",
        "finances,housing,authorities",
        "fin,rus,ukr,ckb,eng",
        "ti 9–12, to 13–16",
        "Kukkaronkatu 3",
        "00380",
    ),
    (
        "Pitäjänmäen nuorten paja Verstas",
        "lansi",
        "Läntinen",
        "study_work,leisure",
        "fin,ara,som,tir,eng",
        "ma–pe 10–18",
        "Verstaantie 9",
        "00370",
    ),
]


def ensure_demo_partners() -> None:
    """The handbook's demo organisations, once (kept as they are if already there)."""
    regions = {region.code: region for region in Region.objects.all()}
    for i, (name, region, district, kinds, languages, hours, street, postal) in enumerate(
        DEMO_PARTNERS, start=1
    ):
        partner = PartnerOrganisation(
            name=name,
            region=regions[region],
            district=district,
            service_kinds=kinds,
            services="",
            languages=languages,
            opening_hours=hours,
            street_address=street,
            postal_code=postal,
            contact_name="Ohjaaja",
            email=f"kumppani{i}@example.org",
            phone=f"09 555 {1000 + i}",
            website=f"https://kumppani{i}.example.org/",
        )
        if not PartnerOrganisation.objects.filter(name=name).exists():
            partner.full_clean()
            partner.save()


# How many of every 200 demo clients are in each situation.
DEMO_MIX = {
    "active": 22,
    "due_soon": 10,
    "due_today": 6,
    "overdue": 16,
    "in_review": 22,
    "homeless": 6,
    "reunification": 6,
    "not_ready_again": 10,
    "exception_requested": 4,
    "extension_requested": 4,
    "at_cap": 8,
    "proposed": 12,
    "stalled": 4,
    "information_requested": 4,
    "accepted": 8,
    "booking_requested": 10,
    "booked": 8,
    "transferred": 18,
    "returned": 6,
    "cancelled": 4,
    "closed": 10,
    "manual_routing": 2,
}


def _demo_plan(clients: int) -> list[str]:
    """Round-robin over the mix, so even a small demo has every situation."""
    remaining = dict(DEMO_MIX)
    plan: list[str] = []
    while len(plan) < clients:
        for kind in DEMO_MIX:
            if remaining[kind] > 0 or not any(remaining.values()):
                plan.append(kind)
                remaining[kind] -= 1
    return plan[:clients]


def _bring_to(kind, case, *, org, team_code, worker, supervisor, rng, today):
    if kind in ("active", "due_soon", "due_today", "overdue"):
        return  # the due sweep at the end brings these due, with their notifications
    case_services.case_mark_due(case=case)
    if kind == "closed":
        services.case_close(
            actor=worker, case=case, reason=ClosureReason.MOVED_AWAY, text="Muutti Espooseen"
        )
        return
    review = criteria_services.review_start(actor=worker, case=case)
    assessments = list(review.assessments.select_related("criterion"))
    if kind in ("in_review", "at_cap"):
        for assessment in assessments[: rng.randint(0, len(assessments))]:
            _assess(worker, assessment, AssessmentStatus.MET)
        return
    for assessment in assessments:
        _assess(
            worker,
            assessment,
            AssessmentStatus.MET,
            multi_problem=(assessment.criterion.has_multi_problem_marker and rng.random() < 0.2),
        )
    if kind in ("homeless", "reunification"):
        return
    if kind == "exception_requested":
        # Housing not met, with a plan set a month ago whose target date has now passed:
        # the caseworker asks the supervisor for an exception.
        housing = review.assessments.get(criterion__code="housing")
        with _clock_at(clock.now() - dt.timedelta(days=30)):
            _assess(
                worker,
                housing,
                AssessmentStatus.NOT_MET,
                plan_action="Vuokra-asunnon haku",
                plan_target_on=today - dt.timedelta(days=7),
            )
        criteria_services.assessment_request_exception(
            actor=worker,
            assessment=review.assessments.get(pk=housing.pk),
            justification="Vuokrasopimus allekirjoitetaan ensi kuussa",
        )
        return
    if kind == "extension_requested":
        # Not ready, and the next review past the city's threshold: it waits for approval.
        _finances_not_met(worker, review)
        threshold_on = criteria_services.extension_threshold_on(review)
        criteria_services.extension_request(
            actor=worker,
            review=review,
            next_review_on=max(
                today + relativedelta(months=6), threshold_on + relativedelta(months=1)
            ),
            reason="Velkaneuvonta kesken, terapia jatkuu",
        )
        return
    if kind == "not_ready_again":
        _finances_not_met(worker, review)
        next_review_on = today + relativedelta(months=6)
        if next_review_on > criteria_services.extension_threshold_on(review):
            # Past the city's threshold: the supervisor approves the extension first.
            criteria_services.extension_decide(
                actor=supervisor,
                extension=criteria_services.extension_request(
                    actor=worker,
                    review=review,
                    next_review_on=next_review_on,
                    reason="Velkaneuvonta kesken",
                ),
                approve=True,
                reason="Maksusuunnitelma valmistuu puolessa vuodessa",
            )
        criteria_services.review_complete_not_ready(
            actor=worker, review=review, next_review_on=next_review_on
        )
        return
    if kind == "manual_routing":
        regional = org.teams[f"{case.team.region.code}-aiso"]
        services.transfer_propose(
            consent_basis="consent",
            actor=worker,
            review=open_review_of(case),
            receiving_team=regional,
            override_reason="Postilokero-osoite; asuu alueella",
        )
        return
    # A stalled transfer was proposed two weeks ago and still waits for acceptance.
    with _clock_at(clock.now() - dt.timedelta(days=14) if kind == "stalled" else None):
        transfer = services.transfer_propose(
            consent_basis="consent",
            actor=worker,
            review=open_review_of(case),
            sender_availability="Ti ja to aamupäivisin, ei perjantaisin",  # kept if escorted
        )
    receiving = transfer.receiving_team.code
    receiver = org.users[receiving, Role.RECEIVING_WORKER]
    front_desk = org.users[transfer.receiving_team.desk.code, Role.FRONT_DESK]
    if kind in ("proposed", "stalled"):
        return
    if kind == "information_requested":
        services.transfer_request_information(
            actor=receiver,
            transfer=transfer,
            text="Onko vuokravelan maksusuunnitelma jo tehty?",
        )
        return
    if kind == "returned":
        services.transfer_return(
            actor=receiver,
            transfer=transfer,
            reason="missing_information",
            text="Asumistilanne epäselvä",
        )
        return
    if kind == "cancelled":
        services.transfer_cancel(actor=worker, transfer=transfer, reason="Asiakas muuttaa")
        return
    services.transfer_accept(actor=receiver, transfer=transfer, receiving_worker=receiver)
    if kind == "accepted":
        return
    services.transfer_request_booking(transfer=transfer)
    if kind == "booking_requested":
        return
    starts_at = _meeting_time(rng)
    services.transfer_confirm_booking(
        actor=front_desk,
        transfer=transfer,
        starts_at=starts_at,
        place=transfer.receiving_team.desk.front_desk_location,
        interpreter="TIMMI-varaus",
    )
    if kind == "booked":
        if transfer.escorted and rng.random() < 0.5:  # the other half still to confirm
            services.transfer_confirm_attendance(actor=worker, transfer=transfer)
        if rng.random() < 0.3:
            # The client did not come: recorded once the meeting's time has passed.
            with _clock_at(starts_at + dt.timedelta(minutes=30)):
                services.transfer_rebook(
                    actor=front_desk, transfer=transfer, outcome=BookingStatus.NO_SHOW
                )
                services.transfer_confirm_booking(
                    actor=front_desk,
                    transfer=transfer,
                    starts_at=_meeting_time(rng, after=starts_at.date()),
                    place=transfer.receiving_team.desk.front_desk_location,
                    interpreter="TIMMI-varaus",
                )
        return
    with _clock_at(starts_at + dt.timedelta(hours=1)):  # held once its time has come
        services.transfer_complete(actor=receiver, transfer=transfer)


def _meeting_time(rng, *, after: dt.date | None = None) -> dt.datetime:
    """A handover time 2-20 days ahead, on a working day within the demo teams' meeting
    hours (8.30-15.30)."""
    day = (after or clock.today()) + dt.timedelta(days=rng.randint(2, 20))
    while not workdays.is_working_day(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(rng.randint(9, 14), 0), tzinfo=clock.tz())


@contextmanager
def _clock_at(moment: dt.datetime | None):
    """Run a demo step as at `moment` (None: now): a handover held or a no-show once the
    meeting's time has passed, a proposal or a plan made weeks ago."""
    if moment is None:
        yield
        return
    local_day = moment.astimezone(clock.tz()).date()
    with (
        mock.patch.object(clock, "now", return_value=moment),
        mock.patch.object(clock, "today", return_value=local_day),
    ):
        yield


def _finances_not_met(worker, review) -> None:
    """Finances not met, with the plan the demo's not-ready reviews share."""
    _assess(
        worker,
        review.assessments.get(criterion__code="finances"),
        AssessmentStatus.NOT_MET,
        plan_action="Velkaneuvonta ja vuokravelan maksusuunnitelma",
    )


def _assess(
    worker, assessment, status, *, multi_problem=False, plan_action="", plan_target_on=None
):
    if assessment.status == AssessmentStatus.NOT_APPLICABLE:
        return
    criteria_services.assessment_update(
        actor=worker,
        assessment=assessment,
        status=status,
        multi_problem=multi_problem,
        plan_action=plan_action,
        plan_owner=worker.get_full_name() if plan_action else "",
        plan_target_on=plan_target_on,
    )


def demo_loaded() -> bool:
    return Case.objects.exists()
