"""`migrate` as the schema's owner (DATABASE_OWNER_URL, when set), followed by the app
role's grants: a migration can never leave a table the app's role may not use, or a log it
may change (audit/db_roles.py)."""

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from audit import db_roles, partitions


class Command(migrate.Command):
    help = (
        migrate.Command.help
        + " With DATABASE_OWNER_URL set, runs as that owner, creates or checks the app's"
        " role (DATABASE_URL) and grants it its privileges afterwards."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        database = options["database"]
        with db_roles.as_owner(database) as two_roles:
            connection = connections[database]
            applies = not (options["plan"] or options["check_unapplied"])
            grant = two_roles and applies
            try:
                if two_roles:
                    db_roles.ensure_app_role(connection)
                super().handle(*args, **options)
                if applies:
                    # The access log's months ahead (PostgreSQL; audit/partitions.py).
                    partitions.create_ahead(database)
                if grant:
                    db_roles.grant_app_privileges(connection)
            except db_roles.RoleError as exc:
                raise CommandError(str(exc)) from exc
            if grant and options["verbosity"] >= 1:
                self.stdout.write(
                    f"The app's database role {db_roles.app_role()!r} has its privileges "
                    "(on the logs: SELECT and INSERT only)."
                )
