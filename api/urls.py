"""The v1 router: every API URL, in one place."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import cases, criteria, households, notifications, supervision, transfers


class Router(DefaultRouter):
    # No format suffixes (`cases.json/`): the format comes from the Accept header, and
    # the actions' handlers take no `format` argument (a suffixed action answered 500).
    include_format_suffixes = False


router = Router()
router.register("regions", cases.RegionViewSet)
router.register("teams", cases.TeamViewSet)
router.register("postal-areas", cases.PostalAreaViewSet)
router.register("clients", cases.ClientViewSet, basename="client")
router.register("cases", cases.CaseViewSet, basename="case")
router.register("transfers", transfers.TransferViewSet, basename="transfer")
router.register("reviews", criteria.ReviewViewSet, basename="review")
router.register("assessments", criteria.AssessmentViewSet, basename="assessment")
router.register("booking-queue", supervision.BookingQueueViewSet, basename="booking-queue")
router.register("supervisor", supervision.SupervisorViewSet, basename="supervisor")
router.register("notifications", notifications.NotificationViewSet, basename="notification")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    path(
        "docs/",
        # Its script is served as a file (?script) and its template has no inline style:
        # the site's Content-Security-Policy applies unchanged.
        SpectacularSwaggerSplitView.as_view(
            url_name="api-v1:schema", permission_classes=[], template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    # A client's household: action by action (no list or detail of its own).
    path(
        "clients/<int:pk>/household/",
        households.ClientHouseholdViewSet.as_view({"get": "household"}),
        name="client-household",
    ),
    path(
        "clients/<int:pk>/household/link/",
        households.ClientHouseholdViewSet.as_view({"post": "link"}),
        name="client-household-link",
    ),
    path(
        "clients/<int:pk>/household/leave/",
        households.ClientHouseholdViewSet.as_view({"post": "leave"}),
        name="client-household-leave",
    ),
    path(
        "clients/<int:pk>/household/propose-transfer/",
        households.ClientHouseholdViewSet.as_view({"post": "propose_transfer"}),
        name="client-household-propose-transfer",
    ),
    path("", include(router.urls)),
]
