"""PDF text page by page; pages without a text layer (scans) are read by OCR when Debian's
tesseract is installed."""

from __future__ import annotations

import io
import logging
import math
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import DocumentError
from ..settings import DEFAULT_UNPACK_LIMITS, UnpackLimits
from .textbuild import Built

__all__ = ["OCR_HINT", "ocr_available", "ocr_scale", "pdf_text"]

log = logging.getLogger(__name__)

OCR_HINT = (
    "install tesseract ('sudo apt-get install tesseract-ocr tesseract-ocr-eng', "
    "or 'make setup' as root) and index again to read scanned pages"
)
_OCR_DPI = 300  # tesseract is most accurate on text rendered at about 300 dpi
# A page is rendered at most this big (an A2 sheet at 300 dpi), a bigger one at a lower dpi:
# a 335-byte PDF of one blank 5000-point page took 1.3 GB and 21 s to read at 300 dpi, and
# the largest page a PDF allows is 3.6 gigapixels there.
_OCR_MAX_PIXELS = 40_000_000
_OCR_TIMEOUT_S = 180  # per page; a page that takes longer is left out, not the file
# The images a page to OCR may draw, in pixels: pdfium unpacks each image whole, whatever
# the page is rendered at, and a fax-coded image of blank rows takes about a bit a row, so
# a 7.8 KB PDF of four pages drawing a 60,000 x 60,000 image held the indexer 12 s and grew
# the server (small uploads are indexed in it) to 660 MB. Four times the most a page is
# rendered at (an A0 sheet at 300 dpi; a 600 dpi scan of an A3 sheet is 70 million).
_OCR_MAX_IMAGE_PIXELS = 4 * _OCR_MAX_PIXELS
_OCR_LANGUAGE = "eng"
_hint_logged = False


def ocr_available() -> bool:
    """Whether the `tesseract` command is on PATH (OCR is off without it)."""
    return shutil.which("tesseract") is not None


def pdf_text(data: bytes, source: str, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS) -> Built:
    """Text of each page joined by a blank line, where each page starts, and a locator per
    page: "page N", or "page N (OCR)" for a page read by OCR. A file with more pages without
    text than limits.ocr_pages, or than its size holds scanned pages
    (limits.ocr_allowance), is a DocumentError before any page is read by OCR.

    Example: two pages "One." and "Two." -> Built("One.\\n\\nTwo.", locators=((0, "page 1"),
             (6, "page 2")), page_starts=(0, 6))
    """
    from pypdf import PdfReader  # imported here: only PDFs need it

    # pypdf logs repairs of damaged files ("EOF marker not found") as warnings, which reach
    # stderr through logging's last-resort handler; a file it cannot read becomes our one
    # DocumentError sentence instead.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    broken = (
        f"{source} is not a readable PDF (damaged or not really a PDF): "
        "re-export it or remove it from the folder"
    )
    locked = f"{source} is password-protected: save an unprotected copy to index it"
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(locked)
        _check_content_size(reader, len(data), source, limits)
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many kinds (PdfReadError, KeyError, ...)
        if "decrypt" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise DocumentError(locked) from exc
        raise DocumentError(broken) from exc

    blank = [i for i, text in enumerate(pages) if not text]
    ocr_pages: set[int] = set()
    if blank:
        if ocr_available():
            if len(blank) > limits.ocr_pages:
                # Each page takes seconds of OCR, and a few hundred bytes make a thousand
                # blank pages: the indexer would be held for hours.
                raise DocumentError(
                    f"{source} has {len(blank):,} pages without text, more than the "
                    f"{limits.ocr_pages:,} OCR reads in one file: split it, or raise "
                    "ocr_max_pages (ASSISTANT_OCR_MAX_PAGES)"
                )
            if len(blank) > limits.ocr_allowance(len(data)):
                # A scanned page is a picture of kilobytes, a blank page 80 bytes: a 6 KB
                # file of 75 blank pages took 45 s of OCR.
                raise DocumentError(
                    f"{source} has {len(blank):,} pages without text in {len(data):,} bytes, "
                    "too few bytes for that many scanned pages: remove its empty pages, or "
                    "remove it from the folder"
                )
            _check_image_pixels(reader, blank, source)
            for i, text in _ocr(data, blank, source).items():
                if text:
                    pages[i] = text
                    ocr_pages.add(i)
        else:
            _log_hint_once(source)

    starts: list[int] = []
    locators: list[tuple[int, str]] = []
    offset = 0
    for i, text in enumerate(pages):
        starts.append(offset)
        locators.append((offset, f"page {i + 1}" + (" (OCR)" if i in ocr_pages else "")))
        offset += len(text) + 2  # the "\n\n" between pages
    return Built(
        text="\n\n".join(pages),
        locators=tuple(locators),
        page_starts=tuple(starts),
    )


