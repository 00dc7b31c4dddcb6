#!/usr/bin/env python3
"""Write the neutral Word template the exports use when LAGESBILD_DOCX_TEMPLATE is not set
(app/documents/docx/lagesbild.docx):

    python tools/docx_template.py            # rewrites the shipped template
    python tools/docx_template.py out.docx   # or writes it elsewhere, as a start for a city's

It is python-docx's own template with its Cambria/Calibri theme fonts replaced by one plain
font (Arial; LibreOffice shows its metric twin Liberation Sans), black text instead of the
theme's blues, Swedish (sv-SE) as the language of every style, widow and orphan control, and
an A4 page with the margins the city's documents use. A city's template is made the same way
in Word: the styles Title, Heading 1, Heading 2, List Bullet and Table Grid must exist
(app/documents/template.py checks them); its header (a logo), fonts and page set-up are kept.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "app" / "documents" / "docx" / "lagesbild.docx"
FONT = "Arial"
LANGUAGE = "sv-SE"
THEME_FONT_ATTRIBUTES = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
THEME_COLOR_ATTRIBUTES = ("w:themeColor", "w:themeShade", "w:themeTint")


def _plain_fonts(styles) -> None:
    for fonts in styles.iter(qn("w:rFonts")):
        if fonts.get(qn("w:ascii")) == "Courier":  # the macro/code styles stay monospaced
            continue
        for name in THEME_FONT_ATTRIBUTES:
            fonts.attrib.pop(qn(name), None)
        for name in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(name), FONT)


def _black_text(styles) -> None:
    for element in styles.iter():
        if element.get(qn("w:color")) is not None and element.tag != qn("w:color"):
            element.set(qn("w:color"), "000000")  # borders (the title's rule)
        if element.tag == qn("w:color"):
            element.set(qn("w:val"), "000000")
        for name in THEME_COLOR_ATTRIBUTES:
            element.attrib.pop(qn(name), None)


def _swedish(document) -> None:
    for language in document.styles.element.iter(qn("w:lang")):
        language.set(qn("w:val"), LANGUAGE)
        language.set(qn("w:eastAsia"), LANGUAGE)
    theme_language = document.settings.element.find(qn("w:themeFontLang"))
    if theme_language is not None:
        theme_language.set(qn("w:val"), LANGUAGE)


def _paragraph_defaults(styles) -> None:
    """Widow and orphan control for every paragraph (no lone first or last line of a text on
    a page), and 6 pt after a paragraph instead of 10: the tables read closer."""
    from docx.oxml import OxmlElement

    properties = styles.find(f"{qn('w:docDefaults')}/{qn('w:pPrDefault')}/{qn('w:pPr')}")
    properties.insert(0, OxmlElement("w:widowControl"))
    properties.find(qn("w:spacing")).set(qn("w:after"), "120")


def _roomy_tables(styles) -> None:
    """Table Grid's cells keep 1 mm above and below their text and 1.9 mm at the sides, as
    the PDF's do: the text does not touch the rules."""
    from docx.oxml import OxmlElement

    style = next(s for s in styles.iter(qn("w:style")) if s.get(qn("w:styleId")) == "TableGrid")
    properties = style.find(qn("w:tblPr"))
    margins = properties.find(qn("w:tblCellMar"))
    if margins is None:
        margins = OxmlElement("w:tblCellMar")
        properties.append(margins)
    for side, twips in (("top", 57), ("left", 108), ("bottom", 57), ("right", 108)):
        edge = margins.find(qn(f"w:{side}"))
        if edge is None:
            edge = OxmlElement(f"w:{side}")
            margins.append(edge)
        edge.set(qn("w:w"), str(twips))
        edge.set(qn("w:type"), "dxa")


def build() -> bytes:
    import io

    document = Document()
    styles = document.styles.element
    _plain_fonts(styles)
    _black_text(styles)
    _swedish(document)
    _paragraph_defaults(styles)
    _roomy_tables(styles)
    document.styles["Normal"].font.size = Pt(10.5)
    for section in document.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = section.bottom_margin = Cm(2.2)
    properties = document.core_properties
    properties.title = properties.subject = properties.keywords = properties.comments = ""
    properties.author = properties.last_modified_by = "Lägesbild"
    properties.language = LANGUAGE
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(build())
    print(f"Wrote {target}")
