"""A survey submit keeps its write transaction short: the answers are checked before its
first query, no page is rendered inside it, and its upserts (the throttle's counter, the
rollups) come from SQLAlchemy's statement cache instead of being compiled each time.

On SQLite a POST's transaction begins with the database's one write lock (``BEGIN
IMMEDIATE``), and every other submit waits for it; bench/load_bench.py showed submits
answered 503 ("database is locked") once many waited while form checks, refusal pages and
statement compiling ran under the lock. On PostgreSQL the same keeps row locks short (every
submit of a store updates the same rollup rows).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats

import portal.shopper.views as views
from portal.db import get_session
from portal.shopper.forms import SurveyForm
from tests.conftest import csrf_token_from

GOOD = {"nps": "9", "csat": "5"}


@pytest.fixture
def url(make_store, make_staff, make_receipt) -> str:
    store = make_store("SH-001")
    return f"/r/{make_receipt(store, make_staff(store, 'S001')).token}"


@pytest.fixture
def in_transaction(monkeypatch) -> list[tuple[str, bool]]:
    """(what, whether the request's session was in a transaction) for each answers check
    and each page rendered by the shopper views."""
    seen: list[tuple[str, bool]] = []
    render, check = views.render_template, SurveyForm.validated_answers

    def rendering(name: str, **context: Any) -> str:
        seen.append((name, get_session().in_transaction()))
        return render(name, **context)

    def checking(form: SurveyForm, *args: Any) -> Any:
        seen.append(("answers check", get_session().in_transaction()))
        return check(form, *args)

    monkeypatch.setattr(views, "render_template", rendering)
    monkeypatch.setattr(SurveyForm, "validated_answers", checking)
    return seen


def test_the_answers_are_checked_before_the_submit_begins_its_transaction(
    client, url, in_transaction
):
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token, **GOOD}).status_code == 200
    assert ("answers check", False) in in_transaction


@pytest.mark.parametrize(
    ("who", "answers", "status", "template"),
    [
        ("first", GOOD, 200, "shopper/thanks.html"),
        ("same browser again", GOOD, 200, "shopper/thanks.html"),
        ("another browser", GOOD, 409, "shopper/already_answered.html"),
        ("first", {"nps": "11"}, 400, "shopper/survey.html"),
    ],
)
def test_no_submit_page_is_rendered_inside_the_transaction(
    app, client, url, in_transaction, who, answers, status, template
):
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    browser = client
    if who != "first":
        assert client.post(url, data={"csrf_token": token, **GOOD}).status_code == 200
    if who == "another browser":
        browser = app.test_client()
        token = csrf_token_from(browser.get("/r").get_data(as_text=True))
    in_transaction.clear()
    # The first thank-you page was kept (`portal.shopper.page_cache`): draw this one.
    app.extensions.pop("portal.shopper_pages", None)
    page = browser.post(url, data={"csrf_token": token, **answers})
    assert page.status_code == status
    rendered = [entry for entry in in_transaction if entry[0].startswith("shopper/")]
    assert rendered == [(template, False)]


def test_every_statement_of_a_submit_comes_from_the_statement_cache(client, url, engine):
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    caching: list[tuple[CacheStats, str]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith(("INSERT", "UPDATE", "DELETE", "SELECT")):
            caching.append((context.cache_hit, statement.split("(")[0]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.post(url, data={"csrf_token": token, **GOOD}).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    upserts = [name for _hit, name in caching if name.startswith("INSERT INTO rate_limit_hits")]
    assert upserts and any("rollups" in name for _hit, name in caching)
    uncached = [name for hit, name in caching if hit is CacheStats.NO_CACHE_KEY]
    assert uncached == []


def test_the_rollup_rows_are_written_last(client, url, sent_statements):
    """Every submit of a store adds to the same rollup rows; their row locks (PostgreSQL)
    hold the store's other submits until the commit, so nothing is written after them."""
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    unhappy = {"nps": "2", "csat": "1", "problem_category": "price", "comment": "排队太久"}
    before = len(sent_statements)
    assert client.post(url, data={"csrf_token": token, **unhappy}).status_code == 200
    writes = [
        statement.split("(")[0].strip()
        for statement in sent_statements[before:]
        if statement.startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert "INSERT INTO cases" in writes  # an unhappy answer writes its case too
    first = next(n for n, name in enumerate(writes) if name.endswith("rollups"))
    assert all(name.endswith("rollups") for name in writes[first:]), writes[first:]
