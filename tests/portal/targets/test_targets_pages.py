"""The targets pages through the client: who sets, who reads, bad input on its field, and
the status words on the store page and the scorecard."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.audit import CLI
from portal.calendar import chain_today
from portal.db import utcnow
from portal.models import Metric, Region, Role, Target
from portal.targets.operations import set_target
from portal.targets.queries import Scope
from tests.conftest import csrf_token_from, post_form
from tests.portal.targets.test_targets import counted

EN = {"Accept-Language": "en"}


@pytest.fixture
def shops(db_session, make_store):
    db_session.add(Region(name="华东"))
    return make_store("SH-001", region="华东"), make_store("BJ-001", region="华北")


def today(db_session) -> date:
    return chain_today(db_session, utcnow())


def form(db_session, **fields):
    data = {
        "metric": "nps",
        "scope": "chain",
        "region": "",
        "store": "",
        "value": "30",
        "effective_from": (today(db_session) + timedelta(days=1)).isoformat(),
    }
    return data | fields


def nps_targets(db_session) -> list[tuple[str, float]]:
    rows = db_session.execute(
        select(Target.scope_key, Target.value).where(Target.metric == "nps").order_by(Target.id)
    )
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CX])
def test_admin_and_cx_set_targets(client, db_session, make_user, login_as, shops, role):
    login_as(make_user(role))
    store = shops[0]
    assert post_form(client, "/targets", form(db_session)).status_code == 302
    data = form(db_session, scope="store", store=store.code, value="45")
    assert post_form(client, "/targets", data).status_code == 302
    assert nps_targets(db_session) == [("chain", 30.0), (f"store:{store.id}", 45.0)]
    page = client.get("/targets", headers=EN).get_data(as_text=True)
    assert "SH-001" in page and "≥ 45" in page and "coming" in page


def test_bad_input_is_refused_on_its_field_and_nothing_is_written(
    client, db_session, make_user, login_as, shops
):
    login_as(make_user(Role.ADMIN))
    cases = [
        ({"value": "abc"}, "value", 400),
        ({"value": "101", "metric": "csat"}, "value", 400),
        ({"effective_from": "2001-01-01"}, "effective_from", 400),
        ({"scope": "region"}, "region", 400),
        ({"scope": "store"}, "store", 400),
        ({"metric": "speed"}, "metric", 400),
    ]
    for fields, field, status in cases:
        response = post_form(client, "/targets", form(db_session, **fields), headers=EN)
        assert response.status_code == status, fields
        assert f'id="{field}-errors"' in response.get_data(as_text=True), fields
    assert nps_targets(db_session) == []


def test_the_same_target_twice_is_refused_with_a_message(
    client, db_session, make_user, login_as, shops
):
    login_as(make_user(Role.ADMIN))
    assert post_form(client, "/targets", form(db_session)).status_code == 302
    again = post_form(client, "/targets", form(db_session, value="35"), headers=EN)
    assert again.status_code == 409
    assert "already has a target for this scope" in again.get_data(as_text=True)
    assert nps_targets(db_session) == [("chain", 30.0)]


def test_a_future_target_is_removed_and_one_in_force_is_not(
    client, db_session, make_user, login_as, shops
):
    login_as(make_user(Role.ADMIN))
    assert post_form(client, "/targets", form(db_session)).status_code == 302
    future = db_session.scalars(select(Target).where(Target.metric == "nps")).one()
    seeded = db_session.scalars(select(Target).where(Target.metric == "csat")).one()
    refused = post_form(client, f"/targets/{seeded.id}/remove", {}, page="/targets", headers=EN)
    assert refused.status_code == 409
    removed = post_form(client, f"/targets/{future.id}/remove", {}, page="/targets")
    assert removed.status_code == 302
    assert nps_targets(db_session) == []


def test_a_manager_reads_their_stores_targets_only_and_sets_none(
    client, db_session, make_user, login_as, shops
):
    mine, other = shops
    for store, value in ((mine, 41), (other, 42)):
        set_target(
            db_session,
            metric=Metric.NPS,
            scope=Scope(store_id=store.id),
            value=value,
            effective_from=today(db_session),
            actor=CLI,
            now=utcnow(),
        )
    login_as(make_user(Role.MANAGER, stores=[mine]))
    page = client.get("/targets", headers=EN).get_data(as_text=True)
    assert "≥ 41" in page and "≥ 42" not in page and "BJ-001" not in page
    assert "&lt; 0.5 %" in page  # the chain's complaint-rate target judges their store too
    assert 'id="target-form"' not in page
    html = client.get("/targets").get_data(as_text=True)
    posted = client.post("/targets", data={"csrf_token": csrf_token_from(html), **form(db_session)})
    assert posted.status_code == 403
    assert client.get(f"/targets/scorecard?store={other.code}").status_code == 404
    assert client.get(f"/targets/scorecard?store={mine.code}").status_code == 200


def test_the_store_page_and_scorecard_say_the_status_in_words(
    client, db_session, make_user, login_as, shops
):
    store = shops[0]
    day = today(db_session)
    counted(db_session, store.id, day, csat_5=199, csat_2=1, nps_10=5, nps_0=5)
    login_as(make_user(Role.ADMIN))
    page = client.get(f"/stores/{store.code}?days=7", headers=EN).get_data(as_text=True)
    assert 'id="csat-target"' in page and "meets target (≥ 90.0 %)" in page
    assert 'id="nps-target"' not in page  # no NPS target: no status
    assert 'id="complaint-rate-target"' in page  # no receipts: not yet clear
    assert 'data-status="unclear"' in page
    assert "no data yet" in page and "the interval spans it" not in page
    month = day.strftime("%Y-%m")
    card = client.get(f"/targets/scorecard?store={store.code}&month={month}", headers=EN)
    text = card.get_data(as_text=True)
    assert card.status_code == 200
    assert 'id="figure-csat"' in text and "meets target" in text and "99.5 %" in text


def test_the_chain_page_judges_each_store_by_its_own_target(
    client, db_session, make_user, login_as, shops
):
    shanghai, beijing = shops
    day = today(db_session)
    for store in shops:  # 180 of 200 satisfied: 90.0 % (85.1 - 93.4)
        counted(db_session, store.id, day, csat_5=180, csat_2=20, nps_10=100, nps_0=100)
    region = db_session.scalar(select(Region).where(Region.name == "华东"))
    # The chain's seeded 90 % leaves both unclear; Shanghai's region asks only 80 %.
    set_target(
        db_session,
        metric=Metric.CSAT,
        scope=Scope(region_id=region.id),
        value=80.0,
        effective_from=day,
        actor=CLI,
        now=utcnow(),
    )
    login_as(make_user(Role.ADMIN))

    page = client.get("/chain?days=7", headers=EN).get_data(as_text=True)

    def judged(code: str) -> str:
        row = page[page.index(f">{code} ") :]
        return row[row.index('class="row-targets"') : row.index("</td>", row.index("row-targets"))]

    assert 'data-status="meets"' in judged("SH-001") and "CSAT ✓ meets" in judged("SH-001")
    assert 'data-status="unclear"' in judged("BJ-001") and "not yet clear" in judged("BJ-001")
    assert "NPS" not in judged("SH-001")  # no NPS target anywhere: nothing said
    # The headline over both stores is the chain's, judged by the chain's 90 %.
    assert 'id="csat-target"' in page and "not yet clear against target (≥ 90.0 %)" in page
