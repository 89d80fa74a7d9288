"""The access log's months (PostgreSQL): made ahead, and archived past the retention period.

The table is partitioned by the month of `created_at` (migration 0005), one partition a
month in UTC named `audit_accesslog_YYYY_MM`, and a default partition that catches a row
beyond the months made (it stays empty while this runs on time).

- `create_ahead` makes the next months with django-postgres-extra's partitioning manager
  (`migrate` runs it after the migrations; the beat task and the command daily).
- `archive_expired` detaches each month that ended longer ago than the retention period
  (`SILTA_ACCESS_LOG_RETENTION_MONTHS`, the law's period, as data) and moves it into the
  schema `audit_archive`: its rows are kept, out of the app's reach (its role has no
  privilege there), to be dumped to the city's archive (`pg_dump -n audit_archive`) and
  dropped by the owner only when the archive plan says so. Nothing here deletes a row.

Both are DDL: they run as the schema's owner (`db_roles.as_owner`). The app's role can
neither create nor detach a partition, and reaches the rows only through the parent table.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from .models import AccessLog

TABLE = AccessLog._meta.db_table
ARCHIVE_SCHEMA = "audit_archive"
# Months made ahead of the current one; the daily run keeps this many ready.
MONTHS_AHEAD = 3
NAME_FORMAT = "%Y_%m"
MONTH_NAME = re.compile(rf"^{TABLE}_(\d{{4}})_(\d{{2}})$")


@dataclass(frozen=True)
class Maintenance:
    created: list[str]
    archived: list[str]


def retention_months() -> int:
    return int(settings.SILTA_ACCESS_LOG_RETENTION_MONTHS)


def _partitioning_manager():
    # Imported here: django-postgres-extra's models need its PostgreSQL backend.
    from psqlextra.partitioning import PostgresPartitioningManager, partition_by_current_time

    return PostgresPartitioningManager(
        [
            partition_by_current_time(
                AccessLog,
                months=1,
                count=MONTHS_AHEAD + 1,
                name_format=NAME_FORMAT,
            )
        ]
    )


def is_partitioned(using: str = DEFAULT_DB_ALIAS) -> bool:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s))",
            [TABLE],
        )
        return bool(cursor.fetchone()[0])


def create_ahead(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Make the current month and the next MONTHS_AHEAD where missing; their names."""
    if not is_partitioned(using):
        return []
    plan = _partitioning_manager().plan(skip_delete=True, using=using)
    plan.apply(using=using)
    return [f"{TABLE}_{partition.name()}" for partition in plan.creations]


def months(using: str = DEFAULT_DB_ALIAS) -> list[tuple[str, dt.date]]:
    """The attached monthly partitions and the first day of their month, oldest first."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = to_regclass(%s)
            """,
            [TABLE],
        )
        names = [name for (name,) in cursor.fetchall()]
    found = []
    for name in names:
        match = MONTH_NAME.match(name)
        if match:
            found.append((name, dt.date(int(match[1]), int(match[2]), 1)))
    return sorted(found, key=lambda item: item[1])


def first_kept_month(today: dt.date, keep_months: int) -> dt.date:
    """The first month whose rows are still kept: a month is archived once it ended more
    than `keep_months` months before the current month began."""
    index = today.year * 12 + today.month - 1 - keep_months
    return dt.date(index // 12, index % 12 + 1, 1)


def archive_expired(
    today: dt.date, *, keep_months: int | None = None, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """Detach the months before the retention period into the archive schema; their names."""
    if not is_partitioned(using):
        return []
    keep = retention_months() if keep_months is None else keep_months
    first_kept = first_kept_month(today, keep)
    expired = [name for name, month in months(using) if month < first_kept]
    connection = connections[using]
    quote = connection.ops.quote_name
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for name in expired:
            cursor.execute(f"ALTER TABLE {quote(TABLE)} DETACH PARTITION {quote(name)}")
            cursor.execute(f"ALTER TABLE {quote(name)} SET SCHEMA {quote(ARCHIVE_SCHEMA)}")
    return expired


def maintain(today: dt.date, *, using: str = DEFAULT_DB_ALIAS) -> Maintenance:
    return Maintenance(created=create_ahead(using), archived=archive_expired(today, using=using))
