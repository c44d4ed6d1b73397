"""The monthly review's contents for a known month: answers, cases, a mystery visit and a
training constructed in March 2026 give the figures worked out by hand below, and the
content survives its JSON form unchanged."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from portal.models import Region, Role
from portal.models.review import Training, TrainingState
from portal.review.builder import build_review
from portal.review.content import from_json, to_json
from tests.conftest import SETTINGS
from tests.portal.themes.rows import classify_as

MARCH = date(2026, 3, 1)


def at(month: int, day: int, hour: int = 4) -> datetime:
    # 04:00 UTC is noon in Shanghai: the same local day.
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def chain(db_session, make_store, make_staff, make_user, make_response, make_visit):
    db_session.add(Region(name="华东"))
    shop = make_store("SH-001", name="徐汇店", region="华东")
    other = make_store("SH-002", name="静安店", region="华东")
    far = make_store("GZ-001", name="天河店", region="华南")
    cashier = make_staff(shop, "S001", name="张伟")
    make_user(Role.MANAGER, stores=[shop])
    # March at SH-001: NPS answers 10, 9, 9, 6 -> (3 - 1) / 4 = +50; CSAT 5, 4, 5, 2 ->
    # 3 of 4 = 75 %. The last one (a detractor, satisfaction 2) opens one case: 1 case
    # of 4 receipts = 25 cases per 100 receipts.
    march = [
        make_response(shop, cashier, nps=nps, csat=csat, now=at(3, day), comment=text)
        for day, (nps, csat, text) in enumerate(
            [
                (10, 5, "服务很热情"),
                (9, 4, None),
                (9, 5, "收银很快"),
                (6, 2, "排队太久了，请回电 13812345678"),
            ],
            start=2,
        )
    ]
    # Three classified comments: the queue once (negatively), staff attitude twice.
    classify_as(db_session, march[0], {"staff_attitude": "positive"})
    classify_as(db_session, march[2], {"staff_attitude": "positive", "checkout": "positive"})
    classify_as(db_session, march[3], {"queue": "negative"}, "negative")
    # February: two promoters (the previous month); April: not in the review.
    make_response(shop, cashier, nps=10, csat=5, now=at(2, 10))
    make_response(shop, cashier, nps=10, csat=5, now=at(2, 11))
    make_response(shop, cashier, nps=0, csat=1, now=at(4, 2))
    # SH-002: one promoter in March; GZ-001 (another region) one detractor.
    make_response(other, None, nps=10, csat=5, now=at(3, 5))
    make_response(far, None, nps=0, csat=1, now=at(3, 5))
    shopper = make_user(Role.MYSTERY)
    sections = {"greeting": 80.0, "needs": 100.0, "explanation": 90.0}
    make_visit(shop, shopper, 90.0, day=date(2026, 3, 12), sections=sections)
    make_visit(shop, shopper, 40.0, day=date(2026, 3, 13), state="submitted")
    db_session.add(
        Training(
            staff_id=cashier.id,
            topic="收银台问候",
            touchpoint="greeting",
            trained_on=date(2026, 3, 20),
            trainer="李娜",
            state=TrainingState.DONE,
        )
    )
    db_session.flush()
    return shop, other


def test_a_store_review_of_a_known_month_has_the_figures_worked_out_by_hand(db_session, chain):
    shop, _other = chain
    content = build_review(db_session, SETTINGS, store=shop, region=None, month=MARCH)

    assert content.scope == "store" and content.store_codes == ("SH-001",)
    assert content.trends.nps.value == pytest.approx(50.0) and content.trends.nps.n == 4
    assert content.trends.csat.value == pytest.approx(75.0) and content.trends.csat.n == 4
    # Too few answers on either side to say better or worse.
    assert content.trends.nps_vs_previous.verdict == "not_enough_data"
    assert content.trends.nps_vs_previous.diff == pytest.approx(50.0 - 100.0)
    series = {m.month: m for m in content.trends.months}
    assert len(content.trends.months) == 12 and content.trends.months[-1].month == MARCH
    assert series[date(2026, 2, 1)].nps.value == pytest.approx(100.0)
    assert series[date(2026, 1, 1)].nps.n == 0

    (row,) = content.service
    assert row.cases_opened == 1
    assert row.complaint_rate.value == pytest.approx(25.0) and row.complaint_rate.n == 4
    assert content.service_total is None

    touch = {t.key: t.score for t in content.mystery.touchpoints}
    # Only the released visit counts; the submitted one is not yet released.
    assert touch["greeting"].value == pytest.approx(80.0) and touch["greeting"].n == 1
    assert content.mystery.visit_score.value == pytest.approx(90.0)

    (training,) = content.trainings
    assert (training.staff_code, training.topic, training.trained_on) == (
        "S001",
        "收银台问候",
        date(2026, 3, 20),
    )
    assert content.awards_state == "none"


def test_a_store_review_judges_its_figures_by_the_chain_targets(db_session, chain):
    shop, _other = chain
    content = build_review(db_session, SETTINGS, store=shop, region=None, month=MARCH)

    assert content.targets_ready
    lines = {t.metric: t for t in content.targets}
    # Seeded chain targets: complaint rate below 0.5 % and satisfaction at least 90 %.
    # 1 case of 4 receipts: 25 %, the whole Wilson interval (4.6 - 70 %) above 0.5 %.
    assert lines["complaint_rate"].target == pytest.approx(0.5)
    assert lines["complaint_rate"].status == "misses"
    # 3 of 4 satisfied: 75 %, an interval (30 - 95 %) on both sides of 90 %.
    assert lines["csat"].status == "unclear"
    assert lines["nps"].status == "no_target" and lines["nps"].estimate.value == 50.0


def test_a_store_review_lists_the_top_themes_with_masked_examples(db_session, chain):
    shop, _other = chain
    content = build_review(db_session, SETTINGS, store=shop, region=None, month=MARCH)

    assert content.themes_ready
    themes = {t.theme: t for t in content.themes}
    # 2 of the 3 classified comments speak of staff attitude.
    assert themes["staff_attitude"].share.value == pytest.approx(200 / 3)
    assert themes["staff_attitude"].share.n == 3
    assert themes["queue"].negative == 1
    (example,) = themes["queue"].examples
    assert "排队太久了" in example and "13812345678" not in example


def test_a_region_review_pools_its_stores_and_leaves_out_other_regions(db_session, chain):
    region = db_session.query(Region).filter_by(name="华东").one()
    content = build_review(db_session, SETTINGS, store=None, region=region, month=MARCH)

    assert content.scope == "region" and content.scope_name == "华东"
    assert content.store_codes == ("SH-001", "SH-002")
    # SH-001's four answers and SH-002's promoter: (4 - 1) / 5 = +60.
    assert content.trends.nps.value == pytest.approx(60.0) and content.trends.nps.n == 5
    assert [r.store_code for r in content.service] == ["SH-001", "SH-002"]
    total = content.service_total
    assert total is not None and total.cases_opened == 1
    # One case of five receipts.
    assert total.complaint_rate.value == pytest.approx(20.0) and total.complaint_rate.n == 5


def test_the_content_survives_its_json_form(db_session, chain):
    shop, _other = chain
    content = build_review(db_session, SETTINGS, store=shop, region=None, month=MARCH)
    stored = json.loads(json.dumps(to_json(content)))
    assert from_json(stored) == content


def test_a_review_is_of_one_store_or_one_region(db_session, chain):
    with pytest.raises(ValueError):
        build_review(db_session, SETTINGS, store=None, region=None, month=MARCH)
