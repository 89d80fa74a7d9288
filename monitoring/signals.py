"""One JSON log line per task (name, id, duration, outcome), and each sweep's last run
recorded in the database (monitoring.models.TaskRun), from Celery's task signals.

Only ids, names, durations and counts: a task's arguments and return value other than a
count are never logged (they may name a client's case)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import sentry_sdk
from celery.signals import task_postrun, task_prerun
from django.db.models import F
from django_guid import clear_guid, get_guid, set_guid

from core import clock
from monitoring.models import TaskOutcome, TaskRun

logger = logging.getLogger("silta.task")

# The sweeps whose last run the metrics report (the beat's schedule in config/celery.py).
RECORDED = frozenset({"silta.due_sweep", "silta.reminder_sweep"})

_running: dict[str, tuple[float, Any, str | None]] = {}
_lock = threading.Lock()


def connect() -> None:
    # Connected after django-guid's handlers (its app is ready first): the task's request id
    # is set when ours runs at the start, and already cleared when ours runs at the end.
    task_prerun.connect(_started, weak=False, dispatch_uid="silta.monitoring.started")
    task_postrun.connect(_finished, weak=False, dispatch_uid="silta.monitoring.finished")


def _started(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id is None:
        return
    request_id = get_guid()
    if request_id:
        # An error report of the task names the request id, to find its log lines.
        sentry_sdk.set_tag("request_id", request_id)
    with _lock:
        _running[task_id] = (time.perf_counter(), clock.now(), request_id)


def _finished(
    task_id: str | None = None,
    task: Any = None,
    retval: Any = None,
    state: str | None = None,
    **kwargs: Any,
) -> None:
    with _lock:
        started = _running.pop(task_id, None) if task_id else None
    if started is None:
        return
    began, started_at, request_id = started
    seconds = time.perf_counter() - began
    name = getattr(task, "name", "") or "unknown"
    outcome = (state or "unknown").lower()
    fields: dict[str, Any] = {
        "event": "task",
        "task_name": name,
        "task_id": task_id,
        "duration_ms": round(seconds * 1000, 1),
        "outcome": outcome,
    }
    if isinstance(retval, BaseException):
        # The type only: an exception's message may carry data.
        fields["error_type"] = f"{type(retval).__module__}.{type(retval).__qualname__}"
    if request_id:
        set_guid(request_id)
    try:
        logger.log(
            logging.WARNING if outcome == "failure" else logging.INFO,
            "task %s %s %.1f ms",
            name,
            outcome,
            fields["duration_ms"],
            extra=fields,
        )
    finally:
        if request_id:
            clear_guid()
    if name in RECORDED and outcome in ("success", "failure"):
        _record(name, started_at=started_at, seconds=seconds, outcome=outcome, retval=retval)


def _record(name: str, *, started_at: Any, seconds: float, outcome: str, retval: Any) -> None:
    """Never fails the task: a sweep that did its work is not undone by its bookkeeping."""
    succeeded = outcome == "success"
    count = retval if succeeded and isinstance(retval, int) else None
    now = clock.now()
    changes: dict[str, Any] = {
        "last_started_at": started_at,
        "last_finished_at": now,
        "last_outcome": TaskOutcome.SUCCESS if succeeded else TaskOutcome.FAILURE,
        "last_duration_seconds": seconds,
        "last_count": count,
        "runs": F("runs") + 1,
        "failures": F("failures") + (0 if succeeded else 1),
        "items": F("items") + (count or 0),
    }
    if succeeded:
        changes["last_succeeded_at"] = now
    try:
        TaskRun.objects.get_or_create(task=name)
        TaskRun.objects.filter(task=name).update(**changes)
    except Exception:  # bookkeeping reports, it does not raise
        logger.exception("could not record the run of %s", name)
