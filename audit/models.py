"""The access log (käyttöloki) and the append-only base that it and the event log share."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


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
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
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
    action = models.CharField(_("action"), max_length=40)
    purpose = models.CharField(_("purpose"), max_length=40)
    outcome = models.CharField(_("outcome"), max_length=10, choices=AccessOutcome.choices)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.outcome}"