# pypdf's own cap on the forms one page's text reading draws (Configuration's
# xform_maximum_invocations_per_extraction): a count of "Do" past it costs nothing more.
_DRAWS_PER_PAGE = 5_000


# What reading one font a page names counts for, beyond its ToUnicode map, in bytes of page
# content that take as long to read (about 90 us a font, 8 a width; content reads at about
# 1.3 us a byte): a real page names a handful of fonts.
_FONT_COST = 1024
_WIDTH_COST = 8


class _Unpacked(Exception):
    """The page content read so far is past the allowance: stop reading it."""


class _ContentSize:
    """What pypdf's text reading of a PDF's pages will read: each page's content streams and
    its fonts' ToUnicode maps, unpacked, and each form XObject they draw, once per "Do" that
    may draw it (a page and a
    form are read again wherever they are shown, so sharing one compressed stream among many
    pages, or drawing one form thousands of times, multiplies what a small file holds). An
    upper bound: every "Do" in a stream is taken to draw its largest form. Each stream is
    unpacked once, to count it, and let go; _Unpacked stops the count past `allowance`."""

    def __init__(self, allowance: int) -> None:
        self.allowance = allowance
        self.unpacked = 0  # bytes unpacked to count them, each stream once
        self._streams: dict[int, tuple[int, int]] = {}  # id -> (length, "Do" count)
        self._forms: dict[int, int] = {}  # id -> what reading the form reads
        self._open: set[int] = set()  # forms being counted: pypdf skips a form within itself

    def pages(self, reader: Any) -> int:
        total = 0
        for page in reader.pages:
            total += self._read(page.get("/Contents"), page.get("/Resources"))
            if total > self.allowance:
                raise _Unpacked
        return total

    def _stream(self, stream: Any) -> tuple[int, int]:
        from pypdf.filters import decode_stream_data
        from pypdf.generic import EncodedStreamObject

        key = id(stream)
        if key not in self._streams:
            # Unpacked without being kept on the object, as get_data would keep it.
            packed = isinstance(stream, EncodedStreamObject)
            data = decode_stream_data(stream) if packed else stream.get_data()
            self.unpacked += len(data)
            if self.unpacked > self.allowance:
                raise _Unpacked
            self._streams[key] = (len(data), data.count(b"Do"))
        return self._streams[key]

    def _read(self, contents: Any, resources: Any) -> int:
        from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

        contents = contents.get_object() if contents is not None else None
        resources = resources.get_object() if resources is not None else None
        if not isinstance(resources, DictionaryObject):
            return 0  # no resources, no font: pypdf reads no text from it
        parts = contents if isinstance(contents, ArrayObject) else [contents]
        length = draws = 0
        # Every font the resources name is read again at each reading, used or not, under
        # each name it is given, with its ToUnicode map and widths: 40 pages listing one
        # 1.4 MB map took 30 s, and a page naming one font 10,000 times 0.7 s.
        fonts = resources.get("/Font")
        fonts = fonts.get_object() if fonts is not None else None
        if isinstance(fonts, DictionaryObject):
            for font in fonts.values():
                length += _FONT_COST + self._font(font.get_object())
                if length > self.allowance:
                    raise _Unpacked
        for part in parts:
            part = part.get_object() if part is not None else None
            if isinstance(part, StreamObject):
                size, count = self._stream(part)
                length, draws = length + size, draws + count
        if not draws:
            return length
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else None
        if not isinstance(xobjects, DictionaryObject):
            return length
        forms = [x.get_object() for x in xobjects.values()]
        drawn = max(
            (self._form(f) for f in forms if isinstance(f, StreamObject) and _is_form(f)),
            default=0,
        )
        return length + min(draws, _DRAWS_PER_PAGE) * drawn

    def _font(self, font: Any) -> int:
        """What reading one font reads beyond _FONT_COST: its ToUnicode map, unpacked, and
        _WIDTH_COST for each of its widths."""
        from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

        if not isinstance(font, DictionaryObject):
            return 0
        size = 0
        mapping = font.get("/ToUnicode")
        mapping = mapping.get_object() if mapping is not None else None
        if isinstance(mapping, StreamObject):
            size += self._stream(mapping)[0]
        widths = font.get("/Widths")
        widths = widths.get_object() if widths is not None else None
        if isinstance(widths, ArrayObject):
            size += _WIDTH_COST * len(widths)
        return size

    def _form(self, form: Any) -> int:
        key = id(form)
        if key in self._open:
            return 0
        if key not in self._forms:
            self._open.add(key)
            try:
                self._forms[key] = self._read(form, form.get("/Resources"))
            finally:
                self._open.discard(key)
        return self._forms[key]


