"""A client's household through the API: read it (each member in the user's scope named
with their case and readiness, the others counted), link a member, leave it, and propose
the household's transfer together. Every write goes through its service
(cases.services.household_link / household_leave,
transfers.services.household_transfer_propose_for); every member shown is an access-log
row, written before the answer is returned."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.base import AccessLoggedViewSet
from api.criteria import ProposeSerializer
from api.transfers import TransferSerializer
from audit.access import log_access
from cases import services as case_services
from cases.enums import HouseholdRelation
from cases.models import Client, HouseholdMember
from cases.roles import team_ids_of
from cases.selectors import clients_visible_to
from transfers import services
from transfers.selectors import transfers_visible_to


class HouseholdCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    state = serializers.CharField()
    team = serializers.CharField(source="team.code")


class HouseholdMemberSerializer(serializers.Serializer):
    client = serializers.IntegerField(source="member.client_id")
    first_name = serializers.CharField(source="member.client.first_name")
    last_name = serializers.CharField(source="member.client.last_name")
    relation = serializers.ChoiceField(choices=HouseholdRelation.choices, source="member.relation")
    case = HouseholdCaseSerializer(allow_null=True, help_text="The member's open case, if any.")
    review = serializers.IntegerField(
        source="review.pk", allow_null=True, help_text="The open review, if any."
    )
    ready = serializers.BooleanField(help_text="The member's case may be proposed now.")
    moves_with_family = serializers.BooleanField(
        help_text="A child with no case of their own: moves with the family's cases."
    )
    not_ready_because = serializers.CharField(
        source="why",
        allow_null=True,
        help_text="Why the member is not ready (in the user's language); null when ready.",
    )
    not_met = serializers.ListField(
        child=serializers.CharField(), help_text="Criteria assessed as not met, by name."
    )
    not_assessed = serializers.ListField(
        source="unassessed",
        child=serializers.CharField(),
        help_text="Criteria not assessed yet, by name.",
    )
    blockers = serializers.ListField(child=serializers.CharField())


class HouseholdSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    household = serializers.IntegerField(
        allow_null=True, help_text="The household's id; null: the client is in none."
    )
    members = HouseholdMemberSerializer(
        many=True, help_text="The members in the user's scope, the client included."
    )
    members_outside_scope = serializers.IntegerField(
        help_text="Members the user may not see: counted, never named."
    )
    ready = serializers.BooleanField(
        help_text="Every member is ready: the household's transfer may be proposed."
    )


class HouseholdLinkSerializer(serializers.Serializer):
    member = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.none(),
        help_text="The client who joins this client's household (in the user's scope).",
    )
    relation = serializers.ChoiceField(
        choices=HouseholdRelation.choices, help_text="The member's place in the family."
    )
    client_relation = serializers.ChoiceField(
        choices=HouseholdRelation.choices,
        required=False,
        default=HouseholdRelation.PARENT,
        help_text="This client's place, when the household is created now.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["member"].queryset = clients_visible_to(request.user)


class ClientHouseholdViewSet(AccessLoggedViewSet):
    """The household of the client in the URL (`/clients/{id}/household/...`): routed by
    api/urls.py action by action, so it adds no list or detail of its own."""

    queryset = Client.objects.none()
    # One client by id: no filter, ordering or paging applies (an `ordering` given would
    # otherwise ask a serializer this view does not have).
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        return clients_visible_to(self.request.user)

    def subject_of(self, obj):
        return obj.pk, None

    def _household(self, client: Client) -> dict:
        """The answer, its members' access-log rows written first."""
        user: Any = self.request.user
        membership = (
            HouseholdMember.objects.filter(client=client).select_related("household").first()
        )
        if membership is None:
            log_access(user=user, action="api_read", subjects=[(client.pk, None)])
            return {
                "client": client.pk,
                "household": None,
                "members": [],
                "members_outside_scope": 0,
                "ready": False,
            }
        rows, hidden = services.household_members_readiness(
            actor=user, household=membership.household
        )
        log_access(
            user=user,
            action="api_read",
            subjects=[(client.pk, None)]
            + [(row.member.client_id, row.case.pk if row.case else None) for row in rows],
        )
        return HouseholdSerializer(
            {
                "client": client.pk,
                "household": membership.household_id,
                "members": rows,
                "members_outside_scope": hidden,
                "ready": not hidden
                and all(row.why is None for row in rows)
                and any(row.ready for row in rows),
            }
        ).data

    @extend_schema(responses=HouseholdSerializer)
    def household(self, request, pk=None):
        """The client's household: each member in the user's scope with their open case,
        their readiness and the criteria not met or not assessed yet, by name; members
        outside the scope counted. One access-log row per member shown."""
        return Response(self._household(self.get_object()))

    @extend_schema(request=HouseholdLinkSerializer, responses=HouseholdSerializer)
    def link(self, request, pk=None):
        """Link a member to the client's household (created when the client has none).
        A member already in another household: 409 `conflict`."""
        return self.act(
            request,
            HouseholdLinkSerializer,
            case_services.household_link,
            target="client",
            respond=lambda _household: self._household(self.get_object()),
        )

    @extend_schema(request=None, responses=HouseholdSerializer)
    def leave(self, request, pk=None):
        """Take the client out of their household (one left alone leaves too)."""
        return self.act(
            request,
            None,
            case_services.household_leave,
            target="client",
            respond=lambda client: self._household(client),
        )

    @extend_schema(request=ProposeSerializer, responses={201: TransferSerializer(many=True)})
    def propose_transfer(self, request, pk=None):
        """Propose the transfer of the client's whole household together: one transfer per
        member's case to one team, one handover booking, all or nothing. A member not
        ready: 409 `criteria_not_met` naming who and why (members outside the scope
        counted)."""
        return self.act(
            request,
            ProposeSerializer,
            services.household_transfer_propose_for,
            target="client",
            respond=lambda transfers: (
                TransferSerializer(
                    transfers_visible_to(request.user)
                    .filter(pk__in=[t.pk for t in transfers])
                    .order_by("pk"),
                    many=True,
                    context={"team_ids": set(team_ids_of(request.user))},
                ).data
            ),
            status=201,
        )
