"""The access log (käyttöloki) and the append-only base that it and the event log share."""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from psqlextra.types import PostgresPartitioningMethod

from core import clock


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model._meta.verbose_name_plural} is append-only.")

    def delete(self):
        raise TypeError(f"{self.model._meta.verbose_name_plural} is append-only.")


class AppendOnlyModel(models.Model):
    """Rows are written once and never changed or deleted, by the ORM here and by a
    PostgreSQL trigger in the database (see the append-only migrations). Every subclass is
    granted only SELECT and INSERT to the app's database role (audit/db_roles.py), and
    `migrate` checks that its table has the trigger."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError(f"{self._meta.verbose_name_plural} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{self._meta.verbose_name_plural} is append-only.")


class Partitioning(NamedTuple):
    """How a table is partitioned, as django-postgres-extra's partitioning manager and
    schema editor read it (`_partitioning_meta`). A plain model keeps `id` as its key for
    the ORM (psqlextra's own partitioned model would make it a composite one)."""

    method: str
    key: list[str]


class AccessOutcome(models.TextChoices):
    ALLOWED = "allowed", _("allowed")
    DENIED = "denied", _("denied")


class AccessLog(AppendOnlyModel):
    """Käyttöloki (Act 703/2023): who read or changed which client's data, when, why, and
    whether it was allowed. Append-only: PostgreSQL refuses UPDATE and DELETE (a trigger),
    and the app's database role may only SELECT and INSERT (audit/db_roles.py).
    Written before the data is shown: if the row cannot be written, nothing is shown."""

    # Set by the database's clock, never by the app: PostgreSQL refuses an INSERT that names
    # any other time (a trigger, migration 0004), so no row can be back-dated.
    created_at = models.DateTimeField(_("time"), db_default=Now())
    # A list page writes a row per client shown, so every per-row check is paid per row:
    # the references are checked by their writers, which take the ids from rows they have
    # just read in the same statement or transaction (audit.access), not by foreign-key
    # triggers (which cost more than writing the rows; migration 0009). Clients, cases and
    # users are never deleted (PROTECT, in the ORM; no delete anywhere), as cases.Event.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
        db_index=False,
        db_constraint=False,
    )
    actor_role = models.CharField(_("actor's role"), max_length=20, blank=True)
    actor_team = models.CharField(_("actor's team"), max_length=40, blank=True)
    client = models.ForeignKey(
        "cases.Client",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("client"),
        db_index=False,
        db_constraint=False,
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("case"),
        db_index=False,
        db_constraint=False,
    )
    action = models.CharField(_("action"), max_length=40)
    purpose = models.CharField(_("purpose"), max_length=40)
    outcome = models.CharField(_("outcome"), max_length=10, choices=AccessOutcome.choices)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    # On PostgreSQL the table is partitioned by month of `created_at` (migration 0005):
    # django-postgres-extra's partitioning manager creates the months ahead, and
    # audit/partitions.py detaches and archives the months past the retention period.
    # The primary key in the database is (id, created_at), as partitioning requires;
    # `id` alone stays unique (one sequence), so the ORM keeps it as the key.
    _partitioning_meta = Partitioning(method=PostgresPartitioningMethod.RANGE, key=["created_at"])

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-created_at", "-id"]
        # The questions the log answers, each an index range scan within the months asked
        # for: a client's log by time (the client's own report), a case's, a user's, a
        # day's (created_at alone, also for the partitions' pruning).
        indexes = [
            models.Index(fields=["client", "created_at"], name="accesslog_client_time"),
            models.Index(fields=["case", "created_at"], name="accesslog_case_time"),
            models.Index(fields=["actor", "created_at"], name="accesslog_actor_time"),
            models.Index(fields=["created_at"], name="accesslog_time"),
        ]

    def __str__(self) -> str:
        """As the admin's heading and history name the entry: when (local time) and what,
        in words (audit.labels)."""
        from .labels import action_label

        return f"{clock.written(self.created_at)} {action_label(self.action)}".strip()


class DisclosureLog(AppendOnlyModel):
    """Luovutusloki: client data disclosed outside Silta (e.g. a referral to a partner
    organisation): what was disclosed, to whom, on what basis, for what purpose and when.
    Kept apart from the access log, as the law keeps them apart, and append-only the same
    way: PostgreSQL refuses UPDATE and DELETE (a trigger) and an INSERT naming a time
    other than the database's, and the app's role may only SELECT and INSERT."""

    created_at = models.DateTimeField(_("time"), db_default=Now())
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("disclosed by"),
        db_index=False,
    )
    client = models.ForeignKey(
        "cases.Client",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("client"),
        db_index=False,
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("case"),
        db_index=False,
    )
    recipient = models.CharField(_("recipient"), max_length=300)
    disclosed = models.CharField(_("data disclosed"), max_length=300)
    basis = models.CharField(_("basis"), max_length=40)
    purpose = models.TextField(_("purpose"))
    reference = models.CharField(_("reference"), max_length=40, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("disclosure log entry")
        verbose_name_plural = _("disclosure log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["client", "created_at"], name="disclosurelog_client_time"),
            models.Index(fields=["created_at"], name="disclosurelog_time"),
        ]

    def __str__(self) -> str:
        """As the admin's heading names the entry: when (local time) and to whom."""
        return f"{clock.written(self.created_at)} {self.recipient}".strip()
