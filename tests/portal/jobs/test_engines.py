"""The real engines: a job queued on the SQLite file queue, or on Redis, is run to done by
a consumer in threads (as in-process, or as the ``worker`` command runs it), against a
database with real commits. Redis tests need ``PORTAL_TEST_REDIS_URL`` (``scripts/test``
starts a throwaway server and sets it)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from huey.signals import SIGNAL_COMPLETE
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from portal import create_app
from portal.config import Settings
from portal.db import get_session, utcnow
from portal.jobs.operations import enqueue
from portal.jobs.queue import SQLITE_QUEUE_FILE, JobQueue
from portal.models import Job, JobStatus

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL")
#: Longest wait for a consumer to finish a job before the test fails (never reached
#: when the queue works: the test wakes as soon as the job is done).
DEADLINE_SECONDS = 60


def run_through_consumer(app: Flask) -> Job:
    """Queue a ``test-lines`` job, run a consumer in threads until it has run it, and
    return the job's row as a fresh session reads it."""
    queue: JobQueue = app.extensions["portal.jobs"]
    finished = threading.Event()

    @queue.huey.signal(SIGNAL_COMPLETE)
    def _done(_signal: str, task: object, *_args: object) -> None:
        if getattr(task, "name", "") == "run_job":
            finished.set()

    with app.test_request_context("/", method="POST"):
        session = get_session()
        job_id = enqueue(session, "test-lines", {"count": 3}, None, now=utcnow()).id
        session.commit()
    queue.start_in_process()
    try:
        assert finished.wait(DEADLINE_SECONDS), "the consumer did not run the job"
    finally:
        queue.stop_in_process()
    with Session(app.extensions["portal.db"][0]) as session:
        job = session.scalars(select(Job).where(Job.id == job_id)).one()
        session.expunge(job)
        return job


@pytest.fixture
def engine_app(settings: Settings, fresh_engine: Engine) -> Iterator[Any]:
    def build(**changes: object) -> Flask:
        return create_app(replace(settings, **changes), bind=fresh_engine)

    yield build


def test_the_sqlite_queue_runs_a_job_to_done_in_consumer_threads(engine_app, tmp_path):
    app = engine_app(job_queue="sqlite", job_threads=2)
    job = run_through_consumer(app)
    assert (job.status, job.attempts, job.progress_done, job.result_size) == (
        JobStatus.DONE,
        1,
        3,
        len(b"line 0\nline 1\nline 2\n"),
    )
    # The queue is a file of its own in the instance folder, beside nothing else shared.
    assert (tmp_path / "instance" / SQLITE_QUEUE_FILE).is_file()


@pytest.mark.skipif(REDIS_URL is None, reason="PORTAL_TEST_REDIS_URL is not set")
def test_the_redis_queue_runs_a_job_to_done_in_a_worker(engine_app):
    # A queue name of its own: the SQLite and PostgreSQL runs share one Redis server.
    app = engine_app(job_queue=REDIS_URL, job_queue_name=f"test-{uuid.uuid4().hex}")
    queue: JobQueue = app.extensions["portal.jobs"]
    try:
        job = run_through_consumer(app)
    finally:
        queue.huey.flush()
    assert (job.status, job.attempts, job.progress_done) == (JobStatus.DONE, 1, 3)
    assert queue.describe().startswith("Redis ")


def test_a_serving_app_starts_its_in_process_consumer_with_its_first_request(
    engine_app, monkeypatch
):
    # As gunicorn serves it: not testing, the SQLite queue run in-process.
    app = engine_app(testing=False, job_queue="sqlite", job_worker="in-process")
    queue: JobQueue = app.extensions["portal.jobs"]
    started = threading.Event()
    monkeypatch.setattr(queue, "start_in_process", started.set)

    assert not started.is_set()  # built (as for a command such as init-db): no consumer
    app.test_client().get("/healthz")  # answered before the app: not a request of its own
    assert not started.is_set()
    app.test_client().get("/login")
    assert started.is_set()
