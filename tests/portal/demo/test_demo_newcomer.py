"""What a newcomer does first with the demo: run ``flask demo`` at the real present, follow
the survey link and the receipt code it prints, and sign in as the mystery shopper it
prints to find an assignment to accept today.

A small build of its own (at the real clock, unlike test_demo.py's fixed one) into a fresh
database, SQLite or PostgreSQL as the suite runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from portal.calendar import local_today
from portal.db import utcnow
from portal.demo import DEMO_PASSWORD, demo_logins
from portal.demo.assignment import (
    TRY_STORE,
    TRY_WINDOW_DAYS,
    assignment_to_try,
    waiting_assignment,
)
from portal.models import Receipt, Role, VisitState
from surveys.codes import normalize_short_code
from tests.conftest import SETTINGS, post_form

_LINK = re.compile(r"Try the survey as a shopper: (\S+)")
_CODE = re.compile(r"type the receipt code (\S+) at ")
_ASSIGNMENT = re.compile(r'<li class="response assignment" id="assignment-(\d+)">(.*?)</li>', re.S)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Run:
    app: Flask
    output: str
    started: datetime
    ended: datetime


@pytest.fixture
def demo_run(fresh_engine: Engine, make_app: Callable[[Engine], Flask]) -> Run:
    app = make_app(fresh_engine)
    started = utcnow()
    result = app.test_cli_runner().invoke(args=["demo", "--responses", "300", "--days", "7"])
    assert result.exit_code == 0, result.output
    return Run(app, result.output, started, utcnow())


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def test_the_printed_link_and_code_open_a_fresh_receipts_survey(demo_run: Run) -> None:
    link = _LINK.search(demo_run.output)
    code = _CODE.search(demo_run.output)
    assert link and code, demo_run.output
    assert link.group(1).startswith(SETTINGS.base_url + "/r/")
    path = link.group(1).removeprefix(SETTINGS.base_url)
    client = demo_run.app.test_client()
    page = client.get(path)
    assert page.status_code == 200
    assert 'name="nps"' in page.get_data(as_text=True)
    typed = post_form(client, "/r", {"code": code.group(1)})
    assert typed.status_code == 302
    assert typed.headers["Location"].endswith(f"{path}?via=code")
    assert client.get(typed.headers["Location"]).status_code == 200
    # Issued by this run, open and unanswered.
    with Session(demo_run.app.extensions["portal.db"][0]) as session:
        receipt = session.scalars(
            select(Receipt).where(Receipt.short_code == normalize_short_code(code.group(1)))
        ).one()
        issued = receipt.issued_at.replace(tzinfo=demo_run.started.tzinfo)
        expires = receipt.expires_at.replace(tzinfo=demo_run.started.tzinfo)
        assert demo_run.started - timedelta(seconds=1) <= issued <= demo_run.ended
        assert expires > demo_run.ended + timedelta(days=1)
        assert receipt.answered_at is None


def test_the_mystery_login_finds_an_assignment_to_accept_today(demo_run: Run) -> None:
    login = next(x for x in demo_logins() if x.role == Role.MYSTERY)
    assert f"Mystery shopper {login.email} has an assignment to accept" in demo_run.output
    client = demo_run.app.test_client()
    signed_in = post_form(client, "/login", {"email": login.email, "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302
    home = client.get("/home?lang=en")
    assert home.status_code == 200
    assignments = _ASSIGNMENT.findall(_section(home.get_data(as_text=True), "to-accept"))
    today = local_today("Asia/Shanghai", utcnow())
    windows = [
        [date.fromisoformat(day) for day in _DAY.findall(text)][:2] for _id, text in assignments
    ]
    assert any(start <= today <= end for start, end in windows), windows
    # Its page opens with the accept button.
    visit_id = next(
        visit_id
        for (visit_id, _text), (start, end) in zip(assignments, windows, strict=True)
        if start <= today <= end
    )
    visit = client.get(f"/mystery/visits/{visit_id}?lang=en")
    assert visit.status_code == 200
    assert 'id="action-accept"' in visit.get_data(as_text=True)


def test_a_later_run_keeps_the_waiting_assignment_or_replaces_a_stale_one(demo_run: Run) -> None:
    with Session(demo_run.app.extensions["portal.db"][0]) as session, session.begin():
        now = utcnow()
        first = waiting_assignment(session, now=now)
        assert first is not None and first.store.code == TRY_STORE
        assert assignment_to_try(session, SETTINGS, now=now) is first
        # Two weeks on, its window went by unaccepted: it is called off and a new one made,
        # which the rotation would refuse while the old one stood.
        later = now + timedelta(days=TRY_WINDOW_DAYS + 1)
        assert waiting_assignment(session, now=later) is None
        fresh = assignment_to_try(session, SETTINGS, now=later)
        assert fresh is not None and fresh.id != first.id
        assert first.state == VisitState.CANCELLED
        assert (fresh.state, fresh.store.code) == (VisitState.ASSIGNED, TRY_STORE)
        today = local_today(fresh.store.timezone, later)
        assert fresh.window_start == today <= fresh.window_end
        session.rollback()
