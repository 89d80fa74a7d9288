from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.health import healthz, readyz
from config.metrics import metrics_view
from web.views import SiltaLoginView
from web.views.auth import SiltaLogoutView, no_access

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # Prometheus, behind SILTA_METRICS_TOKEN (404 while it is unset).
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", include(("api.urls", "api-v1"))),
    path("admin/", admin.site.urls),
    path("login/", SiltaLoginView.as_view(), name="login"),
    path("logout/", SiltaLogoutView.as_view(), name="logout"),
    # A city account that no directory group gives access to (web/city_sign_in.py).
    path("no-access/", no_access, name="no-access"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]
# A 503 with Retry-After when the database is unreachable, otherwise a 500; problem+json on
# the API. In the request's language, without touching the database (config/errors.py).
handler500 = "config.errors.server_error"

if settings.SILTA_OIDC_ENABLED:
    from helusers.views import LoginView as CitySignIn

    urlpatterns[:0] = [
        # "Sign in with the city's account": a POST that signs out whoever is signed in and
        # goes on to social-auth's start (POST as well), with `next` and `ui_locales`.
        path("city/sign-in/", CitySignIn.as_view(), name="city-sign-in"),
        # The start, and the identity service's return (city/complete/tunnistamo/: the
        # redirect URI registered with the service).
        path("city/", include("social_django.urls", namespace="social")),
    ]
