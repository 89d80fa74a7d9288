import logging

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken

from core import clock

logger = logging.getLogger("silta.auth")


class Command(BaseCommand):
    help = (
        "Revoke API tokens: every token of USER at once (a leaked token, an integration "
        "retired), or with --expired the expired tokens of every user (housekeeping)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?")
        parser.add_argument("--expired", action="store_true")

    def handle(self, *args, username, expired, **options):
        if bool(username) == expired:
            raise CommandError("Give a username, or --expired (not both).")
        if expired:
            count, _ = AuthToken.objects.filter(expiry__lte=clock.now()).delete()
            what = "expired API token(s)"
        else:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user {username!r}.")
            count, _ = AuthToken.objects.filter(user=user).delete()
            what = f"API token(s) of {username}"
        logger.info("revoked %d %s", count, what)
        self.stdout.write(f"Revoked {count} {what}.")
