"""Loaders for Word, PowerPoint, Excel, CSV, e-mail, EPUB and scanned PDFs: the text they
produce, the locators a person reads in a citation, the offset contract through chunking,
and one clear sentence for a broken or locked file."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEmbedder
from format_files import (
    CSV_TEXT,
    docx_bytes,
    eml_bytes,
    encrypt_office,
    epub_bytes,
    mbox_bytes,
    pptx_bytes,
    scanned_pdf_bytes,
    text_pdf_bytes,
    xlsx_bytes,
)

from assistant.errors import DocumentError
from assistant.ingest import (
    SUPPORTED_SUFFIXES,
    chunk_document,
    load_document,
    load_documents,
    load_folder,
    source_file,
)
from assistant.ingest.tables import cell_text
from assistant.schema import Chunk, Document

HAS_TESSERACT = shutil.which("tesseract") is not None
needs_tesseract = pytest.mark.skipif(
    not HAS_TESSERACT,
    reason="tesseract is not installed (sudo apt-get install tesseract-ocr tesseract-ocr-eng)",
)


def _write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _load(tmp_path: Path, name: str, data: bytes | str) -> Document:
    return load_document(_write(tmp_path, name, data), tmp_path)


def where(doc: Document, phrase: str) -> str:
    """The locator of a phrase's first character (the phrase must be in the text)."""
    return doc.locator_at(doc.text.index(phrase))


def assert_contract(doc: Document, max_tokens: int = 12) -> list[Chunk]:
    """Every chunk slices the text exactly, carries the locator of its start, and finds the
    locator of any offset inside it as the document does."""
    chunks = chunk_document(
        doc, FakeEmbedder().token_spans, max_tokens=max_tokens, overlap_tokens=3
    )
    assert chunks
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.locator == doc.locator_at(chunk.start)
        for offset in range(chunk.start, chunk.end):
            assert chunk.locator_at(offset) == doc.locator_at(offset)
    starts = [o for o, _ in doc.locators]
    assert starts == sorted(starts)
    assert all(0 <= o < len(doc.text) for o in starts)
    return chunks


def test_new_suffixes_are_supported() -> None:
    for suffix in (".docx", ".pptx", ".xlsx", ".csv", ".eml", ".mbox", ".epub"):
        assert suffix in SUPPORTED_SUFFIXES


# --- Word ----------------------------------------------------------------------------------


def test_docx_paragraphs_tables_and_headings_in_reading_order(tmp_path: Path) -> None:
    doc = _load(tmp_path, "handbook.docx", docx_bytes())
    assert doc.kind == "docx"
    assert doc.text == (
        "This handbook covers the Falcon e-scooter.\n\n"
        "Warranty\n\n"
        "The warranty covers the frame and the battery.\n\n"
        "Repairs\n\n"
        "Repairs under the warranty are free for the first 24 months after purchase.\n\n"
        "Part | Years\n\n"
        "Part: Frame; Years: 10.\n\n"
        "Part: Battery; Years: 2.\n\n"
        "Returns\n\n"
        "Unused scooters can be returned within 30 days."
    )
    assert where(doc, "This handbook") == ""  # before any heading: no section to name
    assert where(doc, "The warranty covers") == "section Warranty"
    assert where(doc, "Repairs under") == "section Warranty › Repairs"
    assert where(doc, "Part: Battery") == "table 1, row 3"
    assert where(doc, "Unused scooters") == "section Returns"
    chunks = assert_contract(doc)
    by_text = {
        c.text: c
        for c in chunk_document(doc, FakeEmbedder().token_spans, max_tokens=200, overlap_tokens=0)
    }
    assert [c.headings for c in by_text.values()] == [
        (),
        ("Warranty",),
        ("Warranty", "Repairs"),
        ("Returns",),
    ]
    assert any(c.locator == "section Warranty › Repairs" for c in chunks)


def test_docx_merged_cells_are_read_once(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    for i, name in enumerate(("City", "Country", "Notes")):
        table.cell(0, i).text = name
    table.cell(1, 0).text = "Lyon"
    merged = table.cell(1, 1).merge(table.cell(1, 2))
    merged.text = "France"
    buffer = io.BytesIO()
    document.save(buffer)
    doc = _load(tmp_path, "t.docx", buffer.getvalue())
    # The merged row has two cells where the header has three: joined, not mislabelled.
    assert doc.text == "City | Country | Notes\n\nLyon | France"


def test_password_protected_docx_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path, "locked.docx", encrypt_office(docx_bytes()))
    with pytest.raises(DocumentError, match=r"^locked\.docx is password-protected: save an"):
        load_document(path, tmp_path)


