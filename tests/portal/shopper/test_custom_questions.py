"""The survey a receipt asks, whatever its version: every kind of question drawn, conditions
without and with JavaScript, custom answers checked, stored and counted, hidden answers
dropped."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import portal.shopper.views as views
from portal.db import utcnow
from portal.models import (
    QuestionDailyCount,
    Receipt,
    Response,
    ResponseAnswer,
    Store,
    SurveyVersion,
)
from portal.receipts import IssuedReceipt, issue_receipt
from tests.conftest import csrf_token_from
from tests.portal.shopper.custom_survey import custom_document, publish, text

EN = {"Accept-Language": "en"}
HAPPY = {"nps": "9", "csat": "5", "visit_reason": "groceries"}


@pytest.fixture
def custom_version(db_session: Session) -> SurveyVersion:
    return publish(db_session, custom_document(), utcnow())


@pytest.fixture
def receipt_of(
    db_session: Session, settings, make_store, custom_version
) -> Callable[..., IssuedReceipt]:
    """A receipt asking the custom survey, from a new store of ``store_format``."""
    counter = iter(range(1, 1000))

    def issue(store_format: str = "supermarket", store: Store | None = None) -> IssuedReceipt:
        n = next(counter)
        store = store or make_store(f"CU-{n:03d}", format=store_format, name=f"静安{n}号店")
        issued = issue_receipt(
            db_session,
            settings,
            store=store,
            staff_code=None,
            transaction_id=f"CU-{n}",
            issued_at=None,
            total_cents=None,
            now=utcnow(),
            survey_key="custom",
        )
        db_session.flush()
        return issued

    return issue


def send(client, issued: IssuedReceipt, answers: dict[str, Any]) -> Any:
    url = f"/r/{issued.token}"
    token = csrf_token_from(client.get(url, headers=EN).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **answers}, headers=EN)


def stored(db_session: Session, issued: IssuedReceipt) -> set[tuple[str, int | None, Any, Any]]:
    rows = db_session.execute(
        select(
            ResponseAnswer.question_key,
            ResponseAnswer.number,
            ResponseAnswer.choice,
            ResponseAnswer.text,
        )
        .join(Response, Response.id == ResponseAnswer.response_id)
        .where(Response.receipt_id == issued.receipt.id)
    )
    return {tuple(row) for row in rows}


def field_errors(html: str, field: str) -> list[str]:
    block = re.search(rf'<ul class="errors" id="{re.escape(field)}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


def test_every_kind_of_question_is_drawn_with_its_help_and_required_mark(client, receipt_of):
    html = client.get(f"/r/{receipt_of('department_store').token}", headers=EN).get_data(
        as_text=True
    )
    # single choice with "other" and its text box, and the help text
    assert re.search(r'type="radio"[^>]*name="visit_reason" value="groceries"', html)
    assert re.search(r'type="radio"[^>]*name="visit_reason" value="other"', html)
    assert 'name="visit_reason-other"' in html
    assert "Pick the main reason." in html
    assert re.search(r"Why did you come in today\? <span class=\"req\"", html)
    # yes/no as two answers; a scale; multiple choice as tick boxes; short and long text
    assert re.search(r'type="radio"[^>]*name="self_checkout" value="yes"', html)
    assert re.search(r'type="radio"[^>]*name="self_checkout" value="no"', html)
    assert re.search(r'type="radio"[^>]*name="checkout_ease" value="5"', html)
    assert re.search(r'type="checkbox"[^>]*name="departments" value="fashion"', html)
    assert re.search(r'<input id="improve" maxlength="80" name="improve" type="text"', html)
    assert re.search(r'<textarea id="story" maxlength="300" name="story"', html)
    assert "Up to 300 characters." in html
    # the receipt survey's own questions are still there
    assert 'name="contact_phone"' in html and 'id="problem"' in html


def test_a_question_the_store_format_rules_out_is_not_drawn(client, receipt_of):
    supermarket = client.get(f"/r/{receipt_of('supermarket').token}").get_data(as_text=True)
    department = client.get(f"/r/{receipt_of('department_store').token}").get_data(as_text=True)
    assert 'name="departments"' not in supermarket
    assert 'name="departments"' in department
    assert 'data-format="department_store"' in department


def test_conditional_questions_carry_their_rule_for_the_script(client, receipt_of):
    html = client.get(f"/r/{receipt_of().token}").get_data(as_text=True)
    tag = re.search(r'<div class="question" id="question-checkout_ease"[^>]*>', html).group(0)
    assert 'data-show-if="{&#34;match&#34;:&#34;all&#34;' in tag
    assert '<script src="/static/survey.js"></script>' in html
    assert '<div class="question" id="question-story" data-key="story" data-kind="text">' in html


def test_the_receipt_survey_needs_no_condition_sheet_or_script(client, make_store, make_receipt):
    html = client.get(f"/r/{make_receipt(make_store(), None).token}").get_data(as_text=True)
    assert "survey-style" not in html and "survey.js" not in html


def test_the_condition_sheet_hides_each_conditional_question_until_its_rule_holds(
    client, receipt_of, custom_version
):
    html = client.get(f"/r/{receipt_of().token}").get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="(/survey-style/[0-9a-f]{64}\.css)">', html)
    sheet = client.get(href.group(1))
    css = sheet.get_data(as_text=True)
    assert sheet.mimetype == "text/css"
    assert "immutable" in sheet.headers["Cache-Control"]
    form = ".survey:not(.js-conditions)"
    assert f"{form} #question-checkout_ease" in css
    assert (
        f'{form}:has(input[name="self_checkout"][value="yes"]:checked) '
        "#question-checkout_ease { display: block; }"
    ) in css
    # "any" of two scale rules: the satisfying points of each, as a selector list
    improve = re.search(r"^.*#question-improve \{ display: block; \}$", css, re.M).group(0).strip()
    assert improve.startswith(f"{form}:is(:has(")
    assert 'input[name="csat"][value="2"]:checked' in improve
    assert 'input[name="csat"][value="3"]' not in improve
    assert 'input[name="nps"][value="6"]:checked' in improve
    assert 'input[name="nps"][value="7"]' not in improve
    assert f'{form}[data-format="department_store"] #question-departments' in css
    assert "#question-story" not in css and "#question-visit_reason" not in css


def test_an_unknown_condition_sheet_is_a_404(client):
    assert client.get(f"/survey-style/{'0' * 64}.css").status_code == 404
    assert client.get(f"/survey-style/{'z' * 64}.css").status_code == 404


def test_custom_answers_are_stored_one_row_each_as_the_contract_says(
    client, db_session, receipt_of, custom_version
):
    issued = receipt_of("department_store")
    answers = {
        **HAPPY,
        "visit_reason": "other",
        "visit_reason-other": "  取快递  ",
        "self_checkout": "yes",
        "checkout_ease": "4",
        "departments": ["fashion", "food", "other"],
        "departments-other": "玩具",
        "story": "很好\r\n下次再来",
    }
    page = send(client, issued, answers)
    assert page.status_code == 200, page.get_data(as_text=True)
    assert stored(db_session, issued) == {
        ("visit_reason", None, "other", "取快递"),
        ("self_checkout", 1, None, None),
        ("checkout_ease", 4, None, None),
        ("departments", None, "fashion", None),
        ("departments", None, "food", None),
        ("departments", None, "other", "玩具"),
        ("story", None, None, "很好\n下次再来"),
    }
    response = db_session.scalars(select(Response)).one()
    assert response.survey_version_id == issued.receipt.survey_version_id == custom_version.id


def test_a_no_is_stored_as_zero_and_a_question_left_blank_stores_nothing(
    client, db_session, receipt_of
):
    issued = receipt_of()
    assert send(client, issued, {**HAPPY, "self_checkout": "no", "story": "   "}).status_code == 200
    assert stored(db_session, issued) == {
        ("visit_reason", None, "groceries", None),
        ("self_checkout", 0, None, None),
    }


@pytest.mark.parametrize(
    ("answers", "dropped"),
    [
        # the rule's answer is "no": the scale is hidden, its answer not kept
        ({"self_checkout": "no", "checkout_ease": "5"}, "checkout_ease"),
        # unanswered meets no rule
        ({"checkout_ease": "5"}, "checkout_ease"),
        # happy scores: the "what should we fix" question is not asked
        ({"improve": "队伍太长"}, "improve"),
        # a supermarket is never asked about departments
        ({"departments": ["food"]}, "departments"),
    ],
)
def test_answers_sent_for_hidden_questions_are_never_stored(
    client, db_session, receipt_of, answers, dropped
):
    issued = receipt_of("supermarket")
    assert send(client, issued, {**HAPPY, **answers}).status_code == 200
    assert dropped not in {row[0] for row in stored(db_session, issued)}


def test_a_question_shown_by_a_low_score_is_kept(client, db_session, receipt_of):
    issued = receipt_of()
    answers = {**HAPPY, "nps": "3", "csat": "4", "improve": "队伍太长"}
    assert send(client, issued, answers).status_code == 200
    assert ("improve", None, None, "队伍太长") in stored(db_session, issued)


def test_a_required_question_is_required_only_while_shown(client, db_session, receipt_of):
    hidden = receipt_of()
    assert send(client, hidden, {**HAPPY, "self_checkout": "no"}).status_code == 200
    shown = receipt_of()
    page = send(client, shown, {**HAPPY, "self_checkout": "yes"})
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert field_errors(html, "checkout_ease") == ["Please answer this question."]
    assert stored(db_session, shown) == set()


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"visit_reason": ""}, "visit_reason", "Please answer this question."),
        ({"visit_reason": "bakery"}, "visit_reason", "Please choose one of the options."),
        ({"visit_reason": "other"}, "visit_reason-other", "please say what it is."),
        (
            {"visit_reason": "other", "visit_reason-other": "x" * 201},
            "visit_reason-other",
            "Please keep this answer to 200 characters.",
        ),
        ({"self_checkout": "maybe"}, "self_checkout", "Please choose one of the options."),
        (
            {"self_checkout": "yes", "checkout_ease": "6"},
            "checkout_ease",
            "Please choose one of the numbers.",
        ),
        (
            {"nps": "2", "improve": "x" * 81},
            "improve",
            "Please keep this answer to 80 characters.",
        ),
        ({"nps": "2", "improve": "a\nb"}, "improve", "cannot be stored"),
        ({"story": "a\x00b"}, "story", "cannot be stored"),
        (
            {"departments": ["food", "garden"]},
            "departments",
            "Please choose one of the options.",
        ),
    ],
)
def test_a_bad_custom_answer_is_refused_on_its_field_and_nothing_is_written(
    client, db_session, receipt_of, answers, field, message
):
    issued = receipt_of("department_store")
    page = send(client, issued, {**HAPPY, **answers})
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    errors = field_errors(html, field)
    assert errors and message in errors[0].replace("&#39;", "'"), (field, errors)
    assert db_session.scalar(select(func.count()).select_from(Response)) == 0
    assert db_session.scalar(select(func.count()).select_from(ResponseAnswer)) == 0


def test_the_answers_come_back_checked_after_an_error(client, receipt_of):
    issued = receipt_of("department_store")
    answers = {
        **HAPPY,
        "visit_reason": "other",
        "departments": ["fashion", "other"],
        "departments-other": "玩具",
        "story": "还不错",
    }
    html = send(client, issued, answers).get_data(as_text=True)
    assert re.search(r'name="departments" value="fashion" checked', html)
    assert re.search(r'name="departments" value="food">', html)
    assert 'value="玩具"' in html and "还不错</textarea>" in html


def test_the_daily_counts_follow_the_answers(client, db_session, receipt_of, custom_version):
    store_issued = receipt_of("department_store")
    store = db_session.get(Store, store_issued.receipt.store_id)
    answers = [
        {
            **HAPPY,
            "self_checkout": "yes",
            "checkout_ease": "4",
            "departments": ["food", "other"],
            "departments-other": "玩具",
        },
        {**HAPPY, "visit_reason": "pharmacy", "self_checkout": "no", "story": "好"},
    ]
    assert send(client, store_issued, answers[0]).status_code == 200
    assert send(client, receipt_of(store=store), answers[1]).status_code == 200
    counts = dict(
        db_session.execute(
            select(
                QuestionDailyCount.question_key + ":" + QuestionDailyCount.value,
                QuestionDailyCount.count,
            ).where(QuestionDailyCount.store_id == store.id)
        ).all()
    )
    assert {
        key: value
        for key, value in counts.items()
        if value and key.split(":")[0] in {"self_checkout", "checkout_ease", "departments"}
    } == {
        "self_checkout:": 2,
        "self_checkout:yes": 1,
        "self_checkout:no": 1,
        "checkout_ease:": 1,
        "checkout_ease:4": 1,
        "departments:": 1,
        "departments:food": 1,
        "departments:other": 1,
    }
    assert counts["visit_reason:"] == 2 and counts["story:"] == 1 and "story:好" not in counts


def test_every_statement_of_a_submit_with_custom_answers_comes_from_the_cache(
    client, receipt_of, engine
):
    issued = receipt_of("department_store")
    url = f"/r/{issued.token}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    caching: list[tuple[CacheStats, str]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith(("INSERT", "UPDATE", "DELETE", "SELECT")):
            caching.append((context.cache_hit, statement.split("(")[0].strip()))

    answers = {**HAPPY, "self_checkout": "yes", "checkout_ease": "3", "departments": ["food"]}
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.post(url, data={"csrf_token": token, **answers}).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    names = [name for _hit, name in caching]
    assert "INSERT INTO response_answers" in names
    assert "INSERT INTO question_daily_counts" in names
    assert [name for hit, name in caching if hit is CacheStats.NO_CACHE_KEY] == []


def test_the_question_counts_are_written_with_the_rollups_after_everything_else(
    client, receipt_of, sent_statements
):
    issued = receipt_of()
    before = len(sent_statements)
    answers = {
        **HAPPY,
        "nps": "2",
        "csat": "1",
        "improve": "太慢",
        "problem": "y",
        "problem_category": "price",
    }
    assert send(client, issued, answers).status_code == 200
    writes = [
        s.split("(")[0].strip()
        for s in sent_statements[before:]
        if s.startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    first = writes.index("INSERT INTO question_daily_counts")
    assert "INSERT INTO cases" in writes[:first]
    assert all(
        name.endswith("rollups") or name == "INSERT INTO question_daily_counts"
        for name in writes[first:]
    ), writes[first:]


def test_a_database_down_before_the_version_is_read_sends_the_answers_back(
    client, receipt_of, monkeypatch
):
    issued = receipt_of()
    url = f"/r/{issued.token}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))

    def down(*args: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("could not connect to server"))

    monkeypatch.setattr(views, "get_survey_page", down)
    page = client.post(url, data={"csrf_token": token, **HAPPY, "story": "别丢了我的话"})
    html = page.get_data(as_text=True)
    assert page.status_code == 503
    assert '<input type="hidden" name="story" value="别丢了我的话">' in html
    assert f'<input type="hidden" name="csrf_token" value="{token}">' in html
    assert re.search(r'<form method="post" novalidate>', html)


def test_the_receipt_keeps_the_version_it_was_issued_with(
    client, db_session, receipt_of, custom_version
):
    issued = receipt_of()
    # A newer version of the same survey is published after the receipt was printed.
    document = custom_document()
    document["questions"] = [q for q in document["questions"] if q["key"] != "story"]
    publish(db_session, document, utcnow())
    html = client.get(f"/r/{issued.token}").get_data(as_text=True)
    assert 'name="story"' in html
    assert send(client, issued, {**HAPPY, "story": "旧版"}).status_code == 200
    version_id = db_session.scalar(select(Response.survey_version_id))
    assert version_id == custom_version.id
    assert db_session.get(Receipt, issued.receipt.id).survey_version_id == custom_version.id


def test_the_owners_words_and_the_store_name_are_text_not_markup(
    db_session, settings, client, make_store
):
    """A survey owner's question, choice and help texts and a store's name reach shoppers
    escaped: a pasted tag shows as text and never runs."""
    tag = '<img src=x onerror="alert(1)">'
    question = {
        "key": "paid_with",
        "kind": "choice",
        "text": text(f"How did you pay? {tag}", f"怎么付款？{tag}"),
        "help": text(f"Pick one {tag}", f"选一项 {tag}"),
        "choices": [{"key": "cash", "text": text(f"Cash {tag}", f"现金 {tag}")}],
    }
    publish(db_session, custom_document([question]), utcnow())
    store = make_store("XS-001", name=f"静安店 {tag}")
    issued = issue_receipt(
        db_session,
        settings,
        store=store,
        staff_code=None,
        transaction_id="XS-1",
        issued_at=None,
        total_cents=None,
        now=utcnow(),
        survey_key="custom",
    )
    db_session.flush()
    html = client.get(f"/r/{issued.token}", headers=EN).get_data(as_text=True)
    assert "How did you pay?" in html and "Cash" in html and "Pick one" in html
    assert tag not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
