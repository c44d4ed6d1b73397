"""The comment search on the store page finds the answers to custom text questions beside
the comments, labelled with their question, by the same search, for the same stores; a
``question`` filter keeps one question's answers (or the comments) across pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.db import utcnow
from portal.models import Role
from tests.portal.custom_answers import (
    DEPARTMENT,
    VISIT_NOTE,
    answer,
    publish_version,
    receipt_document,
)
from tests.portal.custom_answers import WISH as WISH_DOCUMENT

#: A question whose wording holds markup, which the page must show as text.
WISH = {
    **WISH_DOCUMENT,
    "text": {"zh_CN": "您还希望我们提供<b>什么</b>？", "en": "What else <b>would</b> you like?"},
}
SCRIPT = "<script>alert(1)</script> 多开收银台"


def days_ago(days=1, minutes=0):
    return utcnow() - timedelta(days=days) + timedelta(minutes=minutes)


@pytest.fixture
def answered(db_session, make_store, make_staff, make_response):
    """SH-001: a comment with two text answers, a text answer without a comment, an
    "other" choice; BJ-009: a text answer of its own."""
    version = publish_version(db_session, receipt_document(VISIT_NOTE, WISH, DEPARTMENT), utcnow())
    store = make_store("SH-001", name="徐汇店")
    staff = make_staff(store, "S001", name="李娜")
    answer(
        db_session,
        make_response(store, staff, nps=10, comment="排队太久", now=days_ago(1, 1)),
        version,
        visit_note="自助收银很方便",
        wish=SCRIPT,
    )
    answer(
        db_session,
        make_response(store, staff, nps=3, now=days_ago(1, 2)),
        version,
        visit_note="停车难 100%",
        department=[("other", "玩具部")],
    )
    other = make_store("BJ-009", name="朝阳店")
    answer(
        db_session,
        make_response(other, make_staff(other, "S002"), comment="他们的评论", now=days_ago(1)),
        version,
        visit_note="隔壁店的秘密",
    )
    return store, version


def comments_of(client, query="", lang="en"):
    """The comments section's HTML, and each item's label (or None) and text as written
    in the HTML (escaped)."""
    response = client.get(f"/stores/SH-001?days=30{query}", headers={"Accept-Language": lang})
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    section = html[html.index('id="comments"') :]
    items = []
    for item in re.findall(r'<li class="response[^"]*">(.*?)</li>', section, re.S):
        label = re.search(r'<p class="answer-to">(.*?)</p>', item, re.S)
        text = re.search(r'<blockquote dir="auto" class="comment">(.*?)</blockquote>', item, re.S)
        assert text is not None, item
        words = None if label is None else re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", label[1]))
        items.append((words, text[1]))
    return section, items


def test_text_answers_appear_beside_comments_labelled_with_their_question(
    client, answered, make_user, login_as
):
    store, _version = answered
    login_as(make_user(Role.MANAGER, stores=[store]))
    section, items = comments_of(client)
    # Newest first; a response's comment before its text answers.
    assert items == [
        ("Answer to: Your visit in a few words", "停车难 100%"),
        (None, "排队太久"),
        ("Answer to: Your visit in a few words", "自助收银很方便"),
        (
            "Answer to: What else &lt;b&gt;would&lt;/b&gt; you like?",
            "&lt;script&gt;alert(1)&lt;/script&gt; 多开收银台",
        ),
    ]
    assert "<script>alert(1)" not in section and "<b>would</b>" not in section
    # The typed "other" of a choice question is not a text question's answer.
    assert "玩具部" not in section
    # Another store's text answer is not shown, and its page is not open to this manager.
    assert "隔壁店的秘密" not in section
    assert client.get("/stores/BJ-009?days=30").status_code == 404


def test_labels_are_in_the_page_language(client, answered, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    section, items = comments_of(client, lang="zh-CN")
    assert items[0] == ("回答的问题： 一句话说说这次购物", "停车难 100%")
    assert items[3][0] == "回答的问题： 您还希望我们提供&lt;b&gt;什么&lt;/b&gt;？"
    assert '<option value="visit_note">一句话说说这次购物</option>' in section
    assert '<option value="wish">您还希望我们提供&lt;b&gt;什么&lt;/b&gt;？</option>' in section


def test_the_search_matches_text_answers_as_it_matches_comments(
    client, answered, make_user, login_as
):
    login_as(make_user(Role.ADMIN))
    _section, items = comments_of(client, "&q=收银")
    assert [text for _label, text in items] == [
        "自助收银很方便",
        "&lt;script&gt;alert(1)&lt;/script&gt; 多开收银台",
    ]
    _section, items = comments_of(client, "&q=排队")
    assert items == [(None, "排队太久")]
    # A LIKE wildcard is text here too: "%" finds the answer that contains it, only it.
    _section, items = comments_of(client, "&q=%25")
    assert [text for _label, text in items] == ["停车难 100%"]
    # The response filters apply to text answers: detractors only.
    _section, items = comments_of(client, "&group=detractor")
    assert [text for _label, text in items] == ["停车难 100%"]
    # Another store's answer is not found by a search either.
    _section, items = comments_of(client, "&q=秘密")
    assert items == []


def test_the_question_filter_keeps_one_questions_answers_or_the_comments(
    client, answered, make_user, login_as
):
    login_as(make_user(Role.ADMIN))
    section, items = comments_of(client, "&question=visit_note")
    assert items == [
        ("Answer to: Your visit in a few words", "停车难 100%"),
        ("Answer to: Your visit in a few words", "自助收银很方便"),
    ]
    assert '<option value="visit_note" selected>' in section
    _section, items = comments_of(client, "&question=comment")
    assert items == [(None, "排队太久")]
    _section, items = comments_of(client, "&question=wish&q=收银")
    assert [text for _label, text in items] == ["&lt;script&gt;alert(1)&lt;/script&gt; 多开收银台"]


@pytest.mark.parametrize("key", ["nope", "department", "nps", "%3Cb%3Ex%3C/b%3E"])
def test_an_unknown_question_is_a_clear_400(client, answered, make_user, login_as, key):
    login_as(make_user(Role.ADMIN))
    response = client.get(f"/stores/SH-001?question={key}", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is no text question with the key" in html
    assert "<b>x</b>" not in html


def test_paging_keeps_the_question_filter(
    client, db_session, answered, make_store, make_response, make_user, login_as
):
    store, version = answered
    for minute in range(23):
        response = make_response(store, comment=f"comment {minute}", now=days_ago(2, minute))
        answer(db_session, response, version, visit_note=f"note {minute}")
    login_as(make_user(Role.ADMIN))
    section, items = comments_of(client, "&question=visit_note")
    assert len(items) == 20 and all(label for label, _text in items)
    older = re.search(r'<a rel="next" href="([^"]+)"', section).group(1).replace("&amp;", "&")
    assert "question=visit_note" in older and "page=2" in older
    html = client.get(older, headers={"Accept-Language": "en"}).get_data(as_text=True)
    rest = re.findall(r'<li class="response[^"]*">(.*?)</li>', html, re.S)
    assert len(rest) == 5
    assert all("Your visit in a few words" in item for item in rest)
    assert "comment 3" not in html


def test_without_custom_questions_the_page_offers_no_question_filter(
    client, make_store, make_response, make_user, login_as
):
    store = make_store("SH-001")
    make_response(store, comment="plain", now=days_ago(1))
    login_as(make_user(Role.ADMIN))
    section, items = comments_of(client)
    assert 'name="question"' not in section
    assert items == [(None, "plain")]
