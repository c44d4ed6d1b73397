"""The survey page's unanswered questions are drawn once per version, language and store
format (`portal.shopper.survey_page.blank_questions`), and reused: each language keeps its
own, and a page with answers or errors is drawn from the answers, never from the blank."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token_from


@pytest.fixture
def url(make_store, make_staff, make_receipt):
    store = make_store("RU-001")
    return f"/r/{make_receipt(store, make_staff(store, 'S001')).token}"


def _questions(html: str) -> str:
    """The page between the hidden fields and the Send button: the questions alone."""
    start = html.index('name="opened"')
    return html[html.index(">", start) : html.index('<button type="submit"')]


def test_each_language_keeps_its_own_questions(client, url):
    zh = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    en = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    zh_again = client.get(f"{url}?lang=zh_CN").get_data(as_text=True)
    en_again = client.get(f"{url}?lang=en").get_data(as_text=True)
    assert "您有多大可能向朋友或同事推荐本店" in _questions(zh)
    assert "How likely are you to recommend this store" in _questions(en)
    assert _questions(zh_again) == _questions(zh)
    assert _questions(en_again) == _questions(en)
    assert "How likely" not in _questions(zh_again)


def test_the_kept_block_is_blank_and_pages_with_answers_are_not(client, url):
    page = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert " checked" not in _questions(page)
    token = csrf_token_from(page)
    # NPS given, satisfaction missing: the page comes back with the answer ticked and an error.
    again = client.post(url, data={"csrf_token": token, "nps": "7"})
    html = again.get_data(as_text=True)
    assert again.status_code == 400
    assert re.search(r'<input[^>]*name="nps"[^>]*value="7"[^>]* checked', html)
    assert 'class="errors"' in html
    # ...and the next unanswered page is blank again.
    later = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _questions(later) == _questions(page)
