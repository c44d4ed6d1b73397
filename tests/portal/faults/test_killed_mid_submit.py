"""Item 19, "server killed mid-submit": gunicorn's master and every worker are killed
(SIGKILL) while shoppers' submits are in flight; after a restart the shoppers send again
what got no answer. Nothing is lost, nothing is doubled, nothing is half-written.

The kill is placed by conditions, not by timing: once enough submits are stored, one
submit is held after its commit with its thank-you page unsent, and another inside its
transaction with every row written but not committed (``stall_app``); on SQLite the second
holds the write lock, so the other shoppers' submits queue behind it, in flight. The crowd
takes no new shopper while the two are being held, so that it has shoppers left to send.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import replace

from sqlalchemy.orm import Session

from tests.portal.faults.live_server import (
    Crowd,
    LivePortal,
    Step,
    check_consistent,
    check_ledger,
    count_responses,
    database_url,
    issue_receipts,
    make_shoppers,
    response_of,
    wait_for,
)
from tests.portal.faults.stall_app import COMMITTED, IN_TRANSACTION, marker

STALL_APP = "tests.portal.faults.stall_app:create_app()"


def test_a_server_killed_mid_submit_loses_nothing_and_doubles_nothing(
    fresh_engine, settings, tmp_path
):
    secret = secrets.token_urlsafe(32)
    issued = issue_receipts(fresh_engine, replace(settings, secret_key=secret), 122)
    committed_unsent, cut_off, *others = make_shoppers(issued, seed=19)
    instance = tmp_path / "served"
    portal = LivePortal(instance, database_url(fresh_engine), secret, app=STALL_APP)
    with portal, Crowd(portal.port, others, clients=6, limit=120) as crowd:
        wait_for(lambda: count_responses(fresh_engine) >= 12, "12 stored submits")
        # The crowd waits while the two submits are held, so that it still has shoppers
        # to send when they are (on PostgreSQL the held transaction blocks no one, and a
        # busy machine could otherwise see the crowd finish first).
        crowd.hold()
        for shopper in (committed_unsent, cut_off):
            assert shopper.step(portal.port) is Step.NEXT  # the survey page, as usual
        held = []
        for shopper, point in ((committed_unsent, COMMITTED), (cut_off, IN_TRANSACTION)):
            held.append(threading.Thread(target=shopper.step, args=(portal.port, point)))
            held[-1].start()
            wait_for(marker(instance, point).exists, f"a submit held {point}")
        stored_unsent = response_of(fresh_engine, committed_unsent.receipt_id)
        assert stored_unsent is not None  # committed; its thank-you page is not sent
        assert response_of(fresh_engine, cut_off.receipt_id) is None  # not committed
        crowd.release()
        wait_for(lambda: crowd.posting() >= 2, "other submits in flight")

        crowd.close()
        portal.kill()
        for thread in held:
            thread.join(timeout=10)
        assert (committed_unsent.unanswered_posts, cut_off.unanswered_posts) == (1, 1)
        # The database as the kill left it: the uncommitted submit left no trace, and
        # every stored response is whole.
        assert response_of(fresh_engine, cut_off.receipt_id) is None
        with Session(fresh_engine) as session:
            check_consistent(session)

        portal.start()
        # Each shopper whose submit got no answer sends the same form again.
        committed_unsent.settle(portal.port)
        cut_off.settle(portal.port)
        crowd.join()

    # The browser whose answer was lost is shown the code of its stored response (item 16).
    assert committed_unsent.statuses[-1] == ("POST", 200)
    assert response_of(fresh_engine, committed_unsent.receipt_id) == stored_unsent
    ledger = check_ledger(fresh_engine, secret, [committed_unsent, cut_off, *crowd.taken])
    assert ledger.responses == 2 + len(crowd.taken) >= 14
    assert "Traceback" not in portal.log()
