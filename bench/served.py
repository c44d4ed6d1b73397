"""What the HTTP benchmarks share: a temporary portal instance, gunicorn on loopback, and
the pieces of a shopper's visit (answers, cookies, addresses, the thank-you code).

Used by ``submit_bench.py`` and ``load_bench.py`` (``bench/`` is on ``sys.path`` when a
script in it runs). Nothing here is timed; it only sets up, serves and cleans up.

Shoppers' addresses. The portal counts survey submits per client address
(``portal.throttle.SUBMIT``: 30 per 10 minutes) and every benchmark client connects from
127.0.0.1, so one address would be refused after 30 submits. The instance is therefore
served as production is, behind one trusted reverse proxy (``PORTAL_TRUSTED_PROXIES=1``),
and each shopper's visit sends its own ``X-Forwarded-For`` (`shopper_address`): the
throttle keeps running, with its real cost (an upsert per submit) and its real limit, and
sees what it would see in a store, one phone per visit. Raising the limit instead would
need a setting that exists only for benchmarks.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CSRF_RE = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
OPENED_RE = re.compile(rb'name="opened" value="([^"]*)"')
CODE_RE = re.compile(rb'id="validation-code">([^<]+)<')
SUCCESS_MARK = b'id="validation-code"'
LOCKED_MARK = b"database is locked"
PROBLEM_CATEGORIES = ("product_quality", "service_attitude", "checkout_wait", "price", "other")
STAFF_CODE = "S001"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def stop_on_sigterm() -> None:
    """Let SIGTERM unwind through the ``finally`` blocks: stop the servers, clean up."""

    def _terminated(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminated)


def describe(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database} (WAL)"
    return f"{parsed.get_backend_name()} at {parsed.render_as_string(hide_password=True)}"


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


# --------------------------------------------------------------------------- the instance


@dataclass(frozen=True)
class Ticket:
    """One issued receipt: its row id (for the SQL checks) and its signed token."""

    receipt_id: int
    token: str


@dataclass(frozen=True)
class Instance:
    workdir: Path
    url: str
    #: The environment gunicorn runs the portal with (``PORTAL_*`` set for this instance).
    env: dict[str, str]
    store_code: str
    secret_key: str


@contextmanager
def portal_instance(prefix: str, database_url: str | None, keep: bool) -> Iterator[Instance]:
    """A temporary folder with an instance set up through the CLI's commands (init-db, a
    store ``BENCH-<random>``, its cashier ``S001`` and a POS key), on a SQLite file in the
    folder or on ``database_url``; the folder is removed afterwards unless ``keep``."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    instance = workdir / "instance"
    instance.mkdir()
    url = database_url or f"sqlite:///{instance / 'bench.sqlite3'}"
    secret_key = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": secret_key,
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_ENV": "production",
        "PORTAL_BASE_URL": "http://127.0.0.1:8000",
        "PORTAL_TRUSTED_PROXIES": "1",
    }
    try:
        store_code = f"BENCH-{secrets.token_hex(4)}"
        log(f"set-up in {workdir}: {describe(url)}")
        run_commands(
            env,
            ["init-db"],
            ["create-store", store_code, "Bench store"],
            ["create-staff", store_code, STAFF_CODE, "Bench cashier"],
            ["create-api-key", store_code],
        )
        yield Instance(workdir, url, env, store_code, secret_key)
    finally:
        if keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run_commands(env: dict[str, str], *commands: list[str]) -> None:
    """Run ``flask --app portal`` commands in this process, through Flask's CLI runner (the
    same click commands, without a 3 s interpreter start-up for each)."""
    from portal import create_app
    from portal.config import Settings

    app = create_app(Settings.from_env(env))
    try:
        runner = app.test_cli_runner()
        for args in commands:
            result = runner.invoke(args=args)
            if result.exit_code != 0:
                raise SystemExit(f"flask {' '.join(args)} failed:\n{result.output}")
    finally:
        app.extensions["portal.db"][0].dispose()


