"""Trainings: HR assigns one from a staff page (or the coaching list), marks it done or
cancels it (versioned: of two at once one wins), and the staff page, the topics page and
the monthly review read its effect: the trained person's answers before and after against
their store's other staff, counted as the ranking counts them (policy channels, no held
answers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.training import difference_in_differences, nps_points
from portal.audit import CLI, Actor
from portal.models import (
    AuditEntry,
    FlagState,
    Response,
    ResponseFlag,
    Role,
    Staff,
    Store,
    Training,
    TrainingState,
)
from portal.review.builder import build_review
from portal.review.content import from_json, to_json
from portal.training import operations, queries
from portal.workflow import InvalidTransition
from tests.conftest import SETTINGS, csrf_token_from, default_version_id, post_form

EN = {"Accept-Language": "en"}
DAY = date(2026, 3, 16)
NOW = datetime(2026, 6, 1, 4, tzinfo=UTC)
#: Person before/after and the store's others before/after: (nps, csat) of each answer.
PERSON_BEFORE = [(10, 5)] * 4 + [(8, 4)] * 4 + [(3, 2)] * 4  # NPS 0, 66.7 % satisfied
PERSON_AFTER = [(10, 5)] * 8 + [(8, 4)] * 4  # NPS 66.7, 100 %
PEERS_BEFORE = [(10, 5)] * 15 + [(8, 4)] * 15  # NPS 50
PEERS_AFTER = [(10, 5)] * 18 + [(8, 4)] * 12  # NPS 60


@pytest.fixture
def store(make_store):
    return make_store("SH-001", name="徐汇店")


@pytest.fixture
def people(store, make_staff):
    return {
        "trainee": make_staff(store, "S001", name="张伟"),
        "peer1": make_staff(store, "S002", name="李娜"),
        "peer2": make_staff(store, "S003", name="王强"),
    }


@pytest.fixture
def hr(make_user, login_as):
    user = make_user(Role.HR, email="hr@example.com")
    login_as(user)
    return user


def at(day: date, hour: int = 4) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def answer_all(make_response, store, staff, scores, first_day):
    for i, (nps, csat) in enumerate(scores):
        make_response(store, staff, nps=nps, csat=csat, now=at(first_day + timedelta(days=i % 40)))


@pytest.fixture
def answered(store, people, make_response):
    """The constructed answers around DAY: the person 12 before and 12 after, the two
    others 30 before and 30 after between them."""
    answer_all(make_response, store, people["trainee"], PERSON_BEFORE, DAY - timedelta(days=40))
    answer_all(make_response, store, people["trainee"], PERSON_AFTER, DAY + timedelta(days=1))
    for scores, first in (
        (PEERS_BEFORE, DAY - timedelta(days=40)),
        (PEERS_AFTER, DAY + timedelta(days=2)),
    ):
        answer_all(make_response, store, people["peer1"], scores[::2], first)
        answer_all(make_response, store, people["peer2"], scores[1::2], first)
    return people


def training(db_session, staff, *, state=TrainingState.DONE, topic="主动迎宾", day=DAY):
    row = operations.assign_training(
        db_session,
        staff.id,
        operations.TrainingValues(topic, "greeting", day, "陈老师"),
        touchpoints={"greeting"},
        actor=CLI,
        now=NOW,
    )
    if state == TrainingState.DONE:
        operations.mark_done(db_session, row.id, expected_version=None, actor=CLI, now=NOW)
    return row


def page(client, url):
    response = client.get(url, headers=EN)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------- the effect


def expected_nps():
    groups = [
        [nps_points(n) for n, _ in g]
        for g in (PERSON_BEFORE, PERSON_AFTER, PEERS_BEFORE, PEERS_AFTER)
    ]
    return difference_in_differences(*groups)


def test_the_effect_is_read_from_the_answers_around_the_day(db_session, answered):
    t = training(db_session, answered["trainee"])
    [effect] = queries.staff_training_effects(db_session, answered["trainee"].id)
    assert effect.training.id == t.id and effect.nps is not None and effect.csat is not None
    assert (effect.nps.person_before, effect.nps.person_after) == (12, 12)
    assert (effect.nps.peers_before, effect.nps.peers_after) == (30, 30)
    assert effect.nps.effect.value == pytest.approx((200 / 3 - 0) - (60 - 50))
    assert effect.nps.effect == pytest.approx(expected_nps().effect)
    # Satisfied: 66.7 % -> 100 % for them, 100 % -> 100 % for the others.
    assert effect.csat.effect.value == pytest.approx(100 / 3)


def test_answers_the_ranking_leaves_out_do_not_count(db_session, answered, store, make_response):
    trainee = answered["trainee"]
    # A held (suspected ballot-stuffing) detractor, a kiosk answer (not a ranking channel
    # by default) and one on the training day itself: none of them counts.
    held = make_response(store, trainee, nps=0, csat=1, now=at(DAY + timedelta(days=3)))
    db_session.add(
        ResponseFlag(response_id=held.id, rule="burst", flagged_at=NOW, state=FlagState.HELD)
    )
    db_session.add(
        Response(
            channel="kiosk",
            survey_version_id=default_version_id(db_session),
            store_id=store.id,
            staff_id=trainee.id,
            submitted_at=at(DAY + timedelta(days=4)),
            local_day=DAY + timedelta(days=4),
            locale="zh_CN",
            nps=0,
            csat=1,
        )
    )
    make_response(store, trainee, nps=0, csat=1, now=at(DAY))
    db_session.flush()
    training(db_session, trainee)
    [effect] = queries.staff_training_effects(db_session, trainee.id)
    assert effect.nps.effect == pytest.approx(expected_nps().effect)
    # A cleared flag lets the answer count again.
    db_session.execute(ResponseFlag.__table__.update().values(state=FlagState.CLEARED))
    [effect] = queries.staff_training_effects(db_session, trainee.id)
    assert effect.nps.person_after == 13


def test_the_staff_page_shows_the_effect_in_words(client, db_session, answered, hr):
    training(db_session, answered["trainee"])
    html = page(client, f"/hr/staff/{answered['trainee'].id}")
    section = html[html.index('id="staff-trainings"') :]
    section = section[: section.index("</table>")]
    e = expected_nps().effect
    assert (
        f"+56.7 NPS points (95 % interval {e.low:+.1f} to {e.high:+.1f})".replace("-", "−")
        in section
    )
    assert (
        "n = 12 before and 12 after for them; 30 and 30 for the store&#39;s other staff" in section
    )
    assert "+33.3 percentage points satisfied" in section
    assert "主动迎宾" in section and "(Greeting)" in section and "Training given" in section


def test_few_answers_are_too_early_to_tell(client, db_session, people, store, make_response, hr):
    answer_all(make_response, store, people["trainee"], PERSON_BEFORE[:5], DAY - timedelta(days=20))
    training(db_session, people["trainee"])
    html = page(client, f"/hr/staff/{people['trainee'].id}")
    section = html[html.index('id="staff-trainings"') :]
    assert "too early to tell" in section[: section.index("</table>")]
    assert "n = 5 before and 0 after for them" in section


def test_the_topic_page_pools_everyone_trained(client, db_session, answered, hr):
    training(db_session, answered["trainee"])
    training(db_session, answered["peer1"], topic="收银效率")  # too early: few answers of their own
    training(db_session, answered["peer2"], state=TrainingState.ASSIGNED, topic="未完成")
    html = page(client, "/hr/trainings/topics")
    table = html[html.index('id="topic-effects"') :]
    assert (
        "主动迎宾" in table and "+56.7 NPS points" in table and "1 of 1 trainees counted" in table
    )
    assert "收银效率" in table and "too early to tell" in table
    assert "未完成" not in table  # not done: no effect to pool
    topics = {t.topic: t for t in queries.topic_effects(db_session, {answered["trainee"].store_id})}
    pooled, alone = topics["主动迎宾"].nps.effect, expected_nps().effect
    assert (pooled.value, pooled.low, pooled.high, pooled.n) == pytest.approx(
        (alone.value, alone.low, alone.high, 1)
    )
    assert queries.topic_effects(db_session, set()) == []


def test_the_monthly_review_gets_trainings_whose_weeks_after_closed_in_the_month(
    db_session, answered
):
    t = training(db_session, answered["trainee"])
    # DAY + 6 weeks = 2026-04-27: the April review reports it, March's and May's do not.
    april = queries.training_effects_for_review(
        db_session, {answered["trainee"].store_id}, date(2026, 4, 1), date(2026, 5, 1)
    )
    assert [r.training_id for r in april] == [t.id]
    row = april[0]
    assert (row.staff_name, row.topic, row.touchpoint, row.trained_on) == (
        "张伟",
        "主动迎宾",
        "greeting",
        DAY,
    )
    # +56.7 points, but 12 answers a side leave the interval (−4.6 to 117.9) across 0.
    assert row.nps == pytest.approx(expected_nps().effect) and row.words == "unclear"
    assert (row.person_before, row.person_after, row.peers_before, row.peers_after) == (
        12,
        12,
        30,
        30,
    )
    for start, end in ((date(2026, 3, 1), date(2026, 4, 1)), (date(2026, 5, 1), date(2026, 6, 1))):
        assert queries.training_effects_for_review(db_session, {row.store_id}, start, end) == []
    assert (
        queries.training_effects_for_review(db_session, set(), date(2026, 4, 1), date(2026, 5, 1))
        == []
    )


def test_the_april_review_shows_the_effect_and_a_march_review_says_too_early(db_session, answered):
    t = training(db_session, answered["trainee"])
    store = db_session.get(Store, answered["trainee"].store_id)

    april = build_review(db_session, SETTINGS, store=store, region=None, month=date(2026, 4, 1))
    march = build_review(db_session, SETTINGS, store=store, region=None, month=date(2026, 3, 1))

    [line] = april.trainings
    assert (line.topic, line.trained_on, line.verdict) == (t.topic, DAY, "unclear")
    assert line.nps_effect is not None and line.csat_effect is not None
    assert line.nps_effect.value == pytest.approx(expected_nps().effect.value)
    assert line.nps_effect.low == pytest.approx(expected_nps().effect.low)
    assert line.csat_effect.value == pytest.approx(100 / 3)
    assert (line.person_before, line.person_after, line.peers_before, line.peers_after) == (
        12,
        12,
        30,
        30,
    )
    # In March the six weeks after are still running: listed, too early to tell.
    [early] = march.trainings
    assert (early.verdict, early.nps_effect) == ("too_early", None)
    # The JSON the archive keeps brings the effect back whole.
    assert from_json(to_json(april)).trainings == april.trainings


# --------------------------------------------------------------------------- assigning


def assign_url(staff):
    return f"/hr/staff/{staff.id}/training"


FORM = {
    "topic": " 主动迎宾 ",
    "touchpoint": "greeting",
    "trained_on": "2026-03-16",
    "trainer": "陈老师",
    "note": "两小时",
}


def test_hr_assigns_a_training_from_the_staff_page(client, db_session, people, hr):
    staff_page = page(client, f"/hr/staff/{people['trainee'].id}")
    assert f'href="/hr/staff/{people["trainee"].id}/training"' in staff_page
    form = page(client, assign_url(people["trainee"]))
    assert '<datalist id="topics">' in form and 'value="greeting"' in form
    response = post_form(client, assign_url(people["trainee"]), FORM, headers=EN)
    assert response.status_code == 302 and response.headers["Location"].endswith("/hr/trainings")
    row = db_session.scalar(select(Training))
    assert (row.topic, row.touchpoint, row.trained_on, row.trainer, row.state) == (
        "主动迎宾",
        "greeting",
        DAY,
        "陈老师",
        TrainingState.ASSIGNED,
    )
    assert row.assigned_by_user_id == hr.id
    listing = page(client, "/hr/trainings")
    assigned = listing[
        listing.index('id="assigned-trainings"') : listing.index('id="done-trainings"')
    ]
    assert "主动迎宾" in assigned and "Mark done" in assigned
    # The topic is offered the next time.
    assert '<option value="主动迎宾">' in page(client, assign_url(people["peer1"]))
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "training.assigned"))
    assert entry.subject_id == str(row.id) and entry.details["topic"] == "主动迎宾"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"topic": ""}, "topic", "Name the topic of the training."),
        ({"topic": "x" * 101}, "topic", "Field cannot be longer than 100 characters."),
        ({"trainer": "  "}, "trainer", "Name who gives the training."),
        ({"trained_on": "16/03/2026"}, "trained_on", "Enter the day of the training as YYYY"),
        ({"touchpoint": "lunch"}, "touchpoint", "Choose a touchpoint from the list."),
    ],
)
def test_bad_input_is_refused_on_its_field(client, db_session, people, hr, changes, field, message):
    response = post_form(client, assign_url(people["trainee"]), {**FORM, **changes}, headers=EN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = html[html.index(f'id="{field}-errors"') :]
    assert message in errors[: errors.index("</ul>")]
    assert db_session.scalar(select(func.count()).select_from(Training)) == 0


def test_a_staff_member_out_of_reach_is_not_found(
    client, people, make_store, make_staff, make_user, login_as
):
    login_as(make_user(Role.MANAGER, stores=[make_store()], email="boss@example.com"))
    assert client.get(assign_url(people["trainee"])).status_code == 403  # managers read only
    assert client.get("/hr/staff/999999/training").status_code in (403, 404)


# --------------------------------------------------------------------------- done, cancel


def action_form(html, training_id, action):
    start = html.index(f'action="/hr/trainings/{training_id}/{action}"')
    form = html[start : html.index("</form>", start)]
    version = form.split('name="version"')[1].split('value="')[1].split('"')[0]
    return {"csrf_token": csrf_token_from(html), "version": version}


def test_hr_marks_a_training_done_and_cancels_another(client, db_session, people, hr):
    first = training(db_session, people["trainee"], state=TrainingState.ASSIGNED)
    second = training(db_session, people["peer1"], state=TrainingState.ASSIGNED, topic="收银")
    html = page(client, "/hr/trainings")
    done = client.post(f"/hr/trainings/{first.id}/done", data=action_form(html, first.id, "done"))
    assert done.status_code == 302
    html = page(client, "/hr/trainings")
    cancel = client.post(
        f"/hr/trainings/{second.id}/cancel", data=action_form(html, second.id, "cancel")
    )
    assert cancel.status_code == 302
    db_session.expire_all()
    assert (first.state, second.state) == (TrainingState.DONE, TrainingState.CANCELLED)
    assert first.done_by_user_id == hr.id and first.done_at is not None
    html = page(client, "/hr/trainings")
    assert f'id="training-{first.id}"' in html[html.index('id="done-trainings"') :]
    assert f'id="training-{second.id}"' in html[html.index('id="cancelled-trainings"') :]
    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["training.done", "training.cancelled"]
    audit = client.get("/admin/audit", headers=EN)
    assert audit.status_code == 403  # HR has no audit log; the labels are tested there


def test_of_two_hr_pressing_at_once_one_wins_and_the_other_is_told(client, db_session, people, hr):
    t = training(db_session, people["trainee"], state=TrainingState.ASSIGNED)
    html = page(client, "/hr/trainings")
    first, second = action_form(html, t.id, "done"), action_form(html, t.id, "cancel")
    assert client.post(f"/hr/trainings/{t.id}/done", data=first).status_code == 302
    refused = client.post(f"/hr/trainings/{t.id}/cancel", data=second, headers=EN)
    assert refused.status_code == 409
    assert "This changed while you were looking at it" in refused.get_data(as_text=True)
    db_session.expire_all()
    assert t.state == TrainingState.DONE
    again = client.post(f"/hr/trainings/{t.id}/done", data=first, headers=EN)
    assert again.status_code == 409  # done already, whatever the version


def test_a_training_to_come_cannot_be_marked_done(client, db_session, people, hr):
    t = training(db_session, people["trainee"], state=TrainingState.ASSIGNED, day=date(2099, 1, 1))
    html = page(client, "/hr/trainings")
    refused = client.post(
        f"/hr/trainings/{t.id}/done", data=action_form(html, t.id, "done"), headers=EN
    )
    assert refused.status_code == 400
    assert "cannot be marked done before its day" in refused.get_data(as_text=True)
    db_session.expire_all()
    assert t.state == TrainingState.ASSIGNED


def test_two_sessions_marking_at_once_one_is_refused(fresh_engine):
    with Session(fresh_engine) as session, session.begin():
        shop = Store(code="SH-001", name="徐汇店", region="华东", timezone="Asia/Shanghai")
        session.add(shop)
        session.flush()
        person = Staff(store_id=shop.id, code="S001", name="张伟")
        session.add(person)
        session.flush()
        t = training(session, person, state=TrainingState.ASSIGNED)
        training_id, seen = t.id, t.version
    first, second = Session(fresh_engine), Session(fresh_engine)
    try:
        # Both read the training at the same version, as two pages would show it.
        assert (
            first.get(Training, training_id).version
            == second.get(Training, training_id).version
            == seen
        )
        first.rollback(), second.rollback()
        operations.mark_done(
            first, training_id, expected_version=seen, actor=Actor("user:a@example.com"), now=NOW
        )
        first.commit()
        with pytest.raises(InvalidTransition, match="changed while you were looking"):
            operations.cancel_training(
                second,
                training_id,
                expected_version=seen,
                actor=Actor("user:b@example.com"),
                now=NOW,
            )
        second.rollback()
    finally:
        first.close(), second.close()
    with Session(fresh_engine) as session:
        assert session.get(Training, training_id).state == TrainingState.DONE
        assert session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_type == "training")
        ).all() == [
            "training.assigned",
            "training.done",
        ]


# --------------------------------------------------------------------------- scope


def test_a_manager_reads_their_own_stores_trainings_only(
    client, db_session, people, store, make_store, make_staff, make_user, login_as
):
    other = make_staff(make_store("SH-002"), "S100", name="赵敏")
    mine = training(db_session, people["trainee"], state=TrainingState.ASSIGNED)
    theirs = training(db_session, other, state=TrainingState.ASSIGNED, topic="别家")
    login_as(make_user(Role.MANAGER, stores=[store], email="boss@example.com"))
    html = page(client, "/hr/trainings")
    assert f'id="training-{mine.id}"' in html and f'id="training-{theirs.id}"' not in html
    assert "Mark done" not in html  # read only
    posted = {"csrf_token": csrf_token_from(html), "version": "1"}
    assert client.post(f"/hr/trainings/{mine.id}/done", data=posted).status_code == 403
    assert "别家" not in page(client, "/hr/trainings/topics")
    staff_page = page(client, f"/hr/staff/{people['trainee'].id}")
    assert 'id="staff-trainings"' in staff_page and 'id="assign-training"' not in staff_page


def test_hr_cannot_act_on_a_training_that_does_not_exist(client, hr):
    html = page(client, "/hr/trainings")
    response = client.post(
        "/hr/trainings/999999/done", data={"csrf_token": csrf_token_from(html), "version": "1"}
    )
    assert response.status_code == 404


def test_each_coaching_list_row_has_an_assign_training_button(
    client, db_session, make_store, make_staff, hr
):
    from tests.portal.hr.test_hr_ranking_queries import MONTH, answers

    store = make_store("CD-001", region="西南")
    weak = make_staff(store, "W001", name="弱")
    answers(db_session, weak, 300, 120)
    for i in range(6):
        answers(db_session, make_staff(store, f"K00{i}"), 200, 180)
    html = page(client, f"/hr/coaching?month={MONTH:%Y-%m}")
    row = html[html.index(f'id="staff-{weak.id}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/hr/staff/{weak.id}/training"' in row and "Assign training" in row
