"""The admin's Axes pages (sign-in attempts) in Finnish and Swedish: django-axes ships no
fi or sv catalogue, so the words it marks for translation are listed here, where
`make messages` finds them, and translated in Silta's own catalogue (LOCALE_PATHS comes
before an app's own locale). Only the words: django-axes still draws the pages."""

from django.apps import apps
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# The app's name in the admin's index and breadcrumbs ("Axes" otherwise).
apps.get_app_config("axes").verbose_name = _("Sign-in attempts")

# django-axes's own msgids (axes/models.py, axes/admin.py, axes/conf.py), as it spells them;
# "access log" is left to Silta's own access log (käyttöloki), whose plural it is.
AXES_WORDS = [
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Account locked: too many login attempts. Please try again later."),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("Username"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("Access Attempt"),
    gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("access logs"),
    gettext_noop("Locked Out"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Not set"),
    gettext_noop("Attempt Remaining"),
]