def issue_tickets(
    instance: Instance, count: int, survey_key: str | None = None, prefix: str = "BENCH"
) -> list[Ticket]:
    """Issue ``count`` receipts in one transaction, the way the POS API does (asking the
    survey ``survey_key`` names, as a till may, or the default one)."""
    from portal.admin.operations import get_store
    from portal.config import Settings
    from portal.db import make_engine, make_sessionmaker, utcnow, writer
    from portal.receipts import issue_receipt

    settings = Settings.from_env(instance.env)
    engine = make_engine(instance.url)
    try:
        now = utcnow()
        with make_sessionmaker(writer(engine))() as session, session.begin():
            store = get_store(session, instance.store_code)
            issued = [
                issue_receipt(
                    session,
                    settings,
                    store=store,
                    staff_code=STAFF_CODE,
                    transaction_id=f"{prefix}-{n:07d}",
                    issued_at=None,
                    total_cents=1000 + n,
                    now=now,
                    survey_key=survey_key,
                )
                for n in range(count)
            ]
            session.flush()
            return [Ticket(item.receipt.id, item.token) for item in issued]
    finally:
        engine.dispose()


@contextmanager
def sql(url: str) -> Iterator[Any]:
    """A plain connection for the data checks."""
    from portal.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- gunicorn


