"""The admin: every model reachable, transitions only through the services' actions."""

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from cases.models import Client, Event
from core import clock
from tests.factories import client_data, transfer_in_state
from transfers.enums import TransferState
from transfers.models import Transfer

pytestmark = pytest.mark.django_db


def staff(user, *codenames):
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_admin__every_model_registered_and_its_list_loads(org, admin_client):
    transfer_in_state(org, TransferState.BOOKED)
    for model in (
        m
        for m in admin.site._registry
        if m._meta.app_label in ("cases", "audit", "api", "transfers", "criteria", "notifications")
    ):
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, url
    expected = {
        "region",
        "team",
        "membership",
        "postalarea",
        "client",
        "case",
        "transfer",
        "handoverbooking",
        "event",
        "bookinghours",
        "checklisttemplate",
        "criteriondefinition",
        "review",
        "criterionassessment",
    }
    registered = {m._meta.model_name for m in admin.site._registry}
    assert expected <= registered


def test_admin__accept_action__asks_for_worker_then_calls_the_service(org, client):
    transfer = transfer_in_state(org, TransferState.PROPOSED)
    client.force_login(staff(org.receiving_worker, "view_transfer", "change_transfer"))
    url = reverse("admin:transfers_transfer_changelist")
    form_page = client.post(url, {"action": "accept", "_selected_action": [transfer.pk]})
    assert form_page.status_code == 200
    assert b'name="receiving_worker"' in form_page.content
    done = client.post(
        url,
        {
            "action": "accept",
            "_selected_action": [transfer.pk],
            "apply": "1",
            "receiving_worker": org.receiving_worker.pk,
        },
    )
    assert done.status_code == 302
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.ACCEPTED
    assert Event.objects.get(transfer=transfer, action="accept").actor == org.receiving_worker


def test_admin__action_by_wrong_team__refused_with_message_and_nothing_changes(org, client):
    transfer = transfer_in_state(org, TransferState.BOOKED)
    client.force_login(staff(org.caseworker, "view_transfer", "change_transfer"))
    response = client.post(
        reverse("admin:transfers_transfer_changelist"),
        {"action": "complete", "_selected_action": [transfer.pk]},
        follow=True,
    )
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.BOOKED
    messages = [str(m) for m in response.context["messages"]]
    # The roles it needs, in words, in the receiving team.
    assert any("Roolisi ei salli tätä" in m and "Pohjoinen AISO" in m for m in messages), messages


def test_admin__confirm_booking_in_the_past__error_names_the_field(org, client):
    transfer = transfer_in_state(org, TransferState.BOOKING_REQUESTED)
    client.force_login(staff(org.front_desk, "view_transfer", "change_transfer"))
    past = (clock.now() - dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    response = client.post(
        reverse("admin:transfers_transfer_changelist"),
        {
            "action": "confirm_booking",
            "_selected_action": [transfer.pk],
            "apply": "1",
            "starts_at": past,
            "place": "Malmi",
            "interpreter": "TIMMI 1",
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("starts_at" in m and "future" in m for m in messages), messages
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.BOOKING_REQUESTED


def test_admin__client_with_bad_identity_code__error_beside_field_nothing_saved(org, client):
    client.force_login(staff(org.caseworker, "add_client", "view_client"))
    data = client_data(personal_identity_code="131052-308U")
    data["date_of_birth"] = "1952-10-13"
    data["housing_situation"] = "settled"
    data["children_count"] = 0
    response = client.post(reverse("admin:cases_client_add"), data)
    assert response.status_code == 200
    assert "personal_identity_code" in response.context["adminform"].form.errors
    assert not Client.objects.exists()


def test_admin__outsider_sees_no_other_teams_transfers(org, client):
    transfer_in_state(org, TransferState.PROPOSED)
    client.force_login(staff(org.outsider, "view_transfer"))
    response = client.get(reverse("admin:transfers_transfer_changelist"))
    assert response.context["cl"].result_count == 0


def test_admin__published_checklist_is_frozen_a_copy_is_editable(org, admin_client):
    from criteria.models import ChecklistTemplate, CriterionDefinition

    published = CriterionDefinition.objects.get(template__version=1, code="housing")
    url = reverse("admin:criteria_criteriondefinition_change", args=[published.pk])
    response = admin_client.post(url, {"name_fi": "Muutettu"})
    assert response.status_code == 403
    assert CriterionDefinition.objects.get(pk=published.pk).name_fi == "Vakiintunut asumistilanne"

    changelist = reverse("admin:criteria_checklisttemplate_changelist")
    admin_client.post(
        changelist, {"action": "copy_as_new_version", "_selected_action": [published.template_id]}
    )
    draft = ChecklistTemplate.objects.get(version=2)
    assert not draft.is_current and draft.criteria.count() == 7
    copy = draft.criteria.get(code="housing")
    response = admin_client.get(
        reverse("admin:criteria_criteriondefinition_change", args=[copy.pk])
    )
    assert b'name="name_fi"' in response.content


def test_admin__receiving_team_sees_the_client_only_after_accepting(org, client):
    from transfers import services

    transfer = transfer_in_state(org, TransferState.PROPOSED, last_name="Secretname")
    client.force_login(staff(org.receiving_worker, "view_client", "view_case", "view_transfer"))
    assert (
        client.get(reverse("admin:transfers_transfer_changelist")).context["cl"].result_count == 1
    )
    for name in ("client", "case"):
        response = client.get(reverse(f"admin:cases_{name}_changelist"))
        assert response.context["cl"].result_count == 0
        assert b"Secretname" not in response.content
    services.transfer_accept(
        actor=org.receiving_worker, transfer=transfer, receiving_worker=org.receiving_worker
    )
    response = client.get(reverse("admin:cases_client_changelist"))
    assert response.context["cl"].result_count == 1
    assert b"Secretname" in response.content


def test_admin__client_changes_leave_no_name_in_djangos_admin_log(org, client):
    from django.contrib.admin.models import LogEntry

    from cases.models import Event

    client.force_login(staff(org.caseworker, "add_client", "view_client", "change_client"))
    data = client_data(last_name="Secretname")
    data.update(
        date_of_birth="1980-05-17",
        housing_situation="settled",
        children_count=0,
        personal_identity_code="",
    )
    response = client.post(reverse("admin:cases_client_add"), data)
    assert response.status_code == 302
    created = Client.objects.get(last_name="Secretname")
    assert not LogEntry.objects.filter(object_repr__contains="Secretname").exists()
    assert Event.objects.filter(client=created, action="create", actor=org.caseworker).exists()


def test_admin__partner_link_without_a_scheme_is_https_and_warns_nothing(admin_client, recwarn):
    from partners.models import PartnerOrganisation

    page = admin_client.get(reverse("admin:partners_partnerorganisation_add"))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert form.fields["website"].assume_scheme == "https"
    assert form.fields["website"].clean("neuvonta.example.org") == "https://neuvonta.example.org"
    assert not [w for w in recwarn if "assume_scheme" in str(w.message)]
    assert not PartnerOrganisation.objects.exists()
