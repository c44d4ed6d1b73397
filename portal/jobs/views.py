"""``/jobs``: a user's jobs (an admin's: all), one job's page — state, a progress bar, the
error of a failed job, the download of a finished one — and the download itself. The
page refreshes itself while the job is queued or running, without JavaScript."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import requires
from portal.db import get_session
from portal.jobs import bp
from portal.jobs.kinds import KIND_MODULES
from portal.jobs.queries import UnknownJob, get_job, iter_result, list_jobs
from portal.jobs.registry import kind_label
from portal.models import JobStatus, Role

#: Seconds between two refreshes of a queued or running job's page.
REFRESH_SECONDS = 3
STATUS_LABELS = {
    JobStatus.QUEUED: _l("Waiting to start"),
    JobStatus.RUNNING: _l("Running now"),
    JobStatus.DONE: _l("Finished, ready"),
    JobStatus.FAILED: _l("Failed, no more tries"),
}
assert KIND_MODULES  # the kinds' words are registered before a page names them


def template_globals() -> dict[str, Any]:
    return {"job_kind_label": kind_label, "job_status_labels": STATUS_LABELS}


@bp.get("/")
@requires(*Role)
def index() -> Any:
    jobs = list_jobs(get_session(), current_user)
    return render_template("jobs/index.html", jobs=jobs, everyone=current_user.role == Role.ADMIN)


@bp.get("/<int:job_id>")
@requires(*Role)
def detail(job_id: int) -> Any:
    job = get_job(get_session(), current_user, job_id)
    return render_template("jobs/detail.html", job=job, refresh=REFRESH_SECONDS)


@bp.get("/<int:job_id>/download")
@requires(*Role)
def download(job_id: int) -> Any:
    job = get_job(get_session(), current_user, job_id)
    if not job.downloadable:
        raise UnknownJob()

    # A session of its own for as long as the download runs (the request's is closed
    # when the view returns); one chunk in memory at a time.
    _bind, readers, _writers = current_app.extensions["portal.db"]

    def chunks() -> Any:
        with readers() as session:
            yield from iter_result(session, job_id)

    response = current_app.response_class(chunks(), mimetype=job.result_mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{job.result_filename}"'
    response.headers["Content-Length"] = str(job.result_size or 0)
    # Shoppers' answers: never kept by a shared cache or proxy.
    response.headers["Cache-Control"] = "no-store"
    return response
