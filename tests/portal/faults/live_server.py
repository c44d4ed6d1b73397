"""The real portal under gunicorn for the fault tests, the shoppers that use it over HTTP, and
the checks that nothing was lost, doubled or half-written.

- `LivePortal` serves ``portal:create_app()`` (or the stall app) with sync workers on a free
  loopback port, on the database URL given (the test's SQLite file or its PostgreSQL
  database), in production mode behind one trusted proxy (each shopper has an address of
  its own, as behind the store's proxy, so the submit throttle does not pool them). It can
  be killed (SIGKILL to the master and every worker), reloaded (SIGHUP), stopped gracefully
  (SIGTERM) and started again on the same port. Every start is waited for by asking a page,
  every stop by the processes' end, each within a time limit.
- `Shopper` is one receipt and one browser: GET the survey (session cookie, CSRF token),
  POST the answers, and after a POST that got no answer, POST the same form again with the
  same cookie, as a phone's browser does.
- `Crowd` runs client threads that serve shoppers one after another, each retrying its
  shopper (with a short back-off) until it gets an answer.
- `check_ledger` compares the database with what the shoppers were shown.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal.cases.operations import case_trigger
from portal.config import Settings
from portal.db import utcnow
from portal.models import (
    AuditEntry,
    Case,
    DailyRollup,
    Receipt,
    Response,
    StoreDailyRollup,
    StoreMonthlyRollup,
)
from portal.receipts import issue_receipt
from portal.rollups import COUNT_COLUMNS, rebuild_rollups
from portal.shopper.operations import SUBMITTED
from surveys.codes import read_validation_code
from tests.conftest import add_store_with_cashier

ROOT = Path(__file__).resolve().parents[3]
HOST = "127.0.0.1"
#: Limits: a server start, a graceful stop, one request.
START_SECONDS = 60.0
STOP_SECONDS = 30.0
REQUEST_SECONDS = 15.0
#: A client's pause before trying again after a refused or unanswered request.
RETRY_PAUSE = 0.05

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_OPENED = re.compile(r'name="opened" value="([^"]+)"')
_CODE = re.compile(r'id="validation-code">([^<]+)<')


def wait_for(condition: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit:.0f} s waiting for {what}")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# -- the server ---------------------------------------------------------------------------


class LivePortal:
    """gunicorn serving the portal on ``database_url``; see the module docstring."""

    def __init__(
        self,
        instance: Path,
        database_url: str,
        secret_key: str,
        *,
        workers: int = 3,
        app: str = "portal:create_app()",
    ) -> None:
        self.instance, self.workers, self.app = instance, workers, app
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        instance.mkdir(parents=True, exist_ok=True)
        # A clean slate of PORTAL_* variables: the developer's settings (and the test
        # database URL) must not leak into the server.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
        env.update(
            PORTAL_ENV="production",
            PORTAL_DATABASE_URL=database_url,
            PORTAL_SECRET_KEY=secret_key,
            PORTAL_INSTANCE_PATH=str(instance),
            PORTAL_BASE_URL=self.base_url,
            PORTAL_TRUSTED_PROXIES="1",
            FLASK_SKIP_DOTENV="1",
            PYTHONUNBUFFERED="1",
        )
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    def __enter__(self) -> LivePortal:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start gunicorn (again, on the same port) and wait until it answers."""
        assert self.process is None, "the server is running"
        log = self.instance / f"gunicorn-{len(self.logs) + 1}.log"
        self.logs.append(log)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            *("--workers", str(self.workers), "--worker-class", "sync"),
            *("--bind", f"{HOST}:{self.port}", "--timeout", "30", "--graceful-timeout", "15"),
            # One import in the master, forked into the workers: a start or a reload costs
            # one import of the app, not one per worker, on a small test machine.
            "--preload",
            *("--logger-class", "portal.logs.GunicornLogger", *_no_control_socket()),
            self.app,
        ]
        with log.open("wb") as out:
            # A session of its own: its process group is the master and its workers only.
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(self._answers, f"the portal to answer on {self.base_url}", START_SECONDS)
            wait_for(lambda: len(self.worker_pids()) == self.workers, "its workers", START_SECONDS)
        except AssertionError as error:
            self.stop()  # a start that failed leaves nothing running
            raise AssertionError(f"{error}; the server's log:\n{self.log()[-4000:]}") from None
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {self.process.returncode}")
        try:
            return get(self.port, "/r").status == 200
        except NoAnswer:
            return False

    def worker_pids(self) -> set[int]:
        """The master's live workers (an exited one may wait a while to be reaped)."""
        if self.process is None:
            return set()
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return set()
        return {int(child) for child in children if _alive(int(child))}

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a power cut or the OOM killer
        would, and wait until none of them is left."""
        process = self._running()
        victims = {process.pid, *self.worker_pids()}
        assert len(victims) == 1 + self.workers
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)
        wait_for(lambda: not any(_alive(pid) for pid in victims), "the killed workers to go")
        self.process = None

    def reload(self) -> set[int]:
        """SIGHUP: new workers replace the old ones gracefully; returns the old ones."""
        old = self.worker_pids()
        os.kill(self._running().pid, signal.SIGHUP)
        return old

    def terminate(self) -> None:
        """SIGTERM: stop accepting, finish the requests in progress, exit."""
        process = self._running()
        process.terminate()
        process.wait(timeout=STOP_SECONDS)
        self.process = None

    def stop(self) -> None:
        """However the test ends: kill what is left of the server (the graceful stop is
        `terminate`'s, under test; here it would only add the workers' slow exit)."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:  # not yet reaped: the group is still ours
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)

    def _running(self) -> subprocess.Popen[bytes]:
        assert self.process is not None and self.process.poll() is None, "not running"
        return self.process

    def log(self) -> str:
        return "\n".join(log.read_text(errors="replace") for log in self.logs if log.exists())


