"""The responses export with the custom questions of the chosen survey versions: a column
per question key, empty where a row's version did not ask it, the survey and version of
each row, choice texts in the reader's language, text neutralised, roles and scoping as
for every export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from portal.exports.queries import RESPONSE_COLUMNS
from portal.models import Role
from tests.portal.custom_answers import (
    APP_RATING,
    DEPARTMENT,
    SELF_CHECKOUT,
    SERVICES,
    VISIT_NOTE,
    WISH,
    answer,
    publish_version,
    receipt_document,
)
from tests.portal.themes.rows import classify_as

RANGE = "from=2026-11-01&to=2026-11-30"
NOON = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)

#: Version 3 rewords the yes/no question: the header follows the newest wording.
SELF_CHECKOUT_V3 = {
    **SELF_CHECKOUT,
    "text": {"zh_CN": "您用过自助收银台吗？", "en": "Did you use a self-checkout till?"},
}
CUSTOM_KEYS = ["self_checkout", "department", "visit_note", "services", "app_rating", "wish"]


@pytest.fixture
def mixed(db_session, make_store, make_staff, make_response):
    """Store SH-001 with answers to versions 1 (no custom question), 2 and 3 of the
    receipt survey; BJ-009 with one answer to version 3."""
    store = make_store("SH-001", name="徐汇店")
    staff = make_staff(store, "S001")

    def respond(minutes, **fields):
        return make_response(store, staff, now=NOON + timedelta(minutes=minutes), **fields)

    # Answered before the later versions exist: its receipt asks version 1.
    respond(0, comment="version one")
    v2 = publish_version(db_session, receipt_document(SELF_CHECKOUT, DEPARTMENT, VISIT_NOTE), NOON)
    v3 = publish_version(
        db_session, receipt_document(SELF_CHECKOUT_V3, SERVICES, APP_RATING, WISH), NOON
    )
    answer(
        db_session,
        respond(1, comment="version two"),
        v2,
        self_checkout=True,
        department=[("other", "玩具")],
        visit_note='=HYPERLINK("http://x")',
    )
    answer(
        db_session,
        respond(2, comment="version three"),
        v3,
        self_checkout=False,
        services=["parking", "bakery", ("other", "洗车")],
        app_rating=4,
        wish="更多收银台",
    )
    answer(db_session, respond(3, comment="version three, nothing custom"), v3)
    other = make_store("BJ-009", name="朝阳店")
    answer(
        db_session,
        make_response(other, make_staff(other, "S002"), comment="theirs", now=NOON),
        v3,
        wish="secret wish of another store",
    )
    return store, v2, v3


def csv_table(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def get(client, url, lang="en"):
    return client.get(url, headers={"Accept-Language": lang})


def test_every_question_of_the_versions_is_a_column_empty_where_a_version_did_not_ask_it(
    client, mixed, make_user, login_as
):
    login_as(make_user(Role.ADMIN))
    header, rows = csv_table(get(client, f"/exports/responses.csv?store=SH-001&{RANGE}"))
    assert header[: len(RESPONSE_COLUMNS)][-3:] == ["Survey", "Survey version", "Comment themes"]
    assert header[len(RESPONSE_COLUMNS) :] == [
        "self_checkout: Did you use a self-checkout till?",
        "department: Which department did you visit?",
        "visit_note: Your visit in a few words",
        "services: Which services did you use?",
        "app_rating: How do you rate our app?",
        "wish: What else would you like?",
    ]
    custom = header[len(RESPONSE_COLUMNS) :]
    table = [
        [row["Comment"], row["Survey"], row["Survey version"], *(row[c] for c in custom)]
        for row in rows
    ]
    assert table == [
        ["version one", "receipt", "1", "", "", "", "", "", ""],
        [
            "version two",
            "receipt",
            "2",
            "1",
            "Other: 玩具",
            '\'=HYPERLINK("http://x")',
            "",
            "",
            "",
        ],
        [
            "version three",
            "receipt",
            "3",
            "0",
            "",
            "",
            "Bakery; Parking; Other: 洗车",
            "4",
            "更多收银台",
        ],
        ["version three, nothing custom", "receipt", "3", "", "", "", "", "", ""],
    ]


def test_headers_and_choice_texts_are_in_the_readers_language(client, mixed, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    url = f"/exports/responses.csv?store=SH-001&survey=receipt&versions=2,3&{RANGE}"
    header, rows = csv_table(get(client, url, "zh-CN"))
    assert header[len(RESPONSE_COLUMNS) - 3 :] == [
        "问卷",
        "问卷版本",
        "评论主题",
        "self_checkout：您用过自助收银台吗？",
        "department：您去了哪个部门？",
        "visit_note：一句话说说这次购物",
        "services：您用了哪些服务？",
        "app_rating：您给我们的应用打几分？",
        "wish：您还希望我们提供什么？",
    ]
    assert [row["department：您去了哪个部门？"] for row in rows] == ["其他：玩具", "", ""]
    assert [row["services：您用了哪些服务？"] for row in rows] == [
        "",
        "面包房; 停车场; 其他：洗车",
        "",
    ]


def test_chosen_versions_limit_the_rows_and_the_columns(client, mixed, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    response = get(client, f"/exports/responses.csv?store=SH-001&survey=receipt&versions=2&{RANGE}")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="responses-SH-001-receipt-v2-2026-11-01-2026-11-30.csv"'
    )
    header, rows = csv_table(response)
    assert [h.split(":")[0] for h in header[len(RESPONSE_COLUMNS) :]] == [
        "self_checkout",
        "department",
        "visit_note",
    ]
    assert [row["Comment"] for row in rows] == ["version two"]
    # "all" and an empty field both mean every version of the survey.
    for versions in ("all", ""):
        url = f"/exports/responses.csv?store=SH-001&survey=receipt&versions={versions}&{RANGE}"
        header, rows = csv_table(get(client, url))
        assert len(rows) == 4
        assert [h.split(":")[0] for h in header[len(RESPONSE_COLUMNS) :]] == CUSTOM_KEYS
    # The summary counts the chosen versions' answers only.
    _header, summary = csv_table(
        get(client, f"/exports/summary.csv?store=SH-001&survey=receipt&versions=1,3&{RANGE}")
    )
    assert [row["Answers"] for row in summary] == ["3", "3"]


def test_another_survey_has_its_own_rows_and_columns(
    client, db_session, mixed, make_response, make_user, login_as
):
    store, _v2, _v3 = mixed
    express = publish_version(
        db_session,
        receipt_document(APP_RATING, title_en="Express survey"),
        NOON,
        survey_key="express",
    )
    answer(db_session, make_response(store, comment="express", now=NOON), express, app_rating=2)
    login_as(make_user(Role.ADMIN))
    header, rows = csv_table(get(client, f"/exports/responses.csv?survey=express&{RANGE}"))
    assert header[len(RESPONSE_COLUMNS) :] == ["app_rating: How do you rate our app?"]
    assert [(r["Comment"], r["Survey"], r["Survey version"]) for r in rows] == [
        ("express", "express", "1")
    ]
    # Every survey: all five answers, the express survey's question in the column the
    # receipt survey's version 3 opened.
    header, rows = csv_table(get(client, f"/exports/responses.csv?store=SH-001&{RANGE}"))
    assert [h.split(":")[0] for h in header[len(RESPONSE_COLUMNS) :]] == CUSTOM_KEYS
    assert {r["Comment"]: r["app_rating: How do you rate our app?"] for r in rows} == {
        "express": "2",
        "version one": "",
        "version two": "",
        "version three": "4",
        "version three, nothing custom": "",
    }
    page = get(client, "/exports/").get_data(as_text=True)
    assert '<option value="express">Express survey</option>' in page
    # Two surveys of the same title are told apart by their keys.
    publish_version(db_session, receipt_document(WISH), NOON, survey_key="spring")
    page = get(client, "/exports/").get_data(as_text=True)
    assert '<option value="receipt">How was your visit? (receipt)</option>' in page
    assert '<option value="spring">How was your visit? (spring)</option>' in page


def test_xlsx_keeps_numbers_as_numbers_and_neutralises_text_answers(
    client, mixed, make_user, login_as
):
    login_as(make_user(Role.ADMIN))
    with get(client, f"/exports/responses.xlsx?store=SH-001&survey=receipt&{RANGE}") as response:
        data = response.get_data()
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    start = len(RESPONSE_COLUMNS)
    assert [h.split(":")[0] for h in rows[0][start:]] == CUSTOM_KEYS
    assert rows[2][start - 3 :] == [
        "receipt",
        2,
        None,  # "version two": no theme
        1,
        "Other: 玩具",
        '\'=HYPERLINK("http://x")',
        None,
        None,
        None,
    ]
    assert rows[3][start - 3 :] == [
        "receipt",
        3,
        None,
        0,
        None,
        None,
        "Bakery; Parking; Other: 洗车",
        4,
        "更多收银台",
    ]
    assert all(not str(value).startswith("=") for row in rows for value in row if value)


def test_a_manager_exports_only_their_stores_custom_answers(client, mixed, make_user, login_as):
    store, _v2, _v3 = mixed
    login_as(make_user(Role.MANAGER, stores=[store]))
    for url in (
        f"/exports/responses.csv?{RANGE}",
        f"/exports/responses.csv?survey=receipt&versions=3&{RANGE}",
    ):
        body = get(client, url).get_data(as_text=True)
        assert "更多收银台" in body
        assert "secret wish" not in body and "BJ-009" not in body
    assert get(
        client, f"/exports/responses.csv?store=BJ-009&survey=receipt&{RANGE}"
    ).status_code == (404)
    login_as(make_user(Role.MYSTERY))
    assert get(client, f"/exports/responses.csv?survey=receipt&{RANGE}").status_code == 403


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("survey=nope", "survey", "There is no published survey with the key nope."),
        ("survey=receipt&versions=2,9,12", "versions", "Survey receipt has no version 9, 12."),
        ("survey=receipt&versions=two", "versions", "Write the versions as all, or as numbers"),
        ("survey=receipt&versions=0", "versions", "Write the versions as all, or as numbers"),
        ("survey=receipt&versions=%EF%BC%92", "versions", "Write the versions as all, or as"),
        ("versions=2", "versions", "Choose a survey to export some of its versions."),
    ],
    ids=["unknown-survey", "unknown-version", "words", "zero", "full-width-digit", "no-survey"],
)
def test_unknown_surveys_and_versions_are_a_clear_400(
    client, mixed, make_user, login_as, query, field, message
):
    login_as(make_user(Role.ADMIN))
    for url in ("/exports/responses.csv", "/exports/responses.xlsx", "/exports/summary.csv"):
        response = get(client, f"{url}?{query}&{RANGE}")
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    page = get(client, f"/exports/?{query}&{RANGE}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    errors = html[html.index(f'id="{field}-field"') :]
    assert message in errors[: errors.index("</div>")]


def test_a_typed_survey_key_is_shown_escaped(client, mixed, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    page = get(client, f"/exports/?survey=%3Cscript%3Ex%3C/script%3E&{RANGE}")
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x" not in html


def test_the_export_page_carries_the_survey_and_versions_into_its_links(
    client, mixed, make_user, login_as
):
    login_as(make_user(Role.ADMIN))
    html = get(client, f"/exports/?survey=receipt&versions=3,+2&{RANGE}").get_data(as_text=True)
    assert 'name="survey"' in html and 'name="versions"' in html
    assert (
        "/exports/responses.csv?from=2026-11-01&amp;to=2026-11-30&amp;survey=receipt"
        "&amp;versions=2,3" in html
    )
    chosen = get(client, f"/exports/?survey=receipt&{RANGE}&kind=responses&format=csv")
    assert chosen.status_code == 302
    assert chosen.headers["Location"] == (
        "/exports/responses.csv?from=2026-11-01&to=2026-11-30&survey=receipt"
    )


def test_custom_answers_cost_the_same_few_queries_for_few_or_many_rows(
    client, db_session, mixed, make_response, make_user, login_as, count_queries
):
    store, _v2, v3 = mixed
    login_as(make_user(Role.MANAGER, stores=[store]))

    def export_queries() -> tuple[int, int]:
        before = count_queries()
        _header, rows = csv_table(get(client, f"/exports/responses.csv?{RANGE}"))
        return len(rows), count_queries() - before

    few, few_queries = export_queries()
    for minute in range(12):
        response = make_response(store, now=NOON + timedelta(minutes=10 + minute))
        answer(db_session, response, v3, services=["bakery", "pharmacy"], app_rating=3, wish="x")
    many, many_queries = export_queries()
    assert (few, many) == (4, 16)
    assert many_queries == few_queries <= 12


def test_the_comment_themes_column_lists_each_answers_themes_in_taxonomy_order(
    client, db_session, make_store, make_response, make_user, login_as
):
    store = make_store("SH-001")
    said = make_response(store, comment="排队太久，收银员态度很差", now=NOON)
    classify_as(
        db_session,
        said,
        {"staff_attitude": "negative", "queue": "negative", "checkout": "negative"},
    )
    make_response(store, comment=None, now=NOON + timedelta(minutes=1))
    login_as(make_user(Role.ADMIN))

    _header, rows = csv_table(get(client, f"/exports/responses.csv?store=SH-001&{RANGE}"))

    assert [row["Comment themes"] for row in rows] == ["checkout; queue; staff_attitude", ""]
