"""Loaders: files -> Documents, and folders -> the files worth loading."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from fakes import FakeEmbedder
from format_files import text_pdf_bytes

from assistant.errors import DocumentError, InputError
from assistant.ingest import (
    SUPPORTED_SUFFIXES,
    chunk_document,
    load_document,
    load_folder,
    scan_folder,
)


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


# --- text and markdown -------------------------------------------------------------------


def test_txt_text_is_the_file_unchanged(tmp_path: Path) -> None:
    raw = "  Title\r\n\r\nFirst line.  \nSecond\tline.\n\n\n"
    path = _write(tmp_path / "sub" / "notes.txt", raw)
    doc = load_document(path, tmp_path)
    assert doc.text == raw
    assert doc.source == "sub/notes.txt"
    assert doc.kind == "txt"
    assert doc.size == len(raw.encode())
    assert doc.sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert doc.page_starts == ()
    assert doc.page_at(3) is None


@pytest.mark.parametrize(("name", "kind"), [("a.md", "md"), ("b.markdown", "md"), ("C.TXT", "txt")])
def test_kind_from_suffix_in_any_case(tmp_path: Path, name: str, kind: str) -> None:
    assert load_document(_write(tmp_path / name, "# Hi\n\nText."), tmp_path).kind == kind


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path / "bom.txt", b"\xef\xbb\xbfHello.")
    assert load_document(path, tmp_path).text == "Hello."


def test_cp1252_file_is_kept_and_decoded(tmp_path: Path) -> None:
    text = "Café “quoted” – 5 €."
    path = _write(tmp_path / "old.txt", text.encode("cp1252"))
    assert load_document(path, tmp_path).text == text


def test_bytes_outside_cp1252_fall_back_to_latin1(tmp_path: Path) -> None:
    path = _write(tmp_path / "odd.txt", b"abc \x81 def")  # 0x81 is undefined in cp1252
    assert load_document(path, tmp_path).text == "abc \x81 def"


def test_utf16_with_bom_is_text_not_binary(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.txt", "Wide text.".encode("utf-16"))
    assert load_document(path, tmp_path).text == "Wide text."


def test_unicode_text_round_trips(tmp_path: Path) -> None:
    text = "Ça va? Ñandú 😀 done. 東京は日本の首都です。 مرحبا بالعالم. שלום עולם."
    assert load_document(_write(tmp_path / "u.md", text), tmp_path).text == text


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  "])
def test_empty_or_whitespace_file_is_a_document_error(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path / "notes.txt", content)
    with pytest.raises(DocumentError, match=r"notes\.txt is empty: add text"):
        load_document(path, tmp_path)


def test_binary_file_is_a_document_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    with pytest.raises(DocumentError, match=r"image\.txt looks like a binary file"):
        load_document(path, tmp_path)


def test_unsupported_suffix_is_a_document_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "report.doc", b"\xd0\xcf\x11\xe0")
    with pytest.raises(DocumentError, match=r"unsupported type \.doc; supported: .*\.txt"):
        load_document(path, tmp_path)


def test_missing_file_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"could not read gone\.txt"):
        load_document(tmp_path / "gone.txt", tmp_path)


# --- HTML ----------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><title>The   Page</title><meta charset="utf-8">
<style>p { color: red }</style><script>var secret = "do not index";</script></head>
<body><!-- a comment -->
<h1>Main heading</h1>
<p>First <b>bold</b>
   sentence here.  Second&nbsp;sentence &amp; more.</p>
<div>Line one</div><div>Line two<br>after a break</div>
<ul><li>apples</li><li>pears</li></ul>
<table><tr><th>Name</th><th>Age</th></tr><tr><td>Ada</td><td>36</td></tr></table>
<noscript>enable javascript</noscript><template>template text</template>
<span hidden>hidden text</span><p style="display: none">invisible text</p>
<script type="application/ld+json">{"json": "blob"}</script>
<p>Caf&eacute; &#128512;</p>
</body></html>"""


def test_html_keeps_visible_text_only(tmp_path: Path) -> None:
    doc = load_document(_write(tmp_path / "page.html", PAGE), tmp_path)
    assert doc.kind == "html"
    assert doc.text == (
        "The Page\n\n"
        "Main heading\n\n"
        "First bold sentence here. Second sentence & more.\n\n"
        "Line one\nLine two\nafter a break\n\n"
        "apples\npears\n\n"
        "Name | Age\nAda | 36\n\n"
        "Café 😀"
    )
    for gone in ("secret", "color", "comment", "javascript", "template", "hidden", "invisible"):
        assert gone not in doc.text


def test_html_title_is_not_repeated(tmp_path: Path) -> None:
    html = "<html><head><title>Hello</title></head><body><h1>Hello</h1><p>Hi.</p></body></html>"
    assert load_document(_write(tmp_path / "a.htm", html), tmp_path).text == "Hello\n\nHi."


def test_html_without_visible_text_is_a_document_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "blank.html", "<html><script>x = 1</script><p>  </p></html>")
    with pytest.raises(DocumentError, match=r"blank\.html is empty"):
        load_document(path, tmp_path)


