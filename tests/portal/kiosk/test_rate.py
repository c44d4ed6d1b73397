"""One tablet cannot stuff answers: more than ``PORTAL_KIOSK_MAX_ANSWERS`` within
``PORTAL_KIOSK_WINDOW_MINUTES`` (by the times the tablet gives them) are refused at sync,
however they are batched and in whatever order they arrive."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.config import Settings, SettingsError
from portal.db import utcnow
from portal.models import Response
from tests.portal.kiosk.conftest import EN, page_version, queued, statuses, sync

LIMIT, MINUTES = 3, 10


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, kiosk_max_answers=LIMIT, kiosk_window_minutes=MINUTES)


def count(db_session) -> int:
    return db_session.scalar(select(func.count(Response.id)))


def test_answers_over_the_tablets_rate_are_refused_with_a_reason(client, kiosk, db_session):
    version, start = page_version(client), utcnow() - timedelta(minutes=30)
    minutes = [0, 2, 4, 6, 8]
    answers = [queued(version, answered_at=start + timedelta(minutes=m)) for m in minutes]
    response = sync(client, answers, headers=EN)
    assert statuses(response) == ["stored"] * LIMIT + ["rejected"] * 2
    reason = response.get_json()["results"][-1]["reasons"][0]
    assert reason["code"] == "rate_limited"
    assert reason["message"] == (
        "This tablet took more than 3 answers within 10 minutes: this one was not stored."
    )
    assert count(db_session) == LIMIT
    # Later, out of the window, the tablet takes answers again.
    later = queued(version, answered_at=start + timedelta(minutes=19))
    assert statuses(sync(client, [later])) == ["stored"]


def test_an_answer_arriving_late_cannot_squeeze_in_before_the_others(client, kiosk, db_session):
    version, start = page_version(client), utcnow() - timedelta(minutes=30)
    first = [queued(version, answered_at=start + timedelta(minutes=m)) for m in (5, 6, 7)]
    assert statuses(sync(client, first)) == ["stored"] * 3
    earlier = queued(version, answered_at=start + timedelta(minutes=1))
    assert statuses(sync(client, [earlier])) == ["rejected"]
    assert count(db_session) == LIMIT


def test_the_rate_is_set_in_the_environment(tmp_path):
    env = {"PORTAL_INSTANCE_PATH": str(tmp_path)}
    assert (Settings.from_env(env).kiosk_max_answers, Settings().kiosk_window_minutes) == (30, 10)
    settings = Settings.from_env(
        {**env, "PORTAL_KIOSK_MAX_ANSWERS": "12", "PORTAL_KIOSK_WINDOW_MINUTES": "5"}
    )
    assert (settings.kiosk_max_answers, settings.kiosk_window_minutes) == (12, 5)
    with pytest.raises(SettingsError, match="PORTAL_KIOSK_MAX_ANSWERS"):
        Settings.from_env({**env, "PORTAL_KIOSK_MAX_ANSWERS": "0"})
