"""gunicorn's settings for the production image (scripts/entrypoint.sh web).

Request metrics are counted in every worker process and summed at /metrics through
prometheus-client's multiprocess mode: PROMETHEUS_MULTIPROC_DIR is set here, before the app
(and prometheus-client) is imported, emptied when gunicorn starts, and a worker's files are
marked dead when it exits. gunicorn's own lines are JSON like the app's (LOG_FORMAT), and
it writes no access log: the app's request line (config/logs.py) says the same with the
route instead of the raw path and query string.
"""

import os
import shutil
import tempfile
from pathlib import Path

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
accesslog = None

_metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", str(Path(tempfile.gettempdir()) / "silta-prometheus")
)

_format = os.environ.get("LOG_FORMAT") or "json"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "config.logs.JsonFormatter",
            "format": "%(levelname)s %(name)s %(message)s",
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if _format == "json" else "text",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def on_starting(server):
    """Counts from a previous run of the master would be summed in: start empty."""
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    Path(_metrics_dir).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
