"""The beat's daily run of the access log's partition maintenance (audit/partitions.py)."""

import logging

from celery import shared_task
from django.core.management import call_command

from audit import db_roles

logger = logging.getLogger(__name__)


@shared_task(name="silta.accesslog_partitions", acks_late=True)
def accesslog_partitions() -> bool:
    """Runs `manage.py accesslog_partitions`. It needs the owner's credentials
    (DATABASE_OWNER_URL) in the worker's environment; without them it only warns (the
    months ahead made at each `migrate` and the default partition keep the log writable;
    run the command from the owner's side then, e.g. monthly from cron)."""
    if db_roles.owner_credentials() is None:
        logger.warning(
            "accesslog_partitions skipped: no DATABASE_OWNER_URL in the worker; run "
            "`manage.py accesslog_partitions` as the owner"
        )
        return False
    call_command("accesslog_partitions", verbosity=0)
    return True
