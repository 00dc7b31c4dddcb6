"""Every bad file is refused with a clear message, and nothing is stored."""
from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from app.core.errors import InvalidInput
from app.core.unit_of_work import operation
from app.documents.docx_format import MAX_FILE_BYTES, load_docx
from app.documents.export import export_contribution
from app.documents.importer import import_document, propose
from app.extensions import db
from app.models import Area, AuditEvent
from tests.factories import SETUP


def _docx_with(world, replace: dict[str, bytes] | None = None,
               extra: dict[str, bytes] | None = None) -> bytes:
    """A real export, with some parts replaced or added."""
    data = export_contribution(world.user("consolidator"), world.contribution().id).data
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, (replace or {}).get(item.filename,
                                                               source.read(item.filename)))
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return buffer.getvalue()


def _refused(world, data: bytes, message: str) -> None:
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    area = db.session.get(Area, world.areas["Norr"])
    with pytest.raises(InvalidInput) as caught:
        propose(data, area)
    assert message in caught.value.message
    with pytest.raises(InvalidInput):
        with operation(SETUP):
            import_document(SETUP, data, "bad", "Norr", "december 2022", {})
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


@pytest.mark.parametrize("data, message", [
    (b"", "The file is empty."),
    (b"%PDF-1.7\n...", "The PDF file is damaged and cannot be read."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "The old Word format (.doc)"),
    (b"\x00\x01\x02binary\x00", "neither a DOCX document nor a text file"),
    ("Lägesbild maj 2020\n".encode("latin-1") + b"\x81\x8d", "not UTF-8 encoded"),
    (b"Hello world\nnothing here", "its first line should be the title"),
    ("Lägesbild maj 2020 Norr\nInga tabeller här.".encode(), "has neither the table"),
    (b"PK\x03\x04 broken zip", "not a readable DOCX file"),
])
def test_wrong_format_and_unreadable_files(world, data, message):
    _refused(world, data, message)


def test_files_over_the_size_cap(world):
    _refused(world, b"L" * (MAX_FILE_BYTES + 1), "larger than 10 MB")


def test_a_zip_that_is_not_a_docx(world):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hej")
    _refused(world, buffer.getvalue(), "not a DOCX document")


def test_a_zip_bomb_is_refused_before_unpacking(world):
    bomb = _docx_with(world, extra={"word/media/padding.bin": b"\0" * (30 * 1024 * 1024)})
    assert len(bomb) < 100 * 1024  # 30 MB of zeros compress to ~30 kB
    _refused(world, bomb, "would unpack to far more than its size")


def test_a_docx_whose_parts_sum_past_the_cap_is_refused(world, monkeypatch):
    import os

    from app.documents import docx_format

    # Random bytes do not compress, so no ratio alarm: the total of the declared sizes
    # (4 x 16 MB > 60 MB) trips the cap. The upload cap is lifted to reach that check.
    data = _docx_with(world, extra={f"word/media/p{i}.bin": os.urandom(16 * 1024 * 1024)
                                    for i in range(4)})
    monkeypatch.setattr(docx_format, "MAX_FILE_BYTES", len(data) + 1)
    with pytest.raises(InvalidInput, match="would unpack to far more"):
        load_docx(data)


@pytest.mark.parametrize("declaration", [
    b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>',
    b'<!DOCTYPE x SYSTEM "file:///etc/passwd">',
    b'<!ENTITY xxe SYSTEM "file:///etc/passwd">',
])
def test_xml_entity_tricks_are_refused(world, declaration):
    data = export_contribution(world.user("consolidator"), world.contribution().id).data
    document_xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    head, rest = document_xml.split(b"?>", 1)
    tricked = _docx_with(world, replace={"word/document.xml": head + b"?>" + declaration + rest})
    _refused(world, tricked, "declares a DOCTYPE or XML entities")


def test_utf16_encoded_entity_tricks_are_found_too(world):
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'
    tricked = _docx_with(world, extra={"customXml/item9.xml": xml.encode("utf-16")})
    _refused(world, tricked, "declares a DOCTYPE")


def test_a_damaged_part_is_refused(world):
    tricked = _docx_with(world, replace={"word/document.xml": b"<w:document><unclosed"})
    _refused(world, tricked, "damaged and cannot be read")


def test_a_docx_without_the_tables_or_their_headings(world):
    from docx import Document

    document = Document()
    document.add_paragraph("Lägesbild maj 2020 Norr", style="Title")
    document.add_paragraph("Bara löptext.")
    buffer = io.BytesIO()
    document.save(buffer)
    _refused(world, buffer.getvalue(), "has neither the table of city-wide topics")


def test_load_docx_accepts_a_real_export(world):
    data = export_contribution(world.user("consolidator"), world.contribution().id).data
    assert load_docx(data).paragraphs[0].text == "Lägesbild januari 2030 Norr"