def _no_control_socket() -> list[str]:
    """gunicorn 25+ opens a control socket at one fixed path per user by default; two
    servers (this test's and anyone else's) would fight over it."""
    from gunicorn.config import KNOWN_SETTINGS

    names = {setting.name for setting in KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting for its (new) parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# -- HTTP -----------------------------------------------------------------------------------


class NoAnswer(Exception):
    """The request got no answer; ``sent`` is False when the connection was refused (the
    server cannot have seen it)."""

    def __init__(self, sent: bool, reason: str) -> None:
        super().__init__(reason)
        self.sent = sent


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    set_cookies: tuple[str, ...]


def request(
    port: int,
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_SECONDS)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        text = answer.read().decode("utf-8", errors="replace")
        return Answer(answer.status, text, tuple(answer.msg.get_all("Set-Cookie") or ()))
    except ConnectionRefusedError as error:
        raise NoAnswer(False, repr(error)) from None
    except (OSError, http.client.HTTPException) as error:
        raise NoAnswer(True, repr(error)) from None
    finally:
        conn.close()


def get(port: int, path: str) -> Answer:
    return request(port, "GET", path)


def _cookie_header(set_cookies: Iterable[str]) -> str:
    pairs = []
    for header in set_cookies:
        pair = header.partition(";")[0].strip()
        if pair.partition("=")[2]:
            pairs.append(pair)
    return "; ".join(pairs)


# -- shoppers -------------------------------------------------------------------------------


class Step(Enum):
    DONE = "a final answer: the code, or a refusal recorded in statuses"
    NEXT = "the survey is open: send it"
    AGAIN = "no answer, or a 503: try again after a pause"


@dataclass
class Shopper:
    """One receipt answered from one browser; see the module docstring."""

    receipt_id: int
    token: str
    answers: dict[str, str]
    address: str
    cookie: str = ""
    hidden: dict[str, str] | None = None
    #: The validation code the thank-you page showed, once it did.
    code: str | None = None
    #: Every answer's ("GET"/"POST", status), in order.
    statuses: list[tuple[str, int]] = field(default_factory=list)
    #: POSTs whose answer never came (sent, then reset or cut off), and refused connections.
    unanswered_posts: int = 0
    refused: int = 0
    posting: bool = False

    @property
    def path(self) -> str:
        return f"/r/{self.token}"

    def _headers(self) -> dict[str, str]:
        # The proxy in front of the portal says who the client is.
        headers = {"X-Forwarded-For": self.address, "Accept-Language": "zh-CN,zh;q=0.9"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        return headers

    def step(self, port: int, stall: str | None = None) -> Step:
        """One attempt: open the survey if not yet open, else send the answers."""
        try:
            if self.hidden is None:
                self._open(port)
                return Step.AGAIN if self.hidden is None else Step.NEXT
            return self._send(port, stall)
        except NoAnswer as error:
            if not error.sent:
                self.refused += 1
            return Step.AGAIN

    def _open(self, port: int) -> None:
        answer = request(port, "GET", self.path, headers=self._headers())
        self.statuses.append(("GET", answer.status))
        csrf, opened = _CSRF.search(answer.body), _OPENED.search(answer.body)
        if answer.status == 200 and csrf and opened:
            self.cookie = _cookie_header(answer.set_cookies)
            self.hidden = {"csrf_token": csrf.group(1), "opened": opened.group(1)}

    def _send(self, port: int, stall: str | None) -> Step:
        assert self.hidden is not None
        headers = {**self._headers(), "Content-Type": "application/x-www-form-urlencoded"}
        if stall is not None:
            from tests.portal.faults.stall_app import HEADER

            headers[HEADER] = stall
        body = urlencode({**self.hidden, **self.answers})
        self.posting = True
        try:
            answer = request(port, "POST", self.path, body=body, headers=headers)
        except NoAnswer as error:
            if error.sent:
                self.unanswered_posts += 1
            raise
        finally:
            self.posting = False
        self.statuses.append(("POST", answer.status))
        code = _CODE.search(answer.body)
        if answer.status == 200 and code:
            self.code = code.group(1)
        # A 503 asks the browser to send again; anything else is final.
        return Step.AGAIN if answer.status == 503 else Step.DONE

    def settle(self, port: int, limit: float = 30.0) -> None:
        """Retry until a final answer, as a shopper pressing Send again would."""
        deadline = time.monotonic() + limit
        while (step := self.step(port)) is not Step.DONE:
            assert time.monotonic() < deadline, f"no answer for {self.path}: {self.statuses}"
            if step is Step.AGAIN:
                time.sleep(RETRY_PAUSE)


def make_shoppers(issued: Iterable[tuple[int, str]], seed: int) -> list[Shopper]:
    """A shopper per (receipt id, token), with varied answers: some unhappy (a case), some
    reporting a problem, each with a comment of its own."""
    rng, shoppers = random.Random(seed), []
    for n, (receipt_id, token) in enumerate(issued):
        answers = {
            "nps": str(rng.randint(0, 10)),
            "csat": str(rng.randint(1, 5)),
            "rating_friendliness": str(rng.randint(1, 5)),
            "rating_speed": str(rng.randint(1, 5)),
            "comment": f"第{n}位顾客：收银员很耐心",
        }
        if rng.random() < 0.2:
            answers |= {"problem": "y", "problem_category": "checkout_wait"}
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        shoppers.append(Shopper(receipt_id, token, answers, address))
    return shoppers


class Crowd:
    """``clients`` threads taking shoppers in turn; each stays with its shopper until the
    shopper has a final answer, retrying after a short pause. ``close`` lets no new shopper
    in; ``join`` waits for the threads to finish their shoppers."""

    def __init__(self, port: int, shoppers: list[Shopper], clients: int, limit: float) -> None:
        self.port, self.limit = port, limit
        self._waiting = deque(shoppers)
        self._lock = threading.Lock()
        self._open = True
        self._stop = False
        # Cleared by `hold`: clients finish their shoppers and take no new one until
        # `release`.
        self._go = threading.Event()
        self._go.set()
        self.taken: list[Shopper] = []
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]
        self._deadline = time.monotonic() + limit

    def __enter__(self) -> Crowd:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop = True  # a failing test does not leave clients behind
        for thread in self._threads:
            thread.join(timeout=REQUEST_SECONDS + 5)

    def _next(self) -> Shopper | None:
        while not self._go.wait(0.05):
            if self._stop:
                return None
        with self._lock:
            if not self._open or not self._waiting:
                return None
            shopper = self._waiting.popleft()
            self.taken.append(shopper)
            return shopper

    def _run(self) -> None:
        shopper: Shopper | None = None
        while not self._stop and time.monotonic() < self._deadline:
            shopper = shopper or self._next()
            if shopper is None:
                return
            step = shopper.step(self.port)
            if step is Step.DONE:
                shopper = None
            elif step is Step.AGAIN:
                time.sleep(RETRY_PAUSE)

    def thanked(self) -> int:
        return sum(1 for shopper in list(self.taken) if shopper.code)

    def posting(self) -> int:
        return sum(1 for shopper in list(self.taken) if shopper.posting)

    def refused(self) -> int:
        return sum(shopper.refused for shopper in list(self.taken))

    def unanswered(self) -> int:
        """Requests refused, and POSTs sent that got no answer, so far."""
        return sum(s.refused + s.unanswered_posts for s in list(self.taken))

    def hold(self) -> None:
        """Take no new shopper until `release` (those taken carry on to their answer)."""
        self._go.clear()

    def release(self) -> None:
        self._go.set()

    def close(self) -> None:
        with self._lock:
            self._open = False
        self._go.set()  # a held client learns that the crowd is closed

    def join(self) -> None:
        """Let no new shopper in and wait for every thread to finish its shopper."""
        self.close()
        for thread in self._threads:
            thread.join(timeout=max(0.0, self._deadline - time.monotonic()) + REQUEST_SECONDS)
        stuck = [t for t in self._threads if t.is_alive()]
        assert not stuck, f"{len(stuck)} client(s) still waiting after {self.limit:.0f} s"


# -- the checks -----------------------------------------------------------------------------


def count_responses(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Response)) or 0