def test_old_binary_word_file_renamed_docx_says_to_resave(tmp_path: Path) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "WordDocument".encode("utf-16-le")
    with pytest.raises(DocumentError, match=r"old binary Office format.*save it as \.docx"):
        _load(tmp_path, "old.docx", ole)


@pytest.mark.parametrize("name", ["broken.docx", "broken.pptx", "broken.xlsx", "broken.epub"])
def test_corrupt_zip_based_files_are_one_sentence(tmp_path: Path, name: str) -> None:
    with pytest.raises(DocumentError, match="^" + re.escape(name) + " is not a readable"):
        _load(tmp_path, name, b"PK\x03\x04 this zip was cut short")


def test_a_docx_missing_its_document_part_is_reported(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z, zipfile.ZipFile(io.BytesIO(docx_bytes())) as good:
        for item in good.namelist():
            if item != "word/document.xml":
                z.writestr(item, good.read(item))
    with pytest.raises(DocumentError, match=r"gutted\.docx is not a readable \.docx"):
        _load(tmp_path, "gutted.docx", buffer.getvalue())


# --- PowerPoint ----------------------------------------------------------------------------


def test_pptx_one_page_per_slide_with_notes(tmp_path: Path) -> None:
    doc = _load(tmp_path, "deck.pptx", pptx_bytes())
    assert doc.kind == "pptx"
    assert doc.text == (
        "Falcon launch\n\nProduct team briefing\n\n"
        "Launch plan\n\nThe Falcon scooter launches in Lisbon on 14 May 2027.\n\n"
        "Trade fair\n\nStand design is ready.\n\nContact: events team.\n\n"
        "Remind everyone that our booth number at the trade fair is 417."
    )
    assert len(doc.page_starts) == 3
    assert doc.page_at(doc.text.index("Lisbon")) == 2
    assert where(doc, "Product team") == "slide 1"
    assert where(doc, "The Falcon scooter") == "slide 2"
    assert where(doc, "Contact:") == "slide 3"
    assert where(doc, "Remind everyone") == "slide 3 (notes)"
    chunks = assert_contract(doc)
    assert {c.page for c in chunks} == {1, 2, 3}
    assert [h for _, h in doc.sections] == [
        ("slide 1: Falcon launch",),
        ("slide 2: Launch plan",),
        ("slide 3: Trade fair",),
    ]


def test_password_protected_pptx_says_so(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"deck\.pptx is password-protected"):
        _load(tmp_path, "deck.pptx", encrypt_office(pptx_bytes()))


# --- spreadsheets --------------------------------------------------------------------------


def test_xlsx_rows_become_records_with_header_names(tmp_path: Path) -> None:
    doc = _load(tmp_path, "sales.xlsx", xlsx_bytes())
    assert doc.kind == "xlsx"
    q3 = "Region: Berlin; Quarter: Q3; Total: 1,250; Margin: 21.5%; Closed: 2026-09-30."
    assert q3 in doc.text.split("\n\n")
    assert doc.text.startswith("Quarterly sales report\n\nRegion | Quarter | Total")
    # Row numbers are the spreadsheet's own: title row 1, blank row 2, header row 3.
    assert where(doc, "Quarterly") == "sheet Sales, row 1"
    assert where(doc, "Region | Quarter") == "sheet Sales, row 3"
    assert where(doc, q3) == "sheet Sales, row 5"
    assert where(doc, "Figures are") == "sheet Notes, row 1"
    assert [h for _, h in doc.sections] == [("Sales",), ("Notes",)]
    chunks = assert_contract(doc, max_tokens=40)
    # A chunk holding several rows still names the row of each quote inside it.
    multi = next(c for c in chunks if c.locators)
    for offset, label in multi.locators:
        assert multi.locator_at(offset) == label


def test_password_protected_xlsx_says_so(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"sales\.xlsx is password-protected"):
        _load(tmp_path, "sales.xlsx", encrypt_office(xlsx_bytes()))


@pytest.mark.parametrize(
    ("value", "number_format", "shown"),
    [
        (1250, "#,##0", "1,250"),
        (1250.5, "#,##0.00", "1,250.50"),
        (0.215, "0.0%", "21.5%"),
        (3, "General", "3"),
        (2.5, "General", "2.5"),
        (0.1 + 0.2, "General", "0.3"),
        (True, "General", "TRUE"),
        (None, "General", ""),
        ("text", "@", "text"),
    ],
)
def test_cell_values_read_as_the_spreadsheet_shows_them(
    value: object, number_format: str, shown: str
) -> None:
    assert cell_text(value, number_format) == shown


def test_csv_dialect_is_sniffed_and_rows_are_records(tmp_path: Path) -> None:
    doc = _load(tmp_path, "stations.csv", CSV_TEXT.encode("cp1252"))
    assert doc.kind == "csv"
    assert doc.text == (
        "Station | Line | Opened | Notes\n\n"
        "Station: Harbour Gate; Line: Blue; Opened: 1998; Notes: Rebuilt in 2015.\n\n"
        "Station: Old Mill; Line: Green; Opened: 2004; "
        "Notes: Step-free access, lifts on both platforms.\n\n"
        "Station: Castle Hill; Line: Red; Opened: 1987."
    )
    assert where(doc, "Station: Harbour") == "row 2"
    assert where(doc, "Station: Old Mill") == "row 3"  # a quoted line break is one row
    assert where(doc, "Station: Castle") == "row 5"  # the blank line is row 4
    assert_contract(doc)


def test_csv_without_header_keeps_cells(tmp_path: Path) -> None:
    doc = _load(tmp_path, "n.csv", "1,2,3\n4,5,6\n")
    assert doc.text == "1 | 2 | 3\n\n4 | 5 | 6"
    assert where(doc, "4 |") == "row 2"


def test_binary_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"x\.csv looks like a binary file"):
        _load(tmp_path, "x.csv", b"a,b\x00\x01\x02")


