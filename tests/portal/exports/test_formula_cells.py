"""Formula injection: every text cell and header of every CSV and XLSX file the portal
writes is neutralised when a spreadsheet could read it as a formula, whatever blank
characters come first; numbers stay numbers. The XLSX files are read back with openpyxl,
a reader independent of the writer."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from portal.exports.writers import csv_chunks, neutralise_cell, write_xlsx

# OWASP "CSV Injection" prefixes, after the leading blanks spreadsheets and importers trim.
DANGEROUS = [
    "=cmd|' /C calc'!A0",
    "+1",
    "-1+2",
    "@SUM(A1)",
    "\t=1",
    "\tplain",
    "\r=1",
    " =1",
    "  @x",
    "\u3000=cmd",  # ideographic space
    "\u00a0+1",  # no-break space
    "\n+1",
    "\r\n=1",
    "\u2028-1",  # line separator
    "\u200b=1",  # zero-width space
    "\ufeff=1",  # byte order mark
    "＝1+1",  # full-width equals sign
]
HARMLESS = ["1-2", "好=坏", "plain text", "a@example.com", "", " 12", "'already"]


def _csv(columns, rows):
    text = b"".join(csv_chunks(columns, rows)).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text, newline="")))


def _xlsx(columns, rows):
    buffer = io.BytesIO()
    write_xlsx(buffer, "sheet", columns, rows)
    buffer.seek(0)
    sheet = load_workbook(buffer).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_formula_like_cell_is_neutralised_in_csv_and_xlsx(text):
    rows = [SimpleNamespace(comment=text, n=1)]
    assert _csv(["comment", "n"], rows)[1] == ["'" + text, "1"]
    # XlsxWriter escapes a CR as _x000D_, which openpyxl leaves as it is.
    cell = _xlsx(["comment", "n"], rows)[1][0].replace("_x000D_", "\r")
    assert cell == "'" + text


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_formula_like_header_is_neutralised_in_csv_and_xlsx(text):
    rows = [SimpleNamespace(**{text: "x"})]
    assert _csv([text], rows)[0] == ["'" + text]
    header = _xlsx([text], rows)[0][0]
    assert header.startswith("'")


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_is_written_unchanged(text):
    assert neutralise_cell(text) == text
    assert _csv(["comment"], [SimpleNamespace(comment=text)])[1] == [text]
    assert _xlsx(["comment"], [SimpleNamespace(comment=text)])[1] == [text]


def test_negative_numbers_stay_numbers():
    rows = [SimpleNamespace(score=-3, delta=-0.5)]
    assert _csv(["score", "delta"], rows)[1] == ["-3", "-0.5"]
    assert _xlsx(["score", "delta"], rows)[1] == [-3, -0.5]
