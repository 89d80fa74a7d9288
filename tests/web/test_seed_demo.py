"""The demo data covers every state and every situation the README promises."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Q

from cases import rules as date_rules
from cases.enums import CaseState, Role, TeamKind
from cases.models import Case, Client, Membership, PostalArea, Team
from core import clock
from criteria.enums import ExtensionStatus
from criteria.models import CriterionAssessment, ExtensionRequest
from criteria.selectors import overdue_plans
from transfers.enums import TransferState
from transfers.models import Transfer
from transfers.reports import stalled_query
from web.demo import UNIT_SUPERVISOR, load_demo

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_seed_demo__every_state_and_situation_with_a_small_load():
    summary = load_demo(clients=40, password="demo-pw-123")
    today = clock.today()

    assert Client.objects.count() == 40
    assert set(Case.objects.values_list("state", flat=True)) == set(CaseState.values)
    assert set(Transfer.objects.values_list("state", flat=True)) == set(TransferState.values)
    due = Case.objects.filter(state=CaseState.REVIEW_DUE)
    assert due.filter(review_due_on=today).exists()
    assert due.filter(review_due_on__lt=today).exists()
    assert any(date_rules.is_at_cap(today=today, cap=c.cap_on) for c in Case.objects.all())
    assert Client.objects.filter(housing_situation="homeless").exists()
    assert Client.objects.filter(family_reunification_pending=True).exists()
    assert Transfer.objects.filter(routed_team__isnull=True).exists()  # manual routing
    # The supervisor's decisions waiting: an exception and an extension past the threshold.
    assert CriterionAssessment.objects.filter(
        exception_requested_at__isnull=False,
        exception_approved_at__isnull=True,
        exception_refused_at__isnull=True,
    ).exists()
    assert ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING).exists()
    # The supervisor's warnings: a transfer stalled before acceptance, a plan past its date.
    koto = Team.objects.filter(kind=TeamKind.IMMIGRATION_UNIT).values_list("pk", flat=True)
    assert stalled_query(list(koto)).exists()
    assert overdue_plans(on=today, team_ids=list(koto)).exists()

    # Koto 1-4 paired as in DOMAIN.md; teams as they are: two adult teams in the North,
    # youth teams in Kontula and Vuosaari in the East, the Malmi desk serving the North.
    pairs = dict(Team.objects.filter(code__startswith="koto").values_list("code", "region__code"))
    assert pairs == {"koto1": "lansi", "koto2": "pohjoinen", "koto3": "ita", "koto4": "etela"}
    adult = Team.objects.filter(kind=TeamKind.ADULT)
    youth = Team.objects.filter(kind=TeamKind.YOUTH, max_client_age=30)
    assert sorted(adult.values_list("region__code", flat=True)) == [
        "etela", "ita", "lansi", "pohjoinen", "pohjoinen"
    ]  # fmt: skip
    assert sorted(youth.values_list("region__code", flat=True)) == [
        "etela", "ita", "ita", "lansi", "pohjoinen"
    ]  # fmt: skip
    assert not PostalArea.objects.filter(adult_team__isnull=True).exists()
    assert not PostalArea.objects.filter(youth_team__isnull=True).exists()
    split = {
        code: PostalArea.objects.filter(Q(adult_team__code=code) | Q(youth_team__code=code))
        for code in ["pohjoinen-aiso", "pohjoinen-aiso-2", "ita-nuoret", "ita-nuoret-vuosaari"]
    }
    assert {code: areas.count() for code, areas in split.items()} == {
        "pohjoinen-aiso": 10, "pohjoinen-aiso-2": 8, "ita-nuoret": 18, "ita-nuoret-vuosaari": 4
    }  # fmt: skip
    assert split["ita-nuoret-vuosaari"].filter(postal_code="00980").exists()
    assert sorted(
        Team.objects.filter(front_desk_team__code="pohjoinen-aiso").values_list("code", flat=True)
    ) == ["pohjoinen-aiso-2", "pohjoinen-nuoret"]
    # One user per role per team, who can log in with the printed password.
    malmi = Team.objects.get(code="pohjoinen-aiso")
    for role in (Role.RECEIVING_WORKER, Role.FRONT_DESK, Role.SUPERVISOR):
        user = Membership.objects.get(team=malmi, role=role).user
        assert user.check_password("demo-pw-123")
    assert summary["password"] == "demo-pw-123"


def test_seed_demo__command_loads_once(capsys, tmp_path):
    credentials = tmp_path / "demo-credentials.txt"
    call_command("seed_demo", clients=20, password="pw-once-123", credentials_file=credentials)
    assert Client.objects.count() == 20
    assert "pw-once-123" in credentials.read_text()
    assert credentials.stat().st_mode & 0o777 == 0o600
    call_command("seed_demo", clients=20, credentials_file=credentials)
    assert Client.objects.count() == 20
    assert "already loaded" in capsys.readouterr().out


def test_seed_demo__workers_have_peoples_names_and_the_unit_has_a_supervisor_over_all():
    load_demo(clients=4, password="demo-pw-123")
    workers = User.objects.filter(memberships__isnull=False).distinct()
    names = [user.get_full_name() for user in workers]
    # A person's name each, every one different: no list shows the same name twice, and
    # none is a role or a team.
    assert all(user.first_name and user.last_name for user in workers)
    assert len(set(names)) == len(names) == workers.count()
    team_names = set(Team.objects.values_list("name", flat=True))
    assert not {user.last_name for user in workers} & team_names
    # The Immigration Unit's supervisor supervises every Immigration Unit team.
    unit = User.objects.get(username=UNIT_SUPERVISOR)
    supervised = set(
        Membership.objects.filter(user=unit, role=Role.SUPERVISOR).values_list("team", flat=True)
    )
    assert supervised == set(
        Team.objects.filter(kind=TeamKind.IMMIGRATION_UNIT).values_list("pk", flat=True)
    )
    assert {"koto1", "koto2", "koto3", "koto4"} <= set(
        Team.objects.filter(pk__in=supervised).values_list("code", flat=True)
    )
    assert unit.check_password("demo-pw-123")
