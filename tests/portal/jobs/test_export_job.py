"""An export above ``PORTAL_EXPORT_JOB_ROWS`` rows becomes a job: the download link offers
to prepare the file, the POST queues the job and shows its page, and the file it makes is
the one the direct download gives; below the threshold nothing changes."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from portal import create_app
from portal.models import Job, JobStatus, Role
from tests.conftest import csrf_token_from

RANGE = "from=2026-11-01&to=2026-11-30"
NOON = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)


@pytest.fixture
def db_session(fresh_engine):
    # Real commits: the job reads in a session of its own while it writes its file in
    # short transactions, as it does in production; on the tests' one shared connection
    # the reader's savepoint would take the writes back with it.
    with Session(fresh_engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(settings, fresh_engine):
    return create_app(settings, bind=fresh_engine)


@pytest.fixture
def chain(db_session, make_store, make_staff, make_response, make_user):
    store = make_store("SH-001", name="徐汇店")
    staff = make_staff(store, "S001")
    for minutes in range(5):
        make_response(store, staff, now=NOON + timedelta(minutes=minutes), comment=f"好 {minutes}")
    manager = make_user(Role.MANAGER, stores=[store])
    db_session.commit()
    return manager


def limit_rows(app, rows):
    app.config["PORTAL_SETTINGS"] = replace(app.config["PORTAL_SETTINGS"], export_job_rows=rows)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_above_the_threshold_is_a_job_whose_file_equals_the_direct_export(
    app, client, db_session, chain, login_as, fmt
):
    login_as(chain)
    url = f"/exports/responses.{fmt}?{RANGE}"
    limit_rows(app, 4)
    offer = client.get(url)
    page = offer.get_data(as_text=True)
    assert offer.status_code == 200 and offer.mimetype == "text/html"
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1).replace("&amp;", "&")
    queued = client.post(action, data={"csrf_token": csrf_token_from(page)})
    assert queued.status_code == 302
    job_page = queued.headers["Location"]
    job_id = int(job_page.rsplit("/", 1)[1])
    db_session.expire_all()
    job = db_session.get(Job, job_id)
    assert (job.kind, job.status, job.requested_by_user_id) == ("export", JobStatus.DONE, chain.id)
    assert (job.progress_done, job.progress_total) == (5, 5)
    shown = client.get(job_page).get_data(as_text=True)
    assert f"/jobs/{job_id}/download" in shown
    prepared = client.get(f"/jobs/{job_id}/download")

    limit_rows(app, 5)
    direct = client.get(url)
    assert direct.headers["Content-Disposition"] == prepared.headers["Content-Disposition"]
    if fmt == "csv":
        assert prepared.data == direct.data
        assert "好 4" in prepared.data.decode("utf-8-sig")
    else:
        # A workbook records when it was written: compare the sheets, not the bytes.
        assert sheet_rows(prepared.data) == sheet_rows(direct.data)


def sheet_rows(data: bytes) -> list[tuple[object, ...]]:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = [tuple(row) for row in book.active.iter_rows(values_only=True)]
    book.close()
    return rows


def test_the_job_post_needs_its_csrf_token(client, chain, login_as):
    login_as(chain)
    assert client.post(f"/exports/responses.csv/job?{RANGE}").status_code == 400


def test_another_user_cannot_see_the_export_job(
    app, client, db_session, chain, make_user, login_as
):
    login_as(chain)
    limit_rows(app, 1)
    page = client.get(f"/exports/responses.csv?{RANGE}").get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1).replace("&amp;", "&")
    job_page = client.post(action, data={"csrf_token": csrf_token_from(page)}).headers["Location"]
    client.get("/logout")
    hr = make_user(Role.HR)
    db_session.commit()
    login_as(hr)
    assert client.get(job_page).status_code == 404
    assert client.get(f"{job_page}/download").status_code == 404
