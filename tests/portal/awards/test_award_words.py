"""The award pages in plain words: the store leaderboard staff see shows rank bands, never
a negative score; HR's cycle page keeps the raw composite, labelled; reasons for not being
eligible are sentences with their numbers, never codes; a frozen row without any own data
says so instead of a score.

The month is the one of `test_awards` (October 2026, top 25 % of each region), plus NEW:
an active SH-001 cashier without a single answer, visit or receipt.
"""

from __future__ import annotations

import re

import pytest

from portal.audit import Actor
from portal.awards.decisions import add_nomination, decide_nomination
from portal.awards.operations import publish_cycle
from portal.hr.ranking import IneligibleReason
from portal.models import SnapshotRow, Staff
from tests.conftest import PASSWORD, csrf_token_from, post_form
from tests.portal.awards.test_awards import (
    NOW,
    REASON,
    build_month,
    opened,
    row_of,
)

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
NO_OWN = "no own data yet — store average"
#: A minus sign (ASCII or typographic) in front of a digit, not inside a code or a date
#: (SH-001, 2026-10): a negative number.
NEGATIVE = re.compile(r"(?<!\w)[-−]\s?\d")


@pytest.fixture
def month(db_session):
    built = build_month(db_session)
    new = Staff(store_id=built.stores["SH-001"].id, code="NEW", name="员工NEW")
    db_session.add(new)
    db_session.flush()
    built.staff["NEW"] = new
    return built


@pytest.fixture
def login(client):
    def sign_in(user):
        response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)

    return sign_in


def page(client, url, headers=EN):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def nominate_by_hand(db_session, cycle, month, *codes):
    for code in codes:
        add_nomination(
            db_session,
            cycle,
            month.staff[code],
            justification=REASON,
            actor=Actor.of_user(month.hr),
            now=NOW,
        )
    db_session.flush()


def publish(db_session, month):
    """Open October, add FLAG, LUCKY and NEW by hand, approve everything (a second HR
    user, with a reason) and publish."""
    cycle = opened(db_session)
    nominate_by_hand(db_session, cycle, month, "FLAG", "LUCKY", "NEW")
    for nomination in cycle.nominations:
        decide_nomination(
            db_session,
            nomination,
            approve=True,
            reason=REASON,
            actor=Actor.of_user(month.hr2),
            now=NOW,
        )
    return publish_cycle(db_session, cycle, actor=Actor.of_user(month.hr), now=NOW)


@pytest.mark.parametrize("headers", [EN, ZH])
def test_the_store_leaderboard_shows_bands_and_never_a_negative_score(
    client, db_session, month, login, headers
):
    cycle = publish(db_session, month)
    negative = [
        r.staff_code
        for r in db_session.query(SnapshotRow).filter_by(cycle_id=cycle.id, store_code="SH-001")
        if r.rank is not None and (r.composite < 0 or r.q10 < 0)
    ]
    assert negative  # the defence is needed: some of these people score below 0
    login(month.manager)
    html = page(client, "/awards/2026-10/stores/SH-001", headers)
    board = html[html.index('id="winners"') : html.index("</table>")]
    assert not NEGATIVE.search(visible(board)), visible(board)
    for code in negative:
        row = board[board.index(f'id="rank-{code}"') :]
        row = row[: row.index("</tr>")]
        assert 'class="standing"' in row and not NEGATIVE.search(visible(row))
    if headers is EN:
        assert "Standing" in board and "top 25 %" in board and "lower half" in board
        assert "cautious bound" not in board.lower() and "score" not in visible(board).lower()
    else:
        assert "所处区间" in board and "前 25 %" in board and "后一半" in board


def test_bands_follow_the_rank_in_the_whole_group(client, db_session, month, login):
    cycle = publish(db_session, month)
    login(month.admin)
    html = page(client, "/awards/2026-10/stores/SH-001")
    ranked = [
        r
        for r in db_session.query(SnapshotRow).filter_by(cycle_id=cycle.id, group="region:华东")
        if r.rank is not None
    ]
    total = len(ranked)  # SH-001 and SH-002 together: 12 ranked in 华东
    for r in ranked:
        if r.store_code != "SH-001":
            continue
        row = html[html.index(f'id="rank-{r.staff_code}"') :]
        standing = visible(row[row.index('class="standing"') : row.index("</tr>")])
        expected = (
            "top 25 %"
            if r.rank <= -(-total // 4)
            else ("upper half" if r.rank <= -(-total // 2) else "lower half")
        )
        assert expected in standing, (r.staff_code, r.rank, total, standing)


def test_hr_sees_the_raw_composite_labelled_and_managers_see_the_band(
    client, db_session, month, login
):
    s1 = row_of(db_session, publish(db_session, month), "S1")
    login(month.hr)
    hr_page = page(client, "/awards/2026-10")
    card = hr_page[hr_page.index('data-staff="S1"') :]
    card = card[: card.index("</li>")]
    assert f"score {s1.composite:.2f} (0 = chain average)" in card and "top 25 %" in card
    client.post("/logout", data={"csrf_token": csrf_token_from(hr_page)})
    login(month.manager)
    manager_page = page(client, "/awards/2026-10")
    card = manager_page[manager_page.index('data-staff="S1"') :]
    card = card[: card.index("</li>")]
    assert "top 25 %" in card and "chain average" not in card and "cautious" not in card
    assert not NEGATIVE.search(visible(manager_page[manager_page.index('id="nominations"') :]))


def test_reasons_are_sentences_with_numbers_and_no_own_data_is_said(
    client, db_session, month, login
):
    publish(db_session, month)
    login(month.hr)
    for headers in (EN, ZH):
        html = page(client, "/awards/2026-10", headers)
        text = visible(html)
        for code in IneligibleReason:
            assert code.value not in text, code
        flag = html[html.index('data-staff="FLAG"') :]
        lucky = html[html.index('data-staff="LUCKY"') :]
        new = html[html.index('data-staff="NEW"') :]
        flag, lucky, new = (part[: part.index("</li>")] for part in (flag, lucky, new))
        if headers is EN:
            assert "their answers are flagged" in flag
            assert re.search(r"fewer than \d+ own answers this month \(5 received\)", lucky)
            assert NO_OWN in new and "score " not in visible(new)
        else:
            assert "回答被标记" in flag
            assert re.search(r"本月本人的回答少于 \d+ 份（收到 5 份）", lucky)
            assert "本人暂无数据——按门店平均值计" in new
