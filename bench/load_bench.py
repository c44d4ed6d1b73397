"""Load run: many shoppers at once against the real portal, with double submits, client
timeouts and retries; every accepted submit must be stored exactly once, and no request may
get a 5xx.

Run as ``.venv/bin/python bench/load_bench.py [--shoppers 200] [--seconds 60]
[--double-rate 0.1] [--timeout-rate 0.05] [--workers 3] [--threads 4] [--database-url URL]``.

In one run, on this machine only (gunicorn binds 127.0.0.1 on a free port):

1. a temporary instance (``served.portal_instance``: SQLite file in WAL mode, or
   ``--database-url``, e.g. PostgreSQL, with a store of its own) and ``--receipts`` receipts
   issued in one transaction;
2. gunicorn serving ``portal:create_app()`` with ``--workers`` gthread workers of
   ``--threads`` threads each (``--threads 1``: sync workers);
3. ``--shoppers`` threads, each one shopper after another for ``--seconds``: take the next
   receipt, GET ``/r/<token>`` (cookie, CSRF token, the page's "opened" stamp), think for
   0 to 2 × ``--think`` seconds, then POST the answers, in one of four ways:

   - once (most visits);
   - a concurrent double submit (``--double-rate`` / 2 of the visits): the same POST, same
     cookie and body, sent on two connections at the same moment (a double tap);
   - a sequential double submit (the other half of ``--double-rate``): the same POST sent
     again once the first answer has arrived (reload, back and Send);
   - a timeout and retry (``--timeout-rate``): the POST is sent with a client timeout of
     ``--short-timeout`` seconds, the client gives up waiting and closes the connection
     (the server carries on), then sends the same POST again with the normal timeout;

4. a report: submits attempted and accepted (200 with a validation code), each kind's
   outcomes, timeouts, retries, 429s, 5xx, GET and POST latency p50/p95/p99, throughput;
5. a check by SQL against what the shoppers saw: every accepted submit stored exactly once,
   under the response id its validation code names; no receipt with two responses; one
   response for each double-submit pair and each retried visit; no response for a receipt
   whose submit was refused or never sent; receipts marked answered = responses; no
   traceback or "database is locked" in the server log. Exits 1 if any check fails, a
   request got a 5xx, or a double submit or retry showed anything but the code or the
   "already answered" page.

Server: gthread, 3 workers × 4 threads by default on this 2-core machine. Three processes
keep both cores busy while one waits (for the database, or the GIL); a few threads in each
let a worker render one request while another waits on the database (a commit, SQLite's
write lock, whose waiters poll, a round trip to PostgreSQL), where a sync worker would sit
idle: sync workers measured about a third fewer submits per second. More threads put
more writers on SQLite's one write lock, whose waiters poll, and before the portal's
submit was made shorter, 3 × 8 and 4 × 16 had submits wait past the 15-s busy timeout
(503); 3 × 4 keeps a margin. The README's section has the figures.

Throttling: the portal allows 30 submits per 10 minutes per client address and every
shopper here connects from 127.0.0.1. Like ``submit_bench.py``, the instance is served as in
production behind one trusted reverse proxy (``PORTAL_TRUSTED_PROXIES=1``) and each visit
sends its own ``X-Forwarded-For``: the throttle stays on, with its real per-submit cost and
limit, and sees one phone per visit, as a store would (a double submit or a retry comes
from the same phone). Turning the limit up would measure a portal that is not the one
deployed. A 429 is therefore a finding, not an expected figure.

Every request has a timeout, the shoppers a deadline, the whole run ``--time-limit``
seconds, and the server is stopped in ``finally``.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import random
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

from served import (  # bench/ is on sys.path when this file runs as a script
    CSRF_RE,
    HOST,
    LOCKED_MARK,
    OPENED_RE,
    ROOT,
    Handout,
    Instance,
    Ticket,
    answers,
    describe,
    gunicorn,
    issue_tickets,
    log,
    percentile,
    portal_instance,
    read_server_log,
    request_cookie,
    server_cpu_seconds,
    shopper_address,
    shown_response_id,
    sql,
    stop_on_sigterm,
)

SINGLE = "single"
CONCURRENT = "double, concurrent"
SEQUENTIAL = "double, sequential"
RETRY = "timeout + retry"
KINDS = (SINGLE, CONCURRENT, SEQUENTIAL, RETRY)


# --------------------------------------------------------------------------- one visit


@dataclass
class Answer:
    """What one request got: a status, or no answer at all (``error`` names why)."""

    status: int | None = None
    error: str | None = None
    ms: float | None = None
    #: The response id behind the validation code on a thank-you page.
    response_id: int | None = None
    locked: bool = False
    short: bool = False

    @property
    def code(self) -> bool:
        return self.status == 200 and self.response_id is not None

    def label(self) -> str:
        if self.code:
            return "code"
        if self.status == 409:
            return "already answered"
        if self.status is None:
            return "client gave up" if self.short else f"no answer ({self.error})"
        return f"HTTP {self.status}"


@dataclass
class Visit:
    ticket: Ticket
    kind: str
    page: Answer
    posts: list[Answer] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return any(post.code for post in self.posts)

    @property
    def shown_ids(self) -> set[int]:
        return {post.response_id for post in self.posts if post.code and post.response_id}

    def outcome(self) -> str:
        """The visit's outcome as the shopper saw it, for the report."""
        labels = [post.label() for post in self.posts]
        if self.kind in (CONCURRENT, SEQUENTIAL) and labels == ["code", "code"]:
            return "same code twice" if len(self.shown_ids) == 1 else "TWO DIFFERENT CODES"
        # Two taps have no order; a second send or a retry comes after the first.
        return " + ".join(sorted(labels) if self.kind == CONCURRENT else labels)

    def fine(self) -> bool:
        """A double submit or retry showed only the code or "already answered", with one
        code; a single submit has no such promise (a 400 is the shopper's own doing)."""
        if self.kind == SINGLE:
            return True
        answered = [post for post in self.posts if not (post.short and post.status is None)]
        return (
            self.accepted
            and len(self.shown_ids) == 1
            and all(post.code or post.status == 409 for post in answered)
        )


