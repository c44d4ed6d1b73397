"""The stand-in Twilio server running for a test, settings that point the portal at it,
and a resolved case whose customer left a mobile number."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.audit import Actor
from portal.cases.operations import log_contact, resolve_case
from portal.config import Settings
from portal.db import utcnow
from portal.models import Case, Role
from surveys.answers import ContactAnswer
from tests.conftest import SETTINGS
from tests.portal.sms.standin import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    MOBILE,
    StandIn,
    handler,
)


@pytest.fixture
def twilio() -> Iterator[StandIn]:
    standin = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(standin))
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll: shutting the server down waits for one.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def settings(tmp_path: Path, twilio: StandIn) -> Settings:
    """The portal sending through the stand-in."""
    return replace(
        SETTINGS.with_instance(str(tmp_path / "instance")),
        sms_provider="twilio",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=FROM_NUMBER,
        twilio_api_base=twilio.url,
    )


@pytest.fixture
def store_and_manager(make_store, make_staff, make_user):
    store = make_store("SH-001", name="徐汇店")
    make_staff(store, "S001", name="李娜")
    manager = make_user(Role.MANAGER, stores=[store], email="boss@sh.example")
    return store, manager


@pytest.fixture
def make_case(db_session, make_response, store_and_manager):
    """An unhappy answer's case; resolved unless ``resolved=False``."""
    store, manager = store_and_manager

    def make(
        *,
        phone: str | None = MOBILE,
        email: str | None = None,
        resolved: bool = True,
        locale: str = "zh_CN",
    ) -> Case:
        response = make_response(
            store,
            nps=2,
            csat=1,
            category="service_attitude",
            contact=ContactAnswer(phone, email),
            locale=locale,
        )
        case = db_session.scalars(select(Case).where(Case.response_id == response.id)).one()
        if resolved:
            actor, now = Actor.of_user(manager), utcnow()
            log_contact(db_session, case, note="打过电话", actor=actor, now=now)
            resolve_case(
                db_session, case, resolution="apology", note="已道歉", actor=actor, now=now
            )
        db_session.flush()
        return case

    return make
