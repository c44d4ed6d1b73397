"""Benchmark: full shopper survey submits per second, the portal against a bare Flask app.

Run as ``.venv/bin/python bench/submit_bench.py [--workers 2] [--seconds 10] [--clients 8]``.

In one run, on this machine only (every server binds 127.0.0.1 on a free port):

1. a temporary instance folder with a SQLite file database (WAL), set up through the
   ``flask --app portal`` CLI: init-db, a store, a staff member and a POS API key;
2. ``--receipts`` receipts issued in-process with ``portal.receipts.issue_receipt`` (one
   transaction), which also gives their signed tokens;
3. gunicorn with ``--workers`` sync workers serving ``portal:create_app()``; ``--clients``
   client threads each take the next unused receipt, GET ``/r/<token>`` (session cookie and
   CSRF token) and POST the answers, until ``--seconds`` have passed (after a warm-up of
   ``--warmup`` seconds and until each client has had one success, 10 s more at most);
   a submit counts when the POST answers 200 with the thank-you page's validation code;
4. the same client loop against a bare Flask app (one GET route with a small form and a
   hidden field, one POST route reading 4 form fields), served the same way;
5. a table of pairs per second, the portal/bare ratio, POST latencies and errors, then a
   check by SQL that the database holds exactly one response per successful submit and
   that no POST got a 5xx or "database is locked".

``--database-url`` points the portal at another database (e.g. PostgreSQL) instead of the
temporary SQLite file; the run then uses its own store there and counts only that store's
rows. Every request has a timeout, every phase a time limit, and the servers are stopped
in ``finally``. Exits 1 if the data check fails or a POST failed with a 5xx.
"""

from __future__ import annotations

import argparse
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
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CSRF_RE = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
SUCCESS_MARK = b'id="validation-code"'
LOCKED_MARK = b"database is locked"
#: The warm-up waits at most this long past --warmup for every client's first success.
WARMUP_LIMIT = 10.0
PROBLEM_CATEGORIES = ("product_quality", "service_attitude", "checkout_wait", "price", "other")

BARE_APP = textwrap.dedent(
    '''\
    """Bare Flask baseline for bench/submit_bench.py: a form page and a form post."""
    import secrets

    from flask import Flask, request

    app = Flask(__name__)

    FORM = (
        "<!doctype html><html><head><title>Survey</title></head><body>"
        '<form method="post"><input id="csrf_token" name="csrf_token" type="hidden" '
        'value="{token}"><input name="nps"><input name="csat"><textarea name="comment">'
        "</textarea><button>Send</button></form></body></html>"
    )
    THANKS = (
        "<!doctype html><html><head><title>Thank you</title></head><body>"
        '<p id="validation-code">{code}</p><p>{nps} {csat} {length}</p></body></html>'
    )


    @app.get("/")
    def index():
        return "ok"


    @app.get("/r/<token>")
    def survey(token):
        return FORM.format(token=secrets.token_urlsafe(24))


    @app.post("/r/<token>")
    def submit(token):
        form = request.form
        if not form.get("csrf_token"):
            return "missing token", 400
        nps, csat = int(form.get("nps", "0")), int(form.get("csat", "0"))
        comment = form.get("comment", "")
        return THANKS.format(code=secrets.token_hex(4), nps=nps, csat=csat, length=len(comment))
    '''
)


# --------------------------------------------------------------------------- set-up


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def flask_cli(env: dict[str, str], *args: str, timeout: float = 60) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def issue_tokens(
    env: dict[str, str], url: str, store_code: str, staff_code: str, count: int
) -> list[str]:
    """Issue ``count`` receipts in one transaction, the way the POS API does, and return
    their signed tokens."""
    from portal.admin.operations import get_store
    from portal.config import Settings
    from portal.db import make_engine, make_sessionmaker, utcnow, writer
    from portal.receipts import issue_receipt

    settings = Settings.from_env(env)
    engine = make_engine(url)
    try:
        now = utcnow()
        with make_sessionmaker(writer(engine))() as session, session.begin():
            store = get_store(session, store_code)
            return [
                issue_receipt(
                    session,
                    settings,
                    store=store,
                    staff_code=staff_code,
                    transaction_id=f"BENCH-{n:07d}",
                    issued_at=None,
                    total_cents=1000 + n,
                    now=now,
                ).token
                for n in range(count)
            ]
    finally:
        engine.dispose()


