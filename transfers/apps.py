from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransfersConfig(AppConfig):
    name = "transfers"
    verbose_name = _("Transfers")

    def ready(self) -> None:
        from .channel import register_booking_channel
        from .client_notice import register_client_sms_channel

        register_booking_channel()
        register_client_sms_channel()
