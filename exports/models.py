"""A prepared export: a file a task wrote for one user, downloadable by that user only
until it expires. The file itself is on disk (SILTA_EXPORT_DIR), never in the database."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class ExportFile(models.Model):
    # A random id: the download's address tells nothing and cannot be guessed.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="exports",
        verbose_name=_("made by"),
    )
    kind = models.CharField(_("list"), max_length=30)
    format = models.CharField(_("format"), max_length=4, choices=ExportFormat.choices)
    language = models.CharField(_("language"), max_length=10)
    # The list's filters as the page had them (team, worker, months): no client data.
    params = models.JSONField(_("filters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created_at = models.DateTimeField(_("asked"))
    ready_at = models.DateTimeField(_("ready"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind}.{self.format} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def file_name(self) -> str:
        return f"{self.pk}.{self.format}"

    @property
    def subjects_name(self) -> str:
        """The (client, case) ids of the rows in the file, for the download's log rows."""
        return f"{self.pk}.subjects"
