from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from criteria import api as criteria_api
from notifications import api as notifications_api
from transfers import api as transfers_api
from transfers import api_supervision
from transfers.views import healthz
from web.views import SiltaLoginView

router = DefaultRouter()
router.register("regions", transfers_api.RegionViewSet)
router.register("teams", transfers_api.TeamViewSet)
router.register("postal-areas", transfers_api.PostalAreaViewSet)
router.register("clients", transfers_api.ClientViewSet, basename="client")
router.register("cases", transfers_api.CaseViewSet, basename="case")
router.register("transfers", transfers_api.TransferViewSet, basename="transfer")
router.register("reviews", criteria_api.ReviewViewSet, basename="review")
router.register("assessments", criteria_api.AssessmentViewSet, basename="assessment")
router.register("booking-queue", api_supervision.BookingQueueViewSet, basename="booking-queue")
router.register("supervisor", api_supervision.SupervisorViewSet, basename="supervisor")
router.register("notifications", notifications_api.NotificationViewSet, basename="notification")

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api-v1:schema", permission_classes=[]),
        name="docs",
    ),
    path("", include(router.urls)),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include((api_v1, "api-v1"))),
    path("admin/", admin.site.urls),
    path("login/", SiltaLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]
if settings.SILTA_OIDC_ENABLED:
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))