def response_of(engine: Engine, receipt_id: int) -> int | None:
    with Session(engine) as session:
        return session.scalar(select(Response.id).where(Response.receipt_id == receipt_id))


@dataclass(frozen=True)
class Ledger:
    responses: int
    cases: int
    unanswered_posts: int
    refused: int


def check_ledger(engine: Engine, secret_key: str, shoppers: list[Shopper]) -> Ledger:
    """Every shopper was thanked with the code of the one response stored for its receipt,
    holding exactly its answers; nothing else was stored; nothing is half-written (each
    response has its receipt marked answered, its audit entry, the case it calls for); the
    rollups equal a rebuild from the raw rows; no answer was a 5xx."""
    errors = [(s.path, m, code) for s in shoppers for m, code in s.statuses if code >= 500]
    assert not errors, f"server errors: {errors}"
    unthanked = [(s.path, s.statuses) for s in shoppers if not s.code]
    assert not unthanked, f"shoppers without a code: {unthanked}"
    with Session(engine) as session:
        responses = session.scalars(select(Response)).all()
        doubled = [k for k, n in Counter(r.receipt_id for r in responses).items() if n > 1]
        assert not doubled, f"receipts answered twice: {doubled}"
        rows = {r.receipt_id: r for r in responses}
        assert set(rows) == {s.receipt_id for s in shoppers}, "a response nobody was shown"
        for shopper in shoppers:
            row = rows.get(shopper.receipt_id)
            assert row is not None, f"{shopper.path} was thanked but nothing is stored"
            assert read_validation_code(secret_key, shopper.code or "") == row.id
            sent = shopper.answers
            stored = (row.nps, row.csat, row.rating_friendliness, row.rating_speed, row.comment)
            expected = (
                int(sent["nps"]),
                int(sent["csat"]),
                int(sent["rating_friendliness"]),
                int(sent["rating_speed"]),
                sent["comment"],
            )
            assert stored == expected, f"{shopper.path}: stored {stored}, sent {expected}"
            assert row.problem_reported == ("problem" in sent)
        unhappy = check_consistent(session)
    return Ledger(
        responses=len(rows),
        cases=unhappy,
        unanswered_posts=sum(s.unanswered_posts for s in shoppers),
        refused=sum(s.refused for s in shoppers),
    )


