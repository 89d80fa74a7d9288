"""The web app: one page per question a worker asks, each action one form.

By area: `auth` (sign-in, the front page), `notifications`, `cases` (caseload, case page,
its actions), `reviews` (the readiness review), `transfers` (inbox, transfer page, the
actions on a transfer), `desk` (the front desk's queue) and `supervisor`; what they share
is in `common`. Reads go through the domain apps' selectors, writes through their services.
"""

from .auth import SiltaLoginView, home
from .cases import (
    case_close,
    case_coordinator,
    case_detail,
    caseload,
    review_bring_forward,
    review_start,
)
from .clients import (
    case_open,
    client_detail,
    client_edit,
    client_register,
    client_sms_consent,
    household_add,
    household_leave,
)
from .contact import (
    contact_request_action,
    contact_request_detail,
    contact_request_new,
    contact_request_sent,
    intake_queue,
)
from .desk import desk
from .exports import export, export_download
from .households import household_propose, household_review
from .notifications import notification_preferences, notification_read, notifications_inbox
from .partners import case_home_base, case_referral_send, partner_directory, partner_referral
from .reviews import (
    approve_exception,
    request_exception,
    review_assess,
    review_detail,
    review_extension,
    review_not_ready,
    review_propose,
)
from .supervisor import (
    client_access_report,
    exception_decide,
    extension_decide,
    figures,
    reassign,
    supervisor,
)
from .transfers import TRANSFER_ACTIONS, inbox, transfer_action, transfer_detail, transfer_letter

__all__ = [
    "TRANSFER_ACTIONS",
    "SiltaLoginView",
    "approve_exception",
    "case_close",
    "case_coordinator",
    "case_detail",
    "case_home_base",
    "case_open",
    "case_referral_send",
    "caseload",
    "client_access_report",
    "client_detail",
    "client_edit",
    "client_register",
    "client_sms_consent",
    "contact_request_action",
    "contact_request_detail",
    "contact_request_new",
    "contact_request_sent",
    "desk",
    "exception_decide",
    "export",
    "export_download",
    "extension_decide",
    "figures",
    "home",
    "household_add",
    "household_leave",
    "household_propose",
    "household_review",
    "inbox",
    "intake_queue",
    "notification_preferences",
    "notification_read",
    "notifications_inbox",
    "partner_directory",
    "partner_referral",
    "reassign",
    "request_exception",
    "review_assess",
    "review_bring_forward",
    "review_detail",
    "review_extension",
    "review_not_ready",
    "review_propose",
    "review_start",
    "supervisor",
    "transfer_action",
    "transfer_detail",
    "transfer_letter",
]
