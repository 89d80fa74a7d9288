"""The client's own access-log report (Act 703/2023 gives a client the right to know who
has read or handled their data): every row about the client in the kept months, as a PDF
a supervisor can hand over. The rows are read with the index on (client, time), so a
client's years cost what their own rows cost, not what the log holds."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core import clock
from core.pdf import FONT, FONT_BOLD
from core.pdf import styles as pdf_styles

from .labels import action_label, purpose_label, role_label
from .models import AccessLog, AccessOutcome, DisclosureLog

COLUMNS = (
    "created_at",
    "actor__first_name",
    "actor__last_name",
    "actor__username",
    "actor_role",
    "actor_team",
    "action",
    "purpose",
    "outcome",
)


def client_rows(client_id: int, since: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The client's rows, oldest first, as plain values (the report's table)."""
    rows = AccessLog.objects.filter(client_id=client_id)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return list(rows.order_by("created_at", "id").values(*COLUMNS))


DISCLOSURE_COLUMNS = ("created_at", "recipient", "disclosed", "basis", "purpose", "reference")

# The human labels of the codes a disclosure-log row holds (what was disclosed, on what
# basis). The apps that disclose register theirs when they are ready (the partners app: its
# referrals' SharedField and DisclosureBasis), as channels register with the outbox, so
# this layer never imports them. Labels are lazy: shown in the reader's language.
_DISCLOSED_LABELS: dict[str, Any] = {}
_BASIS_LABELS: dict[str, Any] = {}


def register_disclosure_labels(
    *, disclosed: Iterable[tuple[str, Any]] = (), basis: Iterable[tuple[str, Any]] = ()
) -> None:
    """Name the codes an app writes into DisclosureLog.disclosed and .basis."""
    _DISCLOSED_LABELS.update(disclosed)
    _BASIS_LABELS.update(basis)


def disclosed_labels(codes: str) -> list[str]:
    """What was disclosed, as labels in the active language (an unknown code as itself)."""
    return [
        str(_DISCLOSED_LABELS.get(code, code))
        for code in (part.strip() for part in codes.split(","))
        if code
    ]


def basis_label(code: str) -> str:
    return str(_BASIS_LABELS.get(code, code))


def basis_choices() -> list[tuple[str, Any]]:
    """The legal bases the apps write, with their labels (the admin's filter)."""
    return list(_BASIS_LABELS.items())


def client_disclosures(client_id: int) -> list[dict[str, Any]]:
    """The client's disclosure-log rows (luovutusloki), oldest first."""
    rows = DisclosureLog.objects.filter(client_id=client_id).order_by("created_at", "id")
    return list(rows.values(*DISCLOSURE_COLUMNS))


def _who(row: dict[str, Any]) -> str:
    if row["actor_role"] == "partner_contact":  # through a referral's signed link
        return _("A partner's contact (signed link)")
    name = f"{row['actor__first_name']} {row['actor__last_name']}".strip()
    return name or row["actor__username"]


def client_report_pdf(
    *,
    client_name: str,
    client_id: int,
    made_by: str,
    now: dt.datetime,
    team_names: dict[str, str] | None = None,
) -> bytes:
    """The PDF: a heading naming the client, who made the report and when, and one line
    per access (time, who, role and team, what, why, allowed or refused), all in words in
    the active language: the rows' codes as their labels (audit.labels), the teams by
    their names (`team_names`, by code; a team no longer there by its code)."""
    rows = client_rows(client_id)
    team_names = team_names or {}
    styles = pdf_styles()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    when = clock.written  # as the reader's language writes a time (fi: 1.12.2026 klo 10.00)

    outcome = {  # a cell of its own: written as a cell begins (Sallittu, Estetty)
        AccessOutcome.ALLOWED: capfirst(_("allowed")),
        AccessOutcome.DENIED: capfirst(_("refused")),
    }
    table = [
        [
            _("Time"),
            _("Who"),
            _("Role"),
            _("Team"),
            _("What"),
            _("Purpose"),
            _("Outcome"),
        ]
    ]
    for row in rows:
        table.append(
            [
                when(row["created_at"]),
                # Paragraph reads markup: names and labels are escaped.
                Paragraph(escape(_who(row)), small),
                Paragraph(escape(role_label(row["actor_role"])), small),
                Paragraph(escape(team_names.get(row["actor_team"], row["actor_team"])), small),
                Paragraph(escape(action_label(row["action"])), small),
                Paragraph(escape(purpose_label(row["purpose"])), small),
                outcome.get(row["outcome"], row["outcome"]),
            ]
        )
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        title=_("Access log of %(client)s") % {"client": client_name},
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        initialFontName=FONT,  # not even an unused Helvetica in the file
    )
    widths = [30 * mm, 42 * mm, 30 * mm, 34 * mm, 70 * mm, 42 * mm, 22 * mm]
    grid = Table(table, colWidths=widths, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 8),
                ("FONT", (0, 1), (-1, -1), FONT, 8),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.whitesmoke]),
            ]
        )
    )
    disclosures = client_disclosures(client_id)
    disclosed_table = [[_("Time"), _("To whom"), _("What was disclosed"), _("Basis"), _("Purpose")]]
    for row in disclosures:
        disclosed_table.append(
            [
                when(row["created_at"]),
                # Paragraph reads markup: the free text is escaped (an e-mail in <...>).
                Paragraph(escape(row["recipient"]), small),
                Paragraph(escape(", ".join(disclosed_labels(row["disclosed"]))), small),
                Paragraph(escape(basis_label(row["basis"])), small),
                Paragraph(escape(row["purpose"]), small),
            ]
        )
    disclosed_grid = Table(
        disclosed_table, colWidths=[34 * mm, 60 * mm, 55 * mm, 40 * mm, 70 * mm], repeatRows=1
    )
    disclosed_grid.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 8),
                ("FONT", (0, 1), (-1, -1), FONT, 8),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    document.build(
        [
            Paragraph(
                escape(_("Access log of %(client)s") % {"client": client_name}), styles["Title"]
            ),
            Paragraph(
                _(
                    "Everyone who has read or handled the client's data in Silta, when and "
                    "why (Act 703/2023). %(count)s entries."
                )
                % {"count": len(rows)},
                styles["BodyText"],
            ),
            Paragraph(
                _("Made by %(who)s on %(when)s.") % {"who": escape(made_by), "when": when(now)},
                styles["BodyText"],
            ),
            Spacer(1, 4 * mm),
            grid,
            Spacer(1, 8 * mm),
            Paragraph(_("Disclosures of the client's data"), styles["Heading2"]),
            Paragraph(
                _(
                    "Data disclosed outside Silta (the disclosure log): what, to whom, on "
                    "what basis and why. %(count)s entries."
                )
                % {"count": len(disclosures)},
                styles["BodyText"],
            ),
            Spacer(1, 2 * mm),
            disclosed_grid,
        ]
    )
    return out.getvalue()
