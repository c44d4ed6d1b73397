"""Themes on cases: the list shows each case's comment themes and filters by theme; the
case page suggests a category from the comment; the hand-opened case's form suggests one
from the complaint without writing anything."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import Case, Role
from tests.conftest import csrf_token_from
from tests.portal.themes.rows import classify_as


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def store(make_store):
    return make_store("SH-001")


@pytest.fixture
def unhappy(db_session, make_response):
    """An unhappy answer (it opens a case) with ``comment``, classified with ``themes``."""

    def make(store, comment, themes, category=None):
        response = make_response(store, nps=1, csat=1, comment=comment, category=category)
        classify_as(db_session, response, themes)
        return db_session.scalars(select(Case).where(Case.response_id == response.id)).one()

    return make


def case_card(html, case):
    return re.search(rf'<li id="case-{case.id}".*?</li>', html, re.S).group(0)


def test_case_list_shows_themes_and_filters_by_theme(
    client, login_as, make_user, store, make_store, unhappy
):
    queue = unhappy(store, "排队太久", {"queue": "negative", "checkout": "negative"})
    price = unhappy(store, "太贵了", {"price": "negative"})
    elsewhere = unhappy(make_store("BJ-009"), "北京排队", {"queue": "negative"})
    login_as(make_user(Role.MANAGER, stores=[store]))

    html = client.get("/cases").get_data(as_text=True)
    assert "Queue and waiting" in case_card(html, queue) and "Checkout" in case_card(html, queue)
    assert "Price" in case_card(html, price)

    filtered = client.get("/cases?theme=queue").get_data(as_text=True)
    assert f'id="case-{queue.id}"' in filtered
    assert f'id="case-{price.id}"' not in filtered and f'id="case-{elsewhere.id}"' not in filtered


def test_case_page_suggests_a_category_from_the_comment_only_when_it_has_none(
    client, login_as, make_user, store, unhappy
):
    without = unhappy(store, "排队太久", {"queue": "negative"})
    chosen = unhappy(store, "排队太久", {"queue": "negative"}, category="price")
    login_as(make_user(Role.MANAGER, stores=[store]))

    page = client.get(f"/cases/{without.id}").get_data(as_text=True)
    suggestion = re.search(r'id="suggested-category">([^<]*)<', page).group(1)
    assert "Checkout wait" in suggestion
    assert 'id="comment-themes"' in page
    assert 'id="suggested-category"' not in client.get(f"/cases/{chosen.id}").get_data(as_text=True)


def test_the_manager_takes_the_suggested_category_once(
    client, login_as, make_user, store, unhappy, db_session
):
    case = unhappy(store, "排队太久", {"queue": "negative"})
    login_as(make_user(Role.MANAGER, stores=[store]))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="use-suggested-category".*?</form>', page, re.S).group(0)
    fields = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', form))
    assert fields["category-category"] == "checkout_wait"

    done = client.post(f"/cases/{case.id}/category", data=fields)

    assert done.status_code == 302
    db_session.refresh(case)
    assert case.category == "checkout_wait"
    after = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Category given" in after and 'id="use-suggested-category"' not in after
    # The same button pressed again from the old page changes nothing: the page is stale.
    again = client.post(f"/cases/{case.id}/category", data=fields)
    assert again.status_code == 409
    # A category the survey does not have is refused on its field, nothing written.
    other = unhappy(store, "排队太久", {"queue": "negative"})
    bad = {**fields, "category-version": str(other.version), "category-category": "bogus"}
    assert client.post(f"/cases/{other.id}/category", data=bad).status_code == 400
    db_session.refresh(other)
    assert other.category is None


def test_suggest_button_preselects_the_category_and_writes_nothing(
    client, login_as, make_user, store, db_session
):
    login_as(make_user(Role.MANAGER, stores=[store]))
    token = csrf_token_from(client.get("/cases/new").get_data(as_text=True))
    data = {"csrf_token": token, "store": "SH-001", "category": "", "suggest": "Suggest"}

    answer = client.post("/cases/new", data={**data, "summary": "结账排队排了半小时，太慢了"})

    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert re.search(
        r'<option selected value="checkout_wait"|<option value="checkout_wait" selected', html
    )
    assert 'id="category-suggestion"' in html and "结账排队排了半小时" in html
    assert db_session.scalar(select(func.count()).select_from(Case)) == 0
    # A category chosen already is kept; an empty complaint asks for the complaint first.
    kept = client.post("/cases/new", data={**data, "category": "price", "summary": "排队太久"})
    assert re.search(r'value="price" selected|selected value="price"', kept.get_data(as_text=True))
    empty = client.post("/cases/new", data={**data, "summary": ""}).get_data(as_text=True)
    assert "Write down what the customer said first." in empty
