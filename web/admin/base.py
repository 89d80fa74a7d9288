"""What every admin shares: read-only admins and the access-logged admin."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from audit.access import LoggedRefusal, log_access, log_denied, record_refusal
from audit.models import AccessOutcome
from cases.models import Client
from core.errors import ActorNotAllowed, DomainError, InvalidInput

admin.site.site_header = "Silta"
admin.site.site_title = "Silta"
admin.site.index_title = _("From the Immigration Unit to regional social work")

# A web address typed without a scheme is read as https (Django 6.0's default), never http:
# the addresses kept here are webhooks that carry notices, and partners' links.
HTTPS_URLS: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccessLoggedAdmin(admin.ModelAdmin):
    """Reads of client data write access-log rows before the page is shown (fail closed:
    if the rows cannot be written, the request fails and shows nothing): the list, the
    objects an action asks about, the object (also shown again with a form's errors) and
    its history. An attempt on an object outside the user's scope is logged as denied.
    The responses are TemplateResponses, rendered after the rows are written."""

    def subject_of(self, obj) -> tuple[int | None, int | None]:
        """(client id, case id) of a listed or shown object."""
        raise NotImplementedError

    def _log(self, request, action: str, objects) -> None:
        subjects = [self.subject_of(obj) for obj in objects]
        subjects = [subject for subject in subjects if subject != (None, None)]
        if subjects:
            log_access(user=request.user, action=action, subjects=subjects)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if changelist is not None:
            self._log(request, "admin_list", changelist.result_list)
        elif "objects" in context:
            # An action's own form (core.admin_actions) lists the objects it acts on.
            self._log(request, "admin_list", context["objects"])
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        shown = (getattr(response, "context_data", None) or {}).get("object")
        if shown is not None:
            self._log(request, "admin_history", [shown])
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = (getattr(response, "context_data", None) or {}).get("original")
        if shown is not None:
            self._log(request, "admin_view", [shown])
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A service that refuses a valid form (a role that may not act, a state that no
        longer allows it) is not a server error: the admin's transaction is rolled back,
        the refusal's trace is written again outside it, and the form comes back with the
        reason above it."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refused:
            action = "admin_change" if object_id else "admin_create"
            if isinstance(refused, LoggedRefusal):
                record_refusal(user=request.user, action=action, refusal=refused)
            elif isinstance(refused, ActorNotAllowed):
                shown = self.get_object(request, unquote(object_id)) if object_id else None
                log_access(
                    user=request.user,
                    action=action,
                    outcome=AccessOutcome.DENIED,
                    subjects=[self.subject_of(shown) if shown is not None else (None, None)],
                )
            detail = (
                " ".join(refused.errors.values())
                if isinstance(refused, InvalidInput)
                else refused.detail
            )
            messages.error(request, detail)
            return HttpResponseRedirect(request.get_full_path())

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            log_denied(
                user=request.user,
                model=self.model,
                pk=object_id,
                action="admin_view",
                subject_of=self.subject_of,
            )
        return obj


class BoundedCountPaginator(Paginator):
    """The logs' lists count at most LIMIT rows (a COUNT over a LIMIT subquery), not the
    whole log: a count of 100 million rows takes seconds on every page. Past it,
    `bounded` is true and the page says "more than" the limit; the filters narrow."""

    LIMIT = 10_000
    bounded = False

    @cached_property
    def count(self) -> int:
        rows: Any = self.object_list  # the admin's queryset
        counted = rows.order_by()[: self.LIMIT + 1].count()
        self.bounded = counted > self.LIMIT
        return min(counted, self.LIMIT)


# A client's number as the search reads it: ASCII digits that fit the id's column (other
# digits, say "²", or a number past bigint would fail in int() or in the database).
CLIENT_NUMBER = re.compile(r"[0-9]{1,18}")


class LargeLogAdmin(admin.ModelAdmin):
    """A list over an append-only log that grows for years (the access log, the event
    log, the disclosure log): nothing on the page reads the whole log. The count is
    bounded, the total is not counted again, no filter counts its choices, the dates are
    a filter of fixed choices (the date hierarchy lists the log's distinct years, a full
    scan) and the search reads the indexes: a number is a client's id, other words a
    client's surname or a username, each exactly."""

    paginator = BoundedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a count per filter choice, each over the log
    search_help_text = _("A client's number, a client's surname or a username, written in full.")
    search_by_actor = True

    def rows_of_clients(self, clients) -> Q:
        """The log's rows about these clients (ids, or a query of them), by its index."""
        return Q(client_id__in=clients)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if CLIENT_NUMBER.fullmatch(term):
            return queryset.filter(self.rows_of_clients([int(term)])), False
        # The ids first, as lists: an OR of two subqueries would scan the whole log, an OR
        # of two lists of ids reads two indexes (a bitmap OR).
        clients = list(
            Client.objects.filter(last_name__iexact=term).values_list("pk", flat=True)[:1000]
        )
        found = self.rows_of_clients(clients)
        if self.search_by_actor:
            users = get_user_model().objects.filter(username=term).values_list("pk", flat=True)
            found |= Q(actor_id__in=list(users))
        return queryset.filter(found), False
