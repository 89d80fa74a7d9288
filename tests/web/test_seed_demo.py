"""The demo data covers every state and every situation the README promises."""

import pytest
from django.core.management import call_command

from cases import rules as date_rules
from cases.enums import CaseState, Role, TeamKind
from cases.models import Case, Client, Membership, Team
from core import clock
from transfers.enums import TransferState
from transfers.models import Transfer
from web.demo import load_demo

pytestmark = pytest.mark.django_db


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

    # Koto 1-4 paired as in DOMAIN.md; an adult and a youth team per region.
    pairs = dict(Team.objects.filter(code__startswith="koto").values_list("code", "region__code"))
    assert pairs == {"koto1": "lansi", "koto2": "pohjoinen", "koto3": "ita", "koto4": "etela"}
    assert Team.objects.filter(kind=TeamKind.ADULT).count() == 4
    assert Team.objects.filter(kind=TeamKind.YOUTH, max_client_age=30).count() == 4
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
