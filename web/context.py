"""The header's navigation: one link per role the user has, and the unread count."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cases.roles import roles_of
from notifications.selectors import unread_count

# Which header link a page belongs to (aria-current="page").
_SECTIONS = {
    "caseload": "caseload",
    "case": "caseload",
    "review": "caseload",
    "inbox": "inbox",
    "transfer": "inbox",
    "desk": "desk",
    "supervisor": "supervisor",
    "reassign": "supervisor",
    "figures": "figures",
    "intake": "intake",
    "contact-request": "intake",
    "notifications": "notifications",
    "partners": "partners",
}


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith("/admin/"):
        return {"oidc_enabled": settings.SILTA_OIDC_ENABLED}
    roles = roles_of(request)
    links = []
    if roles.caseload_teams:
        links.append(("caseload", reverse("web:caseload"), _("Caseload")))
    if roles.receiving_teams:
        links.append(("inbox", reverse("web:inbox"), _("Incoming transfers")))
    if roles.desk_teams:
        links.append(("desk", reverse("web:desk"), _("Booking queue")))
    if roles.caseload_teams:
        links.append(("intake", reverse("web:intake"), _("Contact requests")))
    if roles.supervised_teams:
        links.append(("supervisor", reverse("web:supervisor"), _("Supervision")))
        links.append(("figures", reverse("web:figures"), _("Figures")))
    if roles.memberships:
        links.append(("partners", reverse("web:partners"), _("Partnership handbook")))
    match = getattr(request, "resolver_match", None)
    return {
        "active": _SECTIONS.get(match.url_name if match else "", ""),
        "nav_links": links,
        "unread_count": unread_count(user),
        "oidc_enabled": settings.SILTA_OIDC_ENABLED,
    }
