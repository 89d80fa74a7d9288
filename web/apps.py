import logging

from django.apps import AppConfig
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("silta.auth")


def _log_failed_login(sender, credentials, request=None, **kwargs):
    """A failed sign-in is a warning in the log, with the name tried (never the
    password) and the request id, for an operator watching for guessing."""
    logger.warning("sign-in failed for %r", credentials.get("username", ""))


class WebConfig(AppConfig):
    name = "web"
    verbose_name = _("Web app")

    def ready(self):
        user_login_failed.connect(_log_failed_login, dispatch_uid="silta-failed-login")
        from axes.signals import user_locked_out

        from core.throttling import log_lockout

        user_locked_out.connect(log_lockout, dispatch_uid="silta-locked-out")
