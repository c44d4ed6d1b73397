"""Benchmark: full shopper survey submits per second, the portal against a bare Flask app,
and the portal's survey with three custom questions against the receipt survey alone.

Run as ``.venv/bin/python bench/submit_bench.py [--workers 2] [--seconds 10] [--clients 8]``.

In one run, on this machine only (every server binds 127.0.0.1 on a free port):

1. a temporary instance folder with a SQLite file database (WAL), set up through the
   ``flask --app portal`` CLI commands (run in-process): init-db, a store, a staff member
   and a POS API key;
2. a second survey published (the receipt survey plus three custom questions: a 1-5 scale,
   a multiple choice, a short text), and ``--receipts`` receipts for each survey issued
   in-process with ``portal.receipts.issue_receipt`` (one transaction each), which also
   gives their signed tokens;
3. gunicorn with ``--workers`` sync workers serving ``portal:create_app()``; ``--clients``
   client threads each take the next unused receipt, GET ``/r/<token>`` (session cookie and
   CSRF token) and POST the answers, until ``--seconds`` have passed (after a warm-up of
   ``--warmup`` seconds and until each client has had one success, 10 s more at most);
   a submit counts when the POST answers 200 with the thank-you page's validation code;
   each pair sends its own ``X-Forwarded-For`` through the one trusted proxy the instance
   is configured with, so the per-address submit limit sees one phone per pair
   (``served.py`` says why); the receipt survey's receipts and the custom survey's take
   turns on the same server (`ROUNDS` times each, for a share of ``--seconds``), the
   answers to the custom survey including its three custom questions;
4. the same client loop against a bare Flask app (one GET route with a small form and a
   hidden field, one POST route reading 4 form fields and inserting them as one row into a
   SQLite file in WAL mode, committed), served the same way;
5. a table of pairs per second, the portal/bare ratio, the custom/standard ratios, POST
   latencies and errors, then a check by SQL that the database holds exactly one response
   per successful submit (and the custom answers and their counts of each custom one) and
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
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from served import (  # bench/ is on sys.path when this file runs as a script
    CSRF_RE,
    HOST,
    LOCKED_MARK,
    ROOT,
    SUCCESS_MARK,
    Handout,
    Instance,
    answers,
    custom_answers,
    describe,
    gunicorn,
    issue_tickets,
    log,
    percentile,
    portal_instance,
    publish_custom_survey,
    read_server_log,
    request_cookie,
    server_cpu_seconds,
    shopper_address,
    sql,
    stop_on_sigterm,
)

#: The warm-up waits at most this long past --warmup for every client's first success.
WARMUP_LIMIT = 10.0

BARE_APP = textwrap.dedent(
    '''\
    """Bare Flask baseline for bench/submit_bench.py: a form page, and a form post that
    inserts one row into a SQLite file (WAL) beside this module and commits it."""
    import secrets
    import sqlite3
    import threading
    from pathlib import Path

    from flask import Flask, request

    app = Flask(__name__)
    DATABASE = Path(__file__).with_name("bare.sqlite3")
    _local = threading.local()

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


    def connection():
        # One connection per worker thread, opened on first use (after gunicorn forks).
        conn = getattr(_local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(DATABASE, timeout=15, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS answers (id INTEGER PRIMARY KEY, token TEXT "
                "UNIQUE, nps INTEGER, csat INTEGER, comment TEXT)"
            )
            _local.conn = conn
        return conn


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
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        cursor = conn.execute(
            "INSERT INTO answers (token, nps, csat, comment) VALUES (?, ?, ?, ?)",
            (token, nps, csat, comment),
        )
        conn.execute("COMMIT")
        return THANKS.format(code=cursor.lastrowid, nps=nps, csat=csat, length=len(comment))
    '''
)


# --------------------------------------------------------------------------- set-up


@dataclass
class DbCheck:
    responses: int
    distinct_receipts: int
    answered_receipts: int
    #: Responses to the custom survey, those with answer rows, and the respondents its
    #: scale question counts in the daily question counts.
    custom_responses: int
    with_answer_rows: int
    counted_respondents: int


def count_rows(instance: Instance, survey_key: str) -> DbCheck:
    from sqlalchemy import text

    with sql(instance.url) as conn:

        def one(query: str) -> Any:
            return conn.execute(text(query), {"id": store_id, "key": survey_key}).one()

        store_id = conn.execute(
            text("SELECT id FROM stores WHERE code = :code"), {"code": instance.store_code}
        ).scalar_one()
        row = one("SELECT count(*), count(DISTINCT receipt_id) FROM responses WHERE store_id = :id")
        (answered,) = one(
            "SELECT count(*) FROM receipts WHERE store_id = :id AND answered_at IS NOT NULL"
        )
        (custom,) = one(
            "SELECT count(*) FROM responses r JOIN survey_versions v "
            "ON v.id = r.survey_version_id WHERE r.store_id = :id AND v.survey_key = :key"
        )
        (with_rows,) = one(
            "SELECT count(DISTINCT a.response_id) FROM response_answers a "
            "JOIN responses r ON r.id = a.response_id WHERE r.store_id = :id"
        )
        (counted,) = one(
            "SELECT coalesce(sum(count), 0) FROM question_daily_counts WHERE store_id = :id "
            "AND question_key = 'checkout_ease' AND value = ''"
        )
    return DbCheck(
        int(row[0]), int(row[1]), int(answered), int(custom), int(with_rows), int(counted)
    )


def count_bare_rows(instance: Instance) -> int:
    """The rows the bare app inserted (one per successful POST)."""
    import sqlite3

    path = instance.workdir / "bare" / "bare.sqlite3"
    if not path.exists():
        return 0
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("SELECT count(*) FROM answers").fetchone()[0])


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


class Window:
    """The measured window, set by the main thread once the servers are warm; the clients
    run until it closes."""

    def __init__(self) -> None:
        self.start = float("inf")
        self.stop = float("inf")


#: What a client adds to the receipt survey's answers (the custom questions), if anything.
MoreAnswers = Callable[[random.Random], dict[str, Any]] | None


def client_loop(
    port: int,
    source: Handout[str],
    window: Window,
    timeout: float,
    seed: int,
    stats: ClientStats,
    more: MoreAnswers = None,
) -> None:
    """One shopper after another: GET the survey, POST the answers. gunicorn's sync
    workers close the connection after each answer; http.client reconnects by itself.
    Each pair comes from its own address (``served.shopper_address``), as phones do."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    pairs = 0
    try:
        while time.monotonic() < window.stop:
            token = source.next()
            if token is None:
                return
            path = f"/r/{token}"
            pairs += 1
            base_headers = {
                "Accept-Language": "zh-CN,zh;q=0.9",
                "User-Agent": "submit-bench",
                "X-Forwarded-For": shopper_address(seed * 65536 + pairs % 65536),
            }
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
                form_fields: dict[str, Any] = answers(rng, match.group(1).decode())
                if more is not None:
                    form_fields |= more(rng)
                form = urlencode(form_fields, doseq=True)
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


