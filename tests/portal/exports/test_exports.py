"""Exports: CSV and XLSX of responses and per-store summaries, scoped, streamed, with
formula injection neutralised and store-local times."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import insert, select

from portal.exports.headers import RESPONSE_HEADERS, SUMMARY_HEADERS
from portal.exports.queries import RESPONSE_COLUMNS, SUMMARY_COLUMNS
from portal.exports.writers import csv_chunks, neutralise_cell, write_xlsx
from portal.models import Receipt, Response, Role, SurveyVersion
from surveys.answers import ContactAnswer

RANGE = "from=2026-11-01&to=2026-11-30"
NOON = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)  # 14:05 in Shanghai
NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
PHONE = "13800138000"
EMAIL = "shopper-contact@example.com"
FORMULAS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tTAB", "\rCR"]
#: English header words -> column keys (outside a request the labels are the English).
KEYS = {
    str(label): key
    for labels in (RESPONSE_HEADERS, SUMMARY_HEADERS)
    for key, label in labels.items()
}


@pytest.fixture(autouse=True)
def in_english(client):
    """The exports are read in English here and keyed by column: the header row is in the
    reader's language (Chinese headers: tests/portal/translated)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def two_stores(make_store, make_staff, make_response):
    mine = make_store("SH-001", name="上海徐汇店", timezone="Asia/Shanghai")
    theirs = make_store("BJ-009", name="北京别人的店")
    make_response(
        mine,
        make_staff(mine, "S001", name="王芳"),
        nps=10,
        comment="我的门店很好",
        ratings={"rating_speed": 4},
        now=NOON,
    )
    make_response(
        theirs, make_staff(theirs, "S002", name="李雷"), nps=3, comment="secret other", now=NOON
    )
    return mine, theirs


def fetch(client, url):
    """GET ``url``, read the whole body and close the response, as a WSGI server does
    (closing is what deletes an XLSX export's temporary file)."""
    with client.get(url) as response:
        response.get_data()
    return response


def csv_rows(response):
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return [{KEYS[k]: v for k, v in row.items()} for row in csv.DictReader(io.StringIO(text[1:]))]