@dataclass(frozen=True)
class Plan:
    port: int
    secret_key: str
    timeout: float
    short_timeout: float
    think: float
    double_rate: float
    timeout_rate: float
    stop: float

    def kind(self, rng: random.Random) -> str:
        draw = rng.random()
        if draw < self.double_rate:
            return CONCURRENT if draw < self.double_rate / 2 else SEQUENTIAL
        if draw < self.double_rate + self.timeout_rate:
            return RETRY
        return SINGLE


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    body: str | None = None,
) -> tuple[Answer, bytes, http.client.HTTPResponse | None]:
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as error:
        conn.close()  # a broken or timed-out connection is not reused
        return Answer(error=type(error).__name__), b"", None
    ms = (time.perf_counter() - started) * 1e3
    return Answer(response.status, ms=ms, locked=LOCKED_MARK in data), data, response


def post(
    plan: Plan, path: str, headers: dict[str, str], body: str, *, short: bool = False
) -> Answer:
    """One POST on a connection of its own (a second tap, a retry, a short-timeout send)."""
    conn = http.client.HTTPConnection(
        HOST, plan.port, timeout=plan.short_timeout if short else plan.timeout
    )
    try:
        answer, data, _response = request(conn, "POST", path, headers, body)
    finally:
        conn.close()
    answer.short = short
    if answer.status == 200:
        answer.response_id = shown_response_id(plan.secret_key, data)
    return answer


def send_answers(
    plan: Plan, kind: str, path: str, headers: dict[str, str], body: str
) -> list[Answer]:
    if kind == CONCURRENT:
        second: list[Answer] = []
        tap = threading.Thread(target=lambda: second.append(post(plan, path, headers, body)))
        tap.start()
        first = post(plan, path, headers, body)
        tap.join(plan.timeout + 5)
        return [first, *second] if second else [first, Answer(error="still waiting")]
    if kind == SEQUENTIAL:
        return [post(plan, path, headers, body), post(plan, path, headers, body)]
    if kind == RETRY:
        first = post(plan, path, headers, body, short=True)
        if first.status is not None:
            return [first]  # answered within the short timeout: nothing to retry
        return [first, post(plan, path, headers, body)]
    return [post(plan, path, headers, body)]


