"""API v1: organisation and routing (reference data; no client data here)."""

from __future__ import annotations

from rest_framework import mixins, permissions, serializers, viewsets

from .models import BookingHours, PostalArea, Region, Team


class AdminWritesOthersRead(permissions.BasePermission):
    """Any signed-in user reads; only administrators change the routing table."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff and request.user.is_superuser)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name_fi", "name_sv", "name_en"]


class BookingHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = BookingHours
        fields = ["weekday", "opens_at", "closes_at"]


class TeamSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    booking_hours = BookingHoursSerializer(many=True, read_only=True)

    class Meta:
        model = Team
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "region",
            "max_client_age",
            "front_desk_location",
            "is_active",
            "booking_hours",
        ]


class PostalAreaSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())

    class Meta:
        model = PostalArea
        fields = ["id", "postal_code", "name_fi", "suurpiiri", "region", "confidence"]


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Region.objects.order_by("code")
    serializer_class = RegionSerializer
    filterset_fields = ["code"]
    ordering_fields = ["code"]


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = (
        Team.objects.select_related("region")
        .prefetch_related("booking_hours")
        .order_by("kind", "name")
    )
    serializer_class = TeamSerializer
    filterset_fields = ["kind", "region__code", "is_active"]
    ordering_fields = ["name", "code"]


class PostalAreaViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The routing table. Administrators correct a code's region here or in the admin."""

    queryset = PostalArea.objects.select_related("region").order_by("postal_code")
    serializer_class = PostalAreaSerializer
    permission_classes = [permissions.IsAuthenticated, AdminWritesOthersRead]
    filterset_fields = ["postal_code", "region__code", "confidence"]
    ordering_fields = ["postal_code"]
