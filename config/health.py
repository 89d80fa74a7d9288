import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("silta.health")


@never_cache
@require_GET
def healthz(request):
    """Liveness and readiness for load balancers and compose: no client data, no auth."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # a health check reports, it does not raise
        logger.exception("health check: database unreachable")
        checks["database"] = "error"
    checks["broker"] = _broker_status()
    # Without the database nothing works (503); without the broker Silta still answers and
    # commits, and its outbox rows wait (200, "degraded").
    if checks["database"] != "ok":
        status, code = "error", 503
    elif checks["broker"] != "ok":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)


def _broker_status() -> str:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # a health check reports, it does not raise
        logger.warning("health check: broker unreachable (%s)", exc)
        return "error"
