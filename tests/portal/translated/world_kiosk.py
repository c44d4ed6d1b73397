"""Counter tablets in the seeded world: one enrolled at the demo manager's store (the walk's
anonymous client holds its credential, so the tablet's own page is walked), one still
waiting for its code in the region manager's region, and one switched off; some answers
sent by the enrolled one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.config import Settings
from portal.kiosk.answers import sync_answers
from portal.kiosk.devices import create_kiosk, enrol_kiosk, revoke_kiosk
from portal.kiosk.queries import get_kiosk_page
from portal.kiosk.schemas import QueuedAnswer
from portal.models import Store


@dataclass(frozen=True, slots=True)
class KioskWorld:
    #: (tablet id, store code) of every tablet.
    kiosks: list[tuple[int, str]]
    #: The enrolled tablet's credential (its cookie).
    credential: str


def add_kiosks(
    session: Session, settings: Settings, home: Store, in_region: Store, *, now: datetime
) -> KioskWorld:
    enrolled, code = create_kiosk(session, home, "收银台平板", CLI, now)
    enrolled, credential = enrol_kiosk(session, code, address="192.0.2.10", now=now)
    waiting, _code = create_kiosk(session, in_region, "入口平板", CLI, now)
    retired, _code = create_kiosk(session, home, "旧平板", CLI, now)
    revoke_kiosk(session, retired, expected_version=None, actor=CLI, now=now)
    version = get_kiosk_page(session, enrolled, now).version_id
    answers = [
        QueuedAnswer(str(uuid.uuid4()), now - timedelta(minutes=m), "zh_CN", version, "", values)
        for m, values in ((40, {"nps": "10", "csat": "5"}), (20, {"nps": "6", "csat": "3"}))
    ]
    sync_answers(session, settings, enrolled, answers, now)
    tablets = (enrolled, waiting, retired)
    return KioskWorld([(k.id, k.store.code) for k in tablets], credential)
