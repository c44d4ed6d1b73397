"""The world's jobs: for every sign-in a prepared export (done, with its file), one
running with its progress and one failed; and a scheduled job (no
requester) that only the admin sees."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from portal.exports.writers import CSV_MIMETYPE
from portal.models import Job, JobResultChunk, JobStatus, User


def add_jobs(session: Session, users: Mapping[str, User], *, now: datetime) -> dict[str, list[int]]:
    """Jobs per login; the admin's list also holds the scheduled one."""
    started = now - timedelta(minutes=5)
    found: dict[str, list[int]] = {}
    for login, user in users.items():
        done = _job(session, user.id, JobStatus.DONE, started, now, done=1200, total=1200)
        session.add(JobResultChunk(job_id=done.id, seq=0, data=b"\xef\xbb\xbfresponse_id\r\n"))
        done.result_filename = "responses-all-2026-11-01-2026-11-30.csv"
        done.result_mimetype, done.result_size = CSV_MIMETYPE, 14
        running = _job(session, user.id, JobStatus.RUNNING, started, None, done=300, total=1200)
        failed = _job(session, user.id, JobStatus.FAILED, started, now, done=0, total=None)
        # Its error is data in the server's language: tests/portal/jobs shows it.
        failed.attempts = 3
        found[login] = [done.id, running.id, failed.id]
    scheduled = _job(session, None, JobStatus.DONE, started, now, done=0, total=None)
    scheduled.kind = "purge"
    found["admin"] = [*found.get("admin", []), scheduled.id]
    session.flush()
    return found


def _job(
    session: Session,
    user_id: int | None,
    status: JobStatus,
    started: datetime,
    finished: datetime | None,
    *,
    done: int,
    total: int | None,
) -> Job:
    job = Job(
        kind="export",
        params={},
        status=status,
        progress_done=done,
        progress_total=total,
        attempts=1,
        max_attempts=3,
        requested_by_user_id=user_id,
        created_at=started - timedelta(minutes=1),
        started_at=started,
        finished_at=finished,
    )
    session.add(job)
    session.flush()
    return job