@contextmanager
def gunicorn(
    app_spec: str,
    env: dict[str, str],
    log_path: Path,
    cwd: Path,
    *,
    workers: int,
    threads: int = 1,
    ready_timeout: float = 120,
) -> Iterator[tuple[int, int]]:
    """Run gunicorn on a free loopback port until the block ends; yields (port, pid).
    ``threads`` above 1 selects gthread workers, else sync workers."""
    port = free_port()
    worker_class = ["--worker-class", "gthread", "--threads", str(threads)]
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        *(worker_class if threads > 1 else ["--worker-class", "sync"]),
        "--bind",
        f"{HOST}:{port}",
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        "--chdir",
        str(cwd),
        # Not the production gunicorn.conf.py gunicorn would read from the repository root
        # (access log, worker recycling): a benchmark sets every option it measures with.
        "--config",
        os.devnull,
        *no_control_socket(),
        app_spec,
    ]
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_ready(port, proc, ready_timeout, log_path)
            yield port, proc.pid
        finally:
            stop_process(proc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def no_control_socket() -> list[str]:
    """gunicorn 25+ opens a control socket at one fixed path per user by default; two
    servers (this bench's and anyone else's) would fight over it."""
    from gunicorn.config import KNOWN_SETTINGS

    names = {setting.name for setting in KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}:\n{log_path.read_text()}")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s:\n{log_path.read_text()}")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # gunicorn's master stops its workers on SIGTERM
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        # Its own session (start_new_session): this group holds only the master and workers.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def server_cpu_seconds(master_pid: int) -> float | None:
    """CPU seconds used so far by a gunicorn master and its workers (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
        total = 0
        for pid in [str(master_pid), *children]:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick
    except (OSError, IndexError, ValueError):
        return None


@dataclass(frozen=True)
class ServerLog:
    locked: int
    tracebacks: int


def read_server_log(path: Path) -> ServerLog:
    text = path.read_bytes()
    return ServerLog(text.count(LOCKED_MARK), text.count(b"Traceback"))


# --------------------------------------------------------------------------- a shopper


class Handout(Generic[T]):
    """Hands out each item (a receipt) once, to whichever client thread asks next."""

    def __init__(self, items: Iterable[T]) -> None:
        self._items = iter(items)
        self._lock = threading.Lock()
        self.exhausted = False

    def next(self) -> T | None:
        with self._lock:
            item = next(self._items, None)
            if item is None:
                self.exhausted = True
            return item


def shopper_address(visit: int) -> str:
    """The address a visit comes from, as the trusted proxy reports it: one phone each."""
    return f"10.{(visit >> 16) & 255}.{(visit >> 8) & 255}.{visit & 255}"


def answers(rng: random.Random, csrf_token: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf_token,
        "nps": str(rng.randint(0, 10)),
        "csat": str(rng.randint(3, 5)),
        "rating_friendliness": str(rng.randint(1, 5)),
        "rating_speed": str(rng.randint(1, 5)),
        "comment": "收银员很热情，结账很快。" if rng.random() < 0.5 else "",
    }
    if rng.random() < 0.1:
        form["problem"] = "y"
        form["problem_category"] = rng.choice(PROBLEM_CATEGORIES)
    return form


#: The survey with three custom questions (a scale, a multiple choice, a short text) that
#: ``submit_bench.py`` compares with the receipt survey alone.
CUSTOM_SURVEY_KEY = "bench_custom"
CUSTOM_QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "checkout_ease",
        "kind": "scale",
        "min": 1,
        "max": 5,
        "text": {"zh_CN": "自助收银好用吗？", "en": "How easy was the self-checkout?"},
    },
    {
        "key": "departments",
        "kind": "multiple",
        "other": True,
        "text": {"zh_CN": "您去了哪些区域？", "en": "Which departments did you visit?"},
        "choices": [
            {"key": "fresh", "text": {"zh_CN": "生鲜", "en": "Fresh food"}},
            {"key": "bakery", "text": {"zh_CN": "烘焙", "en": "Bakery"}},
            {"key": "household", "text": {"zh_CN": "日用品", "en": "Household"}},
        ],
    },
    {
        "key": "improve",
        "kind": "short_text",
        "max_length": 80,
        "text": {"zh_CN": "我们最该改进哪一点？", "en": "What one thing should we fix?"},
    },
]


def publish_custom_survey(instance: Instance) -> str:
    """Publish the receipt survey plus `CUSTOM_QUESTIONS` as version 1 of a survey of this
    run (created here, as the survey editor would); return its key."""
    import copy
    import json

    from portal.db import make_engine, make_sessionmaker, utcnow, writer
    from portal.models import Survey, SurveyVersion
    from surveys.loader import LIBRARY, canonical_content, parse_definition, read_yaml

    # A survey of this run's own (another run may share a --database-url): its key and so
    # its content, whose hash is unique among all versions.
    key = f"{CUSTOM_SURVEY_KEY}_{instance.store_code.lower().replace('-', '_')}"
    document = copy.deepcopy(read_yaml(LIBRARY / "receipt.yaml"))
    document["key"] = key
    at = next(n for n, q in enumerate(document["questions"]) if q["key"] == "comment")
    document["questions"][at:at] = CUSTOM_QUESTIONS
    parse_definition(document)  # a bench survey the loader would refuse measures nothing
    content, content_hash = canonical_content(document, key)
    engine = make_engine(instance.url)
    try:
        with make_sessionmaker(writer(engine))() as session, session.begin():
            survey = Survey(key=key)
            session.add(survey)
            session.flush()
            session.add(
                SurveyVersion(
                    survey_key=survey.key,
                    content_hash=content_hash,
                    definition=json.loads(content),
                    published_at=utcnow(),
                    survey_id=survey.id,
                    number=1,
                )
            )
            return survey.key
    finally:
        engine.dispose()


def custom_answers(rng: random.Random) -> dict[str, str | list[str]]:
    """Answers to `CUSTOM_QUESTIONS`: the scale and one or two departments always, the
    short text one time in three."""
    form: dict[str, str | list[str]] = {
        "checkout_ease": str(rng.randint(1, 5)),
        "departments": rng.sample(["fresh", "bakery", "household"], rng.randint(1, 2)),
    }
    if rng.random() < 1 / 3:
        form["improve"] = "自助收银机太少"
    return form


def request_cookie(set_cookies: list[str]) -> str:
    """The Cookie header for the Set-Cookie headers of one answer (deletions left out)."""
    pairs = []
    for header in set_cookies:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        if value and "max-age=0" not in attributes.lower().replace(" ", ""):
            pairs.append(f"{name}={value}")
    return "; ".join(pairs)


def shown_response_id(secret_key: str, body: bytes) -> int | None:
    """The response id behind the validation code a thank-you page shows, or None."""
    from surveys.codes import InvalidCode, read_validation_code

    match = CODE_RE.search(body)
    if match is None:
        return None
    try:
        return read_validation_code(secret_key, match.group(1).decode().strip())
    except InvalidCode:
        return None
