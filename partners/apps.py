from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("Partnership handbook")

    def ready(self) -> None:
        from audit.report import register_disclosure_labels

        from .channel import register_referral_channel
        from .enums import DisclosureBasis, SharedField

        register_referral_channel()
        register_disclosure_labels(disclosed=SharedField.choices, basis=DisclosureBasis.choices)
