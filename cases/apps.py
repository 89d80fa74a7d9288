from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Clients and cases")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from audit.labels import register_role_labels

        from .enums import Role
        from .models import Membership
        from .roles import forget_memberships

        def forget(sender, instance, **kwargs):
            forget_memberships(instance.user_id)

        # A request's memberships are read once (core.memo): a change within it forgets them.
        post_save.connect(forget, sender=Membership, dispatch_uid="silta-memberships-saved")
        post_delete.connect(forget, sender=Membership, dispatch_uid="silta-memberships-gone")
        # The access log's report names the roles in words.
        register_role_labels(Role.choices)