def _is_form(xobject: Any) -> bool:
    return str(xobject.get("/Subtype")) == "/Form"


def _check_content_size(reader: Any, size: int, source: str, limits: UnpackLimits) -> None:
    """Raise a DocumentError when reading the PDF's text would read far more page content
    than a document needs (limits.pdf_allowance: the limits zip packages have, with a lower
    floor), before any page is read: a 6 KB PDF of 60 pages that all show one compressed
    1 MB page took 80 s to read, a 2 KB one of a page drawing one 40 KB form 4,000 times
    400 s, and a 1 KB one of one page of 30 MB of text (packed twice) 40 s.

    Example: a 6 KB PDF of 60 pages sharing a 1 MB content stream -> DocumentError(
             "packed.pdf unpacks to over 1 MB of page content, ...")
    """
    allowance = limits.pdf_allowance(size)
    counter = _ContentSize(allowance)
    try:
        counter.pages(reader)
    except _Unpacked:
        ratio = allowance / max(size, 1)
        raise DocumentError(
            f"{source} unpacks to over {allowance >> 20} MB of page content, over "
            f"{ratio:,.0f} times its size on disk, which no real .pdf file does: re-save it "
            "(print it to a new PDF), or remove it from the folder"
        ) from None


def _check_image_pixels(reader: Any, page_indexes: Sequence[int], source: str) -> None:
    """Raise a DocumentError when a page to OCR draws images of more than
    _OCR_MAX_IMAGE_PIXELS in all (by the sizes they declare), before any is unpacked.

    Example: a 3 KB PDF whose blank page draws a 60,000 x 60,000 fax-coded image ->
             DocumentError("bomb.pdf page 1 draws images of 3,600 million pixels, ...")
    """
    for i in page_indexes:
        page = reader.pages[i]
        pixels = _image_pixels(page.get("/Contents"), page.get("/Resources"), set())
        if pixels > _OCR_MAX_IMAGE_PIXELS:
            raise DocumentError(
                f"{source} page {i + 1} draws images of {pixels // 1_000_000:,} million "
                f"pixels, more than the {_OCR_MAX_IMAGE_PIXELS // 1_000_000:,} million a "
                "scanned page needs: re-save it (print it to a new PDF), or remove it from "
                "the folder"
            )


# An inline image's size (BI /W 600 /H 800 ... ID): its keys may be abbreviated.
_INLINE_IMAGE = re.compile(rb"\bBI\b(.{0,2000}?)\bID\b", re.DOTALL)
_INLINE_SIDE = re.compile(rb"/(W|Width|H|Height)\s+(\d{1,12})\b")