def check_consistent(session: Session) -> int:
    """Nothing half-written: each response has its receipt marked answered, its audit entry
    and the case it calls for, nothing exists without its response, and the rollups equal
    a rebuild from the raw rows. Returns the number of cases."""
    responses = session.scalars(select(Response)).all()
    answered = set(session.scalars(select(Receipt.id).where(Receipt.answered_at.is_not(None))))
    with_response = {r.receipt_id for r in responses}
    assert answered == with_response, (
        f"responses whose receipt is not marked answered: {with_response - answered}; "
        f"receipts marked answered without a response: {answered - with_response}"
    )
    audited = session.scalars(select(AuditEntry.subject_id).where(AuditEntry.action == SUBMITTED))
    assert Counter(audited) == Counter(str(r.id) for r in responses), "submit audit entries"
    cases = session.scalars(select(Case.response_id).where(Case.source == "survey"))
    unhappy = [r.id for r in responses if case_trigger(r.nps, r.csat, r.problem_reported)]
    assert Counter(cases) == Counter(unhappy), "one case per unhappy response"
    assert_rollups_agree(session)
    return len(unhappy)


def assert_rollups_agree(session: Session) -> None:
    """The rollups written with each receipt and response equal a rebuild from the raw rows
    (the rebuild is rolled back)."""
    live = _rollup_rows(session)
    rebuild_rollups(session)
    rebuilt = _rollup_rows(session)
    session.rollback()
    assert live == rebuilt, "the rollups differ from a rebuild from the raw rows"


def _rollup_rows(session: Session) -> dict[str, list[tuple[object, ...]]]:
    rows = {}
    for model in (DailyRollup, StoreDailyRollup, StoreMonthlyRollup):
        table = model.__table__
        counted = [
            tuple(row)
            for row in session.execute(select(table)).all()
            if any(getattr(row, name) for name in COUNT_COLUMNS)
        ]
        rows[model.__tablename__] = sorted(counted, key=repr)
    return rows


# -- set-up ---------------------------------------------------------------------------------


def issue_receipts(engine: Engine, settings: Settings, count: int) -> list[tuple[int, str]]:
    """Store SH-001 with cashier S001 and ``count`` of its receipts, committed; their
    (id, signed token) pairs."""
    with Session(engine) as session, session.begin():
        store = add_store_with_cashier(session)
        issued = [
            issue_receipt(
                session,
                settings,
                store=store,
                staff_code="S001",
                transaction_id=f"T-{n:05d}",
                issued_at=None,
                total_cents=1000 + n,
                now=utcnow(),
            )
            for n in range(count)
        ]
        session.flush()
        return [(one.receipt.id, one.token) for one in issued]


def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)
