"""The queue engine chosen by ``PORTAL_JOB_QUEUE``, built with huey.

``sqlite``: a `huey.SqliteHuey` file in the instance folder (one machine); a Redis URL: a
`huey.RedisHuey` (several servers, ``worker`` processes); ``immediate``: a job runs as it
is queued (tests). Whatever the engine, it only carries job ids and the schedule's ticks;
what a job is and where it stands is in our own tables (`portal.models.jobs`).

A `JobQueue` lives on the app (``app.extensions["portal.jobs"]``); its huey instance is
made on first use, so that commands and pages that never queue anything open no queue.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.config import Settings

log = logging.getLogger(__name__)

#: The file of the ``sqlite`` queue, in the instance folder.
SQLITE_QUEUE_FILE = "jobs.sqlite3"
_PENDING = "portal.jobs.pending"
_LISTENING = "portal.jobs.listening"


class JobQueue:
    """The app's queue: sends job ids to the engine, and makes its consumers."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self._huey: Huey | None = None
        self._lock = threading.RLock()
        self._consumer: Consumer | None = None
        self._tasks: dict[str, Any] = {}

    @property
    def huey(self) -> Huey:
        with self._lock:
            if self._huey is None:
                self._huey = self._make_huey()
            return self._huey

    @property
    def immediate(self) -> bool:
        return self.settings.job_queue == "immediate"

    def describe(self) -> str:
        """The queue in words for an operator, without any password."""
        queue = self.settings.job_queue
        if queue.startswith(("redis://", "rediss://")):
            url = urlsplit(queue)
            where = f"{url.hostname}:{url.port or 6379}{url.path}"
            return f"Redis {where} ({self.settings.job_queue_name})"
        if queue == "immediate":
            return "immediate"
        return f"SQLite {Path(self.app.instance_path) / SQLITE_QUEUE_FILE}"

    def send(self, job_id: int, *, delay: float = 0) -> None:
        """Hand job ``job_id`` to the engine, to run now or after ``delay`` seconds."""
        task = self.task("run_job")
        if delay and not self.immediate:
            task.schedule(args=(job_id,), delay=delay)
        else:
            # Immediate mode has no clock of its own to wait on: a retry runs at once.
            task(job_id)

    def task(self, name: str) -> Any:
        """The huey task ``name`` (``run_job``, ``schedule:<kind>``) of this queue."""
        _huey = self.huey  # made on first use, with its tasks
        return self._tasks[name]

    def consumer(self, threads: int) -> Consumer:
        """A consumer of this queue: ``threads`` workers plus the scheduler that fires the
        periodic jobs (`portal.jobs.schedules`)."""
        # SIGTERM (systemd, docker stop) lets the running jobs finish; Ctrl-C stops at once.
        return self.huey.create_consumer(
            workers=threads, worker_type="thread", periodic=True, graceful_signal="TERM"
        )

    def start_in_process(self) -> None:
        """Run a consumer in threads beside this app process (``PORTAL_JOB_WORKER``
        ``in-process``), once. Its signal handlers are not installed: they belong to the
        serving process (gunicorn's own)."""
        with self._lock:
            if self._consumer is not None:
                return
            self._consumer = consumer = self.huey.create_consumer(
                workers=self.settings.job_threads, worker_type="thread", periodic=True
            )
        consumer.scheduler.start()
        for _worker, thread in consumer.worker_threads:
            thread.start()
        log.info("job consumer started in-process with %s thread(s)", self.settings.job_threads)

    def stop_in_process(self) -> None:
        """Stop the in-process consumer, letting the jobs it runs finish."""
        with self._lock:
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.stop(graceful=True)

    def _make_huey(self) -> Huey:
        name = self.settings.job_queue_name
        queue = self.settings.job_queue
        huey: Huey
        if queue == "immediate":
            huey = MemoryHuey(name, immediate=True, results=False)
        elif queue.startswith(("redis://", "rediss://")):
            huey = RedisHuey(name, url=queue, results=False)
        else:
            path = Path(self.app.instance_path) / SQLITE_QUEUE_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            huey = SqliteHuey(name, filename=str(path), results=False)
        self._tasks = _register_tasks(huey, self.app)
        return huey


def _register_tasks(huey: Huey, app: Flask) -> dict[str, Any]:
    # Imported here: the runner and the schedules import the job kinds, whose modules
    # import `portal.jobs.operations`, which imports this module.
    from portal.jobs.runner import run_job
    from portal.jobs.schedules import SCHEDULES, fire_schedule

    def run_job_task(job_id: int) -> None:
        run_job(app, job_id)

    tasks: dict[str, Any] = {"run_job": huey.task(name="run_job")(run_job_task)}
    for schedule in SCHEDULES:

        def fire(kind: str = schedule.kind) -> None:
            fire_schedule(app, kind)

        tasks[f"schedule:{schedule.kind}"] = huey.periodic_task(
            schedule.when, name=f"schedule:{schedule.kind}"
        )(fire)
    return tasks


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["portal.jobs"] = queue = JobQueue(app, settings)
    # Serving processes start their consumer with their first request: commands such as
    # init-db or demo, which build the app too, never start one, nor do tests.
    if settings.testing or settings.job_worker != "in-process" or queue.immediate:
        return
    started = threading.Event()

    @app.before_request
    def _start_consumer() -> None:
        if not started.is_set():
            started.set()
            queue.start_in_process()


def current_queue() -> JobQueue:
    queue: JobQueue = current_app.extensions["portal.jobs"]
    return queue


def send_after_commit(session: Session, queue: JobQueue, job_id: int) -> None:
    """Send ``job_id`` to ``queue`` once ``session`` commits; forget it if it rolls back."""
    if not session.info.get(_LISTENING):
        # Listeners stay for the session's life (one request or one job step): removing
        # one while SQLAlchemy calls it is not allowed.
        session.info[_LISTENING] = True
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_soft_rollback", _forget_pending)
    session.info.setdefault(_PENDING, []).append((queue, job_id))


def _send_pending(session: Session) -> None:
    for queue, job_id in session.info.pop(_PENDING, []):
        queue.send(job_id)


def _forget_pending(session: Session, previous: Any) -> None:
    # A savepoint rolled back inside the transaction does not undo the job's row.
    if previous.parent is None:
        session.info.pop(_PENDING, None)
