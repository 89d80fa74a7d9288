"""The user's own notifications (a notification carries a case reference, never client
details, so listing them is not a read of client data)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from notifications import selectors as notification_selectors
from notifications import services as notification_services
from notifications.channels import message_context

from .common import page_of


@login_required
def notifications_inbox(request):
    notes = notification_selectors.inbox_of(request.user)
    if request.GET.get("unread"):
        notes = notes.filter(read_at__isnull=True)
    page = page_of(request, notes)
    for note in page:
        note.headline = message_context(kind=note.kind, params=note.params)["headline"]
    return render(request, "web/notifications.html", {"page": page})


@login_required
@require_POST
def notification_read(request, pk: int):
    note = notification_selectors.inbox_of(request.user).filter(pk=pk).first()
    if note is None:
        raise Http404
    notification_services.notification_mark_read(user=request.user, notification=note)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("web:notifications")  # never a redirect to another site
    # An address, never a view's name to look up (`redirect` would try, and fail with a
    # server error on a `next` such as "x").
    return HttpResponseRedirect(back)
