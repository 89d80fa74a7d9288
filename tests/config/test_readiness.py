"""Readiness (/readyz, config/health.py): the database answers and has every migration
this code needs; the broker is reported, and without it the app is degraded, not unready
(it answers and commits; the outbox waits). Liveness stays /healthz."""

import pytest

from config import health

pytestmark = pytest.mark.django_db


def test_readyz__all_there__ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "broker": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


def test_readyz__broker_down__degraded_but_ready(client, monkeypatch):
    from config.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["broker"] == "error"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readyz__a_migration_not_applied__not_ready(client, owner_sql, monkeypatch):
    """As after deploying a release whose one-off `migrate` has not run yet."""
    monkeypatch.setattr(health, "_migrations_applied", False)
    owner_sql(
        "DELETE FROM django_migrations WHERE app = 'monitoring' AND name = '0001_initial'",
        undo_with="INSERT INTO django_migrations (app, name, applied) "
        "VALUES ('monitoring', '0001_initial', now())",
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "checks": {"database": "ok", "migrations": "pending", "broker": "ok"},
    }


def test_healthz__still_the_liveness_check(client):
    assert client.get("/healthz").json()["checks"] == {"database": "ok", "broker": "ok"}