def _image_pixels(contents: Any, resources: Any, seen: set[int]) -> int:
    """The pixels of the images that content with these resources may draw: each image
    XObject it names (the larger of its size and its fax or JBIG2 decoder's rows and
    columns), those of the forms it names (each once), and its inline images.

    Example: resources naming one 2,550 x 3,300 image -> 8,415,000
    """
    from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

    total = 0
    contents = contents.get_object() if contents is not None else None
    for part in contents if isinstance(contents, ArrayObject) else [contents]:
        part = part.get_object() if part is not None else None
        if isinstance(part, StreamObject):
            for head in _INLINE_IMAGE.findall(part.get_data()):
                sides = dict(_INLINE_SIDE.findall(head))
                width = int(sides.get(b"W", sides.get(b"Width", b"0")))
                height = int(sides.get(b"H", sides.get(b"Height", b"0")))
                total += width * height
    resources = resources.get_object() if resources is not None else None
    if not isinstance(resources, DictionaryObject):
        return total
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, DictionaryObject):
        return total
    for xobject in xobjects.values():
        xobject = xobject.get_object()
        if not isinstance(xobject, StreamObject) or id(xobject) in seen:
            continue
        seen.add(id(xobject))
        if _is_form(xobject):
            total += _image_pixels(xobject, xobject.get("/Resources"), seen)
        elif str(xobject.get("/Subtype")) == "/Image":
            total += _declared_pixels(xobject)
    return total


def _declared_pixels(image: Any) -> int:
    """Width x height of an image XObject, or its decoder's columns x rows if larger."""
    from pypdf.generic import ArrayObject, DictionaryObject

    def number(d: Any, key: str) -> int:
        value = d.get(key)
        value = value.get_object() if value is not None else None
        try:
            return max(int(value), 0) if value is not None else 0
        except (TypeError, ValueError):
            return 0

    pixels = number(image, "/Width") * number(image, "/Height")
    parms = image.get("/DecodeParms")
    parms = parms.get_object() if parms is not None else None
    for p in parms if isinstance(parms, ArrayObject) else [parms]:
        p = p.get_object() if p is not None else None
        if isinstance(p, DictionaryObject):
            pixels = max(pixels, number(p, "/Columns") * number(p, "/Rows"))
    return pixels


def _log_hint_once(source: str) -> None:
    global _hint_logged
    if not _hint_logged:
        _hint_logged = True
        log.warning("%s has pages without text and OCR is off: %s", source, OCR_HINT)


def _ocr(data: bytes, page_indexes: Sequence[int], source: str) -> dict[int, str]:
    """OCR text of the given pages (0-based), rendered in grey at _OCR_DPI by pdfium in a
    child process (_rendered)."""
    import pypdfium2 as pdfium  # imported here: only scanned PDFs need it

    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:  # pdfium cannot open what pypdf could: leave the pages blank
        log.warning("%s: could not render scanned pages for OCR (%s)", source, exc)
        return {}
    scales: list[tuple[int, float]] = []
    try:
        for i in page_indexes:
            try:
                page = pdf[i]
            except Exception as exc:  # a page pypdf saw but pdfium cannot load: stays blank
                log.warning("%s: could not render page %d for OCR (%s)", source, i + 1, exc)
                continue
            try:
                scales.append((i, ocr_scale(page.get_width(), page.get_height())))
            finally:
                page.close()
    finally:
        pdf.close()
    found: dict[int, str] = {}
    for i, image in _rendered(data, scales, source):
        if image:
            found[i] = _tesseract(image, source, i + 1)
        else:
            log.warning("%s: could not render page %d for OCR", source, i + 1)
    return found


# A page a scanner made draws in well under a second; one pdfium would take minutes over (a
# tiling pattern of hair-thin tiles: a 691-byte page of 0.1-point tiles took 6 s, of 0.01-point
# ones over a minute, each time it is drawn) holds the indexer, and pdfium cannot be stopped
# inside the process that called it. Pages are drawn in a child process, which is ended when a
# page takes longer than this, and the file refused.
_RENDER_TIMEOUT_S = 30.0
_RENDER_CHILD = str(Path(__file__).with_name("render_child.py"))


