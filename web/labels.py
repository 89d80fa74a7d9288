"""Words for codes the services store: event actions and readiness blockers."""

from django.utils.translation import gettext_lazy as _

EVENT_ACTIONS = {
    "create": _("Client added"),
    "update": _("Client details changed"),
    "client_update": _("Client details changed"),
    "open": _("Case opened"),
    "case_open": _("Case opened"),
    "mark_due": _("Review became due"),
    "start_review": _("Review started"),
    "assess": _("Criterion assessed"),
    "approve_exception": _("Exception approved"),
    "complete_not_ready": _("Review completed: not ready"),
    "propose_transfer": _("Transfer proposed"),
    "propose": _("Transfer proposed"),
    "accept": _("Transfer accepted"),
    "return": _("Transfer returned"),
    "reopen_review": _("Review reopened"),
    "request": _("Handover booking requested"),
    "request_booking": _("Handover booking requested"),
    "confirm_booking": _("Handover booked"),
    "rebook": _("Handover to be booked again"),
    "retry_booking": _("Booking request sent again"),
    "complete": _("Handover held"),
    "complete_transfer": _("Case transferred"),
    "cancel": _("Transfer cancelled"),
    "close": _("Case closed"),
    "set_coordinator": _("PPT coordinator named"),
    "reassign": _("Responsible worker changed"),
}

BLOCKERS = {
    "family_reunification_pending": _("Family reunification is pending"),
    "homeless_or_crisis_accommodation": _("Homeless or in crisis accommodation"),
}

STAGES = {"acceptance": _("Awaiting acceptance"), "booking": _("Booking not confirmed")}
