"""Scheduled sweeps. Thin: they call the sweeps, which are safe to run at any time and
repeatedly (set-based, once-only keys)."""

from celery import shared_task

from transfers import reminders as sweeps


@shared_task(name="silta.due_sweep", acks_late=True)
def due_sweep() -> int:
    return sweeps.due_sweep()


@shared_task(name="silta.reminder_sweep", acks_late=True)
def reminder_sweep() -> int:
    return sweeps.reminder_sweep()
