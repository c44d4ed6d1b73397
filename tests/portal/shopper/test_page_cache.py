"""The survey and thank-you pages are drawn once per kind and filled in
(`portal.shopper.page_cache`): a page served from the cache is the page that would have
been drawn, with this shopper's token, CSRF token, stamp and code, never another's."""

from __future__ import annotations

import re

import pytest

from portal.models import Role
from portal.shopper import page_cache
from surveys.codes import format_validation_code
from tests.conftest import csrf_token_from

GOOD = {"nps": "9", "csat": "5"}
PAGES = "portal.shopper_pages"


@pytest.fixture
def store(make_store):
    return make_store("PC-001")


@pytest.fixture
def receipt_url(store, make_staff, make_receipt):
    staff = make_staff(store, "S001")
    return lambda: f"/r/{make_receipt(store, staff).token}"


def _opened(html: str) -> str:
    found = re.search(r'name="opened" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _mine(html: str) -> str:
    """The page with its own CSRF token and stamp taken out."""
    return html.replace(csrf_token_from(html), "CSRF").replace(_opened(html), "OPENED")


def test_a_kept_survey_page_is_the_drawn_page_with_this_shoppers_strings(app, receipt_url):
    first_url, second_url = receipt_url(), receipt_url()
    first = app.test_client().get(first_url).get_data(as_text=True)
    assert app.extensions[PAGES], "the first page of its kind is kept"
    browser = app.test_client()
    kept = browser.get(second_url).get_data(as_text=True)
    app.extensions.pop(PAGES)
    drawn = browser.get(second_url).get_data(as_text=True)
    assert _mine(kept) == _mine(drawn)
    token = second_url.rsplit("/", 1)[1]
    assert token in kept and first_url.rsplit("/", 1)[1] not in kept
    assert csrf_token_from(first) not in kept and _opened(first) not in kept
    # The page's CSRF token is this browser's: the answers are taken.
    posted = browser.post(second_url, data={"csrf_token": csrf_token_from(kept), **GOOD})
    assert posted.status_code == 200


def test_each_thank_you_page_shows_its_own_code(app, receipt_url, engine):
    codes = []
    for _ in range(2):
        url, browser = receipt_url(), app.test_client()
        token = csrf_token_from(browser.get(url).get_data(as_text=True))
        html = browser.post(url, data={"csrf_token": token, **GOOD}).get_data(as_text=True)
        found = re.search(r'id="validation-code">([^<]+)<', html)
        assert found
        codes.append(found.group(1))
    assert codes[0] != codes[1]
    assert all(format_validation_code(code.replace("-", "")) == code for code in codes)
    assert any(kind[0] == "thanks" for kind, _arguments in app.extensions[PAGES])


def test_a_signed_in_visitor_gets_a_drawn_page_with_their_menu(
    app, client, receipt_url, store, make_user, login_as
):
    app.test_client().get(receipt_url())  # an anonymous visit keeps the page
    login_as(make_user(Role.MANAGER, [store]))
    html = client.get(receipt_url()).get_data(as_text=True)
    assert 'action="/logout"' in html
    with app.test_request_context("/r/x?utm_source=poster"):
        assert not page_cache.keepable()
    with app.test_request_context("/r/x?lang=en&via=code"):
        assert page_cache.keepable()


def test_a_page_whose_strings_are_not_found_as_given_is_not_kept(app):
    with app.test_request_context():
        drawn = page_cache.drawn_once(("k",), {"token": "a&b" * 5}, lambda: "<p>a&amp;b</p>")
        assert drawn == "<p>a&amp;b</p>"
        assert not app.extensions.get(PAGES)
        page_cache.drawn_once(("k2",), {"code": "ABCD-EFGH-J"}, lambda: "<p>ABCD-EFGH-J</p>")
        assert page_cache.drawn_once(("k2",), {"code": "WXYZ-1234-5"}, lambda: "x") == (
            "<p>WXYZ-1234-5</p>"
        )


def test_a_page_reached_by_typed_code_is_kept_apart(app, receipt_url):
    typed = app.test_client().get(f"{receipt_url()}?via=code").get_data(as_text=True)
    scanned = app.test_client().get(receipt_url()).get_data(as_text=True)
    typed_again = app.test_client().get(f"{receipt_url()}?via=code").get_data(as_text=True)
    assert 'name="via" value="code"' in typed and 'name="via" value="code"' in typed_again
    assert 'name="via"' not in scanned and "via=code" not in scanned
