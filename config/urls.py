from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from config.health import healthz, readyz
from config.metrics import metrics_view
from web.views import SiltaLoginView

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # Prometheus, behind SILTA_METRICS_TOKEN (404 while it is unset).
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", include(("api.urls", "api-v1"))),
    path("admin/", admin.site.urls),
    path("login/", SiltaLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]
# A 503 with Retry-After when the database is unreachable, otherwise a 500; problem+json on
# the API. In the request's language, without touching the database (config/errors.py).
handler500 = "config.errors.server_error"

if settings.SILTA_OIDC_ENABLED:
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))