# --- e-mail --------------------------------------------------------------------------------


def test_eml_headers_body_and_locator(tmp_path: Path) -> None:
    doc = _load(tmp_path, "move.eml", eml_bytes())
    assert doc.kind == "eml"
    assert doc.text == (
        "Subject: Office move\n"
        "From: Ann Lee <ann@example.com>\n"
        "To: Team <team@example.com>\n"
        "Date: Wed, 01 Jul 2026 09:30:00 +0000\n\n"
        "Hello all,\n\nThe Bristol office moves to 12 Quay Street on 3 August.\n\nAnn"
    )
    assert where(doc, "The Bristol") == "e-mail “Office move” from Ann Lee, 2026-07-01"
    assert_contract(doc)


def test_eml_with_only_html_body_reads_its_visible_text(tmp_path: Path) -> None:
    doc = _load(tmp_path, "move.eml", eml_bytes(html=True))
    assert doc.text.endswith(
        "\n\nHello all,\n\nThe Bristol office moves to 12 Quay Street on 3 August."
    )
    assert "<b>" not in doc.text and "p{}" not in doc.text


def test_eml_attachments_are_documents_of_their_own(tmp_path: Path) -> None:
    data = eml_bytes(
        [
            ("report.pdf", text_pdf_bytes(["Attached report page."])),
            ("notes.txt", b"Plain note attached."),
            ("report.pdf", text_pdf_bytes(["Second file, same name."])),
            ("broken.xlsx", b"not a spreadsheet"),
            ("logo.png", b"\x89PNG\r\n"),
        ]
    )
    path = _write(tmp_path, "inbox/move.eml", data)
    docs, skipped = load_documents(path, tmp_path)
    assert [d.source for d in docs] == [
        "inbox/move.eml",
        "inbox/move.eml#report.pdf",
        "inbox/move.eml#notes.txt",
        "inbox/move.eml#report (2).pdf",
    ]
    assert docs[1].text == "Attached report page."
    assert docs[1].locator_at(0) == "page 1"
    assert docs[3].text == "Second file, same name."
    assert "Attachments: report.pdf, notes.txt, report.pdf, broken.xlsx, logo.png" in docs[0].text
    assert [s.source for s in skipped] == ["inbox/move.eml#broken.xlsx"]
    assert "inbox/move.eml#broken.xlsx is not a readable .xlsx file" in skipped[0].reason
    assert {source_file(d.source) for d in docs} == {"inbox/move.eml"}
    assert load_document(path, tmp_path).source == "inbox/move.eml"
    # The folder loader includes attachments, and reports the broken one.
    all_docs, all_skipped = load_folder(tmp_path)
    assert [d.source for d in all_docs] == [d.source for d in docs]
    assert [s.source for s in all_skipped] == ["inbox/move.eml#broken.xlsx"]


def test_source_file_of_ordinary_sources_is_themselves() -> None:
    assert source_file("notes/a#b.txt") == "notes/a#b.txt"
    assert source_file("a.EML#x.pdf") == "a.EML"
    assert source_file("box.mbox#inner.eml#deep.txt") == "box.mbox"


