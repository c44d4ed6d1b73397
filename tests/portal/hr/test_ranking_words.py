"""The HR ranking pages in plain words: the score explained in one sentence from the real
policy weights, "no own data yet — store average" instead of a number that is only the
store's, and every ineligibility reason as a sentence with its numbers, never its code,
in English and Chinese."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale

from portal.hr.ranking import IneligibleReason
from portal.hr.words import OTHER_REASON, reason_sentence, reason_sentences
from portal.models import AwardScope, RankingPolicy, Role
from tests.portal.hr.test_hr_ranking_queries import (
    MONTH,
    answers,
    build_team,
    mystery_observation,
    substantiated_case,
)
from tests.portal.hr.test_hr_rankings import row_of

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
M = MONTH.strftime("%Y-%m")
NO_OWN = "no own data yet — store average"
NO_OWN_ZH = "本人暂无数据——按门店平均值计"


@pytest.fixture
def team(db_session, make_store, make_staff):
    store, other, people = build_team(db_session, make_store, make_staff)
    # Active, but not one answer, visit or receipt this month.
    people["N"] = make_staff(store, "N001", name="新人")
    return store, other, people


@pytest.fixture
def hr(make_user, login_as):
    user = make_user(Role.HR, email="hr@example.com")
    login_as(user)
    return user


def page(client, url, headers=EN):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def visible(html: str) -> str:
    """The text a reader sees: tags (and their class names) removed."""
    return re.sub(r"<[^>]+>", " ", html)


def policy(db_session, customer, mystery, complaints):
    db_session.add(
        RankingPolicy(
            customer_weight=customer,
            mystery_weight=mystery,
            complaints_weight=complaints,
            min_n=20,
            top_fraction=0.10,
            baseline=-1.0,
            scope=AwardScope.REGION,
            notice_days=3,
            changed_by="test",
        )
    )
    db_session.flush()


def test_the_ranking_page_explains_its_score_from_the_policy(
    client, db_session, team, hr, make_user, make_visit
):
    _, _, people = team
    policy(db_session, 0.6, 0.3, 0.1)
    shopper = make_user(Role.MYSTERY)
    mystery_observation(make_visit, people["B"], 90.0, state="released", shopper=shopper)
    db_session.flush()
    html = page(client, f"/hr/rankings?month={M}&scope=region&key=华东")
    sentence = html[html.index('id="score-sentence"') :]
    sentence = visible(sentence[: sentence.index("</p>")])
    assert "Score = 60 % customers&#39; ratings, 30 % mystery visits, 10 % complaints" in sentence
    assert "pulled towards the store average" in sentence
    # It comes before the table.
    assert html.index('id="score-sentence"') < html.index('id="ranking"')
    zh = page(client, f"/hr/rankings?month={M}&scope=region&key=华东", ZH)
    assert "得分 = 60 % 顾客评价 + 30 % 神秘顾客暗访 + 10 % 投诉" in zh


def test_a_signal_nobody_has_is_said_and_its_share_moves(client, db_session, team, hr):
    policy(db_session, 0.5, 0.3, 0.2)  # no mystery visit anywhere this month
    html = page(client, f"/hr/rankings?month={M}&scope=region&key=华东")
    sentence = html[html.index('id="score-sentence"') :]
    sentence = sentence[: sentence.index("</p>")]
    assert "71 % customers&#39; ratings, 0 % mystery visits, 29 % complaints" in sentence
    assert "No mystery visits anywhere in the chain this month" in sentence


def test_no_own_data_is_said_instead_of_a_number(client, team, hr):
    _, _, people = team
    html = page(client, f"/hr/rankings?month={M}&scope=region&key=华东")
    nobody = row_of(html, people["N"])
    # Every component and the score: the sentence, not the store's figures as theirs.
    assert nobody.count(NO_OWN) == 5
    assert "metric-value" not in nobody
    # B has answers, but no mystery visit: only that cell says so.
    b = row_of(html, people["B"])
    assert b.count(NO_OWN) == 1 and "n = 300" in b
    zh = page(client, f"/hr/rankings?month={M}&scope=region&key=华东", ZH)
    assert row_of(zh, people["N"]).count(NO_OWN_ZH) == 5


def test_the_staff_page_says_no_own_data_and_labels_the_store_average(client, team, hr):
    _, _, people = team
    html = page(client, f"/hr/staff/{people['N'].id}?month={M}")
    components = html[html.index('id="components"') : html.index('id="how"')]
    for name in ("customer", "nps", "mystery", "complaints"):
        row = components[components.index(f'id="component-{name}"') :]
        row = row[: row.index("</tr>")]
        assert NO_OWN in row and "metric-value" not in row, name
    summary = html[html.index('id="summary-q"') : html.index('id="summary-eligible"')]
    assert NO_OWN in summary and "metric-value" not in summary
    # How it was computed: the number that entered the composite, labelled as the store's.
    how = html[html.index('id="part-customer"') :]
    assert f"({NO_OWN})" in how[: how.index("</tr>")]


def test_the_coaching_list_says_no_own_data(
    client, db_session, make_store, make_staff, make_user, make_visit, hr
):
    shopper = make_user(Role.MYSTERY)
    store, better = make_store("CD-001", region="西南"), make_store("CD-002", region="西南")
    weak = make_staff(store, "W001", name="弱")
    answers(db_session, weak, 300, 120)
    for i in range(6):
        colleague = make_staff(store, f"K00{i}")
        answers(db_session, colleague, 200, 180)
        mystery_observation(make_visit, colleague, 40.0, state="released", shopper=shopper)
        elsewhere = make_staff(better, f"E00{i}")
        answers(db_session, elsewhere, 200, 180)
        mystery_observation(make_visit, elsewhere, 95.0, state="released", shopper=shopper)
    db_session.flush()
    html = page(client, f"/hr/coaching?month={M}")
    row = row_of(html, weak)
    # Their store's visits pull them down, but none was of them: the list says so.
    mystery = row[row.index('class="pulling-mystery"') :]
    mystery = mystery[: mystery.index("</li>")]
    assert NO_OWN in mystery and "metric-value" not in mystery
    customer = row[row.index('class="pulling-customer"') :]
    assert "n = 300" in customer[: customer.index("</li>")]


def test_every_reason_code_has_a_sentence_in_both_languages(app):
    for code in IneligibleReason:
        for locale in ("en", "zh_CN"):
            with app.test_request_context(), force_locale(locale):
                text = reason_sentence(code, n=3, needed=20)
                assert text and code.value not in text and "_" not in text, (code, locale)
                assert "%(" not in text
                if locale == "zh_CN":
                    assert re.search(r"[\u4e00-\u9fff]", text), text
    with app.test_request_context(), force_locale("en"):
        assert reason_sentence("too_few_answers", n=3, needed=20) == (
            "fewer than 20 own answers this month (3 received)"
        )
        # A code this build does not know is still words, never the code.
        assert reason_sentence("attendance_rule", n=3, needed=20) == str(OTHER_REASON)
        # A joined "a,b" (the ranking's excluded_reason) is split, each said once.
        joined = reason_sentences(["substantiated_complaint,flagged_answers"], n=1, needed=2)
        assert len(joined) == 2


@pytest.mark.parametrize(("headers", "needed_words"), [(EN, "fewer than"), (ZH, "少于")])
def test_pages_show_reasons_in_words_never_codes(
    client, db_session, team, hr, headers, needed_words
):
    _, _, people = team
    substantiated_case(db_session, people["C0"], datetime(2026, 9, 20, 4, tzinfo=UTC))
    answers(db_session, people["B"], 300, 300, day=MONTH + timedelta(days=15), promoters=290)
    urls = [
        f"/hr/rankings?month={M}&scope=store&key=SH-001",
        f"/hr/staff/{people['A'].id}?month={M}",
        f"/hr/staff/{people['B'].id}?month={M}",
        f"/hr/staff/{people['C0'].id}?month={M}",
    ]
    seen = ""
    for url in urls:
        text = visible(page(client, url, headers))
        for code in IneligibleReason:
            assert code.value not in text, (url, code)
        seen += text
    assert needed_words in seen
    assert ("their answers are flagged" if headers is EN else "回答被标记") in seen
    assert ("substantiated complaint against them" if headers is EN else "属实投诉") in seen