def _rendered(
    data: bytes, pages: Sequence[tuple[int, float]], source: str
) -> Iterator[tuple[int, bytes]]:
    """(page index, PGM image) for each (index, scale) of pages, drawn by render_child.py in
    order; an empty image for a page pdfium could not draw. DocumentError when one takes
    over _RENDER_TIMEOUT_S.

    Example: _rendered(pdf, [(0, 4.1667)], "a.pdf") -> iter([(0, b"P5\n2480 3509\n255\n...")])
    """
    todo = list(pages)
    while todo:
        child = subprocess.Popen(
            [sys.executable, "-I", _RENDER_CHILD, *(f"{i}:{scale!r}" for i, scale in todo)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        drawn: queue.Queue[tuple[int, bytes] | None] = queue.Queue()
        threading.Thread(target=_read_child, args=(child, data, drawn), daemon=True).start()
        try:
            while todo:
                try:
                    got = drawn.get(timeout=_RENDER_TIMEOUT_S)
                except queue.Empty:
                    raise DocumentError(
                        f"{source} page {todo[0][0] + 1} takes over {_RENDER_TIMEOUT_S:.0f} s "
                        "to draw for OCR (a scanned page takes a second): re-save it (print "
                        "it to a new PDF), or remove it from the folder"
                    ) from None
                if got is None:  # the child ended early: the page it was drawing broke it
                    yield todo[0][0], b""
                    todo = todo[1:]
                    break  # a new child draws the rest
                todo = [p for p in todo if p[0] != got[0]]
                yield got
        finally:
            child.kill()
            child.wait()


def _read_child(
    child: subprocess.Popen[bytes], data: bytes, drawn: queue.Queue[tuple[int, bytes] | None]
) -> None:
    """Send the PDF to a render_child.py process, then put each page it draws on drawn, and
    None when it ends."""
    assert child.stdin is not None and child.stdout is not None
    try:
        with child.stdin:
            child.stdin.write(data)
        while head := child.stdout.readline():
            index, length = (int(n) for n in head.split())
            image = child.stdout.read(length)
            if len(image) < length:
                break
            drawn.put((index, image))
    except (OSError, ValueError):
        pass  # the child died or was ended: the parent learns it below or by its deadline
    drawn.put(None)


def ocr_scale(width: float, height: float) -> float:
    """Pixels per point to render a page of width x height points at for OCR: _OCR_DPI, or
    less for a page that would be over _OCR_MAX_PIXELS there (pdfium rounds each side up
    to whole pixels, at least one).

    Example: ocr_scale(595, 842) (A4) -> 4.1667 (300 dpi, 2,480 x 3,509 pixels);
             ocr_scale(14400, 14400) -> 0.4388 (6,319 x 6,319 pixels, 32 dpi)
    """
    w, h = abs(width), abs(height)
    scale = _OCR_DPI / 72
    for _ in range(100):  # each pass shrinks the excess geometrically: a handful suffice
        pixels = max(math.ceil(w * scale), 1) * max(math.ceil(h * scale), 1)
        if pixels <= _OCR_MAX_PIXELS:
            break
        scale *= 0.999 * math.sqrt(_OCR_MAX_PIXELS / pixels)
    return scale


def _tesseract(image: bytes, source: str, page: int) -> str:
    # One thread per page: the machine's cores are shared with embedding and other work.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", _OCR_LANGUAGE],
            input=image,
            capture_output=True,
            timeout=_OCR_TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("%s page %d: OCR failed (%s); the page is left out", source, page, exc)
        return ""
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        log.warning("%s page %d: OCR failed (%s); the page is left out", source, page, reason[0])
        return ""
    # tesseract ends each page with a form feed; lines keep its layout otherwise.
    return done.stdout.decode("utf-8", "replace").replace("\f", "").strip()
