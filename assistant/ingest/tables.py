"""Spreadsheets (.xlsx) and CSV files: each row a sentence-like record with its header names,
so a question such as "What is the Q3 total for Berlin?" finds the row that answers it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence

from ..errors import DocumentError
from ..settings import DEFAULT_UNPACK_LIMITS, UnpackLimits
from .office import damaged_inside, open_package
from .textbuild import Built, TextBudget, TextBuilder, one_line, record

__all__ = ["cell_text", "csv_text", "xlsx_text"]

_HEADER_SEARCH_ROWS = 10  # a header row is looked for among the first rows (after titles)
# csv.Sniffer's patterns are quadratic in its sample: 64 KB of one-column lines such as "'a"
# took a minute, 2 KB takes a tenth of a second, and a delimiter shows in a file's first lines.
_SNIFF_CHARS = 2048
_NUMBER = re.compile(r"[-+(]?[$€£¥]?\s?\d[\d,. ]*%?\)?")
_DECIMALS = re.compile(r"\.([0#?]+)")


def cell_text(value: object, number_format: str = "General") -> str:
    """A cell's value as a spreadsheet shows it, near enough: dates as ISO dates, numbers
    with the format's thousands separator, decimals and percent sign.

    Example: cell_text(1250, "#,##0") == "1,250"; cell_text(0.125, "0.0%") == "12.5%";
             cell_text(datetime(2026, 3, 1)) == "2026-03-01"
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return str(value) if isinstance(value, dt.timedelta) else value.isoformat()
    if isinstance(value, (int, float)):
        return _number(value, number_format or "General")
    return str(value)


def _number(value: float, number_format: str) -> str:
    fmt = number_format.split(";")[0]  # the positive-number section
    match = _DECIMALS.search(fmt)
    decimals = len(match.group(1)) if match else 0
    if "%" in fmt:
        return f"{value * 100:.{decimals}f}%"
    if fmt.lower() == "general" or not any(c in fmt for c in "0#"):
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    grouping = "," if "#,#" in fmt or ",0" in fmt else ""
    return f"{value:{grouping}.{decimals}f}"


def _is_header(values: Sequence[object]) -> bool:
    """Two or more non-empty cells, all words (not numbers or dates)."""
    filled = [v for v in values if v is not None and str(v).strip()]
    return len(filled) >= 2 and all(
        isinstance(v, str) and not _NUMBER.fullmatch(v.strip()) for v in filled
    )


def _column_name(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA" (as the spreadsheet labels columns)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


# What reading a sheet's row or cell costs, in bytes of its budget: about the least XML a
# real one takes (<row r="1">, <c r="A1"><v>1</v></c>). Padding (rows the sheet skipped,
# cells up to a row's last) costs as much to read, or a sheet could make billions of
# empty cells from a few bytes.
_ROW_COST, _CELL_COST = 16, 16


def _add_rows(
    builder: TextBuilder,
    rows: Iterable[tuple[int, list[object], list[str]]],
    where: str,
    section: tuple[str, ...] | None,
) -> None:
    """Rows as (number, raw values, texts): the header row found among the first rows; the
    rows after it as records; rows before it (titles) and headerless rows as plain text."""
    headers: list[str] | None = None
    for seen, (number, raw, texts) in enumerate(rows):
        locator = f"{where}row {number}"
        if headers is None and seen < _HEADER_SEARCH_ROWS and _is_header(raw):
            headers = [one_line(t) or f"column {_column_name(i)}" for i, t in enumerate(texts)]
            builder.add(
                " | ".join(one_line(t) for t in texts if one_line(t)),
                locator=locator,
                section=section,
            )
            continue
        if headers is not None:
            names = headers + [f"column {_column_name(i)}" for i in range(len(headers), len(texts))]
            text = record(names, texts)
        else:
            text = " | ".join(one_line(t) for t in texts if one_line(t))
        builder.add(text, locator=locator, section=section)


# --- .xlsx ---------------------------------------------------------------------------------


def xlsx_text(data: bytes, source: str, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS) -> Built:
    """Every worksheet in order; rows as records; the sheet name is the section path and
    locators read "sheet NAME, row N" (N as the spreadsheet numbers rows).

    Values are the ones Excel last calculated (a formula's cached result).
    Example: sheet "Sales", rows [Region, Total], [Berlin, 1250 as #,##0] ->
             "Region | Total\\n\\nRegion: Berlin; Total: 1,250."
    """
    from openpyxl import load_workbook  # imported here: only spreadsheets need openpyxl

    workbook = open_package(
        lambda f: load_workbook(f, read_only=True, data_only=True), data, source, ".xlsx", limits
    )
    budget = TextBudget(source, len(data), limits)
    builder = TextBuilder(budget)
    try:
        with damaged_inside(source, ".xlsx"):  # a malformed sheet
            for sheet in workbook.worksheets:
                rows = _sheet_rows(sheet, budget)
                _add_rows(builder, rows, f"sheet {sheet.title}, ", (sheet.title,))
    finally:
        workbook.close()
    return builder.build()


def _sheet_rows(sheet: object, budget: TextBudget) -> Iterable[tuple[int, list[object], list[str]]]:
    # The extent a sheet declares is not believed: every row would be padded out to it (a
    # 5 KB file claiming A1:XFD1048576 is 17 billion empty cells); a row reaches its last
    # cell, and the rows and cells read are counted.
    sheet.reset_dimensions()  # type: ignore[attr-defined]
    for row in sheet.iter_rows():  # type: ignore[attr-defined]
        budget.spend(_ROW_COST + _CELL_COST * len(row))
        if not row:
            continue  # a row the sheet skipped
        number = next((c.row for c in row if getattr(c, "row", None)), None)
        raw = [c.value for c in row]
        if number is None or all(v is None or not str(v).strip() for v in raw):
            continue  # a blank row
        texts = [cell_text(c.value, getattr(c, "number_format", "General")) for c in row]
        yield number, raw, texts


# --- .csv ----------------------------------------------------------------------------------

_DELIMITERS = ",;\t|"


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The delimiter the header line uses most (csv.Sniffer misjudges files whose quoted
    fields hold commas or line breaks); the Sniffer only when the first line has none.

    Example: 'Station;Line;Notes\nA;Blue;"x, y"' -> delimiter ";"
    """
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best]:

        class Found(csv.excel):
            delimiter = best

        return Found
    try:
        sample = text[:_SNIFF_CHARS]
        # Whole lines: a cut line would count as a row with fewer fields.
        sample = sample[: sample.rfind("\n") + 1] or sample
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:  # one column, or too irregular to tell: plain commas
        return csv.excel


def csv_text(text: str, source: str, limits: UnpackLimits = DEFAULT_UNPACK_LIMITS) -> Built:
    """Rows of a CSV (delimiter sniffed: , ; tab or |) as records under its header row;
    locators "row N", counting the header as row 1 as a spreadsheet would.

    Example: "Region;Total\\nBerlin;1250\\n" -> "Region | Total\\n\\nRegion: Berlin; Total: 1250."
    """
    builder = TextBuilder(TextBudget(source, len(text), limits))
    dialect = _dialect(text)
    try:
        rows = (
            (number, list[object](values), values)
            for number, values in enumerate(csv.reader(io.StringIO(text), dialect), start=1)
            if any(v.strip() for v in values)
        )
        _add_rows(builder, rows, "", None)
    except csv.Error as exc:
        raise DocumentError(
            f"{source} is not a readable CSV file ({exc}): fix or re-export it"
        ) from exc
    return builder.build()
