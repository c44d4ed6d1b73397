"""``flask --app portal export``: the chain's responses or per-store summary to a CSV or
XLSX file, with the export pages' columns and filters; bad options are refused with a
message and no file."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest

NOON = datetime(2026, 11, 22, 4, tzinfo=UTC)
RANGE = ["--from", "2026-11-01", "--to", "2026-11-30"]


@pytest.fixture
def answered(make_store, make_response):
    shanghai, beijing = make_store("SH-001"), make_store("BJ-009")
    make_response(shanghai, nps=10, csat=5, comment="很好 13812345678", now=NOON)
    make_response(shanghai, nps=3, csat=2, now=NOON)
    make_response(beijing, nps=9, csat=4, now=NOON)
    make_response(beijing, nps=9, csat=4, now=datetime(2026, 10, 2, 4, tzinfo=UTC))
    return shanghai, beijing


def read_csv(path):
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_every_stores_responses_of_the_range_go_to_a_csv(runner, answered, tmp_path):
    out = tmp_path / "responses.csv"

    result = runner.invoke(args=["export", str(out), *RANGE, "--locale", "en"])

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == f"3 rows written to {out}"
    header, rows = read_csv(out)
    assert "Recommend (0–10)" in header and "Comment themes" in header
    assert sorted(row["Store code"] for row in rows) == ["BJ-009", "SH-001", "SH-001"]
    # Comments are masked as on the export pages.
    assert not any("13812345678" in value for row in rows for value in row.values())


def test_one_store_and_the_summary_as_xlsx(runner, answered, tmp_path):
    out = tmp_path / "summary.xlsx"

    result = runner.invoke(
        args=["export", str(out), "--kind", "summary", "--store", "SH-001", *RANGE]
    )

    assert result.exit_code == 0, result.output
    # Read-only workbooks keep their file open until closed.
    book = openpyxl.load_workbook(out, read_only=True)
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    book.close()
    assert [row[0] for row in rows[1:]] == ["SH-001", "ALL"]
    assert rows[1][3] == 2  # n: the two answers of November


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["answers.txt"], "name a .csv or .xlsx file"),
        (["r.csv", "--store", "XX-404"], "no store XX-404"),
        (["r.csv", "--channel", "fax"], "no such channel: fax"),
        (["r.csv", "--from", "2026-13-01"], "YYYY-MM-DD"),
        (["r.csv", "--from", "2026-12-01", "--to", "2026-11-01"], "after the last"),
    ],
)
def test_bad_options_are_refused_and_write_nothing(runner, answered, tmp_path, args, said):
    target = tmp_path / args[0]
    result = runner.invoke(args=["export", str(target), *args[1:]])
    assert result.exit_code != 0 and said in result.output
    assert not target.exists()
