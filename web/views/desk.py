"""The front desk's queue: handovers to book, and those booked."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _

from audit.access import log_access
from cases.roles import roles_of
from cases.selectors import booking_hours_of, meeting_hours_of
from core import clock
from transfers import handoff
from transfers.selectors import booked_handovers, booking_queue
from transfers.services.handover import horizon_days

from .common import page_of, transfer_subject

BOOKED_SHOWN = 50


@login_required
def desk(request):
    teams = roles_of(request).desk_teams
    if not teams:
        raise PermissionDenied(_("The booking queue is for front desks."))
    team_ids = [team.pk for team in teams]
    queue = page_of(request, booking_queue(team_ids))
    for booking in queue:  # an escorted handover: the sending worker attends too
        booking.attendees = handoff.attendees(booking.transfer)
    booked = list(booked_handovers(team_ids)[:BOOKED_SHOWN])
    log_access(
        user=request.user,
        action="web_list",
        subjects=[transfer_subject(b.transfer) for b in [*queue, *booked]],
    )
    return render(
        request,
        "web/desk.html",
        {
            "queue": queue,
            "booked": booked,
            "hours": booking_hours_of(team_ids),
            "meeting_hours": meeting_hours_of(team_ids),
            "horizon_days": horizon_days(),
            "teams": sorted(teams, key=lambda team: team.name),
            "now": clock.now(),
        },
    )
