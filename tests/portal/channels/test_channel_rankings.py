"""Rankings count only the answer channels HR's policy allows (default: the receipt's QR
code and its typed code): a kiosk, paper or phone answer naming a cashier does not move
their ranking until HR adds its channel."""

from __future__ import annotations

from sqlalchemy import select

from analysis.ranking import RankingParameters
from portal.audit import CLI
from portal.calendar import local_today, month_start
from portal.db import utcnow
from portal.hr.ranking import (
    PolicyValues,
    current_policy,
    policy_channels,
    rank_month,
    set_policy,
)
from portal.models import AuditEntry, FlagState, RankingPolicy, ResponseFlag, Role
from tests.conftest import post_form

EN = {"Accept-Language": "en"}
POLICY = {
    "customer_weight": "0.5",
    "mystery_weight": "0.3",
    "complaints_weight": "0.2",
    "min_n": "20",
    "top_fraction": "0.1",
    "baseline": "-1",
    "scope": "region",
    "notice_days": "3",
}


def this_month():
    return month_start(local_today(None, utcnow()))


def customer(db_session, staff):
    """The person's customer counts as the month's ranking read them."""
    ranked = rank_month(
        db_session, this_month(), scope="region", parameters=RankingParameters()
    ).for_staff(staff.id)
    data = ranked.data
    return data.rated, data.satisfied, data.promoters, data.detractors


def cashier_with_answers(make_store, make_staff, answer):
    store = make_store("SH-001")
    staff = make_staff(store, "S001")
    for _ in range(3):
        answer(store, "receipt", staff=staff, nps=10, csat=5)
    answer(store, "code", staff=staff, nps=10, csat=5)
    return store, staff


def other_channels(store, staff, answer):
    """One unhappy answer naming the cashier in each channel the default leaves out."""
    return {
        "kiosk": answer(store, "kiosk", staff=staff, nps=0, csat=1),
        "paper": answer(store, "paper", staff=staff, nps=0, csat=1),
        "phone": answer(store, "phone", staff=staff, nps=0, csat=1),
    }


def test_by_default_only_qr_and_typed_code_answers_count(
    db_session, make_store, make_staff, answer
):
    store, staff = cashier_with_answers(make_store, make_staff, answer)
    assert [c.value for c in policy_channels(current_policy(db_session))] == ["receipt", "code"]
    before = customer(db_session, staff)
    assert before == (4, 4, 4, 0)
    other_channels(store, staff, answer)
    assert customer(db_session, staff) == before


def test_adding_a_channel_to_the_policy_counts_its_answers(
    db_session, make_store, make_staff, answer
):
    store, staff = cashier_with_answers(make_store, make_staff, answer)
    other_channels(store, staff, answer)
    values = PolicyValues(0.5, 0.3, 0.2, 20, 0.1, -1.0, "region", 3, channels="receipt,code,kiosk")
    set_policy(db_session, values, actor=CLI, now=utcnow())
    assert customer(db_session, staff) == (5, 4, 4, 1)
    set_policy(
        db_session,
        PolicyValues(0.5, 0.3, 0.2, 20, 0.1, -1.0, "region", 3, channels="phone,paper,receipt"),
        actor=CLI,
        now=utcnow(),
    )
    assert current_policy(db_session).channels == "receipt,paper,phone"
    assert customer(db_session, staff) == (5, 3, 3, 2)


def test_a_held_answer_without_a_receipt_stays_out(db_session, make_store, make_staff, answer):
    store, staff = cashier_with_answers(make_store, make_staff, answer)
    set_policy(
        db_session,
        PolicyValues(0.5, 0.3, 0.2, 20, 0.1, -1.0, "region", 3, channels="receipt,code,kiosk"),
        actor=CLI,
        now=utcnow(),
    )
    held = answer(store, "kiosk", staff=staff, nps=0, csat=1)
    db_session.add(
        ResponseFlag(response_id=held.id, rule="burst", flagged_at=utcnow(), state=FlagState.HELD)
    )
    db_session.flush()
    assert customer(db_session, staff) == (4, 4, 4, 0)


def test_hr_ticks_the_channels_on_the_policy_form(client, db_session, make_user, login_as):
    login_as(make_user(Role.HR))
    form = client.get("/hr/policy", headers=EN).get_data(as_text=True)
    assert 'name="channels" value="receipt" checked' in form
    assert 'name="channels" value="code" checked' in form
    assert 'name="channels" value="kiosk"' in form and 'value="kiosk" checked' not in form
    refused = post_form(client, "/hr/policy", POLICY, headers=EN)
    assert refused.status_code == 400
    assert "Tick at least one channel." in refused.get_data(as_text=True)
    unknown = post_form(client, "/hr/policy", {**POLICY, "channels": ["fax"]}, headers=EN)
    assert unknown.status_code == 400
    assert db_session.scalars(select(RankingPolicy)).first() is None
    saved = post_form(client, "/hr/policy", {**POLICY, "channels": ["receipt", "kiosk"]})
    assert saved.status_code == 302
    assert db_session.scalars(select(RankingPolicy.channels)).one() == "receipt,kiosk"
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "ranking_policy.set")
    ).one()
    assert audit.details["channels"] == "receipt,kiosk"
    page = client.get("/hr/policy", headers=EN).get_data(as_text=True)
    current = page[page.index('id="current-channels"') :]
    assert current[: current.index("</td>")].endswith("Receipt QR code, In-store kiosk")
    history = page[page.index('id="policy-history"') :]
    assert "Receipt QR code, In-store kiosk" in history


def test_the_method_and_ranking_pages_name_the_channels(client, make_user, login_as):
    login_as(make_user(Role.HR))
    method = client.get("/hr/method", headers=EN).get_data(as_text=True)
    assert "(now: Receipt QR code, Typed receipt code)" in method
    ranking = client.get("/hr/rankings", headers=EN).get_data(as_text=True)
    assert (
        "Customer answers counted (the ranking policy): Receipt QR code, Typed receipt code"
        in ranking
    )
