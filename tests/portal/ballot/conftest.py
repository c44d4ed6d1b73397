"""Shoppers' submits as the survey page makes them (`record_response` with the origin of
the submitting device), the flags they leave, and reviewers' decisions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.ballot.origin import origin_of
from portal.ballot.review import decide_flag
from portal.config import Settings
from portal.models import Response, ResponseFlag, Staff, Store, User
from portal.shopper.operations import record_response
from surveys.answers import Answers
from surveys.loader import receipt_survey
from tests.conftest import SECRET

REASON = "Checked the till log: genuine customers."


@pytest.fixture
def submit(
    db_session: Session, settings: Settings, make_receipt: Callable[..., Any]
) -> Callable[..., Response]:
    """A shopper's submit through the survey page: from ``address`` with browser ``agent``,
    at ``at``, to a receipt printed ``printed`` before."""

    def submit(
        store: Store,
        staff: Staff | None = None,
        *,
        at: datetime,
        address: str = "203.0.113.7",
        agent: str = "Phone A",
        printed: timedelta = timedelta(minutes=5),
        nps: int = 9,
        csat: int = 5,
        ratings: dict[str, int] | None = None,
        comment: str | None = None,
        settings: Settings = settings,
    ) -> Response:
        issued = make_receipt(store, staff, now=at - printed)
        response = record_response(
            db_session,
            settings=settings,
            receipt=issued.receipt,
            definition=receipt_survey(),
            answers=Answers(
                nps=nps,
                csat=csat,
                ratings=ratings or {},
                problem_reported=False,
                problem_category=None,
                comment=comment,
                contact=None,
            ),
            locale="zh_CN",
            now=at,
            origin=origin_of(SECRET, address, agent),
        )
        db_session.flush()
        return response

    return submit


def flags_of(session: Session, response: Response) -> dict[str, ResponseFlag]:
    """The response's flags by rule."""
    stmt = select(ResponseFlag).where(ResponseFlag.response_id == response.id)
    return {flag.rule: flag for flag in session.scalars(stmt)}


def all_flags(session: Session) -> list[tuple[int, str]]:
    return sorted(session.execute(select(ResponseFlag.response_id, ResponseFlag.rule)).tuples())


def decide_all(
    session: Session, responses: list[Response], decision: str, reviewer: User, at: datetime
) -> None:
    """The reviewer decides every flag of ``responses`` the same way."""
    for response in responses:
        for flag in flags_of(session, response).values():
            decide_flag(
                session,
                flag,
                decision=decision,
                reason=REASON,
                actor=Actor.of_user(reviewer),
                now=at,
                expected_version=flag.version,
            )