def test_mbox_messages_are_sections_with_their_own_locators(tmp_path: Path) -> None:
    doc = _load(tmp_path, "team.mbox", mbox_bytes())
    assert doc.kind == "mbox"
    assert "From now on, Fridays are pizza days." in doc.text  # mbox's ">From " undone
    assert where(doc, "Lunch is at noon") == "message 1: e-mail “Lunch” from Ann Lee, 2026-07-02"
    assert where(doc, "The mail server") == (
        "message 2: e-mail “Server maintenance” from Bo Chen, 2026-07-03"
    )
    assert [h for _, h in doc.sections] == [("Lunch",), ("Server maintenance",)]
    chunks = assert_contract(doc, max_tokens=200)
    assert len(chunks) == 2  # messages are never mixed in one chunk


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("x.mbox", "just some text\n", "mailbox"),
        ("x.eml", b"\x00\x01binary", "message"),
    ],
)
def test_not_mail_is_one_sentence(tmp_path: Path, name: str, data: bytes | str, what: str) -> None:
    with pytest.raises(DocumentError, match=rf"x\.\w+ is not an e-mail {what}.*export it again"):
        _load(tmp_path, name, data)


# --- EPUB ----------------------------------------------------------------------------------


def test_epub_reads_the_spine_in_order(tmp_path: Path) -> None:
    doc = _load(tmp_path, "keeper.epub", epub_bytes())
    assert doc.kind == "epub"
    assert doc.text == (
        "The Storm\n\nThe storm reached the island on a Tuesday in October.\n\n"
        "The Lighthouse\n\n"
        "The lighthouse keeper lit the lamp at exactly nine o'clock every night."
    )
    assert where(doc, "The storm reached") == "part 1: The Storm"
    assert where(doc, "The lighthouse keeper") == "part 2: The Lighthouse"
    assert_contract(doc)


def test_epub_with_drm_says_so(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"keeper\.epub is protected by DRM"):
        _load(tmp_path, "keeper.epub", epub_bytes(drm=True))


# --- scanned PDFs --------------------------------------------------------------------------


@needs_tesseract
def test_scanned_pdf_pages_are_read_by_ocr_and_marked(tmp_path: Path) -> None:
    data = scanned_pdf_bytes(
        ["Invoice 2231 was paid on 5 June 2026.", "The balance carried forward is zero."]
    )
    doc = _load(tmp_path, "scan.pdf", data)
    assert "Invoice 2231 was paid on 5 June 2026." in doc.text
    assert "The balance carried forward is zero." in doc.text
    assert where(doc, "Invoice") == "page 1 (OCR)"
    assert where(doc, "The balance") == "page 2 (OCR)"
    assert doc.page_at(doc.text.index("The balance")) == 2
    assert_contract(doc)


@needs_tesseract
def test_only_pages_without_text_are_ocred(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(text_pdf_bytes(["Typed page with a text layer."]))))
    writer.append(PdfReader(io.BytesIO(scanned_pdf_bytes(["A scanned letter follows."]))))
    buffer = io.BytesIO()
    writer.write(buffer)
    doc = _load(tmp_path, "mixed.pdf", buffer.getvalue())
    assert doc.text.startswith("Typed page with a text layer.\n\n")
    assert where(doc, "Typed") == "page 1"
    assert where(doc, "A scanned letter follows.") == "page 2 (OCR)"


def test_without_tesseract_a_scan_says_how_to_turn_ocr_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(
        DocumentError,
        match=r"scan\.pdf has no text .*OCR.*apt-get install "
        r"tesseract-ocr tesseract-ocr-eng",
    ):
        _load(tmp_path, "scan.pdf", scanned_pdf_bytes(["Invoice 2231 was paid."]))


def test_old_chunks_without_locators_still_load() -> None:
    old: dict[str, Any] = {
        "id": "abc",
        "source": "a.pdf",
        "text": "Hello.",
        "start": 0,
        "end": 6,
        "ordinal": 0,
        "hash": "h",
        "page": 1,
        "headings": [],
    }
    chunk = Chunk.from_dict(old)
    assert chunk.locator == "" and chunk.locators == () and chunk.page == 1
    new = Chunk(**{**old, "headings": (), "locator": "row 2", "locators": ((3, "row 3"),)})
    again = Chunk.from_dict(new.to_dict())
    assert again == new
    assert again.locator_at(2) == "row 2" and again.locator_at(3) == "row 3"
