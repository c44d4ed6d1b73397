"""Scheduled jobs: each tick claims its slot in ``scheduled_runs``; of workers racing for
the same slot exactly one queues the job, whatever the database. Each scheduled kind
calls its command's operations."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import create_app
from portal.jobs.registry import get_kind
from portal.jobs.schedules import SCHEDULES, fire_schedule, get_schedule
from portal.models import Job, JobStatus, ScheduledRun
from tests.portal.jobs.queueing import queue_job

TICK = datetime(2026, 12, 6, 22, 30, 5, tzinfo=UTC)
WORKERS = 4


def count(engine, model):
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def queued_app(settings, fresh_engine):
    """An app whose jobs stay queued (a SQLite file queue, no consumer): the test counts
    what the ticks queue, not what the jobs do."""
    return create_app(replace(settings, job_queue="sqlite"), bind=fresh_engine)


def test_workers_racing_for_one_slot_queue_its_job_exactly_once(queued_app, fresh_engine):
    start = threading.Barrier(WORKERS)
    results: list[int | None] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(fire_schedule(queued_app, "check-alerts", TICK))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len([r for r in results if r is not None]) == 1
    assert count(fresh_engine, ScheduledRun) == 1
    assert count(fresh_engine, Job) == 1
    with Session(fresh_engine) as session:
        run = session.scalars(select(ScheduledRun)).one()
        job = session.get(Job, run.job_id)
        assert (run.kind, run.slot) == ("check-alerts", "2026-12-06")
        assert job is not None
        assert (job.kind, job.status, job.requested_by_user_id) == (
            "check-alerts",
            JobStatus.QUEUED,
            None,
        )
        assert job.params == {"slot": "2026-12-06"}


def test_a_later_tick_of_the_same_slot_does_nothing_and_the_next_slot_runs(
    queued_app, fresh_engine
):
    assert fire_schedule(queued_app, "send-mail", TICK) is not None
    assert fire_schedule(queued_app, "send-mail", TICK.replace(minute=34)) is None
    assert fire_schedule(queued_app, "send-mail", TICK.replace(minute=35)) is not None
    assert count(fresh_engine, Job) == 2


def test_slots_are_the_day_the_hour_or_the_five_minutes():
    assert get_schedule("purge").slot(TICK) == "2026-12-06"
    assert get_schedule("overdue").slot(TICK) == "2026-12-06T22"
    assert get_schedule("send-mail").slot(TICK.replace(minute=59)) == "2026-12-06T22:55"


def test_every_scheduled_kind_is_a_registered_job_kind_and_fires_once_a_day_or_more():
    kinds = {schedule.kind for schedule in SCHEDULES}
    assert kinds == {
        "send-mail",
        "recover-jobs",
        "overdue",
        "purge",
        "reclassify-comments",
        "check-alerts",
        "monthly-review",
        "award-cycle",
    }
    day = [datetime(2026, 12, 6, h, m, tzinfo=UTC) for h in range(24) for m in range(60)]
    for schedule in SCHEDULES:
        get_kind(schedule.kind)
        assert any(schedule.when(moment) for moment in day), schedule.kind


@pytest.mark.parametrize("kind", [schedule.kind for schedule in SCHEDULES])
def test_each_scheduled_kind_runs_its_commands_operations_to_done(
    app, db_session, make_store, make_staff, make_response, kind
):
    store = make_store("SH-001")
    make_response(store, make_staff(store, "S001"), now=datetime(2026, 11, 20, 6, tzinfo=UTC))
    job_id = queue_job(app, kind, {"slot": "2026-12-06"}, None)
    db_session.expire_all()
    job = db_session.get(Job, job_id)
    assert (job.status, job.error) == (JobStatus.DONE, None)
