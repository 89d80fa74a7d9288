import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("silta.health")


@never_cache
@require_GET
def healthz(request):
    """Liveness for load balancers and compose: no client data, no auth."""
    checks = {"database": _database_status(), "broker": _broker_status()}
    # Without the database nothing works (503); without the broker Silta still answers and
    # commits, and its outbox rows wait (200, "degraded").
    if checks["database"] != "ok":
        status, code = "error", 503
    elif checks["broker"] != "ok":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)


@never_cache
@require_GET
def readyz(request):
    """Readiness: may this process be sent traffic? The database answers and has every
    migration this code needs (503 otherwise: a new release whose `migrate` has not run
    yet, or an old database); the broker is reported, and its absence is "degraded", not
    "not ready": the app answers and commits without it, and its outbox rows wait for the
    relay (README, "The outbox"). No client data, no auth."""
    checks = {"database": _database_status()}
    checks["migrations"] = _migrations_status() if checks["database"] == "ok" else "unknown"
    checks["broker"] = _broker_status()
    if checks["database"] != "ok" or checks["migrations"] != "ok":
        status, code = "error", 503
    elif checks["broker"] != "ok":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:  # a health check reports, it does not raise
        logger.exception("health check: database unreachable")
        return "error"


# Once every migration is applied it stays so for this code: checked again only until then.
_migrations_applied = False


def _migrations_status() -> str:
    global _migrations_applied
    if _migrations_applied:
        return "ok"
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # a health check reports, it does not raise
        logger.exception("readiness check: the migrations could not be read")
        return "error"
    if plan:
        logger.warning("readiness check: %d migrations not applied", len(plan))
        return "pending"
    _migrations_applied = True
    return "ok"


def _broker_status() -> str:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # a health check reports, it does not raise
        logger.warning("health check: broker unreachable (%s)", exc)
        return "error"
