"""Jobs: long and scheduled work run by a queue engine (huey on SQLite or Redis), with
what a user sees of it — state, progress, error, result file — kept in our own tables.

`registry` names the kinds of job, `operations.enqueue` queues one, `runner` runs it,
`queue` builds the engine chosen by ``PORTAL_JOB_QUEUE``, `schedules` holds the periodic
work (each slot claimed once), `views` the ``/jobs`` pages, `commands` the ``worker``.
"""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
