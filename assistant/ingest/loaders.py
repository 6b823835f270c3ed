"""Read files into Documents: .txt/.md verbatim; PDF, HTML, Word, PowerPoint, Excel, CSV,
e-mail and EPUB as extracted text with locators (page, slide, sheet and row, e-mail header).

For .txt/.md the Document's text is the file's decoded text unchanged (no newline or
whitespace normalisation), because citations slice it by offsets and must match the file.
Every other loader produces its text once, and offsets refer to that text.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..errors import DocumentError, InputError
from ..schema import Document, SkippedFile
from ..settings import DEFAULT_UNPACK_LIMITS, UnpackLimits
from .textbuild import SNIFF_BYTES, Built, decode_text, looks_binary

if TYPE_CHECKING:
    from .mail import Attachment

__all__ = [
    "SUPPORTED_SUFFIXES",
    "load_document",
    "load_documents",
    "load_folder",
    "read_regular",
    "scan_folder",
    "source_file",
    "too_big",
]

_KINDS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".csv": "csv",
    ".tsv": "csv",
    ".eml": "eml",
    ".mbox": "mbox",
    ".epub": "epub",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_KINDS)
_SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_SUFFIXES))
_TEXT_KINDS = frozenset(("txt", "md", "html", "csv"))  # decoded text: binary content is refused
_MAIL_KINDS = frozenset(("eml", "mbox"))
_MAX_ATTACHMENT_DEPTH = 3  # a message attached to a message attached to ...: stop here
# An attachment's source is "<file>#<name>": the "#" follows the mail file's own suffix.
_ATTACHMENT = re.compile(r"\.(?:eml|mbox)#", re.IGNORECASE)


def scan_folder(
    folder: Path, *, follow_links: bool = False
) -> tuple[list[Path], list[SkippedFile]]:
    """Every file under `folder` (recursively, sorted, hidden ones left out): the supported
    ones, and a SkippedFile for each of the others.

    Only regular files are read: a FIFO, socket or device would block or never end, so it is
    skipped. A link is followed only when its target lies inside the folder, or when
    `follow_links` allows targets anywhere; links to folders are never followed (they can
    loop). A name that is not valid UTF-8 cannot be recorded in the index and is skipped.

    Example: notes.md, img/logo.png, .git/HEAD ->
             ([folder/"notes.md"], [SkippedFile("img/logo.png", "img/logo.png has unsupported
             type .png; supported: .csv, .docx, ..., .txt, .xlsx")])
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"no folder at {folder}: pass a folder of .txt, .md, .pdf, .docx or other documents"
        )
    root = folder.resolve()
    found: list[Path] = []
    skipped: list[SkippedFile] = []
    for dirpath, dirnames, filenames in _walk(os.fspath(folder)):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]  # .git, .venv, ...
        for d in dirnames:
            if os.path.islink(os.path.join(dirpath, d)):  # os.walk does not descend into it
                source = _printable(_source(Path(dirpath) / d, folder))
                skipped.append(
                    SkippedFile(
                        source,
                        f"{source} is a link to a folder, which is not followed: "
                        "copy the folder into the documents folder to index it",
                    )
                )
        found.extend(Path(dirpath) / name for name in filenames if not name.startswith("."))
    found.sort(key=lambda p: _source(p, folder))
    supported: list[Path] = []
    for path in found:
        source = _source(path, folder)
        problem = _unusable(path, source, root, follow_links)
        if problem is not None:
            skipped.append(SkippedFile(_printable(source), problem))
        else:
            supported.append(path)
    return supported, skipped


def _walk(top: str) -> Iterator[tuple[str, list[str], list[str]]]:
    """What os.walk(top) gives (top down, a folder's names before its subfolders', links to
    folders listed but not entered, unreadable folders passed over, dirnames pruned in place
    by the caller), without recursion: Python 3.11's os.walk recurses once per level, so a
    folder nested 1,500 deep (a 3,016-character path) raised RecursionError, and `assistant
    index`, the web chat's start-up and every sync of the folder stopped with a traceback.

    Example: a/x.txt, a/b/y.txt -> ("a", ["b"], ["x.txt"]), ("a/b", [], ["y.txt"])
    """
    stack = [top]
    while stack:
        path = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError:
            continue
        dirnames: list[str] = []
        filenames: list[str] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # a link to a folder counts, as in os.walk
            except OSError:
                is_dir = False
            (dirnames if is_dir else filenames).append(entry.name)
        yield path, dirnames, filenames
        for name in reversed(dirnames):  # depth first, in os.walk's order
            inner = os.path.join(path, name)
            if not os.path.islink(inner):
                stack.append(inner)


def _unusable(path: Path, source: str, root: Path, follow_links: bool) -> str | None:
    """Why the file at path cannot be indexed, or None when it can (checked without opening
    it, so a FIFO never blocks the scan)."""
    shown = _printable(source)
    if shown != source:
        return (
            f"{shown} has a name that is not valid UTF-8, which the index cannot record: "
            "rename the file"
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return _unsupported(source, suffix)
    if source_file(source) != source:
        # "q3.eml#report.txt" is how an e-mail's attachment is named: indexed under it, the
        # file's passages read as the e-mail's, and the sync stopped with a ValueError (the
        # web chat's start-up too, for as long as the file was there).
        return (
            f"{source} has a name that reads as an attachment of {source_file(source)} "
            "(an e-mail's attachments are named “mail.eml#file”): rename the file"
        )
    try:
        if path.is_symlink():
            target = Path(os.path.realpath(path))
            if not follow_links and root != target and root not in target.parents:
                return (
                    f"{source} is a link to a file outside the documents folder, which is not "
                    "followed: copy the file in, or set ASSISTANT_FOLLOW_SYMLINKS=true"
                )
        mode = path.stat().st_mode
    except OSError:
        return f"{source} is a link to nothing: remove the link or restore its target"
    if not stat.S_ISREG(mode):
        return (
            f"{source} is not a regular file (a pipe, socket or device): "
            "remove it from the documents folder"
        )
    return None


def _printable(source: str) -> str:
    """source with bytes that are not UTF-8 (surrogate-escaped by os.walk) shown as \\xNN.

    Example: _printable("caf\\udce9.txt") == "caf\\\\xe9.txt"
    """
    try:
        source.encode("utf-8")
        return source
    except UnicodeEncodeError:
        raw = source.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "backslashreplace")


@contextlib.contextmanager
def open_regular(
    path: Path,
    source: str,
    max_bytes: int | None = None,
    identity: tuple[int, int] | None = None,
) -> Iterator[BinaryIO]:
    """The open file, if it is a regular one; DocumentError (one sentence) for anything else,
    for one over max_bytes, for one that is not the file `identity` (device, inode) names,
    and for a read that fails inside the block.

    The file is opened without blocking and checked on the open descriptor, so a FIFO or a
    device that replaced the file after the scan is refused rather than read forever. Its
    size is checked there too, before any byte is read: a 10 GB sparse file (made in an
    instant, all holes) was read whole, 30 s to hash and 10.5 GB of memory to load.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DocumentError(
            f"could not read {source} ({reason}): check that it exists and is readable"
        ) from exc
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError(
                f"{source} is not a regular file (a pipe, socket or device): "
                "remove it from the documents folder"
            )
        if max_bytes is not None and info.st_size > max_bytes:
            raise DocumentError(too_big(source, max_bytes, info.st_size))
        if identity is not None and (info.st_dev, info.st_ino) != identity:
            # Not the file the scan checked and hashed (a link out of the folder swapped in
            # since, on a folder others can write): its next scan checks it again.
            raise DocumentError(
                f"{source} changed into another file while the folder was being indexed: "
                "it is read again at the next sync"
            )
        try:
            yield fh
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise DocumentError(
                f"could not read {source} ({reason}): check that it is readable"
            ) from exc


def too_big(source: str, max_bytes: int, size: int | None = None) -> str:
    """The sentence for a file over the most a document may be (size None: it grew past it
    while being read, or its size is not what it reads as, like a /proc file's 0).

    Example: too_big("a.txt", 1 << 30, 10 << 30) == "a.txt is 10,240 MB, more than the 1,024
             MB a document may be (ASSISTANT_UNPACK_MAX_BYTES): split it or remove it from
             the documents folder"
    """
    what = f"is {_amount(size)}," if size is not None else "reads as"
    return (
        f"{source} {what} more than the {_amount(max_bytes)} a document may be "
        "(ASSISTANT_UNPACK_MAX_BYTES): split it or remove it from the documents folder"
    )


def _amount(size: int) -> str:
    """Example: _amount(3000) == "3,000 bytes"; _amount(5 << 20) == "5 MB" """
    return f"{size / (1 << 20):,.0f} MB" if size >= 1 << 20 else f"{size:,} bytes"


def read_regular(path: Path, source: str, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file; DocumentError (one sentence) for anything else, and for
    one over max_bytes (checked before reading, and while reading: a file may grow)."""
    with open_regular(path, source, max_bytes) as fh:
        data = fh.read() if max_bytes is None else _read_at_most(fh, max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise DocumentError(too_big(source, max_bytes))
    return data


_READ_BLOCK = 1 << 20


def _read_at_most(fh: BinaryIO, limit: int) -> bytes:
    """At most limit bytes of fh, read a block at a time: one read of the whole limit makes
    Python set aside that much memory first (a 1 GiB cap for a 300-byte file), which fails
    where the system does not overcommit memory.

    Example: _read_at_most(io.BytesIO(b"abc"), 1 << 30) == b"abc"
    """
    parts: list[bytes] = []
    left = limit
    while left > 0:
        block = fh.read(min(left, _READ_BLOCK))
        if not block:
            break
        parts.append(block)
        left -= len(block)
    return b"".join(parts)


def load_folder(
    folder: Path, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS
) -> tuple[list[Document], list[SkippedFile]]:
    """Load every supported file under `folder` (e-mail attachments as documents of their
    own); files that cannot be read are reported as SkippedFile (their reason is the
    DocumentError's message) and never stop the run."""
    paths, skipped = scan_folder(folder)
    documents: list[Document] = []
    for path in paths:
        try:
            loaded, bad = load_documents(path, folder, limits)
        except DocumentError as exc:
            skipped.append(SkippedFile(_source(path, folder), str(exc)))
            continue
        documents.extend(loaded)
        skipped.extend(bad)
    skipped.sort(key=lambda s: s.source)
    return documents, skipped


def load_document(path: Path, root: Path, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS) -> Document:
    """Read one file into a Document whose `source` is its path relative to `root` (for an
    e-mail, the message itself: load_documents also gives its attachments).

    Raises DocumentError, with a message that says what to do, for an unsupported type and
    for a file that is unreadable, binary, encrypted, broken or without text.
    Example: load_document(Path("docs/a/notes.txt"), Path("docs")).source == "a/notes.txt"
    """
    return load_documents(path, root, limits)[0][0]


def load_documents(
    path: Path,
    root: Path,
    limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
    identity: tuple[int, int] | None = None,
) -> tuple[list[Document], list[SkippedFile]]:
    """Read one file into its Documents: the file's own first, then, for an e-mail, each
    attachment of a supported type as a Document with source "<file>#<attachment name>"
    (e.g. "inbox/q3.eml#report.pdf"). Attachments that cannot be read come back as
    SkippedFile and do not stop the message from loading.

    Raises DocumentError (one sentence saying what to do) when the file itself cannot be
    read. limits: Settings.unpack_limits, for zip packages (.docx, .epub, ...). identity:
    the (device, inode) the file must be (the one a scan checked), or None.
    Example: load_documents(Path("d/q3.eml"), Path("d")) ->
    ([Document("q3.eml", ...), Document("q3.eml#report.pdf", ...)], [])
    """
    path, root = Path(path), Path(root)
    source = _source(path, root)
    suffix = path.suffix.lower()
    if suffix not in _KINDS:
        raise DocumentError(_unsupported(source, suffix))
    with open_regular(path, source, limits.max_bytes, identity) as fh:
        # A text file is tested for binary content on its head, before the rest is read: a
        # 1 GB sparse .txt (all holes, made in an instant) was read whole to be refused.
        data = fh.read(SNIFF_BYTES)
        if _KINDS[suffix] in _TEXT_KINDS and looks_binary(data):
            raise DocumentError(_binary(source, suffix))
        data += fh.read(limits.max_bytes + 1 - len(data))
    if len(data) > limits.max_bytes:  # it grew while being read
        raise DocumentError(too_big(source, limits.max_bytes))
    return _load_bytes(data, suffix, source, depth=0, limits=limits)


def source_file(source: str) -> str:
    """The file (relative to the documents folder) that a Document's source comes from:
    itself, or the e-mail that an attachment's source names.

    Example: source_file("inbox/q3.eml#report.pdf") == "inbox/q3.eml";
             source_file("notes/a#b.txt") == "notes/a#b.txt"
    """
    match = _ATTACHMENT.search(source)
    return source[: match.end() - 1] if match else source


def _load_bytes(
    data: bytes, suffix: str, source: str, *, depth: int, limits: UnpackLimits
) -> tuple[list[Document], list[SkippedFile]]:
    kind = _KINDS[suffix]
    if kind in _TEXT_KINDS and looks_binary(data):
        raise DocumentError(_binary(source, suffix))
    try:
        built, attachments = _extract(kind, data, source, limits)
    except RecursionError as exc:
        # Any parser may recurse once per level: an e-mail of 1,000 messages forwarded
        # within each other (66 KB) made the standard library's raise this, which stopped
        # every sync of the folder, and the next start, while the file was there.
        raise DocumentError(
            f"{source} is nested too deeply to read (parts within parts, hundreds deep): "
            "save a flatter copy or remove it from the folder"
        ) from exc
    if not built.text.strip():
        raise DocumentError(_empty(kind, source))
    document = Document(
        source=source,
        text=built.text,
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        page_starts=built.page_starts,
        locators=built.locators,
        sections=built.sections,
    )
    documents = [document]
    skipped: list[SkippedFile] = []
    taken: dict[str, int] = {}
    # Attachments share their file's limits: none has a floor of its own (below which any
    # ratio passes), and together they OCR at most what one file may. Each held to the
    # limits of a file of its own, 300 small PDF attachments of one e-mail were 300 times
    # the 32 MB floor of page content to read, over two hours.
    ocr_left = limits.ocr_pages
    for attachment in attachments:
        name = _unique(attachment.name, taken)
        inner_source = f"{source}#{name}"
        inner_suffix = Path(name).suffix.lower()
        if inner_suffix not in _KINDS:
            continue  # images, signatures, calendar invites: not documents to index
        if depth >= _MAX_ATTACHMENT_DEPTH:
            skipped.append(
                SkippedFile(
                    inner_source,
                    f"{inner_source} is nested too deep in forwarded messages: "
                    "save it as a file of its own to index it",
                )
            )
            continue
        shared = replace(
            limits,
            ratio_floor_bytes=0,
            ocr_floor_pages=0,
            ocr_pages=max(ocr_left, 0),
            attachments_floor=0,
        )
        try:
            inner, bad = _load_bytes(
                attachment.data, inner_suffix, inner_source, depth=depth + 1, limits=shared
            )
        except DocumentError as exc:
            skipped.append(SkippedFile(inner_source, str(exc)))
            continue
        ocr_left -= sum(label.endswith("(OCR)") for d in inner for _at, label in d.locators)
        documents.extend(inner)
        skipped.extend(bad)
    return documents, skipped


def _extract(
    kind: str, data: bytes, source: str, limits: UnpackLimits
) -> tuple[Built, list[Attachment]]:
    """The kind's text and, for e-mail, its attachments. Each loader module is imported only
    when a file of its kind turns up (python-docx, openpyxl, pypdfium2 are heavy)."""
    if kind in ("txt", "md"):
        return Built(decode_text(data)), []
    if kind == "html":
        from .html import html_text

        return Built(html_text(data, source)), []
    if kind == "pdf":
        from .pdf import pdf_text

        return pdf_text(data, source, limits), []
    if kind == "csv":
        from .tables import csv_text

        return csv_text(decode_text(data), source, limits), []
    if kind == "xlsx":
        from .tables import xlsx_text

        return xlsx_text(data, source, limits), []
    if kind == "docx":
        from .office import docx_text

        return docx_text(data, source, limits), []
    if kind == "pptx":
        from .office import pptx_text

        return pptx_text(data, source, limits), []
    if kind == "epub":
        from .epub import epub_text

        return epub_text(data, source, limits), []
    from .mail import eml_text, max_attachments, mbox_text

    most = max_attachments(len(data), limits.attachments_floor)
    if kind == "eml":
        built, attachments = eml_text(data, source, most)
    else:
        built, attachments = mbox_text(data, source, most)
    return built, attachments


def _binary(source: str, suffix: str) -> str:
    return (
        f"{source} looks like a binary file, not {suffix} text: "
        "convert it to text or remove it from the folder"
    )


def _empty(kind: str, source: str) -> str:
    if kind != "pdf":
        return f"{source} is empty: add text to it or remove it from the folder"
    from .pdf import OCR_HINT, ocr_available

    if ocr_available():
        return (
            f"{source} has no text that can be extracted, not even by OCR: "
            "add a text layer to it or remove it from the folder"
        )
    return f"{source} has no text that can be extracted (a scanned PDF needs OCR): {OCR_HINT}"


def _unique(name: str, taken: dict[str, int]) -> str:
    """`name`, or "stem (2).ext" and so on when an earlier attachment has it already. taken:
    the names given so far (lower case), each with the last number tried for it, where the
    next search for that name starts: counting up from 2 each time took time that grew with
    the square of the attachments, so an e-mail of 8,000 attachments named "a.txt" (480 KB)
    spent 32 s here.

    Example: with taken = {}, "a.txt", "A.txt", "a.txt" -> "a.txt", "A (2).txt", "a (3).txt"
    """
    candidate = name
    stem, ext = os.path.splitext(name)
    n = taken.get(name.lower(), 1)
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem} ({n}){ext}"
    taken[name.lower()] = n
    taken.setdefault(candidate.lower(), 1)
    return candidate


def _source(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:  # not under root: the name is the best we have
        return path.name


def _unsupported(source: str, suffix: str) -> str:
    what = suffix or "(no extension)"
    return f"{source} has unsupported type {what}; supported: {_SUPPORTED_LIST}"
