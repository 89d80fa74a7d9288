"""The last run of each sweep, kept in the database so that any web process can report it
(the sweeps run in a worker, on another host or container, and the metrics endpoint reads
this table when it is scraped). One row per task name, updated in place."""

from __future__ import annotations

from django.db import models


class TaskOutcome(models.TextChoices):
    SUCCESS = "success", "success"
    FAILURE = "failure", "failure"


class TaskRun(models.Model):
    task = models.CharField(max_length=100, unique=True)
    last_started_at = models.DateTimeField(null=True)
    last_finished_at = models.DateTimeField(null=True)
    # The last run that ended without an exception: "the sweep has not run today" is read
    # from here.
    last_succeeded_at = models.DateTimeField(null=True)
    last_outcome = models.CharField(max_length=20, choices=TaskOutcome.choices, blank=True)
    last_duration_seconds = models.FloatField(null=True)
    # What the task returned, when it returns a count (cases fell due, outgoing reminders).
    last_count = models.BigIntegerField(null=True)
    runs = models.BigIntegerField(default=0)
    failures = models.BigIntegerField(default=0)
    # The sum of every successful run's count.
    items = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["task"]

    def __str__(self) -> str:
        return f"{self.task} ({self.last_outcome or 'never run'})"
