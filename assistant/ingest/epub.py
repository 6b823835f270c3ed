"""EPUB e-books: an EPUB is a zip of XHTML documents read in its spine's order, so the
standard library's zipfile and the HTML loader are enough (no e-book library needed)."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from urllib.parse import unquote
from xml.etree import ElementTree

from ..errors import DocumentError
from ..settings import DEFAULT_UNPACK_LIMITS, UnpackLimits
from .html import html_text
from .office import check_unpacked_size
from .textbuild import Built, TextBudget, TextBuilder, one_line

__all__ = ["epub_text"]

_CONTAINER = "META-INF/container.xml"
_ENCRYPTION = "META-INF/encryption.xml"
# Font obfuscation (IDPF, Adobe) is not DRM: the text is readable.
_FONT_OBFUSCATION = ("http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC")
# A heading is found with two scans, each stopping at the next "<" or ">": the single pattern
# "<h[1-3][^>]*>(.*?)</h[1-3]>" ran from every "<h1" to the end of the part, so a 5 KB upload
# whose chapter was 50,000 characters of "<h1>" held the indexer for 11 s (1 MB: hours).
_HEADING_OPEN = re.compile(r"<h[1-3][^<>]*>", re.IGNORECASE)
_HEADING_CLOSE = re.compile(r"</h[1-3]>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]+>")
_MAX_PART_BYTES = 64 * 1024 * 1024  # one XHTML file larger than this is not a book chapter
# What the zip reader raises on a damaged archive besides BadZipFile: a header pointing before
# the file's start (ValueError), a stream cut short (EOFError, zlib.error), a compression
# method or version a flipped byte invented (NotImplementedError), a bad password flag.
_DAMAGED = (
    zipfile.BadZipFile,
    OSError,
    RuntimeError,
    ValueError,
    EOFError,
    NotImplementedError,
    zlib.error,
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def epub_text(data: bytes, source: str, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS) -> Built:
    """The book's text part by part in reading (spine) order; each part is a section named by
    its first heading, and its locator reads "part N: Heading" (N counts parts with text).

    Example: spine [ch1.xhtml "<h1>Storm</h1><p>Rain fell.</p>"] ->
             Built("Storm\\n\\nRain fell.", locators=((0, "part 1: Storm"),),
                   sections=((0, ("Storm",)),))
    """
    broken = (
        f"{source} is not a readable EPUB (damaged or not really an e-book): "
        "re-export it or remove it from the folder"
    )
    check_unpacked_size(data, source, ".epub", limits)
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        names = set(book.namelist())
        root = ElementTree.fromstring(book.read(_CONTAINER))
        rootfile = next(
            (e.get("full-path") for e in root.iter() if _local(e.tag) == "rootfile"), None
        )
        if not rootfile:
            raise DocumentError(broken)
        package = ElementTree.fromstring(book.read(rootfile))
    except DocumentError:
        raise
    except (*_DAMAGED, KeyError, ElementTree.ParseError) as exc:
        raise DocumentError(broken) from exc

    base = posixpath.dirname(rootfile)
    manifest = {
        e.get("id"): posixpath.normpath(posixpath.join(base, unquote(e.get("href", ""))))
        for e in package.iter()
        if _local(e.tag) == "item"
    }
    spine = [manifest.get(e.get("idref")) for e in package.iter() if _local(e.tag) == "itemref"]
    try:
        _check_drm(book, names, source)
    except _DAMAGED as exc:
        raise DocumentError(broken) from exc

    builder = TextBuilder(TextBudget(source, len(data), limits))
    part = 0
    read: set[str] = set()
    for href in spine:
        # A spine lists each chapter once (EPUB checkers refuse one listed twice): a book
        # listing one chapter 3,000 times read it 3,000 times over.
        if not href or href not in names or href in read:
            continue
        read.add(href)
        info = book.getinfo(href)
        if info.file_size > _MAX_PART_BYTES:
            raise DocumentError(
                f"{source} has a part too large to be a chapter ({href}): "
                "re-export the book or remove it from the folder"
            )
        try:
            raw = book.read(href)
        except _DAMAGED as exc:
            raise DocumentError(broken) from exc
        text = html_text(raw, source, title=False)
        if not text.strip():
            continue  # a cover image or an empty spacer page
        part += 1
        title = _first_heading(raw) or one_line(text.strip().split("\n", 1)[0])[:80]
        builder.add(text, locator=f"part {part}: {title}", section=(title,))
    return builder.build()


def _first_heading(raw: bytes) -> str:
    """The text of a part's first h1-h3 heading ("" when it has none), in linear time.

    Example: _first_heading(b"<body><h1 id='c1'>The <em>Storm</em></h1>...") -> "The Storm"
    """
    text = raw.decode("utf-8", "replace")
    opened = _HEADING_OPEN.search(text)
    closed = _HEADING_CLOSE.search(text, opened.end()) if opened else None
    if opened is None or closed is None:
        return ""
    return one_line(_TAG.sub(" ", text[opened.end() : closed.start()]))


def _check_drm(book: zipfile.ZipFile, names: set[str], source: str) -> None:
    """Raise when the book's text is encrypted (DRM); obfuscated fonts are fine."""
    if _ENCRYPTION not in names:
        return
    try:
        root = ElementTree.fromstring(book.read(_ENCRYPTION))
    except ElementTree.ParseError:
        return
    for method in root.iter():
        if (
            _local(method.tag) == "EncryptionMethod"
            and method.get("Algorithm", "") not in _FONT_OBFUSCATION
        ):
            raise DocumentError(f"{source} is protected by DRM: index a DRM-free copy of the book")
