"""The user's own notifications (a notification carries a case reference, never client
details, so listing them is not a read of client data)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import InvalidInput
from notifications import selectors as notification_selectors
from notifications import services as notification_services
from notifications.channels import message_context
from notifications.models import EmailDelivery, NotificationPreference
from web.forms import NotificationPreferenceForm

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


@login_required
def notification_preferences(request):
    """The user's own choice of language and of e-mail: at once, a daily digest or the
    inbox only (no client data here, so no access-log row)."""
    stored = NotificationPreference.objects.filter(user=request.user).first()
    initial = {
        "language": stored.language if stored else request.LANGUAGE_CODE[:2],
        "email_choice": stored.email_choice if stored else EmailDelivery.INBOX,
    }
    if request.method != "POST":
        form = NotificationPreferenceForm(initial=initial)
        return render(request, "web/notification_preferences.html", {"form": form})
    form = NotificationPreferenceForm(request.POST, initial=initial)
    if form.is_valid():
        try:
            notification_services.notification_preference_set(
                user=request.user,
                language=form.cleaned_data["language"],
                email_choice=form.cleaned_data["email_choice"],
            )
        except InvalidInput as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("web:notification-preferences")
    return render(request, "web/notification_preferences.html", {"form": form}, status=400)