def shopper(
    plan: Plan, source: Handout[Ticket], visits: itertools.count[int], seed: int
) -> list[Visit]:
    """One shopper after another until the deadline: open the survey, think, send. Each
    visit is a new phone: a new connection for the page and for each send (a kept-alive
    one would be closed by the server while the shopper thinks)."""
    rng = random.Random(seed)
    done: list[Visit] = []
    while time.monotonic() < plan.stop:
        ticket = source.next()
        if ticket is None:
            break
        path = f"/r/{ticket.token}"
        headers = {
            "Accept-Language": "zh-CN,zh;q=0.9",
            "User-Agent": "load-bench",
            "X-Forwarded-For": shopper_address(next(visits)),
        }
        conn = http.client.HTTPConnection(HOST, plan.port, timeout=plan.timeout)
        try:
            page, data, response = request(conn, "GET", path, headers)
        finally:
            conn.close()
        visit = Visit(ticket, plan.kind(rng), page)
        done.append(visit)
        csrf, opened = CSRF_RE.search(data), OPENED_RE.search(data)
        if page.status != 200 or csrf is None or response is None:
            continue
        time.sleep(rng.uniform(0, 2 * plan.think))
        form = answers(rng, csrf.group(1).decode())
        form["opened"] = opened.group(1).decode() if opened else ""
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        # Only the cookies this GET set: a new phone each visit.
        headers["Cookie"] = request_cookie(response.msg.get_all("Set-Cookie") or [])
        visit.posts = send_answers(plan, visit.kind, path, headers, urlencode(form))
    return done


# --------------------------------------------------------------------------- the run


@dataclass
class Run:
    visits: list[Visit]
    seconds: float
    stuck: int
    ran_out: bool
    server_cpu: float | None
    client_cpu: float
    load: float


def run_shoppers(args: argparse.Namespace, instance: Instance, tickets: list[Ticket]) -> Run:
    server = gunicorn(
        "portal:create_app()",
        instance.env,
        instance.workdir / "portal.log",
        ROOT,
        workers=args.workers,
        threads=args.threads,
    )
    with server as (port, pid):
        load, cpu0, own0 = os.getloadavg()[0], server_cpu_seconds(pid), time.process_time()
        start = time.monotonic()
        plan = Plan(
            port,
            instance.secret_key,
            args.timeout,
            args.short_timeout,
            args.think,
            args.double_rate,
            args.timeout_rate,
            stop=start + args.seconds,
        )
        source, counter = Handout(tickets), itertools.count()
        results: list[list[Visit]] = [[] for _ in range(args.shoppers)]

        def run(n: int) -> None:
            results[n] = shopper(plan, source, counter, seed=args.seed * 10_000 + n)

        threads = [
            threading.Thread(target=run, args=(n,), daemon=True) for n in range(args.shoppers)
        ]
        for thread in threads:
            thread.start()
        # The longest a visit started before the deadline can take: page, thinking, a
        # short-timeout send and its retry (or two taps), each within its timeout.
        deadline = plan.stop + 2 * args.think + args.short_timeout + 3 * args.timeout + 10
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        seconds = time.monotonic() - start
        cpu1, own1 = server_cpu_seconds(pid), time.process_time()
    stuck = sum(thread.is_alive() for thread in threads)
    busy = None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / seconds
    visits = [visit for shopper_visits in results for visit in shopper_visits]
    return Run(visits, seconds, stuck, source.exhausted, busy, (own1 - own0) / seconds, load)


# --------------------------------------------------------------------------- report


def requests_of(run: Run) -> list[Answer]:
    return [visit.page for visit in run.visits] + [p for visit in run.visits for p in visit.posts]


