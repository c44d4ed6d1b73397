"""The HR ranking pages and the ``rank`` command: the month's table, a staff member's page
and trend chart, the coaching list, the policy form and its history, the method page;
managers see only their own stores' staff."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.calendar import last_complete_month
from portal.db import utcnow
from portal.models import AuditEntry, RankingPolicy, Role
from surveys.answers import ContactAnswer
from tests.conftest import csrf_token_from, post_form
from tests.portal.hr.test_hr_ranking_queries import (
    MONTH,
    answers,
    build_team,
    mystery_observation,
    substantiated_case,
)

EN = {"Accept-Language": "en"}
M = MONTH.strftime("%Y-%m")


@pytest.fixture
def team(db_session, make_store, make_staff):
    return build_team(db_session, make_store, make_staff)


@pytest.fixture
def hr(make_user, login_as):
    user = make_user(Role.HR, email="hr@example.com")
    login_as(user)
    return user


def row_of(html, staff):
    """The ranking table row of ``staff`` (its <tr> to the next one)."""
    start = html.index(f'id="staff-{staff.id}"')
    end = html.find("<tr", start)
    return html[html.rindex("<tr", 0, start) : end if end > 0 else None]


def page(client, url):
    response = client.get(url, headers=EN)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_three_perfect_answers_rank_below_three_hundred_very_good_ones(client, team, hr):
    _, _, people = team
    html = page(client, f"/hr/rankings?month={M}&scope=region&key=华东")
    b, a = row_of(html, people["B"]), row_of(html, people["A"])
    assert '<td class="num">1</td>' in b and "★ proposed" in b
    assert 'class="small-n' in a and "proposed" not in a
    assert re.search(r"fewer than \d+ own answers this month \(3 received\)", a)
    assert '<td class="num">—</td>' in a  # not ranked
    assert html.index(f'id="staff-{people["B"].id}"') < html.index('id="top-line"')
    assert html.index('id="top-line"') < html.index(f'id="staff-{people["A"].id}"')
    # Each component with its interval and n.
    assert "n = 300" in b and "100.0 %" not in b and "n = 3" in a
    # The other region is not in this group's table.
    assert f'id="staff-{people["X"].id}"' not in html
    assert "6 eligible" not in html and "5 eligible, 1 proposed" in html


def test_a_substantiated_complaint_is_shown_but_not_proposed(client, db_session, team, hr):
    _, _, people = team
    substantiated_case(db_session, people["B"], datetime(2026, 9, 20, 4, tzinfo=UTC))
    html = page(client, f"/hr/rankings?month={M}&scope=region&key=华东")
    b = row_of(html, people["B"])
    assert "substantiated complaint" in b and "★ proposed" not in b
    assert re.search(r'<td class="num">\d+</td>', b)  # still ranked
    assert html.count("★ proposed") == 1


def test_a_flagged_staff_member_is_not_proposed(client, db_session, team, hr):
    store, _, people = team
    # B's receipts answered far more often than the rest of the store's, by promoters.
    answers(db_session, people["B"], 300, 300, day=MONTH + timedelta(days=15), promoters=290)
    html = page(client, f"/hr/rankings?month={M}&scope=store&key=SH-001")
    b = row_of(html, people["B"])
    assert "their answers are flagged" in b and "★ proposed" not in b
    assert html.count("★ proposed") == 1


def test_the_staff_page_counts_released_mystery_visits_only(
    client, db_session, team, hr, make_user, make_visit
):
    _, _, people = team
    shopper = make_user(Role.MYSTERY)
    mystery_observation(make_visit, people["B"], 90.0, state="released", shopper=shopper)
    mystery_observation(make_visit, people["B"], 10.0, state="submitted", shopper=shopper)
    html = page(client, f"/hr/staff/{people['B'].id}?month={M}")
    mystery = html[html.index('id="component-mystery"') :]
    mystery = mystery[: mystery.index("</tr>")]
    assert "n = 1" in mystery and "90.0" in mystery
    assert "1 mystery visit(s) released" in html
    # How the composite was computed: the three slots and the bound.
    assert 'id="part-customer"' in html and 'id="part-mystery"' in html
    assert "Q10 = Q − 1.2816 × SD(Q)" in html


def test_the_staff_page_shows_their_comments_without_contact_details(
    client, team, hr, make_response
):
    store, _, people = team
    make_response(
        store,
        people["B"],
        nps=1,
        csat=1,
        category="service_attitude",
        comment="收银员不耐烦",
        contact=ContactAnswer("13800138000", "shopper@example.com"),
        now=datetime(2026, 9, 12, 4, tzinfo=UTC),
    )
    html = page(client, f"/hr/staff/{people['B'].id}?month={M}")
    assert "收银员不耐烦" in html and "Service attitude" in html
    assert "13800138000" not in html and "shopper@example.com" not in html


def test_the_trend_chart_is_an_svg_cached_by_its_data(client, team, hr):
    _, _, people = team
    url = f"/hr/staff/{people['B'].id}/trend.svg?month={M}"
    first = client.get(url)
    assert first.status_code == 200 and first.mimetype == "image/svg+xml"
    assert b"<svg" in first.data and first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    html = page(client, f"/hr/staff/{people['B'].id}?month={M}")
    assert f'id="trend-{M}"' in html and 'id="trend-2025-10"' in html


def test_a_manager_sees_only_their_stores_staff(client, team, make_user, login_as):
    store, other, people = team
    login_as(make_user(Role.MANAGER, stores=[store]))
    html = page(client, f"/hr/rankings?month={M}&scope=chain")
    assert f'id="staff-{people["B"].id}"' in html
    assert f'id="staff-{people["X"].id}"' not in html and "X001" not in html
    # Managers rank within their store only, whatever they ask for.
    assert '<select name="scope">' not in html
    assert client.get(f"/hr/rankings?month={M}&scope=store&key=BJ-001").status_code == 404
    assert client.get(f"/hr/staff/{people['X'].id}?month={M}").status_code == 404
    assert client.get(f"/hr/staff/{people['X'].id}/trend.svg").status_code == 404
    assert client.get("/hr/staff/999999").status_code == 404
    assert client.get(f"/hr/staff/{people['B'].id}?month={M}").status_code == 200
    coaching = page(client, f"/hr/coaching?month={M}")
    assert "X001" not in coaching
    assert client.get("/hr/policy").status_code == 403


@pytest.mark.parametrize("role", [Role.MYSTERY, Role.REVIEWER])
def test_other_roles_cannot_see_rankings(client, team, make_user, login_as, role):
    _, _, people = team
    login_as(make_user(role))
    assert client.get("/hr/rankings").status_code == 403
    assert client.get(f"/hr/staff/{people['B'].id}").status_code == 403
    assert client.get("/hr/coaching").status_code == 403


def test_movement_against_last_month_on_the_page(client, db_session, team, hr):
    _, _, people = team
    august = date(2026, 8, 10)
    answers(db_session, people["C0"], 100, 99, day=august)
    answers(db_session, people["B"], 100, 70, day=august)
    html = page(client, f"/hr/rankings?month={M}&scope=store&key=SH-001")
    assert "↑1" in row_of(html, people["B"])  # 2nd in August, 1st now
    assert "↓" in row_of(html, people["C0"])
    assert ">new<" in row_of(html, people["C1"])


def test_the_default_month_is_the_last_complete_one(client, db_session, team, hr):
    html = page(client, "/hr/rankings")
    assert last_complete_month(db_session, utcnow()).strftime("%Y-%m") in html
    # Nonsense falls back to it too, never a 500.
    assert client.get("/hr/rankings?month=2026-99&scope=nope").status_code == 200
    assert client.get("/hr/rankings?month=2999-01").status_code == 200


def test_the_coaching_list_names_what_pulls_a_person_down(
    client, db_session, make_store, make_staff, hr
):
    store = make_store("CD-001", region="西南")
    weak = make_staff(store, "W001", name="弱")
    answers(db_session, weak, 300, 120)
    for i in range(6):
        answers(db_session, make_staff(store, f"K00{i}"), 200, 180)
    html = page(client, f"/hr/coaching?month={M}")
    row = row_of(html, weak)
    assert "W001" in row and 'class="pulling-customer"' in row and "n = 300" in row
    assert "K000" not in html


def test_the_policy_form_checks_its_input_and_keeps_a_history(client, db_session, hr):
    form = page(client, "/hr/policy")
    assert 'value="0.5"' in form and "No policy saved yet" in form
    good = {
        "customer_weight": "0.6",
        "mystery_weight": "0.2",
        "complaints_weight": "0.2",
        "min_n": "25",
        "top_fraction": "0.15",
        "baseline": "-1.2",
        "scope": "chain",
        "notice_days": "5",
        "channels": ["receipt", "code"],
    }
    bad_inputs = [
        {"customer_weight": "0", "mystery_weight": "0", "complaints_weight": "0"},
        {"top_fraction": "0"},
        {"top_fraction": "1.5"},
        {"notice_days": "31"},
        {"mystery_weight": "-0.1"},
        {"baseline": "nan"},
        {"scope": "planet"},
        {"min_n": ""},
    ]
    for bad in bad_inputs:
        response = post_form(client, "/hr/policy", {**good, **bad}, headers=EN)
        assert response.status_code == 400, bad
        assert 'class="errors"' in response.get_data(as_text=True)
    assert "The weights must not all be 0." in post_form(
        client,
        "/hr/policy",
        {**good, "customer_weight": "0", "mystery_weight": "0", "complaints_weight": "0"},
        headers=EN,
    ).get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(RankingPolicy)) == 0
    saved = post_form(client, "/hr/policy", good)
    assert saved.status_code == 302
    policy = db_session.scalars(select(RankingPolicy)).one()
    assert (policy.min_n, policy.top_fraction, policy.scope, policy.changed_by) == (
        25,
        0.15,
        "chain",
        "user:hr@example.com",
    )
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "ranking_policy.set")
        )
        == 1
    )
    post_form(client, "/hr/policy", {**good, "notice_days": "7"})
    history = page(client, "/hr/policy")
    table = history[history.index('id="policy-history"') :]
    # Shown by display name, here the e-mail as the user has no name; never "user:".
    assert table.count("<bdi>hr@example.com</bdi>") == 2 and "user:" not in table
    newest = table[table.index("<tbody>") : table.index("</tr>", table.index("<tbody>"))]
    assert '<td class="num changed">7</td>' in newest  # what changed is marked
    # The pages use it: the chain is now the award scope.
    assert '<option value="chain" selected>' in page(client, f"/hr/rankings?month={M}")


def test_a_policy_post_without_csrf_token_is_refused(client, db_session, hr):
    response = client.post("/hr/policy", data={"customer_weight": "1"})
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(RankingPolicy)) == 0


def test_managers_cannot_change_the_policy(client, make_user, login_as, make_store):
    login_as(make_user(Role.MANAGER, stores=[make_store()]))
    assert client.get("/hr/policy").status_code == 403
    token = csrf_token_from(client.get("/hr/rankings").get_data(as_text=True))
    assert client.post("/hr/policy", data={"csrf_token": token}).status_code == 403


@pytest.mark.parametrize(
    ("lang", "heading"),
    [("en", "How the staff service score works"), ("zh_CN", "员工服务评分方法")],
)
def test_the_method_page_speaks_the_page_language(client, hr, lang, heading):
    html = client.get(f"/hr/method?lang={lang}").get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in html
    # The numbers are the policy's.
    assert "50 %" in html and "20" in html


# --------------------------------------------------------------------------- the CLI


def run(runner, *args):
    return runner.invoke(args=list(args))


def test_rank_prints_a_store_table(runner, team):
    _, _, people = team
    result = run(runner, "rank", "SH-001", "--month", M, "--scope", "store")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{M}, ranked within each store (store:SH-001)")
    header = lines[1]
    assert header.split() == [
        "rank",
        "code",
        "name",
        "store",
        "n",
        "Q",
        "Q10",
        "eligible",
        "proposed",
    ]
    first = lines[2]
    assert first.split()[:5] == ["1", "B001", "李四", "SH-001", "300"] and first.endswith("yes")
    # Aligned: every row's store code starts under the header's "store" (names are
    # Chinese, two columns wide each).
    column = header.index("store")
    for line in lines[2:]:
        width = sum(2 if "\u4e00" <= ch <= "\u9fff" else 1 for ch in line[: line.index("SH-001")])
        assert width == column
    assert any(line.split()[1] == "A001" and "too_few_answers" in line for line in lines)
    assert len(lines) == 2 + 6


def test_rank_prints_a_region_and_a_person(runner, team):
    region = run(runner, "rank", "华北", "--month", M)
    assert region.exit_code == 0, region.output
    assert "X001" in region.output and "B001" not in region.output
    person = run(runner, "rank", "B001", "--month", M)
    assert person.exit_code == 0, person.output
    assert "B001 李四, SH-001 徐汇店 (华东)" in person.output
    assert re.search(r"^customer\s+\d+\.\d", person.output, re.M)
    assert re.search(r"^mystery\s+", person.output, re.M)


def test_rank_with_an_unknown_key_exits_2(runner, team, make_store, make_staff):
    result = run(runner, "rank", "NOPE-9", "--month", M)
    assert result.exit_code == 2 and "No store, region or staff member 'NOPE-9'" in result.output
    assert run(runner, "rank", "SH-001", "--month", "2026-13").exit_code == 2
    # A staff code used in two stores must say which.
    make_staff(make_store("XA-001"), "B001")
    twice = run(runner, "rank", "B001", "--month", M)
    assert twice.exit_code == 2 and "SH-001/B001" in twice.output
    assert run(runner, "rank", "SH-001/B001", "--month", M).exit_code == 0
