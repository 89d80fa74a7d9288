"""The font of every PDF Silta makes (the client's letter, the client's access-log
report): DejaVu Sans (Latin with its extensions, Greek, Cyrillic and more), shipped in
core/fonts with its licence (Bitstream Vera's; DejaVu's changes are public domain) and
embedded in each PDF, so a name or a letter in Turkish, Vietnamese, Russian or Ukrainian is
drawn on any machine. ReportLab's built-in Helvetica draws only Western European letters:
"Şahin" or "Đặng" would come out with blanks.

ReportLab draws one glyph per character left to right: it neither joins Arabic script's
letters nor orders right-to-left text (see transfers.client_notice.letter_can_write)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reportlab.lib.styles import StyleSheet1

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"


@functools.cache
def font_glyphs() -> frozenset[int]:
    """Registers the fonts with ReportLab (once) and gives the characters they draw."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular = TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    for bold, italic, name in ((0, 0, FONT), (1, 0, FONT_BOLD), (0, 1, FONT), (1, 1, FONT_BOLD)):
        addMapping(FONT, bold, italic, name)
    return frozenset(regular.face.charToGlyph)


def styles() -> StyleSheet1:
    """ReportLab's sample styles, drawn in Silta's font (headings and titles in bold)."""
    from reportlab.lib.styles import getSampleStyleSheet

    font_glyphs()
    sheet = getSampleStyleSheet()
    for style in sheet.byName.values():
        style.fontName = FONT_BOLD if style.name.startswith(("Heading", "Title")) else FONT
    return sheet