def print_report(args: argparse.Namespace, instance: Instance, run: Run) -> None:
    visits, answered = run.visits, requests_of(run)
    posted = [visit for visit in visits if visit.posts]
    accepted = [visit for visit in posted if visit.accepted]
    statuses = Counter(a.status for a in answered if a.status is not None)
    errors = Counter(a.error for a in answered if a.error and not a.short)
    gets = [v.page.ms for v in visits if v.page.ms is not None]
    posts = [p.ms for v in visits for p in v.posts if p.ms is not None]
    print(f"\nDatabase: {describe(instance.url)}")
    print(
        f"gunicorn: {args.workers} {'gthread' if args.threads > 1 else 'sync'} workers x "
        f"{args.threads} threads on {HOST}; {args.shoppers} shoppers (threads, http.client) for "
        f"{args.seconds:g} s, think 0-{2 * args.think:g} s; timeouts {args.timeout:g} s, short "
        f"{args.short_timeout:g} s; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"load avg (1 min) at start {run.load:.2f}\n"
    )
    rows = [
        ("survey pages opened (GET)", len(visits)),
        ("submits attempted (visits that POSTed)", len(posted)),
        ("POST requests sent", sum(len(v.posts) for v in visits)),
        ("accepted (200 with a validation code)", len(accepted)),
        ("double submits, concurrent", sum(v.kind == CONCURRENT for v in posted)),
        ("double submits, sequential", sum(v.kind == SEQUENTIAL for v in posted)),
        (
            "short client timeouts hit",
            sum(p.short and p.status is None for v in visits for p in v.posts),
        ),
        ("retries sent", sum(v.kind == RETRY and len(v.posts) == 2 for v in visits)),
        ("HTTP 429", statuses[429]),
        ("HTTP 5xx", sum(n for status, n in statuses.items() if status >= 500)),
        (
            "other 4xx (409 aside)",
            sum(n for s, n in statuses.items() if 400 <= s < 500 and s not in (409, 429)),
        ),
        ("no answer (timeout, connection closed)", sum(errors.values())),
        ("'database is locked' in a body", sum(a.locked for a in answered)),
    ]
    for label, value in rows:
        print(f"{label:<40} {value:>10}")
    for label, values in (("GET", gets), ("POST", posts)):
        figures = "  ".join(f"p{q:.0f} {percentile(values, q / 100):8.1f}" for q in (50, 95, 99))
        print(f"{label + ' latency, ms':<40} {figures}")
    print(f"{'throughput: accepted submits/s':<40} {len(accepted) / run.seconds:>10.1f}")
    print(f"{'throughput: requests/s':<40} {len(answered) / run.seconds:>10.1f}")
    busy = "n/a" if run.server_cpu is None else f"{run.server_cpu:.2f}"
    print(f"{'server CPU (cores busy)':<40} {busy:>10}")
    print(f"{'client CPU (cores busy)':<40} {run.client_cpu:>10.2f}")
    print(f"{'run, s (to the last visit)':<40} {run.seconds:>10.1f}")
    print("\nOutcomes by kind, as the shopper saw them:")
    for kind in KINDS:
        outcomes = Counter(v.outcome() for v in posted if v.kind == kind)
        text = ", ".join(f"{name} x{n}" for name, n in outcomes.most_common())
        print(f"  {kind:<20} {sum(outcomes.values()):>6}  {text}")
    if statuses or errors:
        other = {f"HTTP {s}": n for s, n in sorted(statuses.items())} | dict(errors)
        print("  all answers: " + ", ".join(f"{k} x{v}" for k, v in other.items()))
    if run.ran_out:
        print("warning: the shoppers ran out of receipts before the time was up; raise --receipts")


# --------------------------------------------------------------------------- data check


