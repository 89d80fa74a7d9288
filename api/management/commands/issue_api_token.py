import datetime as dt
import logging

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from knox.models import AuthToken

from core import clock

logger = logging.getLogger("silta.auth")


class Command(BaseCommand):
    help = (
        "Issue an API token for a user (an integration's service account). The token is "
        "printed once, on standard output: only its hash is stored, so store it as a secret. "
        "It expires SILTA_API_TOKEN_DAYS days from now. A user with a valid token gets a new "
        "one only with --rotate, which revokes the old ones at once, or after --grace-hours."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--rotate", action="store_true", help="replace the user's tokens with a new one"
        )
        parser.add_argument(
            "--grace-hours",
            type=int,
            default=0,
            help="with --rotate: the old tokens keep working this many hours (switch-over)",
        )

    def handle(self, *args, username, rotate, grace_hours, **options):
        if grace_hours < 0 or (grace_hours and not rotate):
            raise CommandError("--grace-hours is a number of hours (0 or more) with --rotate.")
        try:
            user = get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No active user {username!r}.") from exc
        now = clock.now()
        valid = AuthToken.objects.filter(user=user).filter(
            Q(expiry__isnull=True) | Q(expiry__gt=now)
        )
        with transaction.atomic():
            if valid.exists() and not rotate:
                raise CommandError(f"{username} already has a token; use --rotate for a new one.")
            if rotate and grace_hours:
                revoked = valid.filter(
                    Q(expiry__isnull=True) | Q(expiry__gt=now + dt.timedelta(hours=grace_hours))
                ).update(expiry=now + dt.timedelta(hours=grace_hours))
            elif rotate:
                revoked, _ = AuthToken.objects.filter(user=user).delete()
            else:
                revoked = 0
            instance, token = AuthToken.objects.create(user=user)
        logger.info(
            "API token issued for %r, expires %s; %d old token(s) revoked%s",
            username,
            instance.expiry.isoformat(),
            revoked,
            f" in {grace_hours} h" if grace_hours else "",
        )
        self.stdout.write(token)
        self.stderr.write(
            f"Expires {instance.expiry.astimezone(clock.tz()):%Y-%m-%d %H:%M %Z}. Only its hash "
            "is stored: it cannot be shown again."
        )
