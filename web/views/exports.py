"""A supervisor's lists and figures as CSV or XLSX (exports/), and the download of an
export the worker prepared.

A list of up to SILTA_EXPORT_TASK_ROWS rows comes at once: CSV streamed a chunk at a time,
XLSX written to a temporary file in chunks and then sent; each chunk's clients are logged
before the chunk is written. A longer one is prepared by the worker, and the supervisor is
told in the inbox when it is ready."""

from __future__ import annotations

import tempfile

from dateutil.relativedelta import relativedelta
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_guid import get_guid

from core.errors import ActorNotAllowed
from exports import services, writers
from exports.models import ExportFormat, ExportStatus
from exports.tables import KINDS

from .common import today

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def _months(request) -> int:
    try:
        return max(1, min(60, int(request.GET.get("months", 12))))
    except ValueError:
        return 12


def _params(request, kind: str) -> dict:
    """The page's filters that the export keeps: the overdue list's team and worker, the
    figures' period."""
    if kind == "overdue":
        return {key: request.GET.get(key, "")[:150] for key in ("team", "worker")}
    if kind == "figures":
        return {"since": (today() - relativedelta(months=_months(request))).isoformat()}
    return {}


def _file_name(kind: str, format: str) -> str:
    return f"silta-{kind}-{today().isoformat()}.{format}"


@login_required
def export(request, kind: str):
    """One list (or the figures) as ?format=csv (the default) or xlsx."""
    format = request.GET.get("format", ExportFormat.CSV)
    if kind not in KINDS or format not in ExportFormat.values:
        raise Http404
    language = translation.get_language() or "fi"
    params = _params(request, kind)
    try:
        table = services.export_table(
            user=request.user, kind=kind, params=params, language=language
        )
    except ActorNotAllowed as exc:
        raise PermissionDenied(_("These pages are for supervisors.")) from exc
    if services.needs_task(table):
        services.export_request(
            actor=request.user, kind=kind, format=format, params=params, language=language
        )
        messages.info(
            request,
            _(
                "The export is large, so it is prepared in the background. You will get a "
                "notice with the link when it is ready."
            ),
        )
        return redirect(reverse("web:figures" if kind == "figures" else "web:supervisor"))
    log = services.access_logger(request.user, request_id=get_guid())
    if format == ExportFormat.CSV:

        def stream():
            with translation.override(language):
                yield from writers.csv_chunks(table, log)

        response = StreamingHttpResponse(stream(), content_type=CSV)
    else:
        out = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
        writers.write_xlsx(table, out, log)
        out.seek(0)
        response = FileResponse(out, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_file_name(kind, format)}"'
    return response


@login_required
def export_download(request, pk):
    """A prepared export, for the supervisor who asked for it only (anyone else: 404)."""
    found, opened = services.export_open(actor=request.user, export_id=pk)
    if opened is None:
        expired = found.status == ExportStatus.READY or found.status == ExportStatus.FAILED
        return render(
            request,
            "web/export.html",
            {"export": found, "expired": expired},
            status=410 if expired else 200,
        )
    response = FileResponse(
        opened,
        content_type=XLSX if found.format == ExportFormat.XLSX else CSV,
        as_attachment=True,
        filename=_file_name(found.kind, found.format),
    )
    return response
