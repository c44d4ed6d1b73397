"""A job whose worker was killed mid-job: its heartbeat stops, and the ``recover-jobs``
schedule queues it again (or shows it failed once its attempts are used up); a job whose
worker still beats is left alone, and a running job's heartbeat is renewed."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import create_app
from portal.jobs import runner
from portal.jobs.context import JobContext
from portal.jobs.registry import job_kind
from portal.models import Job, JobStatus, Role
from portal.models.jobs import LOST_WORKER
from tests.portal.jobs.queueing import queue_job


@pytest.fixture
def manager(make_user, make_store):
    return make_user(Role.MANAGER, stores=[make_store("SH-001")])


def running_job(db_session, user, *, beat_ago: timedelta, attempts: int, now) -> Job:
    """A job some worker claimed, whose last heartbeat was ``beat_ago``."""
    job = Job(
        kind="test-lines",
        params={"count": 3},
        status=JobStatus.RUNNING,
        progress_done=1,
        progress_total=3,
        attempts=attempts,
        max_attempts=3,
        requested_by_user_id=user.id,
        created_at=now - beat_ago,
        started_at=now - beat_ago,
        heartbeat_at=now - beat_ago,
    )
    db_session.add(job)
    db_session.commit()
    return job


def test_a_job_whose_worker_stopped_is_queued_again_and_finishes(app, db_session, manager, now):
    lost = running_job(db_session, manager, beat_ago=timedelta(minutes=11), attempts=1, now=now)
    alive = running_job(db_session, manager, beat_ago=timedelta(minutes=1), attempts=1, now=now)

    queue_job(app, "recover-jobs", {"slot": "now"}, None)

    db_session.expire_all()
    # Queued again and run (immediate mode) to the end: a second attempt, its file whole.
    assert (lost.status, lost.attempts, lost.error) == (JobStatus.DONE, 2, None)
    assert lost.result_size == len(b"line 0\nline 1\nline 2\n")
    # Its worker still beats: a long job, not a lost one.
    assert (alive.status, alive.attempts) == (JobStatus.RUNNING, 1)


def test_a_lost_job_with_no_attempt_left_is_shown_failed_in_words(
    app, client, db_session, manager, login_as, now
):
    lost = running_job(db_session, manager, beat_ago=timedelta(hours=2), attempts=3, now=now)

    queue_job(app, "recover-jobs", {"slot": "now"}, None)

    db_session.expire_all()
    assert (lost.status, lost.error) == (JobStatus.FAILED, LOST_WORKER)
    assert lost.finished_at is not None
    login_as(manager)
    page = client.get(f"/jobs/{lost.id}").get_data(as_text=True)
    assert "执行它的工作进程在完成前停止了" in page  # the default locale, zh-CN
    assert LOST_WORKER not in page


#: Set by the job below: the heartbeats it saw while it ran.
SEEN: list[Any] = []


@job_kind("test-waits-for-a-heartbeat", _l("Test heartbeat"))
def wait_for_heartbeat(context: JobContext, _params: Any) -> None:
    """Runs until its own heartbeat has been renewed after its claim (10 s at most)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with context.reading() as session:
            started, beat = session.execute(
                select(Job.started_at, Job.heartbeat_at).where(Job.id == context.job_id)
            ).one()
        SEEN.append(beat)
        if beat > started:
            return
        time.sleep(0.02)
    raise AssertionError("no heartbeat while the job ran")


def test_a_running_job_renews_its_heartbeat(settings, fresh_engine, monkeypatch):
    monkeypatch.setattr(runner, "HEARTBEAT_SECONDS", 0.05)
    app = create_app(replace(settings, job_queue="immediate"), bind=fresh_engine)
    SEEN.clear()

    job_id = queue_job(app, "test-waits-for-a-heartbeat", {}, None)

    with Session(fresh_engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert (job.status, job.error) == (JobStatus.DONE, None)
        assert job.heartbeat_at is not None and job.heartbeat_at > job.started_at