@dataclass
class DbCheck:
    responses: int
    distinct_receipts: int
    answered_receipts: int


def count_rows(url: str, store_code: str) -> DbCheck:
    from sqlalchemy import text

    from portal.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            store_id = conn.execute(
                text("SELECT id FROM stores WHERE code = :code"), {"code": store_code}
            ).scalar_one()
            row = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT receipt_id) FROM responses "
                    "WHERE store_id = :id"
                ),
                {"id": store_id},
            ).one()
            answered = conn.execute(
                text(
                    "SELECT count(*) FROM receipts WHERE store_id = :id AND answered_at IS NOT NULL"
                ),
                {"id": store_id},
            ).scalar_one()
    finally:
        engine.dispose()
    return DbCheck(int(row[0]), int(row[1]), int(answered))


# --------------------------------------------------------------------------- servers


@contextmanager
def gunicorn(
    app_spec: str,
    workers: int,
    env: dict[str, str],
    log_path: Path,
    cwd: Path,
    ready_timeout: float = 30,
) -> Iterator[tuple[int, int]]:
    """Run gunicorn on a free loopback port until the block ends; yields (port, pid)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"{HOST}:{port}",
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        "--chdir",
        str(cwd),
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


# --------------------------------------------------------------------------- client


@dataclass
class ClientStats:
    ok: int = 0
    ok_measured: int = 0
    post_ms: list[float] = field(default_factory=list)
    get_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    post_5xx: int = 0
    locked: int = 0
    exceptions: Counter[str] = field(default_factory=Counter)
    #: POSTs whose answer never came (timeout, reset): the server may have saved them.
    post_unknown: int = 0

    def merge(self, other: ClientStats) -> None:
        self.ok += other.ok
        self.ok_measured += other.ok_measured
        self.post_ms += other.post_ms
        self.get_ms += other.get_ms
        self.statuses.update(other.statuses)
        self.post_5xx += other.post_5xx
        self.locked += other.locked
        self.exceptions.update(other.exceptions)
        self.post_unknown += other.post_unknown

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) + sum(self.exceptions.values())


class TokenSource:
    """Hands out each token once, to whichever client asks next."""

    def __init__(self, tokens: list[str]) -> None:
        self._tokens = iter(tokens)
        self._lock = threading.Lock()
        self.exhausted = False

    def next(self) -> str | None:
        with self._lock:
            token = next(self._tokens, None)
            if token is None:
                self.exhausted = True
            return token


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


def request_cookie(set_cookies: list[str]) -> str:
    """The Cookie header for the Set-Cookie headers of one answer (deletions left out)."""
    pairs = []
    for header in set_cookies:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        if value and "max-age=0" not in attributes.lower().replace(" ", ""):
            pairs.append(f"{name}={value}")
    return "; ".join(pairs)


class Window:
    """The measured window, set by the main thread once the servers are warm; the clients
    run until it closes."""

    def __init__(self) -> None:
        self.start = float("inf")
        self.stop = float("inf")


def client_loop(
    port: int,
    source: TokenSource,
    window: Window,
    timeout: float,
    seed: int,
    stats: ClientStats,
) -> None:
    """One shopper after another: GET the survey, POST the answers. gunicorn's sync
    workers close the connection after each answer; http.client reconnects by itself."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    base_headers = {"Accept-Language": "zh-CN,zh;q=0.9", "User-Agent": "submit-bench"}
    try:
        while time.monotonic() < window.stop:
            token = source.next()
            if token is None:
                return
            path = f"/r/{token}"
            stage = "GET"
            try:
                start = time.perf_counter()
                conn.request("GET", path, headers=base_headers)
                response = conn.getresponse()
                body = response.read()
                got = time.perf_counter()
                match = CSRF_RE.search(body)
                if response.status != 200 or match is None:
                    stats.statuses[f"GET {response.status}"] += 1
                    continue
                # A new shopper each time: only the cookies this GET set are sent back.
                cookie = request_cookie(response.msg.get_all("Set-Cookie") or [])
                headers = {
                    **base_headers,
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": cookie,
                }
                form = urlencode(answers(rng, match.group(1).decode()))
                stage = "POST"
                posted = time.perf_counter()
                conn.request("POST", path, body=form, headers=headers)
                response = conn.getresponse()
                body = response.read()
                done = time.perf_counter()
            except (OSError, http.client.HTTPException) as error:
                stats.exceptions[f"{stage} {type(error).__name__}"] += 1
                if stage == "POST":
                    stats.post_unknown += 1
                conn.close()
                continue
            if LOCKED_MARK in body:
                stats.locked += 1
            if response.status >= 500:
                stats.post_5xx += 1
            if response.status == 200 and SUCCESS_MARK in body:
                stats.ok += 1
                if time.monotonic() >= window.start:
                    stats.ok_measured += 1
                    stats.get_ms.append((got - start) * 1e3)
                    stats.post_ms.append((done - posted) * 1e3)
            else:
                stats.statuses[f"POST {response.status}"] += 1
    finally:
        conn.close()


