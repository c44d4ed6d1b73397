"""Two app servers on one database: nothing either keeps in its own memory matters to the
other. Two gunicorn servers (``gunicorn.conf.py``, two workers each, their own instance
folders) share only the database URL and the secret key, as servers behind one proxy do.

- the same survey answers sent to both at once are stored once per receipt, without a 5xx;
- a sign-in on one is a sign-in on the other; signing out on one voids the cookie on both;
- failed sign-ins sent to both in turn are refused at the same count as on one server;
- an export queued as a job on one server is followed and downloaded on the other.

On PostgreSQL (``PORTAL_TEST_DATABASE_URL``) a fresh database of its own, and, with
``PORTAL_TEST_REDIS_URL`` (always in CI), production's Redis for the job queue and the rate
limits; otherwise one SQLite file in WAL mode, which both servers on this one machine open,
with the limits in the database and each server's own SQLite job queue.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.admin.operations import get_store
from portal.config import Settings
from portal.db import make_engine, make_sessionmaker, utcnow, writer
from portal.models import Response
from portal.receipts import issue_receipt
from portal.throttle import LOGIN_ACCOUNT
from tests.conftest import _fresh_postgres_database
from tests.portal.faults.live_server import free_port

ROOT = Path(__file__).resolve().parents[3]
HOST = "127.0.0.1"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "two servers, one database"
RECEIPTS = 8
#: A server that does not answer ready within this long has failed to start.
START_SECONDS = 60.0


@dataclass(frozen=True)
class Answer:
    status: int
    cookies: dict[str, str]
    body: str
    location: str


class Server:
    """One gunicorn server on a loopback port, spoken to like a browser would."""

    def __init__(self, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.port, self.process, self.log = port, process, log

    def send(
        self,
        method: str,
        path: str,
        *,
        cookies: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        address: str = "10.9.0.1",
    ) -> Answer:
        headers = {"X-Forwarded-For": address, "User-Agent": "two-servers", "Accept-Language": "en"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            return Answer(
                response.status,
                _cookies(response.msg.get_all("Set-Cookie") or []),
                text,
                response.getheader("Location", ""),
            )
        finally:
            conn.close()


def _cookies(headers: list[str]) -> dict[str, str]:
    """The cookies an answer sets (a deletion sets an empty value)."""
    found = {}
    for header in headers:
        name, _, value = header.partition(";")[0].strip().partition("=")
        found[name] = "" if "max-age=0" in header.lower().replace(" ", "") else value
    return found


def _merged(cookies: dict[str, str], answer: Answer) -> dict[str, str]:
    merged = {**cookies, **answer.cookies}
    return {name: value for name, value in merged.items() if value}


@dataclass(frozen=True)
class Setup:
    url: str
    env: dict[str, str]
    store: str
    tokens: list[tuple[int, str]]
    email: str


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pg_url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if pg_url:
        url, drop = _fresh_postgres_database(pg_url)
        try:
            yield url
        finally:
            drop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('two-servers') / 'shared.sqlite3'}"


@pytest.fixture(scope="module")
def setup(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """The database made ready through the CLI (init-db, a store, its cashier, an admin)
    and receipts issued as the POS API does."""
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(32),
        "PORTAL_ENV": "production",
        "PORTAL_BASE_URL": "http://127.0.0.1:8000",
        "PORTAL_TRUSTED_PROXIES": "1",
        "PORTAL_INSTANCE_PATH": str(tmp_path_factory.mktemp("setup-instance")),
    }
    env.pop("PORTAL_TEST_DATABASE_URL", None)
    redis_url = os.environ.get("PORTAL_TEST_REDIS_URL")
    if redis_url and not database_url.startswith("sqlite"):
        env |= {
            "PORTAL_JOB_QUEUE": redis_url,
            # The servers run the jobs themselves: no separate worker to start here.
            "PORTAL_JOB_WORKER": "in-process",
            # A queue of this run's own, whatever else the Redis server holds.
            "PORTAL_JOB_QUEUE_NAME": f"two-servers-{secrets.token_hex(4)}",
            "PORTAL_RATELIMIT_STORAGE_URL": redis_url,
        }
    # Any export of more than two answers is prepared as a job.
    env["PORTAL_EXPORT_JOB_ROWS"] = "2"
    store, email = "TWO-001", "admin@two.example"
    settings = Settings.from_env(env)
    # Testing: this process's logging is left as the other tests expect it.
    app = create_app(replace(settings, testing=True))
    runner = app.test_cli_runner()
    for args in (
        ["init-db"],
        ["create-store", store, "Two servers"],
        ["create-staff", store, "S001", "Cashier"],
        ["create-user", email, "--role", "admin", "--password", PASSWORD],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    app.extensions["portal.db"][0].dispose()
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(writer(engine))() as session, session.begin():
            shop = get_store(session, store)
            issued = [
                issue_receipt(
                    session,
                    settings,
                    store=shop,
                    staff_code="S001",
                    transaction_id=f"TWO-{n:04d}",
                    issued_at=None,
                    total_cents=1000 + n,
                    now=utcnow(),
                )
                for n in range(RECEIPTS)
            ]
            session.flush()
            tokens = [(item.receipt.id, item.token) for item in issued]
    finally:
        engine.dispose()
    return Setup(database_url, env, store, tokens, email)


def _wait_ready(server: Server, deadline: float) -> None:
    """Poll ``/readyz`` until it answers 200 (a condition, not a fixed sleep)."""
    while True:
        if server.process.poll() is not None:
            pytest.fail(
                f"gunicorn exited with {server.process.returncode}:\n{server.log.read_text()}"
            )
        try:
            if server.send("GET", "/readyz").status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"gunicorn not ready in {START_SECONDS:.0f} s:\n{server.log.read_text()}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def servers(setup: Setup, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        for name in ("a", "b"):
            folder = tmp_path_factory.mktemp(f"server-{name}")
            port = free_port()
            env = {
                **setup.env,
                # Each server its own instance folder: nothing there is shared.
                "PORTAL_INSTANCE_PATH": str(folder / "instance"),
                "PORTAL_BIND": f"{HOST}:{port}",
                "PORTAL_WORKERS": "2",
                "PORTAL_LOG_FORMAT": "json",
            }
            log = folder / "gunicorn.log"
            command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [*command, "portal:create_app()"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            started.append(Server(port, process, log))
        deadline = time.monotonic() + START_SECONDS
        for server in started:
            _wait_ready(server, deadline)
        yield started
    finally:
        _stop([server.process for server in started])


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop every server at once (each master takes seconds to reap its workers)."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        # A quick shutdown (SIGINT): nothing is under way any more.
        process.send_signal(signal.SIGINT)
    for process in running:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _at_once(jobs: list[tuple[Server, dict]]) -> list[Answer | BaseException]:
    """Send every job from its own thread, all released together."""
    barrier = threading.Barrier(len(jobs))
    answers: list[Answer | BaseException] = [RuntimeError("not sent")] * len(jobs)

    def run(n: int, server: Server, kwargs: dict) -> None:
        barrier.wait()
        try:
            answers[n] = server.send(**kwargs)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            answers[n] = error

    threads = [threading.Thread(target=run, args=(n, *job)) for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_the_same_answers_sent_to_both_servers_are_stored_once(setup, servers):
    a, b = servers
    jobs: list[tuple[Server, dict]] = []
    for n, (_receipt_id, token) in enumerate(setup.tokens):
        address = f"10.8.{n}.1"
        page = a.send("GET", f"/r/{token}", address=address)
        assert page.status == 200, page.body[:500]
        match = CSRF.search(page.body)
        assert match
        form = {"csrf_token": match.group(1), "nps": "9", "csat": "5", "comment": ""}
        form |= {"rating_friendliness": "5", "rating_speed": "4"}
        sent = {"method": "POST", "path": f"/r/{token}", "cookies": page.cookies, "form": form}
        jobs += [(a, {**sent, "address": address}), (b, {**sent, "address": address})]
    answers = _at_once(jobs)
    assert not [a for a in answers if isinstance(a, BaseException)]
    statuses = sorted(a.status for a in answers if isinstance(a, Answer))
    assert all(status < 500 for status in statuses), statuses
    stored = _stored_per_receipt(setup.url)
    assert stored == {receipt_id: 1 for receipt_id, _ in setup.tokens}


def _stored_per_receipt(url: str) -> dict[int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Response.receipt_id, func.count()).group_by(Response.receipt_id)
            ).all()
    finally:
        engine.dispose()
    return {receipt_id: count for receipt_id, count in rows if receipt_id is not None}


def _sign_in(server: Server, email: str, password: str, address: str) -> tuple[int, dict]:
    form_page = server.send("GET", "/login", address=address)
    match = CSRF.search(form_page.body)
    assert match
    answer = server.send(
        "POST",
        "/login",
        cookies=form_page.cookies,
        form={"csrf_token": match.group(1), "email": email, "password": password},
        address=address,
    )
    return answer.status, _merged(form_page.cookies, answer)


def test_a_session_begun_on_one_server_is_good_and_ended_on_the_other(setup, servers):
    a, b = servers
    address = "10.7.0.1"
    status, cookies = _sign_in(a, setup.email, PASSWORD, address)
    assert status == 302
    on_b = b.send("GET", "/settings", cookies=cookies, address=address)
    assert on_b.status == 200
    assert setup.email in on_b.body
    # B's page put a new CSRF token in the session cookie: sent back, as a browser would.
    cookies = _merged(cookies, on_b)
    kept_copy = dict(cookies)
    # Sign out on B with the CSRF token of B's page: A must refuse every copy of the cookie.
    token = CSRF.search(on_b.body)
    assert token
    out = b.send(
        "POST", "/logout", cookies=cookies, form={"csrf_token": token.group(1)}, address=address
    )
    assert out.status == 302
    refused = a.send("GET", "/settings", cookies=kept_copy, address=address)
    assert refused.status == 302
    assert "/login" in refused.location


def _first_refusal(servers: list[Server], email: str, address: str) -> int:
    """Wrong passwords for ``email``, sent to the servers in turn: the number of the first
    attempt answered 429."""
    form_page = servers[0].send("GET", "/login", address=address)
    match = CSRF.search(form_page.body)
    assert match
    form = {"csrf_token": match.group(1), "email": email, "password": "wrong password"}
    for attempt in range(1, LOGIN_ACCOUNT.limit + 5):
        server = servers[attempt % len(servers)]
        answer = server.send(
            "POST", "/login", cookies=form_page.cookies, form=form, address=address
        )
        assert answer.status in (401, 429), answer.status
        if answer.status == 429:
            return attempt
    return 0


def test_a_rate_limit_trips_at_the_same_count_on_two_servers_as_on_one(setup, servers):
    a, b = servers
    # Accounts of this run's own: a Redis server may keep counts from an earlier run.
    run = secrets.token_hex(3)
    for round_ in range(2):
        window = time.time() // LOGIN_ACCOUNT.window
        alone = _first_refusal([a], f"alone{round_}-{run}@two.example", f"10.6.{round_}.1")
        shared = _first_refusal([a, b], f"shared{round_}-{run}@two.example", f"10.6.{round_}.2")
        if time.time() // LOGIN_ACCOUNT.window == window:
            break  # no window began meanwhile, which would have reset the counts
    assert alone == LOGIN_ACCOUNT.limit + 1
    assert shared == alone


def test_an_export_job_queued_on_one_server_is_followed_and_downloaded_on_the_other(setup, servers):
    a, b = servers
    address = "10.5.0.1"
    status, cookies = _sign_in(a, setup.email, PASSWORD, address)
    assert status == 302
    offer = a.send("GET", "/exports/responses.csv", cookies=cookies, address=address)
    assert offer.status == 200, offer.body[:500]
    cookies = _merged(cookies, offer)
    action = re.search(r'<form method="post" action="([^"]+)"', offer.body)
    token = re.search(r'name="csrf_token" value="([^"]+)"', offer.body)
    assert action and token, "the export of more than two answers is offered as a job"
    queued = a.send(
        "POST",
        action.group(1).replace("&amp;", "&"),
        cookies=cookies,
        form={"csrf_token": token.group(1)},
        address=address,
    )
    assert queued.status == 302, queued.body[:500]
    job_path = urlsplit(queued.location).path
    assert re.fullmatch(r"/jobs/\d+", job_path), queued.location

    # Followed on the other server until it is ready (a condition, not a fixed sleep).
    deadline = time.monotonic() + START_SECONDS
    while True:
        page = b.send("GET", job_path, cookies=cookies, address=address)
        assert page.status == 200, page.body[:500]
        assert 'id="job-error"' not in page.body, page.body
        if f"{job_path}/download" in page.body:
            break
        assert time.monotonic() < deadline, f"the job was not ready in time:\n{page.body}"
        time.sleep(0.2)
    download = b.send("GET", f"{job_path}/download", cookies=cookies, address=address)
    assert download.status == 200
    lines = download.body.lstrip("\ufeff").splitlines()
    # The header, and a line per answer (those the first test of this module stored).
    assert len(lines) == 1 + sum(_stored_per_receipt(setup.url).values()), download.body
