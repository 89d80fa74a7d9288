"""The Celery application.

With REDIS_URL set the broker is Redis; without it, kombu's filesystem transport (a real
broker that needs no server), so the quick start runs a worker and beat on a bare machine.
"""

import os
from pathlib import Path

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings

app = Celery("silta")
app.config_from_object("django.conf:settings", namespace="CELERY")

if settings.REDIS_URL:
    app.conf.broker_url = settings.REDIS_URL
else:
    broker_dir = Path(settings.CELERY_FILESYSTEM_BROKER_DIR)
    for sub in ("in", "processed", "control"):
        (broker_dir / sub).mkdir(parents=True, exist_ok=True)
    app.conf.broker_url = "filesystem://"
    app.conf.broker_transport_options = {
        "data_folder_in": str(broker_dir / "in"),
        "data_folder_out": str(broker_dir / "in"),
        "processed_folder": str(broker_dir / "processed"),
        # Broadcast (pidbox) exchanges: under var/, not the working directory.
        "control_folder": str(broker_dir / "control"),
        "store_processed": False,
    }

app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=300,
    task_soft_time_limit=240,
    broker_transport_options={
        **app.conf.broker_transport_options,
        # Longer than every task's time limit: a task is redelivered only if its worker died.
        "visibility_timeout": 3600,
    },
    timezone=settings.TIME_ZONE,
    enable_utc=True,
)
# The schedule is code, reviewed like code. What the city tunes (offsets, delays, booking
# hours) is data in the database; the sweeps read it every run.
app.conf.beat_schedule = {
    "due-sweep": {"task": "silta.due_sweep", "schedule": crontab(hour=5, minute=0)},
    # Again at midday: a sweep that has nothing to do costs one index-only count.
    "due-sweep-midday": {"task": "silta.due_sweep", "schedule": crontab(hour=12, minute=0)},
    "reminder-sweep": {"task": "silta.reminder_sweep", "schedule": crontab(hour=7, minute=0)},
    "relay-outbox": {"task": "silta.relay_outbox", "schedule": 60.0},
    # Yesterday's notices for those who chose a daily digest (one e-mail per user per day).
    "email-digest": {"task": "silta.email_digest", "schedule": crontab(hour=6, minute=30)},
    # The access log's months ahead and its archive (audit/partitions.py), nightly.
    "accesslog-partitions": {
        "task": "silta.accesslog_partitions",
        "schedule": crontab(hour=3, minute=30),
    },
    # Supervisors' prepared exports past their expiry: files and rows removed, hourly.
    "exports-purge": {"task": "silta.exports_purge", "schedule": crontab(minute=15)},
}
app.autodiscover_tasks()

# Resolve the broker's transport (kombu's Redis transport and redis-py are imported) at
# start-up, not in the first request that publishes; no connection is opened here.
app.connection_for_write().release()
