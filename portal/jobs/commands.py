"""``worker``: run the queue's jobs and schedule in this process until stopped (SIGTERM
after the running jobs, Ctrl-C at once), for ``PORTAL_JOB_WORKER=separate`` (the default
with a Redis queue)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from portal.jobs.queue import current_queue


@click.command("worker")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=None,
    help="Jobs run at once (default: PORTAL_JOB_THREADS).",
)
@with_appcontext
def worker_command(threads: int | None) -> None:
    """Run queued and scheduled jobs until stopped; start as many as you like, on any
    server: each job runs once, each scheduled slot once."""
    queue = current_queue()
    if queue.immediate:
        raise click.ClickException(
            "PORTAL_JOB_QUEUE=immediate runs each job as it is queued: no worker is needed."
        )
    count = threads or queue.settings.job_threads
    click.echo(f"Worker: {count} thread(s) on the {queue.describe()} queue (Ctrl-C to stop).")
    # Said before the consumer takes over the process (a service's log is a pipe).
    sys.stdout.flush()
    queue.consumer(count).run()
