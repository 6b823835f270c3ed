"""Word (.docx) and PowerPoint (.pptx) files to text with headings, slides and locators."""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import DocumentError
from ..settings import DEFAULT_UNPACK_LIMITS, UnpackLimits
from .textbuild import Built, TextBudget, TextBuilder, one_line, record

__all__ = [
    "check_office_container",
    "check_unpacked_size",
    "damaged_inside",
    "docx_text",
    "open_package",
    "pptx_text",
]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADING_STYLE = re.compile(r"heading\s*(\d)", re.IGNORECASE)


def check_unpacked_size(
    data: bytes, source: str, suffix: str, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS
) -> None:
    """Raise a DocumentError when a zip package (.docx, .xlsx, .epub, ...) would unpack to far
    more than a document needs (limits, from Settings.unpack_limits): read from its
    directory, before any part is unpacked, since the libraries unpack every part into
    memory before reading it. (Python's zipfile never reads a part past the size the
    directory gives.) Not a zip: nothing to check here; the loader says it is broken.

    Example: a 330 KB .docx whose parts add up to 300 MB -> DocumentError("bomb.docx unpacks
             to 300 MB, 900 times its size on disk, ...")
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(max(info.file_size, 0) for info in package.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return  # damaged (a flipped byte can name a zip version or method that does not exist)
    ratio = unpacked / max(len(data), 1)
    if unpacked > limits.max_bytes or (
        unpacked > limits.ratio_floor_bytes and ratio > limits.max_ratio
    ):
        raise DocumentError(
            f"{source} unpacks to {unpacked >> 20} MB, {ratio:,.0f} times its size on disk, "
            f"which no real {suffix} file does: re-save it in its application, or remove it "
            "from the folder"
        )


def check_office_container(
    data: bytes, source: str, suffix: str, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS
) -> None:
    """Raise a DocumentError that says what to do when an Office file is not an Office Open
    XML package (encrypted: Office wraps those in an OLE container, or an old binary one), or
    is a zip bomb (see check_unpacked_size)."""
    check_unpacked_size(data, source, suffix, limits)
    if data.startswith(_OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise DocumentError(
                f"{source} is password-protected: save an unprotected copy to index it"
            )
        raise DocumentError(
            f"{source} is in an old binary Office format, not {suffix}: "
            f"open it and save it as {suffix} to index it"
        )


def open_package(
    opener: Callable[[io.BytesIO], Any],
    data: bytes,
    source: str,
    suffix: str,
    limits: UnpackLimits,
) -> Any:
    """opener's document from an Office file's bytes, after check_office_container; any
    error opening it is a DocumentError that says what to do.

    Example: open_package(docx.Document, b"not a zip", "a.docx", ".docx", limits) ->
             DocumentError("a.docx is not a readable .docx file (damaged or not really
             .docx): re-save it or remove it from the folder")
    """
    check_office_container(data, source, suffix, limits)
    try:
        return opener(io.BytesIO(data))
    except Exception as exc:  # zipfile, lxml and the libraries' own errors: all mean broken
        raise DocumentError(
            f"{source} is not a readable {suffix} file (damaged or not really {suffix}): "
            "re-save it or remove it from the folder"
        ) from exc


@contextlib.contextmanager
def damaged_inside(source: str, suffix: str) -> Iterator[None]:
    """Reading an opened Office document's parts: a DocumentError raised inside passes as it
    is; any other error is a malformed part inside a valid zip, said as one DocumentError.

    Example: with damaged_inside("a.pptx", ".pptx"): raise KeyError("rId7") ->
             DocumentError("a.pptx is not a readable .pptx file (damaged inside): re-save it
             or remove it from the folder")
    """
    try:
        yield
    except DocumentError:
        raise
    except Exception as exc:  # a malformed part inside a valid zip
        raise DocumentError(
            f"{source} is not a readable {suffix} file (damaged inside): "
            "re-save it or remove it from the folder"
        ) from exc


# --- Word ----------------------------------------------------------------------------------


def docx_text(data: bytes, source: str, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS) -> Built:
    """Paragraphs and tables in reading order; headings make the section path and the
    locator ("section Results › Q3"); a table row's locator is "table N, row M".

    Example: Heading 1 "Results", paragraph "Sales rose." -> Built("Results\\n\\nSales rose.",
             locators=((0, "section Results"),), sections=((0, ("Results",)),))
    """
    import docx  # imported here: only .docx files need python-docx
    from docx.table import Table

    document = open_package(docx.Document, data, source, ".docx", limits)
    builder = TextBuilder(TextBudget(source, len(data), limits))
    path: list[tuple[int, str]] = []  # (level, heading text), outermost first
    # Made when a heading changes them, not for every paragraph (each a copy of the headings).
    headings: tuple[str, ...] = ()
    label = ""
    tables = 0
    with damaged_inside(source, ".docx"):
        heading_level = _heading_levels(document)
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                tables += 1
                _docx_table(builder, block, tables)
                continue
            text = block.text
            level = heading_level(block)
            if level is not None and text.strip():
                while path and path[-1][0] >= level:
                    path.pop()
                path.append((level, one_line(text)))
                headings = tuple(title for _, title in path)
                label = f"section {' › '.join(headings)}"
            builder.add(text, locator=label, section=headings)
    return builder.build()


def _heading_level(name: str) -> int | None:
    """0 for the Title style, N for "Heading N", None for body text.

    Example: _heading_level("Heading 2") == 2; _heading_level("Normal") is None
    """
    if name.lower() == "title":
        return 0
    match = _HEADING_STYLE.fullmatch(name.strip())
    return int(match.group(1)) if match else None


def _heading_levels(document: Any) -> Callable[[Any], int | None]:
    """A paragraph's heading level (_heading_level of its style's name), from a table of the
    file's paragraph styles made once. python-docx looks a paragraph's style up through
    every style of the file, for each paragraph: a .docx of 100,000 empty paragraphs (6
    bytes of XML each) took 117 s to read. A paragraph without a style, or naming one the
    file lacks, has the default paragraph style, as python-docx gives it.
    """
    from docx.enum.style import WD_STYLE_TYPE

    levels: dict[str, int | None] = {}
    for style in document.styles:
        if style.type == WD_STYLE_TYPE.PARAGRAPH and style.style_id is not None:
            levels.setdefault(style.style_id, _heading_level(style.name or ""))
    default_style = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default = _heading_level(default_style.name or "") if default_style is not None else None

    def level(paragraph: Any) -> int | None:
        properties = paragraph._p.pPr
        style_id = properties.style if properties is not None else None
        return levels.get(style_id, default) if style_id is not None else default

    return level


def _table_rows(table: Any) -> Iterator[list[str]]:
    """Each row's cell texts, left to right: a cell merged across columns once, a cell merged
    down rows in each row it spans (so every record has its value), in one pass.

    python-docx finds a cell merged down rows by walking up the table from each row below
    it, recursively: a table of 1,200 rows under one merged cell took 41 s to read and then
    failed with RecursionError. Here the text of each grid column's last cell is kept.

    Example: rows [Region (merged down), Q1], [(merged), Q2] -> ["Region", "Q1"],
             ["Region", "Q2"]
    """
    from docx.table import _Cell

    above: dict[int, str] = {}  # grid column -> the text of its last cell
    for tr in table._tbl.tr_lst:
        column = tr.grid_before
        texts: list[str] = []
        for tc in tr.tc_lst:
            text = above.get(column, "") if tc.vMerge == "continue" else _Cell(tc, table).text
            above[column] = text
            texts.append(text)
            column += max(tc.grid_span, 1)
        yield texts


def _docx_table(builder: TextBuilder, table: Any, number: int) -> None:
    header: list[str] = []
    for i, values in enumerate(_table_rows(table), start=1):
        header = values if i == 1 else header
        builder.add(_row_text(header, values, i), locator=f"table {number}, row {i}")


def _row_text(header: list[str], values: list[str], row: int) -> str:
    """A table row as a record with the header's names when the first row looks like one
    (two or more distinct, non-empty cells), else its cells joined by " | "."""
    names = [one_line(h) for h in header]
    has_header = len(names) >= 2 and all(names) and len(set(names)) == len(names)
    if has_header and row == 1:
        return " | ".join(names)
    if has_header and len(values) == len(names):
        return record(names, values)
    return " | ".join(one_line(v) for v in values if one_line(v))


# --- PowerPoint ----------------------------------------------------------------------------


def pptx_text(data: bytes, source: str, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS) -> Built:
    """One page per slide: its text top to bottom, left to right (tables as records), then
    its speaker notes; locators "slide N" and "slide N (notes)".

    Example: slide 1 titled "Plan" with notes "Say hi." -> Built("Plan\\n\\nSay hi.",
             locators=((0, "slide 1"), (6, "slide 1 (notes)")), page_starts=(0,))
    """
    from pptx import Presentation  # imported here: only .pptx files need python-pptx

    presentation = open_package(Presentation, data, source, ".pptx", limits)
    builder = TextBuilder(TextBudget(source, len(data), limits))
    with damaged_inside(source, ".pptx"):
        for number, slide in enumerate(presentation.slides, start=1):
            builder.page()
            title_shape = slide.shapes.title
            title = one_line(title_shape.text_frame.text) if title_shape is not None else ""
            section = (f"slide {number}: {title}" if title else f"slide {number}",)
            label = f"slide {number}"
            for text in _shape_texts(slide.shapes):
                builder.add(text, locator=label, section=section)
            if slide.has_notes_slide:
                notes = slide.notes_slide.notes_text_frame
                if notes is not None:
                    for paragraph in notes.paragraphs:
                        builder.add(
                            _paragraph_text(paragraph),
                            locator=f"{label} (notes)",
                            section=section,
                        )
    return builder.build()


def _paragraph_text(paragraph: Any) -> str:
    # Runs only: a line break inside a paragraph (<a:br>) is kept as a space.
    return one_line("".join(run.text for run in paragraph.runs) or paragraph.text)


def _shape_texts(shapes: Any) -> Iterator[str]:
    """Paragraphs of every shape in reading order (groups opened, tables as records)."""

    from pptx.shapes.group import GroupShape

    def position(shape: Any) -> tuple[int, int]:
        return (shape.top or 0, shape.left or 0)

    for shape in sorted(shapes, key=position):
        if isinstance(shape, GroupShape):
            yield from _shape_texts(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
            for i, values in enumerate(rows, start=1):
                yield _row_text(rows[0], values, i)
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            for paragraph in shape.text_frame.paragraphs:
                yield _paragraph_text(paragraph)
