"""Read files into Documents: .txt/.md verbatim, .pdf and .html as extracted text.

For .txt/.md the Document's text is the file's decoded text unchanged (no newline or
whitespace normalisation), because citations slice it by offsets and must match the file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from pathlib import Path

from ..errors import DocumentError, InputError
from ..schema import Document, SkippedFile

__all__ = ["SUPPORTED_SUFFIXES", "load_document", "load_folder", "scan_folder"]

_KINDS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_KINDS)
_SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_SUFFIXES))
_SNIFF_BYTES = 8192  # NUL bytes this early mean a binary file, not text


def scan_folder(folder: Path) -> tuple[list[Path], list[SkippedFile]]:
    """Every file under `folder` (recursively, sorted, hidden ones left out): the supported
    ones, and a SkippedFile for each of the others.

    Example: notes.md, img/logo.png, .git/HEAD ->
             ([folder/"notes.md"], [SkippedFile("img/logo.png", "img/logo.png has unsupported
             type .png; supported: .htm, .html, .markdown, .md, .pdf, .txt")])
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"no folder at {folder}: pass a folder of .txt, .md, .pdf or .html files")
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]  # .git, .venv, ...
        found.extend(Path(dirpath) / name for name in filenames if not name.startswith("."))
    found.sort(key=lambda p: _source(p, folder))
    supported: list[Path] = []
    skipped: list[SkippedFile] = []
    for path in found:
        suffix = path.suffix.lower()
        if suffix in SUPPORTED_SUFFIXES:
            supported.append(path)
        else:
            source = _source(path, folder)
            skipped.append(SkippedFile(source, _unsupported(source, suffix)))
    return supported, skipped


def load_folder(folder: Path) -> tuple[list[Document], list[SkippedFile]]:
    """Load every supported file under `folder`; files that cannot be read are reported as
    SkippedFile (their reason is the DocumentError's message) and never stop the run."""
    paths, skipped = scan_folder(folder)
    documents: list[Document] = []
    for path in paths:
        try:
            documents.append(load_document(path, folder))
        except DocumentError as exc:
            skipped.append(SkippedFile(_source(path, folder), str(exc)))
    skipped.sort(key=lambda s: s.source)
    return documents, skipped


def load_document(path: Path, root: Path) -> Document:
    """Read one file into a Document whose `source` is its path relative to `root`.

    Raises DocumentError, with a message that says what to do, for an unsupported type and
    for a file that is unreadable, binary, encrypted, broken or without text.
    Example: load_document(Path("docs/a/notes.txt"), Path("docs")).source == "a/notes.txt"
    """
    path, root = Path(path), Path(root)
    source = _source(path, root)
    suffix = path.suffix.lower()
    kind = _KINDS.get(suffix)
    if kind is None:
        raise DocumentError(_unsupported(source, suffix))
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DocumentError(
            f"could not read {source} ({reason}): check that it exists and is readable"
        ) from exc

    page_starts: tuple[int, ...] = ()
    if kind == "pdf":
        text, page_starts = _pdf_text(data, source)
    else:
        if _looks_binary(data):
            raise DocumentError(
                f"{source} looks like a binary file, not {suffix} text: "
                "convert it to text or remove it from the folder"
            )
        text = _html_text(data, source) if kind == "html" else _decode(data)
    if not text.strip():
        what = "has no text that can be extracted" if kind == "pdf" else "is empty"
        hint = " (a scanned PDF needs OCR first)" if kind == "pdf" else ""
        raise DocumentError(f"{source} {what}{hint}: add text to it or remove it from the folder")
    return Document(
        source=source,
        text=text,
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        page_starts=page_starts,
    )


def _source(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:  # not under root: the name is the best we have
        return path.name


def _unsupported(source: str, suffix: str) -> str:
    what = suffix or "(no extension)"
    return f"{source} has unsupported type {what}; supported: {_SUPPORTED_LIST}"


def _looks_binary(data: bytes) -> bool:
    head = data[:_SNIFF_BYTES]
    # UTF-16 text is full of NULs but is text; its BOM says so.
    return b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _decode(data: bytes) -> str:
    """UTF-8 (a BOM is dropped); UTF-16 with a BOM; else cp1252, else latin-1 (never fails),
    so a file saved by an old editor is kept rather than skipped."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _pdf_text(data: bytes, source: str) -> tuple[str, tuple[int, ...]]:
    """Text of each page joined by a blank line, and the offset where each page starts."""
    from pypdf import PdfReader  # imported here: only PDFs need it

    broken = (
        f"{source} is not a readable PDF (damaged or not really a PDF): "
        "re-export it or remove it from the folder"
    )
    locked = f"{source} is password-protected: save an unprotected copy to index it"
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(locked)
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many kinds (PdfReadError, KeyError, ...)
        if "decrypt" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise DocumentError(locked) from exc
        raise DocumentError(broken) from exc
    starts: list[int] = []
    offset = 0
    for text in pages:
        starts.append(offset)
        offset += len(text) + 2  # the "\n\n" between pages
    return "\n\n".join(pages), tuple(starts)


# --- HTML ----------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Elements whose content is never visible text.
_INVISIBLE = _words(
    """
    script style noscript template head svg canvas iframe object embed audio video map
    select button input textarea meta link base
    """
)
# Elements that stand apart as paragraphs (a blank line around them) or as lines.
_PARAGRAPH_TAGS = _words(
    """
    p h1 h2 h3 h4 h5 h6 pre blockquote table ul ol dl figure section article header
    footer nav aside main form address details hr fieldset
    """
)
_LINE_TAGS = _words("div li tr dt dd figcaption caption summary br option legend")
_CELL_TAGS = frozenset(("td", "th"))
_SPACE = re.compile(r"\s+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


class _TextWriter:
    """Collects visible text: spaces collapsed inside a line, lines and blank lines between
    blocks, so sentences read as they do on the page."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.line: list[str] = []
        self.pending_break = 0  # 1: newline, 2: blank line, before the next text
        self.pending_space = False

    def text(self, value: str, *, preformatted: bool = False) -> None:
        if preformatted:
            lines = value.split("\n")
            for i, line in enumerate(lines):
                if i:
                    self.newline(1)
                if line.strip():
                    self._write(line.rstrip())
            return
        collapsed = _SPACE.sub(" ", value)
        if collapsed.startswith(" "):
            self.pending_space = True
        words = collapsed.strip()
        if words:
            self._write(words)
        if collapsed.endswith(" "):
            self.pending_space = True

    def _write(self, words: str) -> None:
        if not self.line and self.parts and self.pending_break:
            self.parts.append("\n" * self.pending_break)
        elif self.line and self.pending_space:
            self.line.append(" ")
        self.pending_break = 0
        self.pending_space = False
        self.line.append(words)

    def separator(self, value: str) -> None:
        if self.line:
            self.line.append(value)
            self.pending_space = False

    def newline(self, level: int) -> None:
        if self.line:
            self.parts.append("".join(self.line).rstrip())
            self.line = []
        self.pending_break = max(self.pending_break, level)
        self.pending_space = False

    def result(self) -> str:
        self.newline(0)
        return "".join(self.parts).strip()


def _html_text(data: bytes, source: str) -> str:
    from bs4 import BeautifulSoup  # imported here: only HTML needs it
    from bs4.element import NavigableString, Tag

    try:
        with warnings.catch_warnings():
            # bs4 warns when markup looks like a URL or is XHTML; the text is wanted anyway.
            warnings.simplefilter("ignore")
            soup = BeautifulSoup(data, "html.parser")
    except Exception as exc:  # html.parser is lenient; this is a last resort
        raise DocumentError(
            f"{source} could not be parsed as HTML: re-save it or remove it from the folder"
        ) from exc

    writer = _TextWriter()
    title_tag = soup.find("title")
    title = _SPACE.sub(" ", title_tag.get_text()).strip() if title_tag else ""

    def visible(tag: Tag) -> bool:
        if tag.name in _INVISIBLE or tag.has_attr("hidden"):
            return False
        if str(tag.get("aria-hidden", "")).lower() == "true":
            return False
        return not _HIDDEN_STYLE.search(str(tag.get("style", "")))

    def walk(tag: Tag, preformatted: bool) -> None:
        for child in tag.children:
            if isinstance(child, Tag):
                if not visible(child):
                    continue
                name = child.name
                level = 2 if name in _PARAGRAPH_TAGS else 1 if name in _LINE_TAGS else 0
                if level:
                    writer.newline(level)
                elif name in _CELL_TAGS:
                    writer.separator(" | ")
                walk(child, preformatted or name == "pre")
                if level:
                    writer.newline(level)
            # Comments, doctypes and CDATA are NavigableString subclasses: not visible text.
            elif type(child) is NavigableString:
                writer.text(str(child), preformatted=preformatted)

    walk(soup, False)
    body = writer.result()
    if title and not body.startswith(title):
        return f"{title}\n\n{body}" if body else title
    return body