def data_check(instance: Instance, run: Run) -> list[str]:
    """Compare the database with what the shoppers saw; the failures, if any."""
    from sqlalchemy import text

    with sql(instance.url) as conn:
        store_id = conn.execute(
            text("SELECT id FROM stores WHERE code = :code"), {"code": instance.store_code}
        ).scalar_one()
        rows = conn.execute(
            text(
                "SELECT receipt_id, count(*), min(id) FROM responses WHERE store_id = :id "
                "GROUP BY receipt_id"
            ),
            {"id": store_id},
        ).all()
        answered = conn.execute(
            text("SELECT count(*) FROM receipts WHERE store_id = :id AND answered_at IS NOT NULL"),
            {"id": store_id},
        ).scalar_one()
    stored = {int(receipt): (int(count), int(first)) for receipt, count, first in rows}
    responses = sum(count for count, _ in stored.values())
    visits = {visit.ticket.receipt_id: visit for visit in run.visits}
    accepted = [v for v in visits.values() if v.accepted]
    pairs = [v for v in visits.values() if v.posts and v.kind != SINGLE]
    unsure = [v for v in visits.values() if any(p.status is None for p in v.posts)]
    server_log = read_server_log(instance.workdir / "portal.log")
    checks = [
        (
            "every accepted submit stored exactly once, under the id its code names",
            sum(stored.get(v.ticket.receipt_id, (0, 0)) == (1, *v.shown_ids) for v in accepted),
            len(accepted),
        ),
        ("receipts with two or more responses", sum(c > 1 for c, _ in stored.values()), 0),
        (
            "double submits and retries with exactly one response",
            sum(stored.get(v.ticket.receipt_id, (0, 0))[0] == 1 for v in pairs if v.accepted),
            sum(v.accepted for v in pairs),
        ),
        (
            "double submits and retries showing anything but the code",
            sum(not v.fine() for v in pairs),
            0,
        ),
        (
            "responses for receipts not accepted (answer lost allowed)",
            sum(receipt not in visits or not visits[receipt].accepted for receipt in stored),
            sum(not v.accepted and v.ticket.receipt_id in stored for v in unsure),
        ),
        ("receipts marked answered = responses", int(answered), responses),
        ("requests answered 5xx", sum((a.status or 0) >= 500 for a in requests_of(run)), 0),
        ("'database is locked' in the server log", server_log.locked, 0),
        ("tracebacks in the server log", server_log.tracebacks, 0),
        ("shoppers still waiting at the deadline", run.stuck, 0),
    ]
    print("\nData check (SQL, this run's store):")
    print(f"  {'responses stored':<66} {responses:>6}")
    failures = []
    for label, got, expected in checks:
        ok = got == expected
        print(f"  {label:<66} {got:>6}  {'ok' if ok else f'FAIL, expected {expected}'}")
        if not ok:
            failures.append(label)
    if not accepted:
        failures.append("no submit was accepted at all")
    return failures


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    add = parser.add_argument
    add("--shoppers", type=int, default=200, help="concurrent shoppers (threads), 1-500")
    add("--seconds", type=float, default=60.0, help="how long shoppers start visits, s")
    add("--double-rate", type=float, default=0.10, help="share of visits that submit twice")
    add("--timeout-rate", type=float, default=0.05, help="share sent with the short timeout")
    add("--short-timeout", type=float, default=0.01, help="the short client timeout, s")
    add("--timeout", type=float, default=30.0, help="every other request's timeout, s")
    add("--think", type=float, default=1.0, help="mean think time between GET and POST, s")
    add("--workers", type=int, default=3, help="gunicorn workers, 1-16")
    add("--threads", type=int, default=4, help="threads per worker (gthread); 1: sync workers")
    add("--receipts", type=int, default=6000, help="receipts issued up front")
    add("--database-url", default=None, help="portal database instead of a temporary SQLite file")
    add("--time-limit", type=float, default=900.0, help="the whole run's limit, s")
    add("--seed", type=int, default=1, help="random seed")
    add("--keep", action="store_true", help="keep the temporary folder and the server log")
    args = parser.parse_args(argv)
    if not (1 <= args.shoppers <= 500 and 1 <= args.workers <= 16 and 1 <= args.threads <= 32):
        parser.error("--shoppers must be 1-500, --workers 1-16, --threads 1-32")
    if not (0 < args.seconds <= 600 and 0 < args.short_timeout < args.timeout <= 120):
        parser.error("--seconds must be in (0, 600], 0 < --short-timeout < --timeout <= 120")
    if not (
        0 <= args.double_rate
        and 0 <= args.timeout_rate
        and args.double_rate + args.timeout_rate <= 1
    ):
        parser.error("--double-rate and --timeout-rate must be shares adding up to 1 at most")
    if not (0 <= args.think <= 30 and 1 <= args.receipts <= 100_000 and args.time_limit > 0):
        parser.error("--think must be 0-30 s, --receipts 1-100000, --time-limit positive")
    return args


def _out_of_time(_signum: int, _frame: object) -> None:
    raise SystemExit("load bench: --time-limit reached; stopping the server")


def main() -> int:
    args = parse_args()
    stop_on_sigterm()
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(max(1, round(args.time_limit)))
    started = time.monotonic()
    try:
        with portal_instance("load-bench-", args.database_url, args.keep) as instance:
            t0 = time.monotonic()
            tickets = issue_tickets(instance, args.receipts)
            log(f"issued {len(tickets)} receipts in {time.monotonic() - t0:.1f} s")
            log(f"{args.shoppers} shoppers for {args.seconds:g} s ...")
            run = run_shoppers(args, instance, tickets)
            print_report(args, instance, run)
            failures = data_check(instance, run)
    finally:
        signal.alarm(0)
    verdict = "FAIL: " + "; ".join(failures) if failures else "PASS"
    print(f"\n{verdict}\nTotal run time {time.monotonic() - started:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
