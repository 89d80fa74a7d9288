"""`manage.py accesslog_partitions`: the access log's months made ahead, and those past the
retention period detached into the archive schema (audit/partitions.py). Runs as the
schema's owner (DATABASE_OWNER_URL); the beat runs it daily (audit/tasks.py)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from audit import db_roles, partitions
from core import clock


class Command(BaseCommand):
    help = (
        "Create the access log's next months and detach the months past "
        "SILTA_ACCESS_LOG_RETENTION_MONTHS into the schema audit_archive (rows kept)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]
        with db_roles.as_owner(using):
            if not partitions.is_partitioned(using):
                self.stdout.write("The access log is not partitioned here (not PostgreSQL).")
                return
            try:
                done = partitions.maintain(clock.today(), using=using)
            except Exception as exc:
                raise CommandError(f"access log partitions: {exc}") from exc
        for name in done.created:
            self.stdout.write(f"created {name}")
        for name in done.archived:
            self.stdout.write(f"archived {name} into {partitions.ARCHIVE_SCHEMA}")
        if not (done.created or done.archived):
            self.stdout.write("Nothing to do: the months ahead exist, none has expired.")
