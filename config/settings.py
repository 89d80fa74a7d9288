"""Silta settings.

Every setting an operator may change is read here, once, with its type and default
(one django-environ block). A production deployment (DJANGO_DEBUG unset or false) fails
fast when a secret is missing. A `.env` file beside manage.py is read if present.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from django_guid.integrations import CeleryIntegration

from config.request_id import WellFormedRequestId

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DJANGO_DEBUG=(bool, False),
    DJANGO_SECRET_KEY=(str, ""),
    DJANGO_ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]"]),
    DJANGO_CSRF_TRUSTED_ORIGINS=(list, []),
    DATABASE_URL=(str, f"sqlite:///{BASE_DIR / 'var' / 'silta.sqlite3'}"),
    DATABASE_CONN_MAX_AGE=(int, 60),
    DATABASE_PREPARE_THRESHOLD=(int, 5),
    DATABASE_OWNER_URL=(str, ""),
    SILTA_ACCESS_LOG_RETENTION_MONTHS=(int, 144),
    REDIS_URL=(str, ""),
    CELERY_FILESYSTEM_BROKER_DIR=(str, str(BASE_DIR / "var" / "broker")),
    LOG_LEVEL=(str, "INFO"),
    LOG_FORMAT=(str, ""),
    SENTRY_DSN=(str, ""),
    SENTRY_ENVIRONMENT=(str, "production"),
    SENTRY_RELEASE=(str, ""),
    SILTA_METRICS_TOKEN=(str, ""),
    STATIC_ROOT=(str, str(BASE_DIR / "var" / "static")),
    SILTA_BASE_URL=(str, "http://127.0.0.1:8000"),
    # How long a partner's referral link opens its page (partners, signed with the key).
    SILTA_REFERRAL_LINK_DAYS=(int, 14),
    SILTA_TIME_ZONE=(str, "Europe/Helsinki"),
    SILTA_BOOKING_WEBHOOK_SECRET=(str, ""),
    SILTA_BOOKING_WEBHOOK_TIMEOUT=(float, 10.0),
    SILTA_HANDOVER_HORIZON_DAYS=(int, 90),
    SILTA_BROKER_PUBLISH_TIMEOUT=(float, 0.25),
    SILTA_BROKER_PUBLISH_PAUSE=(float, 5.0),
    EMAIL_URL=(str, "consolemail://"),
    DEFAULT_FROM_EMAIL=(str, "Silta <silta@localhost>"),
    SECURE_SSL_REDIRECT=(bool, False),
    SESSION_COOKIE_SECURE=(bool, False),
    CSRF_COOKIE_SECURE=(bool, False),
    SECURE_HSTS_SECONDS=(int, 0),
    SECURE_HSTS_INCLUDE_SUBDOMAINS=(bool, False),
    SECURE_HSTS_PRELOAD=(bool, False),
    SILTA_FONT_HOST=(str, "https://makasiini.hel.fi"),
    SILTA_SESSION_HOURS=(int, 10),
    SILTA_OIDC_ENABLED=(bool, False),
    OIDC_ISSUER=(str, ""),
    OIDC_CLIENT_ID=(str, ""),
    OIDC_CLIENT_SECRET=(str, ""),
    OIDC_SCOPES=(list, []),
    OIDC_GROUPS_CLAIM=(str, "ad_groups"),
    OIDC_API_AUDIENCE=(list, []),
    OIDC_FORM_ACTION_ORIGINS=(list, []),
    AXES_ENABLED=(bool, True),
    AXES_FAILURE_LIMIT=(int, 5),
    AXES_COOLOFF_MINUTES=(int, 15),
    AXES_LOCKOUT_PARAMETERS=(list, ["username", "ip_address"]),
    SILTA_TRUSTED_PROXIES=(int, 0),
    SILTA_API_TOKEN_DAYS=(int, 90),
    SILTA_SENDING_TEAM_READ_DAYS=(int, 30),
    SILTA_CONTACT_REQUEST_RATE=(str, "5/h"),
    SILTA_SMS_GATEWAY_URL=(str, ""),
    SILTA_SMS_GATEWAY_TOKEN=(str, ""),
    SILTA_SMS_GATEWAY_TIMEOUT=(float, 10.0),
    SILTA_EXPORT_TASK_ROWS=(int, 10_000),
    SILTA_EXPORT_HOURS=(int, 24),
    SILTA_EXPORT_DIR=(str, str(BASE_DIR / "var" / "exports")),
    SILTA_API_COUNT_LIMIT=(int, 1000),
)
if env.bool("DJANGO_READ_DOT_ENV", default=True):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DJANGO_DEBUG")
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment (production) or run "
            "`make run`, which writes a development key to .env."
        )
    SECRET_KEY = "insecure-development-key-only-with-DJANGO_DEBUG"  # noqa: S105
ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("DJANGO_CSRF_TRUSTED_ORIGINS")
SILTA_BASE_URL = env("SILTA_BASE_URL")
SILTA_REFERRAL_LINK_DAYS = env("SILTA_REFERRAL_LINK_DAYS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_guid",
    "django_htmx",
    "csp",
    "django_ratelimit",
    # Staff sign-in with the city's identity service (SILTA_OIDC_ENABLED, below): the link
    # from a directory subject to its account (social-auth) and django-helusers' token
    # checks. Installed while the sign-in is off too, so switching it on adds no tables.
    "social_django",
    "helusers.apps.HelusersConfig",
    # The partnership handbook's import from CSV or XLSX in the admin (partners).
    "import_export",
    # The flow, bottom up: each app imports only those above it in this list (import-linter
    # checks it in `make test`; docs/architecture.md draws it).
    "audit",
    "cases",
    "criteria",
    "partners",
    "transfers",
    "notifications",
    # Each sweep's last run, for the metrics; one log line per task (monitoring/signals.py).
    "monitoring",
    # A supervisor's lists and figures as CSV and XLSX files.
    "exports",
    "api",
    "web",
]

MIDDLEWARE = [
    # First: every log line and access-log row of a request carries its request id.
    "django_guid.middleware.guid_middleware",
    # Then one log line and one metrics observation per request, around everything else
    # (config/logs.py): route, status, duration, user id.
    "config.logs.RequestLine",
    # What a request reads once (the actor's memberships) is kept until its response.
    "web.middleware.ReadOnce",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A cookie carrying a NUL is dropped before the session is looked up with it.
    "web.middleware.IgnoreNulCookies",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "web.middleware.NoStoreWhenSignedIn",
    # A NUL in the path, the query, a form or a JSON body: 400 before any view runs.
    "web.middleware.RefuseNul",
    # Last: turns a sign-in refused by django-axes (too many failures) into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env("DATABASE_CONN_MAX_AGE")
# A persistent connection is checked before its first use in a request: after a database
# restart the first request reconnects instead of failing (config/errors.py answers 503
# while the database cannot be reached).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Two roles on PostgreSQL (README, "Database roles"; audit/db_roles.py): the app, the worker
# and the beat connect as DATABASE_URL's limited role; `migrate` and `flush` as the
# schema's owner, DATABASE_OWNER_URL: the same database, only the user and password differ.
SILTA_DATABASE_APP = {key: DATABASES["default"].get(key, "") for key in ("USER", "PASSWORD")}
SILTA_DATABASE_OWNER = None
if env("DATABASE_OWNER_URL"):
    _owner = env.db_url("DATABASE_OWNER_URL")
    if any(
        _owner.get(k) != DATABASES["default"].get(k) for k in ("ENGINE", "HOST", "PORT", "NAME")
    ):
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL must name the same database as DATABASE_URL (the same engine, "
            "host, port and name); only the user and password differ."
        )
    SILTA_DATABASE_OWNER = {key: _owner.get(key, "") for key in ("USER", "PASSWORD")}
# On PostgreSQL through django-postgres-extra's backend (Django's, with a schema editor
# that manages partitions: the access log is partitioned by month, audit/partitions.py).
# It would create the hstore extension at connect time; Silta uses none.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "psqlextra.backend"
    # Server-side binding, and psycopg prepares a statement the connection has run this many
    # times: the hot paths' joins are planned once per connection, not once per request
    # (accepting a transfer: about 1.5x the throughput). 0: never prepared (client-side
    # binding, as behind PgBouncer in transaction mode).
    if env("DATABASE_PREPARE_THRESHOLD") > 0:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": env("DATABASE_PREPARE_THRESHOLD")}
        )
POSTGRES_EXTRA_AUTO_EXTENSION_SET_UP = False
# How long the access log's months stay in the log (months; default 12 years, the period
# Act 703/2023 sets for the use logs). Older months are detached and archived, never deleted,
# by `manage.py accesslog_partitions` (audit/partitions.py).
SILTA_ACCESS_LOG_RETENTION_MONTHS = env("SILTA_ACCESS_LOG_RETENTION_MONTHS")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # The embedded database (`make run`: the app, the worker and the beat at once): a
    # transaction takes the write lock when it begins, and a second writer waits for it
    # (up to 20 s) instead of failing with "database is locked" when two people act at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Finnish first; Swedish and English complete (the city's three service languages).
LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", _("Finnish")), ("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and times in each language's own format (config/formats/: 1.12.2026 klo 10.00).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env("SILTA_TIME_ZONE")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT")
# The Helsinki Design System's CSS comes from npm (package.json; `make run` and `make test`
# install it) and is collected from node_modules, never copied into the repository.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [("hds", NODE_MODULES / "hds-core" / "lib")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

SECURE_SSL_REDIRECT = env("SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = env("SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = env("CSRF_COOKIE_SECURE")
# HTTP Strict Transport Security, sent on HTTPS answers only. Off (0) by default: a browser
# remembers it for the whole period, so turn it on once the site is served only over TLS
# (e.g. 3600 first, then 31536000); subdomains and preload commit every subdomain too.
SECURE_HSTS_SECONDS = env("SECURE_HSTS_SECONDS")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env("SECURE_HSTS_PRELOAD")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# A working day's session that ends with the browser: client data on a shared computer.
SESSION_COOKIE_AGE = env("SILTA_SESSION_HOURS") * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

# Content-Security-Policy (django-csp): everything from Silta itself, but for the Helsinki
# Design System's font, which the city serves from its own host (SILTA_FONT_HOST).
SILTA_FONT_HOST = env("SILTA_FONT_HOST")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, SILTA_FONT_HOST] if SILTA_FONT_HOST else [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# E-mail: console in development; smtp://user:pass@host:587/?tls=True (or an anymail
# backend) in production. Only case references and links are ever sent.
vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL")
# HMAC key for requests to an external booking system (teams with a booking webhook URL).
SILTA_BOOKING_WEBHOOK_SECRET = env("SILTA_BOOKING_WEBHOOK_SECRET")
SILTA_BOOKING_WEBHOOK_TIMEOUT = env("SILTA_BOOKING_WEBHOOK_TIMEOUT")  # seconds
# How far ahead a handover may be booked (days): a later time is refused as a likely typo.
SILTA_HANDOVER_HORIZON_DAYS = env("SILTA_HANDOVER_HORIZON_DAYS")
if SILTA_HANDOVER_HORIZON_DAYS < 1:
    raise ImproperlyConfigured("SILTA_HANDOVER_HORIZON_DAYS must be 1 or more.")

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport, a real broker
# that needs no server (the quick start). See config/celery.py.
REDIS_URL = env("REDIS_URL")
CELERY_FILESYSTEM_BROKER_DIR = env("CELERY_FILESYSTEM_BROKER_DIR")
# Publishing after a commit (the relay's nudge) never holds up an answer: a connect and
# socket timeout of its own, no retries, and no new attempt for a pause after a failure;
# the beat's relay sends the stored rows meanwhile (notifications.services).
SILTA_BROKER_PUBLISH_TIMEOUT = env("SILTA_BROKER_PUBLISH_TIMEOUT")  # seconds
SILTA_BROKER_PUBLISH_PAUSE = env("SILTA_BROKER_PUBLISH_PAUSE")  # seconds

# The public contact-request form (web.views.contact) is throttled per address with
# django-ratelimit: at most SILTA_CONTACT_REQUEST_RATE sent requests ("5/h": five an hour).
# Its counts need a cache that every server process shares: Redis (django-redis) when
# REDIS_URL is set. Without Redis (`make run`, one process) a process-local cache stands
# in, and django-ratelimit's checks that the cache is shared are silenced for that case only.
SILTA_CONTACT_REQUEST_RATE = env("SILTA_CONTACT_REQUEST_RATE")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": (
        {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "silta-ratelimit",
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"}
    ),
}
RATELIMIT_USE_CACHE = "ratelimit"
SILENCED_SYSTEM_CHECKS = [] if REDIS_URL else ["django_ratelimit.E003", "django_ratelimit.W001"]

# Client notices by SMS (notifications.sms): a generic HTTP SMS gateway. Empty URL: no
# SMS is sent (the letter is still there). The token goes as `Authorization: Bearer`.
SILTA_SMS_GATEWAY_URL = env("SILTA_SMS_GATEWAY_URL")
SILTA_SMS_GATEWAY_TOKEN = env("SILTA_SMS_GATEWAY_TOKEN")
SILTA_SMS_GATEWAY_TIMEOUT = env("SILTA_SMS_GATEWAY_TIMEOUT")  # seconds

# The API (/api/v1/): deny by default; sessions for the web app, tokens for integrations
# (`manage.py issue_api_token USER`: django-rest-knox, stored hashed, expiring, counted by
# django-axes when refused); errors as application/problem+json.
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous request a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    # JSON only: the browsable API's filter forms would list other teams' case references.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only: one content type for every request body (the web app keeps its forms).
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_FILTER_BACKENDS": [
        "api.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.problem_exception_handler",
}
SILTA_API_TOKEN_DAYS = env("SILTA_API_TOKEN_DAYS")
# After the handover is held the receiving team owns the case; the sending team may read it
# (never change it) for this many days, then not at all (0: not at all). README, ownership.
SILTA_SENDING_TEAM_READ_DAYS = env("SILTA_SENDING_TEAM_READ_DAYS")
# Supervisors' exports (exports/): a list of more rows than this is prepared by the worker
# and downloaded from the notice; the file is kept this many hours in this folder, which the
# web app and the worker share.
SILTA_EXPORT_TASK_ROWS = env("SILTA_EXPORT_TASK_ROWS")
SILTA_EXPORT_HOURS = env("SILTA_EXPORT_HOURS")
SILTA_EXPORT_DIR = env("SILTA_EXPORT_DIR")
if SILTA_SENDING_TEAM_READ_DAYS < 0:
    raise ImproperlyConfigured("SILTA_SENDING_TEAM_READ_DAYS must be 0 or more.")
# A list by page number counts its rows up to this many; past it `count` is null (a page
# and its `next` link still work). Keyset pages (`cursor`) never count.
SILTA_API_COUNT_LIMIT = env("SILTA_API_COUNT_LIMIT")
if SILTA_API_COUNT_LIMIT < 1:
    raise ImproperlyConfigured("SILTA_API_COUNT_LIMIT must be 1 or more.")
if SILTA_API_TOKEN_DAYS < 1:
    raise ImproperlyConfigured("SILTA_API_TOKEN_DAYS must be 1 or more: API tokens expire.")
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=SILTA_API_TOKEN_DAYS),
    # The expiry is fixed when the token is issued: no write to the token row per request.
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
    # Recognisable by secret scanners; tokens issued before knox have none and still work.
    "TOKEN_PREFIX": "silta_",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Silta API",
    "DESCRIPTION": "Moving a client's case from the Immigration Unit to regional social work.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The contract (api/schema.py): one document in English whatever the fetcher's
    # language, every error response declared, request and response shapes apart.
    "DEFAULT_GENERATOR_CLASS": "api.schema.SchemaGenerator",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's files are served from this installation, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ReturnReasonEnum": "transfers.enums.ReturnReason",
        "ClosureReasonEnum": "cases.enums.ClosureReason",
        "ReviewOutcomeEnum": "criteria.enums.ReviewOutcome",
        "AccessOutcomeEnum": "audit.models.AccessOutcome",
        "RebookOutcomeEnum": ["no_show", "cancelled"],
        "CaseStateEnum": "cases.enums.CaseState",
        "TransferStateEnum": "transfers.enums.TransferState",
        "HouseholdRelationEnum": "cases.enums.HouseholdRelation",
    },
}

# Request id: taken from an incoming X-Request-ID (a proxy's) only when it is well formed
# ([A-Za-z0-9._-]{1,64}, a UUID among them), otherwise made here (the given one goes to a
# warning line, cut and marked untrusted: config/request_id.py, first of the integrations);
# returned in the response, written on every access-log row and log line of the request.
# A task queued during a request carries the request's id to the worker.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": False,  # unbounded (any string uuid.UUID parses); ours checks instead
    "UUID_LENGTH": 32,
    "INTEGRATIONS": [WellFormedRequestId(), CeleryIntegration(use_django_logging=True)],
}

# Staff sign-in with the city's identity service (Helsinki Tunnistus, or Azure AD, through
# OpenID Connect), off by default: `make run` keeps local accounts. On, the sign-in page
# and the admin's offer "Sign in with the city's account" (django-helusers' backend on
# social-auth-app-django, web/city_sign_in.py), and with OIDC_API_AUDIENCE the API takes
# the service's access tokens as `Authorization: Bearer` (helusers' ApiTokenAuthentication,
# api/city_tokens.py). Accounts are found by the token's subject (`sub`) alone and made on
# the first sign-in; at every sign-in the user's team memberships follow their directory
# groups (OIDC_GROUPS_CLAIM) as the admin's directory group mappings say (cases/directory.py).
# Local accounts keep working beside it. README, "Signing in with the city's account".
SILTA_OIDC_ENABLED = env("SILTA_OIDC_ENABLED")
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before any password is checked (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
if SILTA_OIDC_ENABLED:
    _issuer = env("OIDC_ISSUER").rstrip("/")
    _missing = [
        name for name in ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET") if not env(name)
    ]
    if _missing:
        raise ImproperlyConfigured(
            f"SILTA_OIDC_ENABLED is set, but these are empty: {', '.join(_missing)}. "
            "Set them, or turn SILTA_OIDC_ENABLED off."
        )
    AUTHENTICATION_BACKENDS.insert(1, "web.city_sign_in.CityOIDCAuth")
    # The sign-in and sign-out buttons are forms whose answer sends the browser on to the
    # identity service: the Content-Security-Policy's form-action allows its origin (and
    # any host it sends the browser on to at once, OIDC_FORM_ACTION_ORIGINS).
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] += [
        "{0.scheme}://{0.netloc}".format(urlsplit(_issuer)),
        *env("OIDC_FORM_ACTION_ORIGINS"),
    ]
    # A sign-in the identity service or the browser broke off: back to the sign-in page
    # with a message in the user's language, never a server error.
    MIDDLEWARE.append("web.city_sign_in.SignInErrors")
    SOCIAL_AUTH_TUNNISTAMO_OIDC_ENDPOINT = _issuer
    SOCIAL_AUTH_TUNNISTAMO_KEY = env("OIDC_CLIENT_ID")
    SOCIAL_AUTH_TUNNISTAMO_SECRET = env("OIDC_CLIENT_SECRET")
    # Beside openid, profile and email: e.g. ad_groups for Tunnistamo and Tunnistus.
    SOCIAL_AUTH_TUNNISTAMO_SCOPE = env("OIDC_SCOPES")
    SOCIAL_AUTH_TUNNISTAMO_USE_PKCE = True
    # The sign-in pages at the identity service in the language chosen on Silta's page.
    SOCIAL_AUTH_TUNNISTAMO_AUTH_EXTRA_ARGUMENTS = {"ui_locales": "fi"}
    SOCIAL_AUTH_TUNNISTAMO_AUTH_EXTRA_ARGUMENTS_OVERRIDE_ALLOWLIST = ["ui_locales"]
    # The groups: in the ID token or the userinfo answer; none when the claim is missing
    # (Azure AD leaves it out), and an Azure AD "group overage" refused, never half-read.
    HELUSERS_ADGROUPS_CLAIM = env("OIDC_GROUPS_CLAIM")
    SOCIAL_AUTH_TUNNISTAMO_GROUPS_KEY = HELUSERS_ADGROUPS_CLAIM
    SOCIAL_AUTH_TUNNISTAMO_GROUPS_MISSING_AS_EMPTY = True
    SOCIAL_AUTH_PIPELINE = (
        "social_core.pipeline.social_auth.social_details",
        "social_core.pipeline.social_auth.social_uid",
        # A subject that is not a UUID (Azure AD's pairwise id) as a UUID in the tenant's
        # namespace, as helusers makes it (cases.directory.subject_uid does the same).
        "helusers.pipeline.ensure_uid_is_uuid",
        "social_core.pipeline.social_auth.auth_allowed",
        # The account by the subject alone (never by e-mail), made on the first sign-in;
        # then the memberships from the groups, or the "no access" page.
        "web.city_sign_in.account",
        "web.city_sign_in.memberships",
        # Signing out of Silta ends the session at the identity service too. (No
        # load_extra_data: the service's tokens are not kept in the database.)
        "web.city_sign_in.end_session_address",
    )
    SOCIAL_AUTH_LOGIN_ERROR_URL = "login"
    SOCIAL_AUTH_INACTIVE_USER_URL = "no-access"
    OIDC_API_TOKEN_AUTH = {
        "ISSUER": [_issuer],
        "AUDIENCE": env("OIDC_API_AUDIENCE"),
        "USER_RESOLVER": "api.city_tokens.resolve_user",
        # The service's signing keys are fetched again after 10 minutes (key rotation).
        "OIDC_CONFIG_EXPIRATION_TIME": 600,
        "ALLOWED_ALGORITHMS": ["RS256"],
    }
    if OIDC_API_TOKEN_AUTH["AUDIENCE"]:
        # After the integration tokens (first: their WWW-Authenticate makes a request
        # without credentials a 401), before the web app's session.
        REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"].insert(
            1, "api.city_tokens.CityTokenAuthentication"
        )

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT failed sign-ins an account,
# and an address, is refused for AXES_COOLOFF_MINUTES (the web sign-in, the admin's, and
# API tokens refused for an address). Recorded in the database (admin: Axes); an
# administrator unlocks from there or with `manage.py axes_reset_username USER` /
# `axes_reset_ip IP` / `axes_reset`. Sign-in through OpenID Connect is left to the identity
# service. AXES_LOCKOUT_PARAMETERS: each item is counted on its own; `username+ip_address`
# counts the pair.
AXES_ENABLED = env("AXES_ENABLED")
AXES_FAILURE_LIMIT = env("AXES_FAILURE_LIMIT")
AXES_COOLOFF_TIME = timedelta(minutes=env("AXES_COOLOFF_MINUTES"))
SILTA_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item for item in env("AXES_LOCKOUT_PARAMETERS")
]
AXES_LOCKOUT_PARAMETERS = "core.throttling.lockout_parameters"
AXES_WHITELIST_CALLABLE = "core.throttling.is_single_sign_on"
AXES_LOCKOUT_CALLABLE = "web.views.auth.locked_out"
# A failure during the lockout does not extend it: the time the page gives holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Every failure kept (admin: Axes, access failures; `axes_reset_failure_logs --age DAYS`),
# as well as the running counts that lock, which are dropped once their cool-off is over.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Masked in what is kept of a failed form (the password always is).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
# The client's address: REMOTE_ADDR, or behind SILTA_TRUSTED_PROXIES reverse proxies the
# address the outermost one saw, counted from the right of X-Forwarded-For (what a client
# writes into the header itself is never taken).
SILTA_TRUSTED_PROXIES = env("SILTA_TRUSTED_PROXIES")
AXES_CLIENT_IP_CALLABLE = "core.throttling.client_ip"
AXES_USERNAME_CALLABLE = "core.throttling.client_username"

# Logs (config/logs.py; README, "Logs"): one JSON object per line on stdout, or plain text
# for a developer's terminal; LOG_FORMAT=json|text, json unless DJANGO_DEBUG. Every line
# carries the request id; exceptions pass through config/redact.py in both formats.
LOG_FORMAT = env("LOG_FORMAT") or ("text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "django_guid.log_filters.CorrelationId"},
        "safe_exceptions": {"()": "config.logs.SafeExceptionArguments"},
    },
    "formatters": {
        "text": {
            "()": "config.logs.TextFormatter",
            "format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s %(message)s",
        },
        "json": {
            "()": "config.logs.JsonFormatter",
            "format": "%(levelname)s %(name)s %(message)s %(correlation_id)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "safe_exceptions"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_guid": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Runserver's own line per request holds the raw path and query string: Silta's
        # (config.logs.RequestLine) says the same without them.
        "django.server": {"level": "ERROR"},
        # Django's line per 4xx answer holds the raw path; the request line has the status.
        "django.request": {"level": "ERROR"},
        "silta": {"level": env("LOG_LEVEL"), "propagate": True},
    },
}

# Error reports to Sentry (config/sentry.py): off while SENTRY_DSN is unset; scrubbed of
# client data. Set up here, so gunicorn, the worker and the beat all report.
SENTRY_DSN = env("SENTRY_DSN")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT")
SENTRY_RELEASE = env("SENTRY_RELEASE")
if SENTRY_DSN:
    from config.sentry import init as _init_sentry

    _init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, release=SENTRY_RELEASE)

# Prometheus metrics at /metrics (config/metrics.py) for a scraper that sends
# `Authorization: Bearer <SILTA_METRICS_TOKEN>`; 404 while the token is unset.
SILTA_METRICS_TOKEN = env("SILTA_METRICS_TOKEN")
