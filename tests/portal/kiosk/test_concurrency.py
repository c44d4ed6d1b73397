"""A flaky connection makes a tablet send the same answers again while the first send is
still being stored: with real commits on a database of their own, the answer is stored
once, whichever request wins, and nothing fails."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.db import utcnow
from portal.kiosk.devices import create_kiosk
from portal.models import Response
from tests.conftest import add_store_with_cashier
from tests.portal.kiosk.conftest import enrol, page_version, queued, sync


def test_the_same_answers_sent_four_times_at_once_are_stored_once(fresh_engine, make_app):
    with Session(fresh_engine) as session, session.begin():
        store = add_store_with_cashier(session)
        _kiosk, code = create_kiosk(session, store, "收银台", CLI, utcnow())
    app = make_app(fresh_engine)
    first = app.test_client()
    assert enrol(first, code).status_code == 302
    credential = first.get_cookie("kiosk_device", path="/kiosk").value
    clients = [first] + [app.test_client() for _ in range(3)]
    for client in clients[1:]:
        client.set_cookie("kiosk_device", credential, path="/kiosk")
    version = page_version(first)
    answers = [queued(version, values={"nps": str(n)}) for n in (4, 8)]
    barrier = threading.Barrier(len(clients), timeout=20)
    outcomes: list[list[str]] = []

    def send(client) -> None:
        barrier.wait()
        response = sync(client, answers)
        assert response.status_code == 200, response.get_data(as_text=True)
        outcomes.append([result["status"] for result in response.get_json()["results"]])

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [["duplicate", "duplicate"]] * 3 + [["stored", "stored"]]
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 2
