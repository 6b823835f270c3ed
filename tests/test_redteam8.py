"""The eighth red-team pass on a running web chat: documents whose text is packed to unpack
far beyond their size (a PDF whose pages share one compressed page, or draw one form
thousands of times), ...; each sent over HTTP as a hostile client would.

The servers here are served as `assistant ui` serves them (the chat mounted on the early
server) with the fake embedder, so these run in seconds.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_redteam4 import Limited, _served
from test_redteam5 import _call, _upload_files

from assistant.errors import DocumentError


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[Limited]:
    with _served(tmp_path) as served:
        yield served


# ---------------------------------------------------------------- PDFs packed to unpack far

_LINE = b"BT /F1 12 Tf 72 700 Td (Zebras graze in Kenya at dawn.) Tj ET\n"


def _pdf(pages: int, content: bytes, form: bytes | None = None) -> bytes:
    """A PDF of `pages` pages that all show one compressed content stream (content); with
    form, each page's resources also hold it as a form XObject /X0 (which content may draw
    with "/X0 Do")."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"

    def stream(data: bytes, head: bytes = b"") -> bytes:
        packed = zlib.compress(data, 9)
        return b"<< %s/Length %d /Filter /FlateDecode >>stream\n%s\nendstream" % (
            head,
            len(packed),
            packed,
        )

    xobject = b" /XObject << /X0 5 0 R >>" if form is not None else b""
    resources = b"<< /Font << /F1 3 0 R >>%s >>" % xobject
    form_head = b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources %s " % resources
    first = 6 if form is not None else 5
    kids = b" ".join(b"%d 0 R" % (first + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        font,
        stream(content),
        *([stream(form, form_head)] if form is not None else []),
        *(
            [
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources %s "
                b"/Contents 4 0 R >>" % resources
            ]
            * pages
        ),
    ]
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def test_a_pdf_whose_pages_share_one_packed_page_is_refused_at_once(plain: Limited) -> None:
    # Found in this pass: the zip-bomb limits held for .docx, .pptx, .xlsx and .epub, but a
    # PDF's pages are compressed too, and may all show one content stream: a 13 KB PDF of 60
    # pages, each showing the same 1 MB of text operators, unpacks to 60 MB of page content,
    # which takes 90 s to read (100 pages took 147 s on 2 busy cores) in the server's
    # indexer, every upload behind it waiting, and gives 29 million characters to index;
    # 500 pages of 70 MB would hold it for half a day and run it out of memory.
    bomb = _pdf(60, _LINE * (1_000_000 // len(_LINE)))
    assert len(bomb) < 15_000
    with httpx.Client(timeout=300) as client:
        sent = client.post(
            f"{plain.url}/gradio_api/upload",
            files=[("files", ("packed.pdf", bomb, "application/pdf"))],
        )
        assert sent.status_code == 200, sent.text[:300]
        files = [{"path": p, "meta": {"_type": "gradio.FileData"}} for p in sent.json()]
        began = time.monotonic()
        outcome = _call(client, plain.url, "upload", [files])
        took = time.monotonic() - began
        assert "packed.pdf</b> was not added" in outcome and "unpacks to" in outcome, outcome
        assert took < 20, f"the refusal took {took:.0f} s"
        later = _upload_files(client, plain.url, "zebras.txt", "Zebras graze in Kenya at dawn.")
        assert "zebras.txt</b> added" in _call(client, plain.url, "upload", [later])
    assert sorted(p.name for p in plain.docs.iterdir()) == ["a.txt", "zebras.txt"]


def test_a_pdf_page_drawing_one_form_thousands_of_times_is_refused() -> None:
    # Found in this pass: the same through a form XObject, which the text reader reads again
    # at each "Do" that draws it (up to 5,000 a page): one page drawing a 40 KB form 4,000
    # times is 160 MB of content from a 2 KB file.
    from assistant.ingest.pdf import pdf_text

    form = _LINE * (40_000 // len(_LINE))
    bomb = _pdf(1, b"/X0 Do\n" * 4000, form)
    began = time.monotonic()
    with pytest.raises(DocumentError, match="unpacks to"):
        pdf_text(bomb, "drawn.pdf")
    assert time.monotonic() - began < 10


def test_pdfs_that_draw_a_form_or_share_content_a_little_are_read() -> None:
    # A logo drawn on every page, a page shown twice: ordinary PDFs read as before.
    from assistant.ingest.pdf import pdf_text

    logo = _pdf(20, b"/X0 Do\n" + _LINE, b"BT /F1 8 Tf 10 10 Td (Acme Corp.) Tj ET\n")
    built = pdf_text(logo, "logo.pdf")
    assert len(built.page_starts) == 20
    assert built.text.count("Acme Corp.") == 20 and built.text.count("Zebras") == 20
