"""Thank-you validation codes: checked and redeemed once, by page and by CLI."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.db import make_sessionmaker, utcnow, writer
from portal.models import Role
from portal.shopper.operations import record_response
from portal.validation_codes.operations import AlreadyRedeemed, redeem_validation_code
from surveys.answers import Answers
from surveys.codes import format_validation_code, make_validation_code
from surveys.loader import receipt_survey
from tests.conftest import SECRET, add_store_with_cashier, issue_one_receipt, post_form


@pytest.fixture
def shop(make_store, make_staff, make_response):
    store = make_store("SH-001")
    response = make_response(store, make_staff(store, "S001"), nps=10)
    return store, format_validation_code(make_validation_code(SECRET, response.id))


def test_a_manager_checks_then_redeems_a_code_once(client, shop, make_user, login_as):
    store, code = shop
    login_as(make_user(Role.MANAGER, stores=[store]))
    checked = post_form(client, "/codes", {"code": code.lower()}, headers={"Accept-Language": "en"})
    assert checked.status_code == 200
    assert "Valid, not redeemed yet." in checked.get_data(as_text=True)
    redeemed = post_form(
        client, "/codes/redeem", {"code": code}, page="/codes", headers={"Accept-Language": "en"}
    )
    assert redeemed.status_code == 200
    assert "Redeemed." in redeemed.get_data(as_text=True)
    again = post_form(
        client, "/codes/redeem", {"code": code}, page="/codes", headers={"Accept-Language": "en"}
    )
    assert again.status_code == 409
    assert "already redeemed" in again.get_data(as_text=True)
    rechecked = post_form(client, "/codes", {"code": code}, headers={"Accept-Language": "en"})
    assert "Already redeemed on" in rechecked.get_data(as_text=True)


def test_a_forged_code_is_not_valid(client, shop, make_user, login_as):
    store, code = shop
    login_as(make_user(Role.MANAGER, stores=[store]))
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    page = post_form(client, "/codes", {"code": forged}, headers={"Accept-Language": "en"})
    assert page.status_code == 404
    assert "This is not a valid code." in page.get_data(as_text=True)


def test_a_manager_of_another_store_learns_nothing_about_the_code(
    client, shop, make_user, login_as, make_store
):
    _, code = shop
    login_as(make_user(Role.MANAGER, stores=[make_store("BJ-009")]))
    page = post_form(client, "/codes", {"code": code}, headers={"Accept-Language": "en"})
    assert page.status_code == 404
    assert "SH-001" not in page.get_data(as_text=True)


def test_the_cli_checks_and_redeems_codes(runner, shop):
    _, code = shop
    checked = runner.invoke(args=["check-code", code])
    assert checked.exit_code == 0, checked.output
    assert "Not redeemed yet." in checked.output
    assert runner.invoke(args=["check-code", code, "--redeem"]).exit_code == 0
    again = runner.invoke(args=["check-code", code, "--redeem"])
    assert again.exit_code != 0
    assert "already redeemed" in again.output
    bogus = runner.invoke(args=["check-code", "ZZZZ-ZZZZ"])
    assert bogus.exit_code != 0


def test_two_tills_redeeming_at_once_redeem_once(fresh_engine, settings):
    with Session(fresh_engine) as session, session.begin():
        store = add_store_with_cashier(session)
        # Committed in a database of its own (make_response writes to the rolled-back
        # test session, which the redeeming threads could not see).
        issued = issue_one_receipt(session, settings, store)
        response = record_response(
            session,
            settings=settings,
            receipt=issued.receipt,
            definition=receipt_survey(),
            answers=Answers(
                nps=10,
                csat=5,
                ratings={},
                problem_reported=False,
                problem_category=None,
                comment=None,
                contact=None,
            ),
            locale="zh_CN",
            now=utcnow(),
        )
        code = make_validation_code(SECRET, response.id)

    factory = make_sessionmaker(writer(fresh_engine))
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def redeem() -> None:
        with factory() as session:
            barrier.wait()
            try:
                redeem_validation_code(session, SECRET, code, user=None, actor=CLI, now=utcnow())
                session.commit()
                outcomes.append("redeemed")
            except AlreadyRedeemed:
                session.rollback()
                outcomes.append("already")

    threads = [threading.Thread(target=redeem) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already"] * 5 + ["redeemed"]


def test_validation_codes_look_like_codes(shop):
    _, code = shop
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{1,4})+", code)
