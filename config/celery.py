"""The Celery application.

With REDIS_URL set the broker is Redis; without it, kombu's filesystem transport (a real
broker that needs no server), so the quick start runs a worker and beat on a bare machine.
"""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings

app = Celery("silta")
app.config_from_object("django.conf:settings", namespace="CELERY")

if settings.REDIS_URL:
    app.conf.broker_url = settings.REDIS_URL
else:
    broker_dir = Path(settings.CELERY_FILESYSTEM_BROKER_DIR)
    for sub in ("in", "processed"):
        (broker_dir / sub).mkdir(parents=True, exist_ok=True)
    app.conf.broker_url = "filesystem://"
    app.conf.broker_transport_options = {
        "data_folder_in": str(broker_dir / "in"),
        "data_folder_out": str(broker_dir / "in"),
        "processed_folder": str(broker_dir / "processed"),
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
app.autodiscover_tasks()
