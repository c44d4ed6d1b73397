"""The review queue of held answers: who may see and decide it, clearing and rejecting with
a reason, refusals (no reason, a second decision, a stale form, no CSRF token), two
reviewers at once, and the shopper who never learns their answer was held."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import CLI, Actor
from portal.auth.operations import create_user
from portal.ballot.holds import counts_in_rankings
from portal.ballot.origin import origin_of
from portal.ballot.queries import count_held, held_answers
from portal.ballot.review import decide_flag, get_flag
from portal.db import utcnow, writer
from portal.errors import NotFound
from portal.models import (
    AuditEntry,
    FlagState,
    Response,
    ResponseFlag,
    Role,
    Staff,
    Store,
)
from portal.receipts import issue_receipt
from portal.shopper.operations import record_response
from portal.workflow import InvalidTransition
from surveys.answers import Answers
from surveys.codes import read_validation_code
from surveys.loader import receipt_survey
from tests.conftest import PASSWORD, SECRET, SETTINGS, csrf_token_from, post_form
from tests.portal.ballot.conftest import REASON, flags_of

T0 = datetime(2026, 11, 18, 2, tzinfo=UTC)
EN = {"Accept-Language": "en"}


@pytest.fixture
def held(make_store, make_staff, submit):
    """SH-001: a fast answer with a phone number in its comment; BJ-001: a burst of four."""
    sh = make_store("SH-001", name="徐汇店")
    bj = make_store("BJ-001", name="朝阳店")
    fast = submit(
        sh,
        make_staff(sh, "S001", name="张伟"),
        at=T0,
        printed=timedelta(seconds=4),
        nps=10,
        comment="\u202e太棒了 call 138 0013 8000",
    )
    cashier = make_staff(bj, "B001", name="王芳")
    burst = [submit(bj, cashier, at=T0 + timedelta(minutes=i), nps=9 - i) for i in range(4)]
    return {"sh": sh, "bj": bj, "fast": fast, "burst": burst}


def flag_of(session, response, rule):
    return flags_of(session, response)[rule]


def decision_data(flag, decision="cleared", reason=REASON, version=None):
    prefix = f"flag{flag.id}"
    return {
        f"{prefix}-reason": reason,
        f"{prefix}-decision": decision,
        f"{prefix}-version": flag.version if version is None else version,
    }


def decide_on_page(client, flag, **kwargs):
    """Post the flag's form from the queue page; ``flag`` is then read again (the app
    committed through a session of its own)."""
    url = f"/held-answers/{flag.id}?rule={flag.rule}"
    page = f"/held-answers?rule={flag.rule}"
    answer = post_form(client, url, decision_data(flag, **kwargs), page=page, headers=EN)
    Session.object_session(flag).refresh(flag)
    return answer


# -- the page ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ADMIN])
def test_reviewers_see_held_answers_grouped_by_rule(client, login_as, make_user, held, role):
    login_as(make_user(role))
    page = client.get("/held-answers", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Bursts from one device or network (1)" not in html
    assert "Bursts from one device or network (4)" in html
    assert "Answered seconds after printing (1)" in html and "Identical answers (0)" in html
    assert html.count('<li class="response') == 4 and "BJ-001" in html and "SH-001" not in html
    assert "4 answers for this store or staff member from one device within 10 minutes" in html
    fast = client.get("/held-answers?rule=fast", headers=EN).get_data(as_text=True)
    assert "Sent 4 seconds after the receipt was printed (the limit is 20)" in fast
    assert "<bdi>张伟</bdi>" in fast and "<bdi>徐汇店</bdi>" in fast
    # The comment: personal data masked, isolated from the page around it.
    assert "138 0013 8000" not in fast
    comment = re.search(r'<blockquote dir="auto" class="comment"><bdi>([^<]*)</bdi>', fast)
    assert comment and comment.group(1).startswith("\u202e太棒了 call ")
    assert 'href="/held-answers"' in client.get("/home").get_data(as_text=True)


def test_the_queue_is_in_chinese_too(client, login_as, make_user, held):
    login_as(make_user(Role.REVIEWER))
    html = client.get("/held-answers?rule=fast", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert "待复核答卷" in html and "打印小票后 4 秒即提交（阈值为 20 秒）" in html


def test_the_queue_is_paginated(client, login_as, make_user, make_store, submit):
    store = make_store("SH-009")
    for i in range(30):
        submit(store, at=T0 + timedelta(minutes=i), printed=timedelta(seconds=3), nps=i % 11)
    login_as(make_user(Role.REVIEWER))
    first = client.get("/held-answers?rule=fast", headers=EN).get_data(as_text=True)
    second = client.get("/held-answers?rule=fast&page=2", headers=EN).get_data(as_text=True)
    assert first.count('<li class="response') == 25 and second.count('<li class="response') == 5
    assert "Page 2 of 2" in second
    assert client.get("/held-answers?rule=fast&page=x").status_code == 400
    assert client.get("/held-answers?rule=nothing").status_code == 404


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HR, Role.MYSTERY])
def test_other_roles_are_refused(client, login_as, make_user, held, role, db_session):
    user = make_user(role, stores=[held["bj"], held["sh"]])
    flag = flag_of(db_session, held["burst"][0], "burst")
    login_as(user)
    assert client.get("/held-answers").status_code == 403
    token = csrf_token_from(client.get("/home").get_data(as_text=True))
    data = {"csrf_token": token, **decision_data(flag)}
    assert client.post(f"/held-answers/{flag.id}", data=data).status_code == 403
    db_session.refresh(flag)
    assert flag.state == FlagState.HELD
    assert 'href="/held-answers"' not in client.get("/home").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client, held):
    page = client.get("/held-answers")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_every_route_declares_the_reviewer_roles(app):
    for endpoint in ("ballot.queue", "ballot.decide"):
        assert app.view_functions[endpoint].portal_roles == {Role.REVIEWER, Role.ADMIN}


def test_no_one_reads_or_decides_a_stores_held_answers_outside_their_stores(
    db_session, held, make_user
):
    """Scoping holds below the role check too: a user scoped to BJ-001 gets nothing of
    SH-001 from the queue's reads, and SH-001's flag is "not found" for them."""
    scoped = make_user(Role.MANAGER, stores=[held["bj"]])
    rows = db_session.execute(held_answers(scoped, "fast")).all()
    assert rows == []
    assert [(c.rule, c.held) for c in count_held(db_session, scoped)] == [
        ("burst", 4),
        ("fast", 0),
        ("pattern", 0),
    ]
    with pytest.raises(NotFound):
        get_flag(db_session, flag_of(db_session, held["fast"], "fast").id, visible_to=scoped)
    nobody = make_user(Role.MYSTERY)
    assert db_session.execute(held_answers(nobody, "burst")).all() == []


# -- deciding ----------------------------------------------------------------------------


def test_a_reviewer_clears_with_a_reason_and_the_answer_counts_again(
    client, login_as, make_user, held, db_session
):
    reviewer = make_user(Role.REVIEWER)
    login_as(reviewer)
    flag = flag_of(db_session, held["fast"], "fast")
    page = decide_on_page(client, flag)
    assert page.status_code == 302
    assert page.headers["Location"].endswith("/held-answers?rule=fast&page=1")
    assert (flag.state, flag.reason, flag.reviewed_by_user_id) == ("cleared", REASON, reviewer.id)
    assert flag.reviewed_at is not None
    counted = db_session.scalar(
        select(func.count()).where(Response.id == held["fast"].id, counts_in_rankings(Response.id))
    )
    assert counted == 1
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "response_flag.cleared")
    ).one()
    assert entry.details["reason"] == REASON and entry.details["rule"] == "fast"
    assert entry.actor_user_id == reviewer.id
    after = client.get(page.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Cleared: the answer counts in rankings and awards again." in after
    assert "Answered seconds after printing (0)" in after


def test_a_reviewer_rejects_and_the_answer_stays_out(client, login_as, make_user, held, db_session):
    login_as(make_user(Role.ADMIN))
    flag = flag_of(db_session, held["burst"][1], "burst")
    assert decide_on_page(client, flag, decision="rejected").status_code == 302
    assert flag.state == FlagState.REJECTED
    counted = db_session.scalars(select(Response.id).where(counts_in_rankings(Response.id))).all()
    assert held["burst"][1].id not in counted


@pytest.mark.parametrize("reason", ["", "   ", "too short"])
def test_a_decision_needs_a_reason(client, login_as, make_user, held, db_session, reason):
    login_as(make_user(Role.REVIEWER))
    flag = flag_of(db_session, held["fast"], "fast")
    page = decide_on_page(client, flag, reason=reason)
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert f'id="flag{flag.id}-reason-errors"' in html
    assert flag.state == FlagState.HELD and flag.version == 1


def test_a_second_decision_is_refused(client, login_as, make_user, held, db_session):
    login_as(make_user(Role.REVIEWER))
    flag = flag_of(db_session, held["fast"], "fast")
    assert decide_on_page(client, flag).status_code == 302
    # Posted again, even with the version the flag has now: it was already decided.
    again = decide_on_page(client, flag, decision="rejected")
    assert again.status_code == 409
    assert "This answer has already been reviewed." in again.get_data(as_text=True)
    assert flag.state == FlagState.CLEARED
    decided = select(func.count()).where(AuditEntry.action.like("response_flag.%"))
    assert db_session.scalar(decided) == 1


def test_a_stale_form_is_refused(client, login_as, make_user, held, db_session):
    login_as(make_user(Role.REVIEWER))
    flag = flag_of(db_session, held["fast"], "fast")
    page = decide_on_page(client, flag, version=7)
    assert page.status_code == 409
    assert "This changed while you were looking at it." in page.get_data(as_text=True)
    assert flag.state == FlagState.HELD


def test_a_decision_without_a_csrf_token_is_refused(client, login_as, make_user, held, db_session):
    login_as(make_user(Role.REVIEWER))
    flag = flag_of(db_session, held["fast"], "fast")
    page = client.post(f"/held-answers/{flag.id}?rule=fast", data=decision_data(flag))
    assert page.status_code == 400
    db_session.refresh(flag)
    assert flag.state == FlagState.HELD


def test_a_decision_must_be_clear_or_reject(client, login_as, make_user, held, db_session):
    login_as(make_user(Role.REVIEWER))
    flag = flag_of(db_session, held["fast"], "fast")
    assert decide_on_page(client, flag, decision="held").status_code == 400
    assert flag.state == FlagState.HELD
    token = csrf_token_from(client.get("/held-answers").get_data(as_text=True))
    nothing = client.post("/held-answers/999999?rule=fast", data={"csrf_token": token})
    assert nothing.status_code == 404


def test_two_reviewers_deciding_at_once_one_wins(fresh_engine):
    postgres = fresh_engine.dialect.name == "postgresql"
    with Session(fresh_engine) as session, session.begin():
        store = Store(code="SH-001", name="徐汇店", timezone="Asia/Shanghai")
        session.add(store)
        session.flush()
        session.add(Staff(store_id=store.id, code="S001", name="张伟"))
        issued = issue_receipt(
            session,
            SETTINGS,
            store=store,
            staff_code="S001",
            transaction_id="T-1",
            issued_at=None,
            total_cents=None,
            now=T0,
        )
        flag_id = _answer(session, issued.receipt)
        reviewers = [
            create_user(
                session,
                email=f"qa{n}@example.com",
                role=Role.REVIEWER,
                password=PASSWORD,
                stores=[],
                actor=CLI,
                now=T0,
            )
            for n in (1, 2)
        ]
        actors = [Actor.of_user(user) for user in reviewers]

    # As in the case test: views write through writer(); PostgreSQL lets both read the
    # held flag, and only the version check tells the second apart.
    bind = writer(fresh_engine)
    start, both_read = threading.Barrier(2, timeout=20), threading.Barrier(2, timeout=20)
    outcomes: dict[str, str] = {}

    def attempt(actor: Actor, decision: str) -> None:
        start.wait()
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                flag = session.get(ResponseFlag, flag_id)
                assert flag is not None
                if postgres:
                    both_read.wait()
                decide_flag(
                    session,
                    flag,
                    decision=decision,
                    reason=f"{decision} after checking the till log",
                    actor=actor,
                    now=T0 + timedelta(hours=1),
                    expected_version=1,
                )
            outcomes[decision] = "decided"
        except InvalidTransition as error:
            outcomes[decision] = f"refused: {error}"
        except Exception as error:  # noqa: BLE001 - any other escape is the failure shown
            outcomes[decision] = f"escaped: {type(error).__name__}"

    threads = [
        threading.Thread(target=attempt, args=pair)
        for pair in zip(actors, ("cleared", "rejected"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["decided", "refused"], outcomes
    with Session(fresh_engine) as session:
        stored = session.get(ResponseFlag, flag_id)
        assert stored is not None
        winner = next(d for d, o in outcomes.items() if o == "decided")
        assert (stored.state, stored.version) == (winner, 2)
        decided = select(func.count()).where(AuditEntry.action.like("response_flag.%"))
        assert session.scalar(decided) == 1


def _answer(session: Session, receipt) -> int:
    """A too-fast answer to ``receipt``; returns its flag's id."""
    response = record_response(
        session,
        settings=SETTINGS,
        receipt=receipt,
        definition=receipt_survey(),
        answers=Answers(9, 5, {}, False, None, None, None),
        locale="zh_CN",
        now=T0 + timedelta(seconds=3),
        origin=origin_of(SECRET, "203.0.113.7", "Phone"),
    )
    flag = session.scalars(select(ResponseFlag).where(ResponseFlag.response_id == response.id))
    return flag.one().id


