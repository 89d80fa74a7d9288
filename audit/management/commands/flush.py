"""`flush` as the schema's owner (DATABASE_OWNER_URL, when set): emptying the tables
(TRUNCATE) is what the app's role may never do to the logs. The test suite's
transactional tests empty the database this way after each test."""

from typing import Any

from django.core.management.commands import flush

from audit import db_roles


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        with db_roles.as_owner(options["database"]):
            super().handle(**options)
