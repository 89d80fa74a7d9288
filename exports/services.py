"""Exports of a supervisor's lists and figures.

Who: supervisors only, of the teams they supervise (the same reports as their pages).
Every client whose row an export holds gets an access-log row ("export") before the row is
written, as a page's rows do before it is shown. An export of more rows than
SILTA_EXPORT_TASK_ROWS is prepared by a task (`export_build`) into SILTA_EXPORT_DIR; its
maker is told in the inbox (a link only) and is the only one who may download it, until
SILTA_EXPORT_HOURS have passed; each download logs the clients in the file again
("export_download").
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import translation

from audit.access import Subject, log_access
from cases.enums import Role
from cases.roles import Roles
from core import clock
from core.errors import ActorNotAllowed
from notifications.models import NotificationKind
from notifications.services import notify

from . import writers
from .models import ExportFile, ExportFormat, ExportStatus
from .tables import KINDS, Scope, Table, table_of

logger = logging.getLogger("silta.exports")

ACTION = "export"
DOWNLOAD_ACTION = "export_download"


def supervised_team_ids(user: Any) -> list[int]:
    """The teams whose lists the user may export; ActorNotAllowed for anyone else."""
    teams = Roles.of(user).supervised_teams
    if not teams:
        raise ActorNotAllowed(action=ACTION, roles=[str(Role.SUPERVISOR.label)], team="")
    return [team.pk for team in teams]


def export_table(*, user: Any, kind: str, params: dict[str, Any], language: str) -> Table:
    """The table of one list or the figures, scoped to the user's supervised teams."""
    if kind not in KINDS:
        raise Http404
    scope = Scope(team_ids=supervised_team_ids(user), on=clock.today(), params=params)
    return table_of(kind, scope, language=language)


def access_logger(user: Any, *, action: str = ACTION, request_id: str | None = None):
    def log(subjects: list[Subject]) -> None:
        log_access(user=user, action=action, subjects=subjects, request_id=request_id)

    return log


def needs_task(table: Table) -> bool:
    return table.count() > settings.SILTA_EXPORT_TASK_ROWS


def export_dir() -> Path:
    path = Path(settings.SILTA_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_request(
    *, actor: Any, kind: str, format: str, params: dict[str, Any], language: str
) -> ExportFile:
    """Asks for an export to be prepared by the worker; the task starts after commit."""
    from .tasks import export_build_task

    supervised_team_ids(actor)
    if kind not in KINDS or format not in ExportFormat.values:
        raise Http404
    export = ExportFile.objects.create(
        user=actor,
        kind=kind,
        format=format,
        language=language,
        params=params,
        created_at=clock.now(),
    )
    transaction.on_commit(lambda: export_build_task.delay(str(export.pk)))
    return export


def export_build(*, export_id: str, request_id: str | None = None) -> ExportFile:
    """Writes a requested export's file (and the list of the clients in it) in the maker's
    language, logs every client in it, marks it ready with its expiry and tells the maker.
    A maker who is no longer a supervisor gets nothing (the export fails)."""
    export = ExportFile.objects.select_related("user").get(pk=export_id)
    if export.status != ExportStatus.PENDING:
        return export  # a redelivered task: done already
    folder = export_dir()
    target, subjects_path = folder / export.file_name, folder / export.subjects_name
    partial = folder / f"{export.file_name}.part"
    rows = 0
    try:
        with translation.override(export.language):
            table = export_table(
                user=export.user, kind=export.kind, params=export.params, language=export.language
            )
            log = access_logger(export.user, request_id=request_id)
            with open(subjects_path, "w", encoding="ascii") as listed, open(partial, "wb") as out:

                def log_and_list(subjects: list[Subject]) -> None:
                    nonlocal rows
                    log(subjects)
                    rows += len(subjects)
                    listed.writelines(f"{client or ''},{case or ''}\n" for client, case in subjects)

                write(table, export.format, out, log_and_list)
        os.replace(partial, target)
    except ActorNotAllowed:
        partial.unlink(missing_ok=True)
        subjects_path.unlink(missing_ok=True)
        ExportFile.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED)
        export.refresh_from_db()
        return export
    now = clock.now()
    with transaction.atomic():
        ExportFile.objects.filter(pk=export.pk).update(
            status=ExportStatus.READY,
            rows=rows,
            ready_at=now,
            expires_at=now + dt.timedelta(hours=settings.SILTA_EXPORT_HOURS),
        )
        notify(
            recipients=[export.user],
            kind=NotificationKind.EXPORT_READY,
            subject_key=f"export:{export.pk}"[:60],
            on_date=clock.today(),
            link=reverse("web:export-download", args=[export.pk]),
        )
    export.refresh_from_db()
    return export


def write(table: Table, format: str, out: IO[bytes], log: writers.Log) -> None:
    if format == ExportFormat.XLSX:
        writers.write_xlsx(table, out, log)
    else:
        writers.write_csv(table, out, log)


def _subjects(path: Path, size: int = 2000) -> Iterator[list[Subject]]:
    batch: list[Subject] = []
    with open(path, encoding="ascii") as listed:
        for line in listed:
            client, case = line.strip().split(",")
            batch.append((int(client) if client else None, int(case) if case else None))
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


def export_open(*, actor: Any, export_id: Any) -> tuple[ExportFile, IO[bytes] | None]:
    """The export and its file opened for download, after logging every client in it.
    Another user's export is Http404 (as if it did not exist); one still being prepared,
    failed or expired comes back without a file."""
    export = ExportFile.objects.filter(pk=export_id, user=actor).first()
    if export is None:
        raise Http404
    if export.status != ExportStatus.READY or (
        export.expires_at is not None and export.expires_at <= clock.now()
    ):
        return export, None
    folder = export_dir()
    target = folder / export.file_name
    if not target.exists():
        return export, None
    log = access_logger(actor, action=DOWNLOAD_ACTION)
    with transaction.atomic():
        for batch in _subjects(folder / export.subjects_name):
            log(batch)
    return export, open(target, "rb")


def exports_purge() -> int:
    """Removes expired exports' files and rows (and failed ones a day old). Returns how
    many were removed."""
    now = clock.now()
    expired = ExportFile.objects.filter(expires_at__lte=now) | ExportFile.objects.filter(
        status__in=[ExportStatus.FAILED, ExportStatus.PENDING],
        created_at__lte=now - dt.timedelta(days=1),
    )
    folder = export_dir()
    removed = 0
    for export in expired:
        (folder / export.file_name).unlink(missing_ok=True)
        (folder / export.subjects_name).unlink(missing_ok=True)
        (folder / f"{export.file_name}.part").unlink(missing_ok=True)
        export.delete()
        removed += 1
    return removed