# -- the shopper -------------------------------------------------------------------------


def test_a_held_shopper_is_thanked_with_their_code_as_usual(
    client, db_session, make_store, make_staff, make_receipt
):
    store = make_store("SH-001")
    cashier = make_staff(store, "S001", name="李娜")
    codes = []
    for n in range(4):
        # Issued now and answered at once, four times from this browser: fast and a burst.
        issued = make_receipt(store, cashier, now=utcnow(), transaction_id=f"T-{n}")
        page = post_form(
            client, f"/r/{issued.token}", {"nps": str(10 - n), "csat": "5"}, headers=EN
        )
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "Thank you" in html
        assert "held" not in html.lower() and "suspicious" not in html.lower()
        codes.append(re.search(r'id="validation-code">([^<]+)<', html).group(1))
    responses = db_session.scalars(select(Response).order_by(Response.id)).all()
    assert [read_validation_code(SECRET, code) for code in codes] == [r.id for r in responses]
    assert all(set(flags_of(db_session, r)) == {"burst", "fast"} for r in responses)


def test_the_reviewers_home_counts_held_answers_by_rule_and_links_to_each(
    client, login_as, make_user, held
):
    login_as(make_user(Role.REVIEWER))
    page = client.get("/home", headers=EN).get_data(as_text=True)
    section = page[page.index('id="held-answers"') :]
    section = section[: section.index("</section>")]
    assert "Answers held as suspected ballot stuffing" in section
    assert "/held-answers?rule=fast" in section and "(1)" in section
    assert "/held-answers?rule=burst" in section and "(4)" in section
    assert "rule=pattern" not in section
    assert 'id="nothing-waiting"' not in page


def test_a_reviewers_home_without_held_answers_says_so(client, login_as, make_user):
    login_as(make_user(Role.REVIEWER))
    page = client.get("/home", headers=EN).get_data(as_text=True)
    assert 'id="no-held-answers"' in page
