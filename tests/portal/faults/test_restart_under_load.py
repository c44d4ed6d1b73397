"""Item 19, "restart under load": while shoppers keep submitting, gunicorn replaces its
workers (SIGHUP, a graceful reload, as after a deploy), then stops gracefully (SIGTERM) and
is started again. No shopper sees a server error, every accepted submit is stored once,
and the shoppers whose connection was refused while the portal was down send again and
are thanked. A reload refuses and cuts off nothing: the listening socket stays open and
the old workers finish the requests they hold.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from tests.portal.faults.live_server import (
    Crowd,
    LivePortal,
    check_ledger,
    database_url,
    issue_receipts,
    make_shoppers,
    wait_for,
)

#: Submits thanked in each phase before the next fault.
PER_PHASE = 8


def test_a_reload_and_a_restart_under_load_lose_nothing_and_double_nothing(
    fresh_engine, settings, tmp_path
):
    secret = secrets.token_urlsafe(32)
    issued = issue_receipts(fresh_engine, replace(settings, secret_key=secret), 200)
    portal = LivePortal(tmp_path / "served", database_url(fresh_engine), secret, workers=2)
    with portal, Crowd(portal.port, make_shoppers(issued, seed=4), clients=6, limit=120) as crowd:

        def thanked_more(than: int) -> None:
            wait_for(lambda: crowd.thanked() >= than + PER_PHASE, f"{PER_PHASE} more thanked")

        thanked_more(0)
        unanswered = crowd.unanswered()
        old_workers = portal.reload()
        wait_for(lambda: not portal.worker_pids() & old_workers, "the old workers to go")
        wait_for(lambda: len(portal.worker_pids()) == portal.workers, "new workers")
        thanked_more(crowd.thanked())
        # The old workers finished what they had; the new ones took the rest.
        assert crowd.unanswered() == unanswered, "a reload refused or cut off a request"

        portal.terminate()
        refused = crowd.refused()
        wait_for(lambda: crowd.refused() > refused, "a shopper refused while the portal is down")
        portal.start()
        thanked_more(crowd.thanked())
        crowd.join()

    ledger = check_ledger(fresh_engine, secret, crowd.taken)
    assert ledger.refused > 0
    assert ledger.responses == len(crowd.taken) >= 3 * PER_PHASE
    assert "Traceback" not in portal.log()
