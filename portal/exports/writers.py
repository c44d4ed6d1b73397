"""Turning export rows into files: CSV as a stream of encoded chunks, XLSX as a workbook
written row by row to a file. Every text cell of both goes through `neutralise_cell`, so
that no shopper's comment can become a spreadsheet formula. Rows are dataclasses; the
column names are their field names, in order, unless the caller says how to read a row's
cells (``values``: the responses export adds a column per custom question)."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from operator import attrgetter
from typing import IO, Any

from xlsxwriter import Workbook

#: What a spreadsheet may read as the start of a formula (OWASP, "CSV Injection"): the
#: four formula prefixes, and tab and carriage return, which some importers strip before
#: looking at the next character.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: The formula signs a spreadsheet finds after it has trimmed leading blanks (ideographic
#: space, line breaks, zero-width characters...); full-width forms too, which some
#: importers fold to ASCII.
FORMULA_SIGNS = frozenset("=+-@＝＋－＠")

#: constant_memory: each row goes to a temporary file as soon as the next one starts, so
#: memory does not grow with rows (strings are written inline, no shared-string table).
#: Strings are never turned into formulas or links, whatever they look like.
XLSX_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
#: Rows per worksheet in Excel (header included); longer exports continue on a new sheet.
XLSX_MAX_ROWS = 1_048_576
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"

#: Lets Excel recognise the file as UTF-8 (it would read Chinese text as the ANSI code page).
_BOM = "\ufeff"
#: Rows gathered into each chunk of a CSV stream (about 0.3-0.5 MB of text).
_CSV_CHUNK_ROWS = 2000

Cell = str | int | float | bool | datetime | None
#: Reads a row's cells, in column order.
RowValues = Callable[[Any], Sequence[Cell]]


def neutralise_cell(value: str) -> str:
    """``value`` made safe to show as a spreadsheet text cell or header.

    Text that starts with a tab or a carriage return, or whose first visible character
    (after any leading Unicode whitespace, line breaks and invisible format characters,
    which importers may trim) is ``=``, ``+``, ``-`` or ``@``, gets a leading apostrophe,
    as the OWASP guidance on CSV injection says, so that Excel, LibreOffice or Google
    Sheets show it as text instead of evaluating it (a comment ``=HYPERLINK("http://x")``
    would otherwise become a live link). Other text is returned unchanged. Only text is
    neutralised: numbers are written as numbers by the callers, so ``-3`` stays a number.
    This is the one rule for every CSV and XLSX file the portal writes.
    """
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    for char in value:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf"):
            continue
        return "'" + value if char in FORMULA_SIGNS else value
    return value


def _row_values(columns: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    # attrgetter of one name returns the bare value, not a 1-tuple: a one-column export
    # would otherwise be written one character per cell.
    getters = [attrgetter(name) for name in columns]
    return lambda row: tuple(get(row) for get in getters)


def iso_time(value: datetime) -> str:
    """ISO-8601 with the offset of the zone ``value`` is in (``2026-11-22T14:05:00+08:00``)."""
    return value.isoformat(timespec="seconds")


def _csv_cell(value: Cell) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise_cell(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso_time(value)
    return value


def csv_chunks(
    columns: Sequence[str],
    rows: Iterable[Any],
    headers: Sequence[str] | None = None,
    *,
    values: RowValues | None = None,
) -> Iterator[bytes]:
    """The CSV file (UTF-8 with BOM, RFC 4180 line ends) of ``rows`` as encoded chunks of a
    few thousand rows each, produced only as fast as the reader takes them. The header row
    is ``headers`` (e.g. translated column names), else the column names; each row's cells
    are ``values(row)``, else its attributes named by ``columns``."""
    values = values or _row_values(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(_BOM)
    writer.writerow([neutralise_cell(str(name)) for name in headers or columns])
    pending = 0
    for row in rows:
        writer.writerow([_csv_cell(value) for value in values(row)])
        pending += 1
        if pending == _CSV_CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def write_xlsx(
    target: IO[bytes],
    sheet_name: str,
    columns: Sequence[str],
    rows: Iterable[Any],
    *,
    headers: Sequence[str] | None = None,
    values: RowValues | None = None,
    max_rows: int = XLSX_MAX_ROWS,
) -> int:
    """Write ``rows`` as an XLSX workbook into ``target`` and return the number of rows.

    An XLSX file is a zip archive whose central directory, the index a reader needs before
    it can open any part, comes last, and XlsxWriter builds the archive from its parts only
    when the workbook is closed. So the file cannot be sent byte by byte while rows are read:
    it is written to ``target`` (a temporary file) first. Memory still stays flat: in
    constant_memory mode each row is flushed to a temporary file as soon as the next one
    begins, and closing compresses those files into ``target`` block by block.

    Text is always written with ``write_string`` (never a formula, whatever it starts with)
    and neutralised; numbers with ``write_number``; ``None`` leaves the cell empty. A sheet
    holds at most ``max_rows`` rows with its header; further rows continue on
    ``<sheet_name> 2``, ``<sheet_name> 3``... The header row is ``headers`` (e.g.
    translated column names), else the column names; each row's cells are ``values(row)``,
    else its attributes named by ``columns``.
    """
    values = values or _row_values(columns)
    workbook = Workbook(target, XLSX_OPTIONS)
    header = workbook.add_format({"bold": True})
    sheets = 0
    worksheet: Any = None
    line = max_rows
    written = 0
    try:
        for row in rows:
            if line >= max_rows:
                sheets += 1
                worksheet = _add_sheet(workbook, sheet_name, sheets, headers or columns, header)
                line = 1
            for col, value in enumerate(values(row)):
                if value is None:
                    continue
                if isinstance(value, str):
                    worksheet.write_string(line, col, neutralise_cell(value))
                elif isinstance(value, bool):
                    worksheet.write_boolean(line, col, value)
                elif isinstance(value, datetime):
                    # Excel dates have no time zone: the offset is kept by writing text.
                    worksheet.write_string(line, col, iso_time(value))
                else:
                    worksheet.write_number(line, col, value)
            line += 1
            written += 1
        if sheets == 0:
            _add_sheet(workbook, sheet_name, 1, headers or columns, header)
    finally:
        workbook.close()
    return written


def _add_sheet(
    workbook: Any, sheet_name: str, number: int, columns: Sequence[str], header: Any
) -> Any:
    worksheet = workbook.add_worksheet(sheet_name if number == 1 else f"{sheet_name} {number}")
    for col, name in enumerate(columns):
        worksheet.write_string(0, col, neutralise_cell(name), header)
    worksheet.freeze_panes(1, 0)
    return worksheet