def xlsx_cells(data: bytes) -> tuple[list[list[str | None]], str]:
    """The first sheet's cells as text (inline strings, numbers, booleans), and its XML."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    rows = []
    for row in ElementTree.fromstring(xml).iterfind(".//x:sheetData/x:row", NS):
        # Empty cells are not written: place each by the column letters of its reference.
        cells: list[str | None] = []
        for cell in row.iterfind("x:c", NS):
            letters = re.match(r"[A-Z]+", cell.get("r", "")).group()
            column = 0
            for letter in letters:
                column = column * 26 + ord(letter) - ord("A") + 1
            cells += [None] * (column - len(cells))
            text = cell.find("x:is/x:t", NS) if cell.get("t") == "inlineStr" else None
            value = cell.find("x:v", NS)
            found = text if text is not None else value
            cells[column - 1] = None if found is None else found.text
        rows.append(cells)
    if rows:
        rows[0] = [KEYS.get(cell or "", cell) for cell in rows[0]]
    return rows, xml


def test_a_manager_exports_only_their_stores_responses_as_csv(
    client, two_stores, make_user, login_as
):
    mine, _theirs = two_stores
    login_as(make_user(Role.MANAGER, stores=[mine]))
    response = client.get(f"/exports/responses.csv?{RANGE}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="responses-all-2026-11-01-2026-11-30.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = csv_rows(response)
    assert list(rows[0]) == list(RESPONSE_COLUMNS)
    assert [(r["store_code"], r["staff_name"], r["comment"]) for r in rows] == [
        ("SH-001", "王芳", "我的门店很好")
    ]
    row = rows[0]
    assert (row["nps"], row["nps_group"], row["csat"]) == ("10", "promoter", "5")
    assert (row["rating_speed"], row["rating_friendliness"]) == ("4", "")
    assert (row["problem_reported"], row["redeemed_at"], row["locale"]) == ("false", "", "zh_CN")
    body = response.get_data().decode("utf-8")
    assert "secret other" not in body and "BJ-009" not in body


def without_csrf_token(page: bytes) -> bytes:
    return re.sub(rb'name="csrf_token" value="[^"]*"', b'name="csrf_token"', page)


def test_another_stores_code_is_404_exactly_like_an_unknown_one(
    client, two_stores, make_user, login_as
):
    mine, _theirs = two_stores
    login_as(make_user(Role.MANAGER, stores=[mine]))
    hidden = client.get(f"/exports/responses.csv?store=BJ-009&{RANGE}")
    unknown = client.get(f"/exports/responses.csv?store=NO-SUCH&{RANGE}")
    summary = client.get(f"/exports/summary.xlsx?store=BJ-009&{RANGE}")
    assert hidden.status_code == unknown.status_code == summary.status_code == 404
    # The same page, byte for byte, but for the sign-out form's CSRF token, which is signed
    # with the second it was made in.
    assert without_csrf_token(hidden.get_data()) == without_csrf_token(unknown.get_data())
    assert "北京" not in hidden.get_data(as_text=True)


def test_one_store_can_be_chosen_and_names_the_file(client, two_stores, make_user, login_as):
    mine, theirs = two_stores
    login_as(make_user(Role.ADMIN))
    everything = csv_rows(client.get(f"/exports/responses.csv?{RANGE}"))
    assert {r["store_code"] for r in everything} == {"SH-001", "BJ-009"}
    response = client.get(f"/exports/responses.csv?store=BJ-009&{RANGE}")
    assert [r["store_code"] for r in csv_rows(response)] == ["BJ-009"]
    assert (
        'filename="responses-BJ-009-2026-11-01-2026-11-30.csv"'
        in (response.headers["Content-Disposition"])
    )


def test_times_carry_the_stores_offset_and_days_are_store_local(
    client, make_store, make_staff, make_response, make_user, login_as
):
    store = make_store("SH-002", timezone="Asia/Shanghai")
    staff = make_staff(store)
    make_response(store, staff, comment="noon", now=NOON)
    # 17:30 UTC on the 21st is already 01:30 on the 22nd in Shanghai.
    make_response(
        store, staff, comment="after midnight", now=datetime(2026, 11, 21, 17, 30, tzinfo=UTC)
    )
    make_response(
        store, staff, comment="day before", now=datetime(2026, 11, 21, 15, 59, tzinfo=UTC)
    )
    login_as(make_user(Role.HR))
    rows = csv_rows(client.get("/exports/responses.csv?from=2026-11-22&to=2026-11-22"))
    assert [(r["comment"], r["submitted_at"]) for r in rows] == [
        ("after midnight", "2026-11-22T01:30:00+08:00"),
        ("noon", "2026-11-22T14:05:00+08:00"),
    ]


def test_formula_like_text_is_neutralised_in_csv(
    client, make_store, make_staff, make_response, make_user, login_as
):
    store = make_store("SH-003")
    staff = make_staff(store, name="=cmd|' /C calc'!A0")
    for comment in FORMULAS:
        make_response(store, staff, comment=comment, now=NOON)
    login_as(make_user(Role.REVIEWER))
    rows = csv_rows(client.get(f"/exports/responses.csv?{RANGE}"))
    assert [r["comment"] for r in rows] == ["'" + text for text in FORMULAS]
    assert {r["staff_name"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    assert {r["nps"] for r in rows} == {"9"}


def test_formula_like_text_is_neutralised_in_xlsx_and_nothing_is_a_formula(
    client, make_store, make_staff, make_response, make_user, login_as
):
    store = make_store("SH-004", name="=门店")
    staff = make_staff(store)
    for comment in FORMULAS:
        make_response(store, staff, comment=comment, now=NOON)
    login_as(make_user(Role.ADMIN))
    response = fetch(client, f"/exports/responses.xlsx?{RANGE}")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="responses-all-2026-11-01-2026-11-30.xlsx"'
    )
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    rows, xml = xlsx_cells(response.get_data())
    assert "<f>" not in xml and "<f " not in xml
    assert rows[0] == list(RESPONSE_COLUMNS)
    comment = RESPONSE_COLUMNS.index("comment")
    # XML parsers normalise a literal CR to LF; XlsxWriter escapes it as _x000D_.
    got = [row[comment].replace("_x000D_", "\r") for row in rows[1:]]
    assert got == ["'" + text for text in FORMULAS]
    assert {row[RESPONSE_COLUMNS.index("store_name")] for row in rows[1:]} == {"'=门店"}
    assert {row[RESPONSE_COLUMNS.index("submitted_at")] for row in rows[1:]} == {
        "2026-11-22T14:05:00+08:00"
    }
    # Numbers stay numbers: a plain <v> cell, no type attribute.
    assert re.search(r'<c r="H2"><v>9</v></c>', xml)


def test_contact_details_are_never_exported(
    client, make_store, make_staff, make_response, make_user, login_as
):
    store = make_store("SH-005")
    make_response(
        store, make_staff(store), nps=2, contact=ContactAnswer(phone=PHONE, email=EMAIL), now=NOON
    )
    login_as(make_user(Role.ADMIN))
    for url in ("/exports/responses.csv", "/exports/summary.csv"):
        body = client.get(f"{url}?{RANGE}").get_data()
        assert PHONE.encode() not in body and EMAIL.encode() not in body
    _rows, xml = xlsx_cells(fetch(client, f"/exports/responses.xlsx?{RANGE}").get_data())
    assert PHONE not in xml and EMAIL not in xml


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01&to=2026-11-30",
        "from=yesterday&to=2026-11-30",
        "from=2026-11-01&to=",
        "from=2026-11-30&to=2026-11-01",
        "from=2025-10-26&to=2026-11-30",
    ],
    ids=["month-13", "words", "empty", "reversed", "401-days"],
)
def test_bad_date_arguments_give_a_clear_400(client, make_user, login_as, query):
    login_as(make_user(Role.ADMIN))
    for url in ("/exports/responses.csv", "/exports/responses.xlsx", "/exports/summary.csv"):
        response = client.get(f"{url}?{query}", headers={"Accept-Language": "en"})
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        text = response.get_data(as_text=True)
        assert any(
            message in text
            for message in (
                "Write dates as YYYY-MM-DD",
                "The first day is after the last day.",
                "A range can cover at most 400 days.",
            )
        ), text


def test_a_range_of_exactly_400_days_is_allowed_and_no_dates_mean_the_last_30(
    client, make_user, login_as
):
    login_as(make_user(Role.ADMIN))
    assert client.get("/exports/summary.csv?from=2025-10-27&to=2026-11-30").status_code == 200
    response = client.get("/exports/summary.csv")
    assert response.status_code == 200
    assert re.fullmatch(
        r'attachment; filename="summary-all-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv"',
        response.headers["Content-Disposition"],
    )


def test_summary_counts_and_nps_match_an_independent_computation(
    client, make_store, make_staff, make_response, make_user, login_as
):
    store = make_store("SZ-001", name="深圳南山店", region="华南")
    empty = make_store("SZ-002", name="深圳福田店", region="华南")
    staff = make_staff(store)
    # 6 promoters, 2 passives, 2 detractors: NPS = 100 (6 - 2) / 10 = 40.0.
    # CSAT 4 or 5 for 7 of the 10: 70.0 %.
    scores = [10, 10, 9, 9, 9, 9, 8, 7, 6, 0]
    csats = [5, 5, 5, 4, 4, 4, 4, 3, 2, 1]
    for nps, csat in zip(scores, csats, strict=True):
        make_response(store, staff, nps=nps, csat=csat, now=NOON)
    login_as(make_user(Role.MANAGER, stores=[store, empty]))
    response = client.get(f"/exports/summary.csv?{RANGE}")
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="summary-all-2026-11-01-2026-11-30.csv"'
    )
    rows = csv_rows(response)
    assert list(rows[0]) == list(SUMMARY_COLUMNS)
    by_code = {row["store_code"]: row for row in rows}
    assert list(by_code) == ["SZ-001", "SZ-002", "ALL"]
    shop = by_code["SZ-001"]
    assert (shop["store_name"], shop["region"]) == ("深圳南山店", "华南")
    assert [shop[k] for k in ("n", "promoters", "passives", "detractors")] == [
        "10",
        "6",
        "2",
        "2",
    ]
    assert (shop["nps"], shop["csat_n"], shop["csat_top2"], shop["csat_percent"]) == (
        "40.0",
        "10",
        "7",
        "70.0",
    )
    assert float(shop["nps_ci_low"]) < 40.0 < float(shop["nps_ci_high"])
    assert float(shop["csat_ci_low"]) < 70.0 < float(shop["csat_ci_high"])
    # No answers: no NPS (an empty cell), never 0.
    none = by_code["SZ-002"]
    assert (none["n"], none["nps"], none["csat_percent"], none["nps_ci_low"]) == ("0", "", "", "")
    total = by_code["ALL"]
    assert {k: total[k] for k in ("n", "nps", "csat_percent")} == {
        "n": "10",
        "nps": "40.0",
        "csat_percent": "70.0",
    }


def test_summary_xlsx_keeps_numbers_as_numbers(
    client, make_store, make_staff, make_response, make_user, login_as
):
    store = make_store("SZ-003")
    make_response(store, make_staff(store), nps=10, csat=5, now=NOON)
    login_as(make_user(Role.ADMIN))
    rows, xml = xlsx_cells(fetch(client, f"/exports/summary.xlsx?{RANGE}").get_data())
    assert rows[0] == list(SUMMARY_COLUMNS)
    assert rows[1][:8] == ["SZ-003", rows[1][1], "华东", "1", "1", "0", "0", "100"]
    assert "<f>" not in xml


def test_a_mystery_shopper_is_refused_and_a_stranger_must_sign_in(client, app, make_user, login_as):
    urls = [
        "/exports/",
        *(f"/exports/{k}.{f}" for k in ("responses", "summary") for f in ("csv", "xlsx")),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    login_as(make_user(Role.MYSTERY))
    assert [client.get(url).status_code for url in urls] == [403] * len(urls)


def test_every_export_route_declares_its_roles(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("exports."):
            roles = app.view_functions[rule.endpoint].portal_roles
            assert roles == {Role.ADMIN, Role.MANAGER, Role.HR, Role.REVIEWER, Role.CX}


def bulk_respond(db_session, store, staff, count):
    """``count`` more answered receipts in two Core inserts (record_response takes ~15 ms
    each); needs one response made the ordinary way first, for its survey version."""
    version_id = db_session.scalar(select(SurveyVersion.id))
    tokens = [uuid.uuid4().hex for _ in range(count)]
    day = NOON.date()
    db_session.execute(
        insert(Receipt),
        [
            {
                "token_id": token,
                "short_code": token[:16],
                "store_id": store.id,
                "staff_id": staff.id,
                "transaction_id": token,
                "issued_at": NOON,
                "local_day": day,
                "local_hour": 14,
                "expires_at": NOON + timedelta(days=30),
                "survey_version_id": version_id,
                "created_at": NOON,
                "answered_at": NOON,
            }
            for token in tokens
        ],
    )
    ids = db_session.execute(select(Receipt.id).where(Receipt.token_id.in_(tokens))).scalars()
    db_session.execute(
        insert(Response),
        [
            {
                "receipt_id": receipt_id,
                "survey_version_id": version_id,
                "store_id": store.id,
                "staff_id": staff.id,
                "submitted_at": NOON,
                "local_day": day,
                "locale": "en",
                "nps": 7,
                "csat": 4,
                "comment": "=1+1",
            }
            for receipt_id in ids
        ],
    )


def test_the_csv_export_issues_the_same_few_queries_for_5_or_500_rows(
    client, make_store, make_staff, make_response, make_user, login_as, count_queries, db_session
):
    store = make_store("SH-006")
    staff = make_staff(store)
    login_as(make_user(Role.MANAGER, stores=[store]))

    def export_queries() -> tuple[int, int]:
        before = count_queries()
        rows = csv_rows(client.get(f"/exports/responses.csv?{RANGE}"))
        return len(rows), count_queries() - before

    for _ in range(5):
        make_response(store, staff, now=NOON)
    few, few_queries = export_queries()
    bulk_respond(db_session, store, staff, 495)
    many, many_queries = export_queries()
    assert (few, many) == (5, 500)
    assert many_queries == few_queries <= 10


def test_the_xlsx_temporary_file_is_deleted_once_sent(
    client, make_store, make_staff, make_response, make_user, login_as, monkeypatch, tmp_path
):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    store = make_store("SH-007")
    make_response(store, make_staff(store), now=NOON)
    login_as(make_user(Role.ADMIN))
    response = client.get(f"/exports/responses.xlsx?{RANGE}")
    assert len(xlsx_cells(response.get_data())[0]) == 2
    response.close()
    assert list(tmp_path.iterdir()) == []


def test_the_export_page_offers_visible_stores_and_redirects_to_the_download(
    client, two_stores, make_user, login_as
):
    mine, _theirs = two_stores
    login_as(make_user(Role.MANAGER, stores=[mine]))
    page = client.get("/exports/", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="from"' in html and 'name="to"' in html and 'method="get"' in html
    assert "SH-001" in html and "BJ-009" not in html
    assert "/exports/responses.xlsx?" in html
    chosen = client.get(
        f"/exports/?store=SH-001&{RANGE}&kind=summary&format=xlsx",
        headers={"Accept-Language": "en"},
    )
    assert chosen.status_code == 302
    assert chosen.headers["Location"] == (
        "/exports/summary.xlsx?from=2026-11-01&to=2026-11-30&store=SH-001"
    )
    bad = client.get(
        "/exports/?from=2026-11-30&to=2026-11-01&kind=responses&format=csv",
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 400
    assert "The first day is after the last day." in bad.get_data(as_text=True)
    assert client.get(f"/exports/?store=BJ-009&{RANGE}&kind=summary&format=csv").status_code == 404
    # Without a kind the page shows the links for what was chosen, or the errors.
    links = client.get(f"/exports/?store=SH-001&{RANGE}").get_data(as_text=True)
    assert "/exports/responses.csv?from=2026-11-01&amp;to=2026-11-30&amp;store=SH-001" in links
    assert client.get("/exports/?from=nonsense").status_code == 400
    assert client.get(f"/exports/?{RANGE}&kind=evil&format=csv").status_code == 400


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("1-2", "1-2"),
        ("好=坏", "好=坏"),
        ("", ""),
        ("'already", "'already"),
    ],
)
def test_neutralise_cell(value, expected):
    assert neutralise_cell(value) == expected


@dataclass(frozen=True)
class _Row:
    a: int
    b: str


def test_csv_is_produced_in_chunks_not_all_at_once():
    chunks = csv_chunks(("a", "b"), (_Row(i, "x") for i in range(5000)))
    first = next(chunks)
    assert first.startswith(b"\xef\xbb\xbfa,b\r\n0,x\r\n")
    rest = list(chunks)
    assert len(rest) == 2
    assert b"".join([first, *rest]).count(b"\r\n") == 5001


def test_a_long_xlsx_export_continues_on_further_sheets(tmp_path):
    target = tmp_path / "out.xlsx"
    with target.open("wb") as file:
        written = write_xlsx(
            file, "responses", ("a", "b"), (_Row(i, "x") for i in range(5)), max_rows=3
        )
    assert written == 5
    with zipfile.ZipFile(target) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        sheets = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
    assert re.findall(r'<sheet name="([^"]+)"', workbook) == [
        "responses",
        "responses 2",
        "responses 3",
    ]
    assert len(sheets) == 3
