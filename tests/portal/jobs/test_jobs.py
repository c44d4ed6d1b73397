"""Jobs in immediate mode: a job runs, stores its result in chunks and shows it; a failing
job is retried and then shown as failed with its error; the page shows progress and
refreshes itself while the job runs; only its requester (or an admin) sees or downloads
it; old finished jobs are purged."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.db import get_session, utcnow
from portal.jobs import context as job_context
from portal.jobs.operations import enqueue, purge_finished_jobs
from portal.jobs.registry import UnknownJobKind
from portal.models import Job, JobResultChunk, JobStatus, Role
from tests.portal.jobs.queueing import queue_job


@pytest.fixture
def manager(make_user, make_store):
    return make_user(Role.MANAGER, stores=[make_store("SH-001")])


def job_row(db_session, job_id):
    db_session.expire_all()
    return db_session.get(Job, job_id)


def test_an_immediate_job_runs_and_stores_its_result_in_chunks(
    app, db_session, manager, monkeypatch
):
    monkeypatch.setattr(job_context, "CHUNK_BYTES", 16)
    job_id = queue_job(app, "test-lines", {"count": 5}, manager)

    job = job_row(db_session, job_id)
    assert (job.status, job.attempts, job.error) == (JobStatus.DONE, 1, None)
    assert (job.progress_done, job.progress_total) == (5, 5)
    expected = b"".join(f"line {n}\n".encode() for n in range(5))
    assert (job.result_filename, job.result_mimetype, job.result_size) == (
        "lines.txt",
        "text/plain",
        len(expected),
    )
    chunks = db_session.scalar(
        select(func.count()).select_from(JobResultChunk).where(JobResultChunk.job_id == job_id)
    )
    assert chunks == 3  # 35 bytes in pieces of 16
    assert job.started_at is not None and job.finished_at is not None


def test_the_requester_downloads_the_result_and_another_user_gets_404(
    app, client, db_session, manager, make_user, make_store, login_as, monkeypatch
):
    monkeypatch.setattr(job_context, "CHUNK_BYTES", 16)
    job_id = queue_job(app, "test-lines", {"count": 4}, manager)
    login_as(manager)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f"/jobs/{job_id}/download" in page
    assert 'http-equiv="refresh"' not in page
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200
    assert download.data == b"".join(f"line {n}\n".encode() for n in range(4))
    assert 'filename="lines.txt"' in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    assert f"/jobs/{job_id}" in client.get("/jobs/").get_data(as_text=True)
    client.get("/logout")

    other = make_user(Role.MANAGER, stores=[make_store("BJ-002")])
    login_as(other)
    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.get(f"/jobs/{job_id}/download").status_code == 404
    assert f"/jobs/{job_id}" not in client.get("/jobs/").get_data(as_text=True)
    client.get("/logout")

    login_as(make_user(Role.ADMIN))
    assert client.get(f"/jobs/{job_id}/download").status_code == 200
    assert f"/jobs/{job_id}" in client.get("/jobs/").get_data(as_text=True)


def test_a_failing_job_is_retried_then_shown_failed_with_its_error(
    app, client, db_session, manager, login_as
):
    key = uuid.uuid4().hex
    job_id = queue_job(app, "test-flaky", {"key": key, "failures": 99}, manager)

    job = job_row(db_session, job_id)
    assert (job.status, job.attempts, job.max_attempts) == (JobStatus.FAILED, 3, 3)
    assert job.error == "ValueError: the till exploded (call 3)"
    assert job.result_filename is None
    login_as(manager)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "the till exploded (call 3)" in page
    assert "Traceback" not in page
    assert 'http-equiv="refresh"' not in page
    assert client.get(f"/jobs/{job_id}/download").status_code == 404


def test_a_job_that_fails_once_succeeds_on_its_retry(app, db_session, manager):
    key = uuid.uuid4().hex
    job_id = queue_job(app, "test-flaky", {"key": key, "failures": 1}, manager)

    job = job_row(db_session, job_id)
    assert (job.status, job.attempts, job.error) == (JobStatus.DONE, 2, None)
    assert job.result_size == 2


def test_a_running_job_shows_its_progress_and_refreshes_itself(
    client, db_session, manager, login_as, now
):
    job = Job(
        kind="test-lines",
        params={},
        status=JobStatus.RUNNING,
        progress_done=40,
        progress_total=160,
        attempts=1,
        max_attempts=3,
        requested_by_user_id=manager.id,
        created_at=now,
        started_at=now,
    )
    db_session.add(job)
    db_session.flush()
    login_as(manager)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert '<progress id="job-progress" max="160" value="40">25%</progress>' in page
    assert '<meta http-equiv="refresh" content="3">' in page
    assert f"/jobs/{job.id}/download" not in page
    assert "25%" in client.get("/jobs/").get_data(as_text=True)


def test_a_job_of_an_unknown_kind_is_refused_before_anything_is_written(app, db_session):
    with app.test_request_context("/", method="POST"):
        with pytest.raises(UnknownJobKind):
            enqueue(get_session(), "no-such-kind", {}, None, now=utcnow())
    assert db_session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_rolled_back_request_queues_nothing(app, db_session, manager):
    with app.test_request_context("/", method="POST"):
        session = get_session()
        job = enqueue(session, "test-lines", {"count": 1}, manager, now=utcnow())
        job_id = job.id
        session.rollback()
    assert job_row(db_session, job_id) is None


def test_purge_deletes_old_finished_jobs_with_their_files_and_keeps_the_rest(
    db_session, manager, now
):
    def add(status, finished_days_ago):
        finished = None if finished_days_ago is None else now - timedelta(days=finished_days_ago)
        job = Job(
            kind="test-lines",
            params={},
            status=status,
            progress_done=0,
            attempts=1,
            max_attempts=3,
            requested_by_user_id=manager.id,
            created_at=now - timedelta(days=30),
            finished_at=finished,
        )
        db_session.add(job)
        db_session.flush()
        db_session.add(JobResultChunk(job_id=job.id, seq=0, data=b"x"))
        db_session.flush()
        return job.id

    old_done, old_failed = add(JobStatus.DONE, 8), add(JobStatus.FAILED, 9)
    recent, running = add(JobStatus.DONE, 2), add(JobStatus.RUNNING, None)

    assert purge_finished_jobs(db_session, now=now, days=7) == 2
    db_session.expire_all()
    left = set(db_session.scalars(select(Job.id)))
    assert {old_done, old_failed}.isdisjoint(left) and {recent, running} <= left
    chunk_jobs = set(db_session.scalars(select(JobResultChunk.job_id)))
    assert {old_done, old_failed}.isdisjoint(chunk_jobs)


def test_the_admins_menu_leads_to_every_job_and_a_managers_does_not(
    client, make_user, manager, login_as
):
    login_as(make_user(Role.ADMIN))
    assert 'href="/jobs/"' in client.get("/settings").get_data(as_text=True)
    login_as(manager)
    assert 'href="/jobs/"' not in client.get("/settings").get_data(as_text=True)
