"""Fixtures of the tablet tests: a store with a cashier, a tablet enrolled through its own
page (the test client then holds its credential cookie), and a queued answer as the
tablet's script writes it, sent as the script sends it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from portal.audit import CLI
from portal.db import utcnow
from portal.kiosk.devices import create_kiosk
from portal.models import Kiosk, Store
from tests.conftest import post_form

EN = {"Accept-Language": "en"}
#: What the tablet's script sends with every sync.
SYNC_HEADERS = {"X-Kiosk-Sync": "1"}


@pytest.fixture
def store(make_store, make_staff) -> Store:
    store = make_store("SH-001", name="人民广场店")
    make_staff(store, "S0042")
    return store


@pytest.fixture
def new_kiosk(db_session, store) -> Callable[..., tuple[Kiosk, str]]:
    def make(name: str = "收银台平板", at: Store | None = None, now: datetime | None = None):
        kiosk, code = create_kiosk(db_session, at or store, name, CLI, now or utcnow())
        db_session.flush()
        return kiosk, code

    return make


def enrol(client: FlaskClient, code: str, **kwargs: Any) -> Any:
    return post_form(client, "/kiosk/enrol", {"code": code}, **kwargs)


@pytest.fixture
def kiosk(client, new_kiosk, db_session) -> Kiosk:
    """A tablet of SH-001 enrolled in ``client`` (as the row is now)."""
    kiosk, code = new_kiosk()
    assert enrol(client, code).status_code == 302
    db_session.refresh(kiosk)
    return kiosk


def page_version(client: FlaskClient) -> int:
    """The survey version the tablet's page shows."""
    html = client.get("/kiosk/").get_data(as_text=True)
    return int(re.search(r'data-version="(\d+)"', html)[1])


def queued(version: int, *, answered_at: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """One answer as the tablet queues it: a fresh id, now, 9 and 5."""
    values = {"nps": "9", "csat": "5", **fields.pop("values", {})}
    return {
        "id": fields.pop("id", str(uuid.uuid4())),
        "answered_at": (answered_at or utcnow()).isoformat(),
        "locale": fields.pop("locale", "zh_CN"),
        "version": version,
        "receipt_code": fields.pop("receipt_code", ""),
        "values": values,
        **fields,
    }


def sync(client: FlaskClient, answers: list[dict[str, Any]], **kwargs: Any) -> Any:
    headers = {**SYNC_HEADERS, **kwargs.pop("headers", {})}
    return client.post("/kiosk/api/answers", json={"answers": answers}, headers=headers, **kwargs)


def statuses(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [result["status"] for result in response.get_json()["results"]]
