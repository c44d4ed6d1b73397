"""Answers of every channel, written through the real operations (`record_response` for
a receipt's answer, `record_receiptless_response` for a kiosk or phone answer without
one), so that the rollups and question counts are what production writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from portal.config import Settings
from portal.db import utcnow
from portal.models import RECEIPTLESS_CHANNELS, Channel, Response, Staff, Store
from portal.receipts import IssuedReceipt
from portal.shopper.operations import record_receiptless_response, record_response
from portal.versions import default_survey, definition_of, latest_version
from surveys.answers import Answers


@pytest.fixture
def answer(
    db_session: Session, settings: Settings, make_receipt: Callable[..., IssuedReceipt]
) -> Callable[..., Response]:
    """``answer(store, "kiosk", staff=..., nps=..., csat=...)``: one answer of a channel.
    A kiosk or phone answer has no receipt unless ``with_receipt``; the others answer a
    fresh receipt printed an hour before."""

    def make(
        store: Store,
        channel: str = "receipt",
        *,
        staff: Staff | None = None,
        nps: int = 9,
        csat: int = 5,
        category: str | None = None,
        comment: str | None = None,
        now: datetime | None = None,
        with_receipt: bool = False,
        **extra: Any,
    ) -> Response:
        when = now or utcnow()
        answers = Answers(
            nps=nps,
            csat=csat,
            ratings={},
            problem_reported=category is not None,
            problem_category=category,
            comment=comment,
            contact=None,
        )
        kind = Channel(channel)
        version = latest_version(db_session, default_survey(db_session).id)
        assert version is not None
        if kind in RECEIPTLESS_CHANNELS and not with_receipt:
            response = record_receiptless_response(
                db_session,
                settings=settings,
                store=store,
                version=version,
                definition=definition_of(version),
                answers=answers,
                locale="zh_CN",
                now=when,
                channel=kind,
                staff_id=None if staff is None else staff.id,
                **extra,
            )
        else:
            issued = make_receipt(store, staff, now=when - timedelta(hours=1))
            response = record_response(
                db_session,
                settings=settings,
                receipt=issued.receipt,
                definition=definition_of(version),
                answers=answers,
                locale="zh_CN",
                now=when,
                channel=kind,
                **extra,
            )
        db_session.flush()
        return response

    return make