@dataclass
class PhaseResult:
    name: str
    stats: ClientStats
    seconds: float
    client_cpu: float
    server_cpu: float | None
    ran_out: bool
    warmup: float
    #: The machine's 1-minute load average when the phase began: other work competes.
    load: float

    @property
    def pairs_per_second(self) -> float:
        return self.stats.ok_measured / self.seconds if self.seconds > 0 else 0.0

    @property
    def server_ms_per_pair(self) -> float | None:
        """Server CPU per successful pair: steadier than pairs/s when other work competes."""
        if self.server_cpu is None or not self.stats.ok_measured:
            return None
        return self.server_cpu * self.seconds / self.stats.ok_measured * 1e3


def run_phase(
    name: str,
    port: int,
    server_pid: int,
    tokens: list[str],
    clients: int,
    warmup: float,
    seconds: float,
    timeout: float,
) -> PhaseResult:
    load = os.getloadavg()[0]
    source = TokenSource(tokens)
    per_client = [ClientStats() for _ in range(clients)]
    window = Window()
    start = time.monotonic()
    threads = [
        threading.Thread(
            target=client_loop,
            args=(port, source, window, timeout, n, per_client[n]),
            daemon=True,
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    # Warm up for --warmup seconds and until every client has had one success (each worker
    # then has imported and compiled what a survey needs), but for WARMUP_LIMIT at most.
    time.sleep(warmup)
    warm_deadline = start + warmup + WARMUP_LIMIT
    while (
        sum(stats.ok for stats in per_client) < clients
        and time.monotonic() < warm_deadline
        and not source.exhausted
    ):
        time.sleep(0.05)
    # CPU counters from the end of the warm-up, as the pairs are.
    cpu0, server0 = time.process_time(), server_cpu_seconds(server_pid)
    wall0 = time.monotonic()
    window.start, window.stop = wall0, wall0 + seconds
    for thread in threads:
        # Each request has its own timeout; a client is never left running past this.
        thread.join(timeout=max(0.0, window.stop - time.monotonic()) + 2 * timeout + 5)
    wall = time.monotonic() - wall0
    cpu1, server1 = time.process_time(), server_cpu_seconds(server_pid)
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        log(f"warning: {stuck} {name} client thread(s) still waiting; their counts are partial")
    total = ClientStats()
    for stats in per_client:
        total.merge(stats)
    server_cpu = None if server0 is None or server1 is None else (server1 - server0) / wall
    return PhaseResult(
        name,
        total,
        wall,
        (cpu1 - cpu0) / wall,
        server_cpu,
        ran_out=source.exhausted,
        warmup=wall0 - start,
        load=load,
    )


# --------------------------------------------------------------------------- report


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def print_table(portal: PhaseResult, bare: PhaseResult) -> None:
    def row(label: str, value: Callable[[PhaseResult], str]) -> None:
        print(f"{label:<34} {value(portal):>14} {value(bare):>14}")

    print(f"{'':<34} {'portal':>14} {'bare Flask':>14}")
    row("GET+POST pairs/s (200 + code)", lambda r: f"{r.pairs_per_second:.1f}")
    row("pairs in the measured window", lambda r: f"{r.stats.ok_measured}")
    row("warm-up (not measured), s", lambda r: f"{r.warmup:.2f}")
    row("measured window, s", lambda r: f"{r.seconds:.2f}")
    row("POST latency p50, ms", lambda r: f"{percentile(r.stats.post_ms, 0.50):.1f}")
    row("POST latency p95, ms", lambda r: f"{percentile(r.stats.post_ms, 0.95):.1f}")
    row("GET latency p50, ms", lambda r: f"{percentile(r.stats.get_ms, 0.50):.1f}")
    row("GET latency p95, ms", lambda r: f"{percentile(r.stats.get_ms, 0.95):.1f}")
    row("successful pairs incl. warm-up", lambda r: f"{r.stats.ok}")
    row("errors (non-200 + exceptions)", lambda r: f"{r.stats.errors}")
    row("POST 5xx", lambda r: f"{r.stats.post_5xx}")
    row("'database is locked' in a body", lambda r: f"{r.stats.locked}")
    row("client CPU (cores busy)", lambda r: f"{r.client_cpu:.2f}")
    row(
        "server CPU (cores busy)",
        lambda r: "n/a" if r.server_cpu is None else f"{r.server_cpu:.2f}",
    )
    row(
        "server CPU ms per pair",
        lambda r: "n/a" if r.server_ms_per_pair is None else f"{r.server_ms_per_pair:.2f}",
    )
    row("machine load avg (1 min) at start", lambda r: f"{r.load:.2f}")
    ratio = portal.pairs_per_second / bare.pairs_per_second if bare.pairs_per_second else 0.0
    print(f"{'ratio portal/bare (pairs/s)':<34} {ratio:>14.3f}")
    if portal.server_ms_per_pair and bare.server_ms_per_pair:
        cost = portal.server_ms_per_pair / bare.server_ms_per_pair
        print(f"{'ratio portal/bare (CPU per pair)':<34} {cost:>14.1f}")
    for result in (portal, bare):
        detail = {**result.stats.statuses, **result.stats.exceptions}
        if detail:
            print(f"{result.name} errors: " + ", ".join(f"{k} x{v}" for k, v in detail.items()))
        if result.ran_out:
            print(
                f"warning: {result.name} ran out of receipts before the time was up; "
                "raise --receipts"
            )


# --------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per app")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--receipts", type=int, default=4000, help="receipts issued up front")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, s")
    parser.add_argument(
        "--database-url", default=None, help="portal database instead of a temporary SQLite file"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if not (1 <= args.workers <= 16 and 1 <= args.clients <= 64):
        parser.error("--workers must be 1-16 and --clients 1-64")
    if not (0 < args.seconds <= 60 and 0 <= args.warmup <= 10 and 0 < args.timeout <= 30):
        parser.error("--seconds must be in (0, 60], --warmup in [0, 10], --timeout in (0, 30]")
    if not 1 <= args.receipts <= 50_000:
        parser.error("--receipts must be 1-50000")
    return args


def describe(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database} (WAL)"
    return f"{parsed.get_backend_name()} at {parsed.render_as_string(hide_password=True)}"


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # run the finally blocks: stop the servers, clean up


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _terminated)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="submit-bench-"))
    instance = workdir / "instance"
    instance.mkdir()
    url = args.database_url or f"sqlite:///{instance / 'bench.sqlite3'}"
    store_code = f"BENCH-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(32),
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_ENV": "production",
        "PORTAL_BASE_URL": "http://127.0.0.1:8000",
    }
    try:
        log(f"set-up in {workdir}: {describe(url)}")
        flask_cli(env, "init-db")
        flask_cli(env, "create-store", store_code, "Bench store")
        flask_cli(env, "create-staff", store_code, "S001", "Bench cashier")
        api_key = flask_cli(env, "create-api-key", store_code).strip().splitlines()[-1]
        assert api_key, "create-api-key printed no key"
        t0 = time.monotonic()
        tokens = issue_tokens(env, url, store_code, "S001", args.receipts)
        log(f"issued {len(tokens)} receipts in {time.monotonic() - t0:.1f} s")

        log(
            f"portal: gunicorn --workers {args.workers}, {args.clients} clients, "
            f"warm-up >= {args.warmup:g} s then {args.seconds:g} s"
        )
        with gunicorn("portal:create_app()", args.workers, env, workdir / "portal.log", ROOT) as (
            port,
            pid,
        ):
            portal = run_phase(
                "portal", port, pid, tokens, args.clients, args.warmup, args.seconds, args.timeout
            )

        bare_dir = workdir / "bare"
        bare_dir.mkdir()
        (bare_dir / "bare_app.py").write_text(BARE_APP)
        bare_tokens = [f"bare-{n:07d}" for n in range(100_000)]
        log("bare Flask: same server settings and client loop")
        bare_env = {k: v for k, v in env.items() if not k.startswith("PORTAL_")}
        with gunicorn("bare_app:app", args.workers, bare_env, workdir / "bare.log", bare_dir) as (
            port,
            pid,
        ):
            bare = run_phase(
                "bare Flask",
                port,
                pid,
                bare_tokens,
                args.clients,
                args.warmup,
                args.seconds,
                args.timeout,
            )

        print(f"\nDatabase: {describe(url)}")
        print(
            f"gunicorn: {args.workers} sync workers on {HOST}; {args.clients} client threads "
            f"(http.client), warm-up >= {args.warmup:g} s then {args.seconds:g} s each; "
            f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n"
        )
        print_table(portal, bare)

        server_log = (workdir / "portal.log").read_bytes()
        log_locked = server_log.count(LOCKED_MARK)
        log_tracebacks = server_log.count(b"Traceback")
        check = count_rows(url, store_code)
        expected = portal.stats.ok
        unknown = portal.stats.post_unknown
        print("\nData check (SQL, this run's store):")
        print(f"  successful submits seen by the clients : {expected}")
        print(f"  POSTs with no answer (timeout/reset)   : {unknown}")
        print(f"  responses rows                         : {check.responses}")
        print(f"  distinct receipts in responses         : {check.distinct_receipts}")
        print(f"  receipts marked answered               : {check.answered_receipts}")
        print(f"  'database is locked' in the server log : {log_locked}")
        print(f"  tracebacks in the server log           : {log_tracebacks}")
        counts_ok = (
            expected <= check.responses <= expected + unknown
            and check.responses == check.distinct_receipts == check.answered_receipts
        )
        problems = []
        if not counts_ok:
            problems.append("the response counts do not match the successful submits")
        if portal.stats.post_5xx or portal.stats.locked or log_locked:
            problems.append("a POST got a 5xx or 'database is locked'")
        if portal.stats.errors or bare.stats.errors:
            problems.append("some requests failed (see the errors above)")
        if expected == 0 or bare.stats.ok == 0:
            problems.append("no successful submit at all")
        verdict = "FAIL" if problems else "PASS"
        print(
            f"  {verdict}: "
            + (
                "; ".join(problems)
                if problems
                else "one response per successful submit, none lost or duplicated; "
                "no failed request, no 5xx, no lock errors"
            )
        )
        print(f"\nTotal run time {time.monotonic() - started:.1f} s")
        return 0 if verdict == "PASS" else 1
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