def combined(name: str, parts: list[PhaseResult]) -> PhaseResult:
    """Phases of one kind run at several times, as one: their pairs and seconds added, their
    CPU shares weighted by their seconds."""
    stats = ClientStats()
    for part in parts:
        stats.merge(part.stats)
    seconds = sum(part.seconds for part in parts)

    def weighted(values: list[float]) -> float:
        return sum(v * p.seconds for v, p in zip(values, parts, strict=True)) / seconds

    server = [part.server_cpu for part in parts]
    return PhaseResult(
        name,
        stats,
        seconds,
        weighted([part.client_cpu for part in parts]),
        None if None in server else weighted([cpu or 0.0 for cpu in server]),
        ran_out=any(part.ran_out for part in parts),
        warmup=sum(part.warmup for part in parts),
        load=parts[0].load,
    )


def run_phase(
    name: str,
    port: int,
    server_pid: int,
    tokens: Iterable[str],
    clients: int,
    warmup: float,
    seconds: float,
    timeout: float,
    more: MoreAnswers = None,
) -> PhaseResult:
    load = os.getloadavg()[0]
    source = Handout(tokens)
    per_client = [ClientStats() for _ in range(clients)]
    window = Window()
    start = time.monotonic()
    threads = [
        threading.Thread(
            target=client_loop,
            args=(port, source, window, timeout, n, per_client[n], more),
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


def print_table(portal: PhaseResult, custom: PhaseResult, bare: PhaseResult) -> None:
    phases = (portal, custom, bare)

    def row(label: str, value: Callable[[PhaseResult], str]) -> None:
        print(f"{label:<34} " + " ".join(f"{value(phase):>14}" for phase in phases))

    print(f"{'':<34} {'portal':>14} {'3 custom q.':>14} {'bare Flask':>14}")
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
    print_custom_ratios(portal, custom)
    for result in phases:
        detail = {**result.stats.statuses, **result.stats.exceptions}
        if detail:
            print(f"{result.name} errors: " + ", ".join(f"{k} x{v}" for k, v in detail.items()))
        if result.ran_out:
            print(
                f"warning: {result.name} ran out of receipts before the time was up; "
                "raise --receipts"
            )


def print_custom_ratios(portal: PhaseResult, custom: PhaseResult) -> None:
    """The cost of three custom questions: custom over standard-only, on the same server in
    the same run (above 1.10 for a cost, below 0.91 for pairs/s: more than 10 %)."""
    if portal.pairs_per_second:
        ratio = custom.pairs_per_second / portal.pairs_per_second
        print(f"{'ratio custom/standard (pairs/s)':<34} {ratio:>14.3f}")
    if portal.server_ms_per_pair and custom.server_ms_per_pair:
        cost = custom.server_ms_per_pair / portal.server_ms_per_pair
        print(f"{'ratio custom/standard (CPU/pair)':<34} {cost:>14.3f}")
    standard_p50 = percentile(portal.stats.post_ms, 0.50)
    if standard_p50 == standard_p50 and standard_p50 > 0:  # not NaN: some POSTs measured
        latency = percentile(custom.stats.post_ms, 0.50) / standard_p50
        print(f"{'ratio custom/standard (POST p50)':<34} {latency:>14.3f}")


# --------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per app")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument(
        "--receipts", type=int, default=3000, help="receipts issued up front, for each survey"
    )
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


def main() -> int:
    args = parse_args()
    stop_on_sigterm()
    started = time.monotonic()
    with portal_instance("submit-bench-", args.database_url, args.keep) as instance:
        t0 = time.monotonic()
        survey_key = publish_custom_survey(instance)
        tokens = [ticket.token for ticket in issue_tickets(instance, args.receipts)]
        custom_tokens = [
            ticket.token
            for ticket in issue_tickets(instance, args.receipts, survey_key, prefix="CUSTOM")
        ]
        issued = len(tokens) + len(custom_tokens)
        log(f"issued {issued} receipts in {time.monotonic() - t0:.1f} s")
        portal, custom, bare = run_all(args, instance, tokens, custom_tokens)
        print(f"\nDatabase: {describe(instance.url)}")
        print(
            f"gunicorn: {args.workers} sync workers on {HOST}; {args.clients} client threads "
            f"(http.client), warm-up >= {args.warmup:g} s then {args.seconds:g} s each; "
            f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n"
        )
        print_table(portal, custom, bare)
        passed = data_check(instance, survey_key, portal, custom, bare)
    print(f"\nTotal run time {time.monotonic() - started:.1f} s")
    return 0 if passed else 1


#: The portal's two phases (receipt survey, custom survey) alternate this many times, each
#: for its share of --seconds: load from elsewhere and a server still warming up then weigh
#: on both alike.
ROUNDS = 2


def run_all(
    args: argparse.Namespace, instance: Instance, tokens: list[str], custom_tokens: list[str]
) -> tuple[PhaseResult, PhaseResult, PhaseResult]:
    """The portal with the receipt survey and with the custom survey, alternating on the same
    server, then the bare Flask phase with the same server settings."""
    workdir = instance.workdir

    def phase(
        name: str,
        port: int,
        pid: int,
        items: Iterable[str],
        more: MoreAnswers = None,
        seconds: float = args.seconds,
    ) -> PhaseResult:
        return run_phase(
            name, port, pid, items, args.clients, args.warmup, seconds, args.timeout, more
        )

    log(
        f"portal: gunicorn --workers {args.workers}, {args.clients} clients, the receipt "
        f"survey and the custom one in turn, {ROUNDS} x (warm-up >= {args.warmup:g} s then "
        f"{args.seconds / ROUNDS:g} s) each"
    )
    server = gunicorn(
        "portal:create_app()", instance.env, workdir / "portal.log", ROOT, workers=args.workers
    )
    # One iterator per survey: each round takes up where the last one stopped.
    standard_left, custom_left = iter(tokens), iter(custom_tokens)
    standard_parts: list[PhaseResult] = []
    custom_parts: list[PhaseResult] = []
    share = args.seconds / ROUNDS
    with server as (port, pid):
        for _round in range(ROUNDS):
            standard_parts.append(phase("portal", port, pid, standard_left, seconds=share))
            custom_parts.append(
                phase("portal, 3 custom questions", port, pid, custom_left, custom_answers, share)
            )
    portal = combined("portal", standard_parts)
    custom = combined("portal, 3 custom questions", custom_parts)

    bare_dir = workdir / "bare"
    bare_dir.mkdir()
    (bare_dir / "bare_app.py").write_text(BARE_APP)
    log("bare Flask: same server settings and client loop")
    bare_env = {k: v for k, v in instance.env.items() if not k.startswith("PORTAL_")}
    server = gunicorn(
        "bare_app:app", bare_env, workdir / "bare.log", bare_dir, workers=args.workers
    )
    with server as (port, pid):
        bare = phase("bare Flask", port, pid, [f"bare-{n:07d}" for n in range(100_000)])
    return portal, custom, bare


def data_check(
    instance: Instance,
    survey_key: str,
    portal: PhaseResult,
    custom: PhaseResult,
    bare: PhaseResult,
) -> bool:
    """Print the SQL check of this run's store; True when it passes."""
    server_log = read_server_log(instance.workdir / "portal.log")
    check = count_rows(instance, survey_key)
    expected = portal.stats.ok + custom.stats.ok
    unknown = portal.stats.post_unknown + custom.stats.post_unknown
    print("\nData check (SQL, this run's store):")
    print(f"  successful submits seen by the clients : {expected}")
    print(f"  POSTs with no answer (timeout/reset)   : {unknown}")
    print(f"  responses rows                         : {check.responses}")
    print(f"  distinct receipts in responses         : {check.distinct_receipts}")
    print(f"  receipts marked answered               : {check.answered_receipts}")
    print(f"  responses to the custom survey         : {check.custom_responses}")
    print(f"  ... with custom answer rows            : {check.with_answer_rows}")
    print(f"  ... counted by its scale question      : {check.counted_respondents}")
    bare_rows = count_bare_rows(instance)
    print(f"  bare Flask: rows inserted / its submits : {bare_rows} / {bare.stats.ok}")
    print(f"  'database is locked' in the server log : {server_log.locked}")
    print(f"  tracebacks in the server log           : {server_log.tracebacks}")
    counts_ok = (
        expected <= check.responses <= expected + unknown
        and check.responses == check.distinct_receipts == check.answered_receipts
    )
    custom_ok = (
        custom.stats.ok <= check.custom_responses <= custom.stats.ok + custom.stats.post_unknown
        and check.custom_responses == check.with_answer_rows == check.counted_respondents
    )
    problems = []
    if not bare.stats.ok <= bare_rows <= bare.stats.ok + bare.stats.post_unknown:
        problems.append("the bare app's rows do not match its successful submits")
    if not custom_ok:
        problems.append("the custom answers or their counts do not match the custom submits")
    if not counts_ok:
        problems.append("the response counts do not match the successful submits")
    if any(p.stats.post_5xx or p.stats.locked for p in (portal, custom)) or server_log.locked:
        problems.append("a POST got a 5xx or 'database is locked'")
    if portal.stats.errors or custom.stats.errors or bare.stats.errors:
        problems.append("some requests failed (see the errors above)")
    if portal.stats.ok == 0 or custom.stats.ok == 0 or bare.stats.ok == 0:
        problems.append("no successful submit at all")
    verdict = "FAIL" if problems else "PASS"
    print(
        f"  {verdict}: "
        + (
            "; ".join(problems)
            if problems
            else "one response per successful submit, none lost or duplicated; "
            "custom answers stored and counted; no failed request, no 5xx, no lock errors"
        )
    )
    return not problems


if __name__ == "__main__":
    sys.exit(main())
