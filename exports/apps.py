from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    """A supervisor's lists and figures as CSV and XLSX files: small ones streamed at
    once, the whole caseload prepared by a task and downloaded by its maker only."""

    name = "exports"
    verbose_name = _("Exports")