def test_html_in_cp1252_is_decoded(tmp_path: Path) -> None:
    html = '<html><head><meta charset="windows-1252"></head><body><p>Café – ok.</p></body></html>'
    path = _write(tmp_path / "legacy.html", html.encode("cp1252"))
    assert load_document(path, tmp_path).text == "Café – ok."


# --- PDF -----------------------------------------------------------------------------------


def test_pdf_pages_and_page_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path / "two.pdf", text_pdf_bytes(["Page one text.", "Page two text."]))
    doc = load_document(path, tmp_path)
    assert doc.kind == "pdf"
    assert doc.text == "Page one text.\n\nPage two text."
    assert doc.page_starts == (0, 16)
    assert doc.page_at(doc.text.index("one")) == 1
    assert doc.page_at(doc.text.index("two")) == 2
    chunks = chunk_document(doc, FakeEmbedder().token_spans, max_tokens=5, overlap_tokens=0)
    assert [(c.text, c.page) for c in chunks] == [("Page one text.", 1), ("Page two text.", 2)]


def test_broken_pdf_is_a_document_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "broken.pdf", b"%PDF-1.4\nthis is not really a pdf")
    with pytest.raises(DocumentError, match=r"broken\.pdf is not a readable PDF"):
        load_document(path, tmp_path)


def test_encrypted_pdf_is_a_document_error(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    path = _write(tmp_path / "locked.pdf", buffer.getvalue())
    with pytest.raises(DocumentError, match=r"locked\.pdf is password-protected"):
        load_document(path, tmp_path)


def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path) -> None:
    # Many PDFs are "encrypted" only to restrict printing or copying: they open without a
    # password, so they are text like any other.
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(text_pdf_bytes(["Page one text.", "Page two text."]))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    doc = load_document(_write(tmp_path / "restricted.pdf", buffer.getvalue()), tmp_path)
    assert doc.text == "Page one text.\n\nPage two text."


def test_pdf_without_text_is_a_document_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "scan.pdf", text_pdf_bytes(["", ""]))
    with pytest.raises(DocumentError, match=r"scan\.pdf has no text .*OCR"):
        load_document(path, tmp_path)


# --- folders -------------------------------------------------------------------------------


def test_scan_folder_sorts_skips_hidden_and_reports_unsupported(tmp_path: Path) -> None:
    for name in ("b.txt", "a.md", "sub/c.pdf", "sub/deeper/d.HTML", "img/logo.png", "LICENSE"):
        _write(tmp_path / name, "x")
    for hidden in (".DS_Store", ".git/HEAD", ".hidden/e.txt", "sub/.notes.txt"):
        _write(tmp_path / hidden, "x")
    paths, skipped = scan_folder(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "a.md",
        "b.txt",
        "sub/c.pdf",
        "sub/deeper/d.HTML",
    ]
    assert [s.source for s in skipped] == ["LICENSE", "img/logo.png"]
    assert "unsupported type .png; supported: " in skipped[1].reason
    assert all(suffix in skipped[1].reason for suffix in SUPPORTED_SUFFIXES)
    assert "(no extension)" in skipped[0].reason


@pytest.mark.parametrize("make", ["missing", "file"])
def test_scan_folder_needs_a_folder(tmp_path: Path, make: str) -> None:
    target = tmp_path / "docs"
    if make == "file":
        _write(target, "not a folder")
    with pytest.raises(InputError, match=r"no folder at .*docs: pass a folder of \.txt"):
        scan_folder(target)


def test_load_folder_reports_bad_files_and_keeps_going(tmp_path: Path) -> None:
    _write(tmp_path / "good.txt", "Fine text.")
    _write(tmp_path / "empty.md", "")
    _write(tmp_path / "bin.txt", b"\x00\x01\x02")
    _write(tmp_path / "bad.pdf", b"garbage")
    _write(tmp_path / "old.txt", "naïve".encode("cp1252"))
    _write(tmp_path / "x.doc", "x")
    _write(tmp_path / "y.docx", "not a zip")
    docs, skipped = load_folder(tmp_path)
    assert [d.source for d in docs] == ["good.txt", "old.txt"]
    assert docs[1].text == "naïve"
    reasons = {s.source: s.reason for s in skipped}
    assert sorted(reasons) == ["bad.pdf", "bin.txt", "empty.md", "x.doc", "y.docx"]
    assert "empty.md is empty" in reasons["empty.md"]
    assert "binary" in reasons["bin.txt"]
    assert "not a readable PDF" in reasons["bad.pdf"]
    assert "unsupported type .doc;" in reasons["x.doc"]
    assert "y.docx is not a readable .docx file" in reasons["y.docx"]


def test_the_seed_folder_loads(tmp_path: Path) -> None:
    seeds = Path(__file__).resolve().parents[1] / "seeds"
    docs, skipped = load_folder(seeds)
    assert "amazon-anthropic-investment.txt" in [d.source for d in docs]
    assert all(d.text.strip() for d in docs)
    assert not [s for s in skipped if not s.reason.startswith(s.source)]
