"""Build a Document's text from pieces while recording where each region and section starts.

Loaders of structured files (Word, slides, sheets, e-mail, EPUB) produce their text here, so
offsets, locators and sections are computed in one place and always agree with the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DocumentError
from ..schema import Locator, Section
from ..settings import UnpackLimits

__all__ = [
    "SNIFF_BYTES",
    "Built",
    "TextBudget",
    "TextBuilder",
    "decode_text",
    "looks_binary",
    "one_line",
    "record",
]

_SPACE = re.compile(r"\s+")
_ENDS_SENTENCE = re.compile(r"[.!?…:;]$")


@dataclass(frozen=True, slots=True)
class Built:
    """The text of a document and what the builder recorded about it."""

    text: str
    locators: tuple[Locator, ...] = ()
    sections: tuple[Section, ...] = ()
    page_starts: tuple[int, ...] = ()


class TextBudget:
    """What reading one file may still make, counted in bytes of the text it could have come
    from, up to the most the file may unpack to (UnpackLimits.allowance, the zip-bomb rule).
    A file's text may repeat what it holds once (a header name in every record, a shared
    string in every cell that names it, a cell merged down a table's rows), so a small file
    could be read as gigabytes: spending past the allowance is a DocumentError.

    Example: TextBudget("a.csv", 10, UnpackLimits(max_bytes=100)).spend(101) raises
             DocumentError("a.csv unpacks to over 0 MB of text, ...")
    """

    def __init__(self, source: str, size: int, limits: UnpackLimits) -> None:
        self.source, self.size = source, size
        self.allowance = self.left = limits.allowance(size)

    def spend(self, amount: int) -> None:
        self.left -= amount
        if self.left < 0:
            ratio = self.allowance / max(self.size, 1)
            raise DocumentError(
                f"{self.source} unpacks to over {self.allowance >> 20} MB of text, over "
                f"{ratio:,.0f} times its size on disk, which no real document does (one text "
                "repeated again and again): re-save it in its application, or remove it "
                "from the folder"
            )


class TextBuilder:
    """Paragraphs joined by a blank line (so every piece ends a sentence), with the offset
    where each new locator label, section and page begins.

    Example: b = TextBuilder(); b.add("Hello.", locator="slide 1"); b.add("Bye.",
             locator="slide 2"); b.build() ->
             Built("Hello.\\n\\nBye.", locators=((0, "slide 1"), (8, "slide 2")))
    """

    _SEPARATOR = "\n\n"

    def __init__(self, budget: TextBudget | None = None) -> None:
        self._budget = budget  # each paragraph and locator is spent from it
        self._parts: list[str] = []
        self._length = 0
        self._locators: list[Locator] = []
        self._sections: list[Section] = []
        self._pages: list[int] = []

    def _next_offset(self) -> int:
        return self._length + (len(self._SEPARATOR) if self._length else 0)

    def page(self) -> None:
        """A new page (slide) starts with the next text, even if it adds none itself."""
        self._pages.append(self._next_offset())

    def add(
        self,
        text: str,
        *,
        locator: str | None = None,
        section: tuple[str, ...] | None = None,
    ) -> None:
        """Append one paragraph (surrounding space dropped; nothing if it is blank).

        `locator` and `section`, when given and different from the current ones, start a
        new region or section at this paragraph; None keeps the current one.
        """
        text = text.strip()
        if not text:
            return
        if self._budget is not None:
            self._budget.spend(len(text) + len(locator or ""))
        offset = self._next_offset()
        if locator is not None and (not self._locators or self._locators[-1][1] != locator):
            self._locators.append((offset, locator))
        if section is not None and ((self._sections[-1][1] if self._sections else ()) != section):
            self._sections.append((offset, section))
        if self._length:
            self._parts.append(self._SEPARATOR)
        self._parts.append(text)
        self._length = offset + len(text)

    def build(self) -> Built:
        return Built(
            text="".join(self._parts),
            locators=tuple(self._locators),
            sections=tuple(self._sections),
            page_starts=tuple(self._pages),
        )


def one_line(text: str) -> str:
    """Whitespace (line breaks in a cell included) collapsed to single spaces."""
    return _SPACE.sub(" ", text).strip()


def record(headers: Sequence[str], values: Sequence[str]) -> str:
    """One table row as a sentence-like record: "Header: value" pairs, empty cells left out.

    Example: record(["Region", "Quarter", "Total"], ["Berlin", "Q3", "1,250"]) ==
             "Region: Berlin; Quarter: Q3; Total: 1,250."
    """
    pairs = []
    for i, value in enumerate(values):
        value = one_line(value)
        if not value:
            continue
        header = one_line(headers[i]) if i < len(headers) else ""
        pairs.append(f"{header}: {value}" if header else value)
    if not pairs:
        return ""
    text = "; ".join(pairs)
    return text if _ENDS_SENTENCE.search(text) else text + "."


_SNIFF_BYTES = 8192  # NUL bytes this early mean a binary file, not text
_SAMPLE_BYTES = 1 << 16  # how much of a file the control-character test looks at
# looks_binary reads no further than this: a loader may test a file's head before reading it.
SNIFF_BYTES = _SAMPLE_BYTES
# More than this share of characters that text never has (controls other than layout,
# unassigned or private code points, undecodable bytes) means binary data. Random bytes
# without NUL have about 11% (cp1252) to 24% (latin-1); real text has next to none.
_MAX_ODD_SHARE = 0.05
_MIN_ODD = 8  # a few stray control bytes in a small file do not make it binary
_ESCAPED = re.compile("[\udc80-\udcff]")  # bytes that surrogateescape could not decode
_VALID_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")
_LAYOUT = frozenset("\t\n\r\f\v\x1b")  # tabs, breaks, page breaks, ANSI colour escapes


def looks_binary(data: bytes) -> bool:
    """Binary data rather than text: NUL bytes near the start (except in UTF-16 text, which
    its BOM announces), or, once decoded, too many characters that text never holds.

    Example: looks_binary(b"plain words\n") is False; looks_binary(bytes(range(1, 256)) * 40)
             is True (no NUL byte, but a quarter of it is control characters)
    """
    head = data[:_SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in head:
        return True
    sample = decode_text(data[:_SAMPLE_BYTES])
    odd = sum(1 for ch in sample if _odd(ch))
    return odd >= _MIN_ODD and odd > _MAX_ODD_SHARE * len(sample)


def _odd(ch: str) -> bool:
    if ch < " ":
        return ch not in _LAYOUT
    if ch < "\x7f":
        return False
    if ch == "\ufffd":
        return True
    return unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM is dropped); UTF-16 with a BOM; else cp1252, else latin-1 (never fails),
    so a file saved by an old editor is kept rather than skipped.

    A UTF-8 file with a few invalid bytes stays UTF-8: each invalid byte sequence becomes
    one U+FFFD where it was, rather than the whole file turning into cp1252 mojibake. The
    file counts as UTF-8 when its valid non-ASCII characters are at least as many as its
    invalid bytes.

    Example: decode_text("Café".encode("cp1252")) == "Café";
             decode_text("café \xff".encode("utf-8", "surrogateescape")) -- i.e. the bytes
             b"caf\xc3\xa9 \xff" -> "café \ufffd" (not "cafÃ© ÿ")
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # surrogateescape turns each invalid byte into one lone surrogate: count both kinds.
    escaped = data.decode("utf-8-sig", errors="surrogateescape")
    invalid = sum(1 for _ in _ESCAPED.finditer(escaped))
    valid = sum(1 for _ in _VALID_NON_ASCII.finditer(escaped))
    if valid >= invalid:
        return data.decode("utf-8-sig", errors="replace")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")
