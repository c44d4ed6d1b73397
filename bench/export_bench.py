"""Benchmark: the responses export (CSV and XLSX) over a large table, time and peak memory.

Run as ``.venv/bin/python bench/export_bench.py [--rows 1000000] [--no-heap] [--keep]``.

In one run, on this machine only:

1. a temporary SQLite file (WAL) migrated to head, then 20 stores (two outside China, so
   that offsets differ), 10 staff each, an admin login, and ``--rows`` answered receipts
   with their responses over the last 360 days, written with bulk Core inserts in chunks
   (explicit ids, so no read-back is needed); about a third have a comment, some Chinese,
   some formula-like. Every other response answers version 2 of the receipt survey, which
   adds three custom questions (a 1-5 scale, a choice with "other", a short text), with
   their ``response_answers`` rows; the others answer version 1, which asks none;
2. each measurement in a fresh child process, so that no phase's memory is left over for
   the next:

   - ``raw scan``: ``SELECT * FROM responses`` on the DB-API cursor, rows fetched and
     dropped: the floor any export sits on;
   - ``export query``: the export's own SELECT (joins, scoping, ORDER BY) through
     `portal.exports.queries.iter_response_rows`, building each row's dataclass, no file;
   - ``CSV`` and ``XLSX``: ``GET /exports/responses.{csv,xlsx}`` for every row through the
     Flask test client as an admin, the body read chunk by chunk (never joined; the XLSX
     chunks go to a file, which is then opened as a zip and its rows counted);

   - ``CSV, version 1`` and ``CSV, version 2``: the CSV of each half alone
     (``survey=receipt&versions=1`` or ``2``), for the cost of the custom questions: the
     ratio of their CPU seconds per row is printed (target under `CUSTOM_FACTOR`; CPU
     time, as SQLite runs in the process and other load on the machine does not count);

   each prints seconds, rows/s, the RSS before the export (imports, app, sign-in: about
   180 MB, mostly scipy.stats and matplotlib, which the portal imports) and the peak RSS
   during the export. The peak is Linux's VmHWM, reset through ``/proc/self/clear_refs``
   just before the export starts: ``getrusage``'s ``ru_maxrss`` cannot be reset, and after
   fork + exec it even carries the parent's peak;
3. unless ``--no-heap``, the CSV and XLSX runs again under ``tracemalloc``, for the peak
   of the Python heap (slower: those runs' times are not the ones to quote).

The memory target is under 200 MB for what an export adds to the process (peak RSS during
the export minus the RSS before it); the whole process's peak is printed beside it. The
run exits 1 if an export misses the target or returns a wrong row count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MB = 200.0
#: Seconds per row of the CSV of version 2 (three custom questions) over version 1's.
CUSTOM_FACTOR = 2.0
#: Below this many rows per half, the ratio is mostly fixed costs: shown, not judged.
JUDGED_ROWS = 20_000
CUSTOM_QUESTIONS = (
    {
        "key": "checkout_ease",
        "kind": "scale",
        "min": 1,
        "max": 5,
        "text": {"zh_CN": "结账方便吗？", "en": "How easy was checkout?"},
    },
    {
        "key": "department",
        "kind": "choice",
        "other": True,
        "text": {"zh_CN": "您主要去了哪个部门？", "en": "Which department did you mostly visit?"},
        "choices": [
            {"key": key, "text": {"zh_CN": zh, "en": en}}
            for key, zh, en in (
                ("grocery", "食品", "Grocery"),
                ("fresh", "生鲜", "Fresh food"),
                ("household", "日用品", "Household"),
            )
        ],
    },
    {
        "key": "visit_note",
        "kind": "short_text",
        "max_length": 200,
        "text": {"zh_CN": "一句话说说这次购物", "en": "Your visit in a few words"},
    },
)
CSV_MODES = {
    "csv": "",
    "csv-v1": "&survey=receipt&versions=1",
    "csv-v2": "&survey=receipt&versions=2",
}
CHUNK = 20_000
DAYS = 360
ADMIN_EMAIL = "bench-admin@example.com"
PASSWORD = "bench-password-123"
STORE_ZONES = ["Asia/Shanghai"] * 18 + ["Asia/Tokyo", "Europe/London"]
COMMENTS = (
    "收银员非常热情，结账又快又准，点赞！",
    "排队结账等了二十多分钟，只开了两个收银台。",
    "Clean store and friendly staff, will come back.",
    "The shelf price and the price at the till were different.",
    '=HYPERLINK("http://example.com","click")',
    "-2 stars, the milk was sour",
    "+1 for the new bakery",
    "@everyone the car park is a mess",
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def reset_peak_rss() -> bool:
    """Start the peak RSS afresh (Linux >= 4.0), so that it covers the export only and not
    the imports and app set-up before it; False where this is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    """Peak resident set size of this process image, in MB.

    Linux's VmHWM, not ``getrusage``: after fork + exec, ``ru_maxrss`` still carries the
    parent's high-water mark (here the builder's, well above the child's).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


# --- building the database ----------------------------------------------------------------


def publish_custom_version(session: Any, when: datetime) -> int:
    """Version 2 of the receipt survey: version 1 and `CUSTOM_QUESTIONS`; its id."""
    import copy

    from portal.versions import default_survey, publish_survey_version
    from surveys.loader import LIBRARY, parse_definition, read_yaml

    document = copy.deepcopy(read_yaml(LIBRARY / "receipt.yaml"))
    document["questions"].extend(copy.deepcopy(CUSTOM_QUESTIONS))
    version = publish_survey_version(session, parse_definition(document), when)
    version.survey_id, version.number = default_survey(session).id, 2
    session.flush()
    return int(version.id)


def custom_answers(rng: random.Random, response_id: int) -> list[dict[str, Any]]:
    """The answers of one response to version 2, encoded as ``response_answers`` rows."""
    rows: list[dict[str, Any]] = [
        {"question_key": "checkout_ease", "number": rng.randint(1, 5)},
    ]
    if rng.random() < 0.9:
        if rng.random() < 0.1:
            rows.append({"question_key": "department", "choice": "other", "text": "玩具"})
        else:
            choice = rng.choice(("grocery", "fresh", "household"))
            rows.append({"question_key": "department", "choice": choice})
    if rng.random() < 0.5:
        rows.append({"question_key": "visit_note", "text": rng.choice(COMMENTS)})
    defaults = {"number": None, "choice": None, "text": None}
    return [{**defaults, **row, "response_id": response_id} for row in rows]


def build(path: Path, rows: int, seed: int) -> tuple[date, date, int]:
    """Create and fill the database; return the first and last store-local day used and
    the number of responses to version 2 (the custom questions)."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from portal.audit import CLI
    from portal.auth.operations import create_user
    from portal.db import Base, make_engine
    from portal.models import Role, Staff, Store
    from portal.schema import upgrade_database
    from portal.versions import publish_survey_version
    from surveys.loader import receipt_survey

    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=DAYS)
    receipts = Base.metadata.tables["receipts"]
    responses = Base.metadata.tables["responses"]
    answers = Base.metadata.tables["response_answers"]
    with Session(engine) as session, session.begin():
        stores = [
            Store(code=f"BN-{i:03d}", name=f"基准门店 {i}", region=f"区域 {i % 4}", timezone=zone)
            for i, zone in enumerate(STORE_ZONES, start=1)
        ]
        session.add_all(stores)
        session.flush()
        staff = [
            Staff(store_id=store.id, code=f"S{store.id:03d}{j:02d}", name=f"员工{store.id}-{j}")
            for store in stores
            for j in range(10)
        ]
        session.add_all(staff)
        create_user(
            session,
            email=ADMIN_EMAIL,
            role=Role.ADMIN.value,
            password=PASSWORD,
            actor=CLI,
            now=now,
        )
        version = publish_survey_version(session, receipt_survey(), start - timedelta(days=1))
        session.flush()
        cashiers = [(s.id, s.store_id) for s in staff]
        zones = {store.id: ZoneInfo(store.timezone) for store in stores}
        plain_id = version.id
        custom_id = publish_custom_version(session, start - timedelta(days=1))
        customised = 0
        span = int((now - start).total_seconds())
        first_day, last_day = date.max, date.min
        made = 0
        began = time.perf_counter()
        while made < rows:
            count = min(CHUNK, rows - made)
            receipt_rows, response_rows, answer_rows = [], [], []
            for serial in range(made + 1, made + count + 1):
                version_id = custom_id if serial % 2 == 0 else plain_id
                if version_id == custom_id:
                    customised += 1
                    answer_rows += custom_answers(rng, serial)
                staff_id, store_id = rng.choice(cashiers)
                issued = start + timedelta(seconds=rng.randrange(span))
                submitted = issued + timedelta(seconds=rng.randrange(60, 8 * 3600))
                issued_local = issued.astimezone(zones[store_id])
                submitted_day = submitted.astimezone(zones[store_id]).date()
                first_day, last_day = min(first_day, submitted_day), max(last_day, submitted_day)
                token = uuid.UUID(int=rng.getrandbits(128)).hex
                receipt_rows.append(
                    {
                        "id": serial,
                        "token_id": token,
                        "short_code": f"{serial:016d}",
                        "store_id": store_id,
                        "staff_id": staff_id,
                        "transaction_id": token,
                        "issued_at": issued,
                        "local_day": issued_local.date(),
                        "local_hour": issued_local.hour,
                        "expires_at": issued + timedelta(days=30),
                        "total_cents": rng.randrange(100, 50_000),
                        "source": "bench",
                        "survey_version_id": version_id,
                        "created_at": issued,
                        "answered_at": submitted,
                    }
                )
                nps = min(10, max(0, round(rng.gauss(8, 2.2))))
                low = nps <= 6
                response_rows.append(
                    {
                        "id": serial,
                        "receipt_id": serial,
                        "survey_version_id": version_id,
                        "store_id": store_id,
                        "staff_id": staff_id,
                        "submitted_at": submitted,
                        "local_day": submitted_day,
                        "locale": "zh_CN" if rng.random() < 0.85 else "en",
                        "nps": nps,
                        "csat": min(5, max(1, round(nps / 2))),
                        "rating_friendliness": rng.randint(1, 5),
                        "rating_speed": rng.randint(1, 5),
                        "rating_availability": None if rng.random() < 0.2 else rng.randint(1, 5),
                        "rating_cleanliness": rng.randint(1, 5),
                        "rating_knowledge": None,
                        "problem_reported": low,
                        "problem_category": "checkout_wait" if low else None,
                        "comment": rng.choice(COMMENTS) if rng.random() < 0.35 else None,
                        "redeemed_at": submitted + timedelta(hours=1)
                        if rng.random() < 0.07
                        else None,
                        "redeemed_by_user_id": None,
                    }
                )
            session.execute(insert(receipts), receipt_rows)
            session.execute(insert(responses), response_rows)
            if answer_rows:
                session.execute(insert(answers), answer_rows)
            made += count
            if made % 100_000 == 0 or made == rows:
                rate = made / (time.perf_counter() - began)
                log(f"  built {made:,} / {rows:,} responses ({rate:,.0f} rows/s)")
    engine.dispose()
    return first_day, last_day, customised


# --- measurements (each in a child process) ------------------------------------------------


def signed_in_client(db: Path) -> Any:
    import re

    from portal import create_app
    from portal.config import Settings
    from portal.db import make_engine

    settings = Settings(
        secret_key="export-bench-secret",
        instance_path=str(db.parent / "instance"),
        ratelimit_enabled=False,
        # The download streamed, as measured here, not offered as a job (the job writes the
        # same rows in chunks), and no job consumer threads beside it.
        job_queue="immediate",
        export_job_rows=10**12,
    )
    app = create_app(settings, bind=make_engine(f"sqlite:///{db}"))
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on the sign-in page"
    answer = client.post(
        "/login", data={"csrf_token": match.group(1), "email": ADMIN_EMAIL, "password": PASSWORD}
    )
    assert answer.status_code == 302, answer.status_code
    return client


def measure(mode: str, db: Path, first: str, last: str, heap: bool) -> dict[str, Any]:
    from sqlalchemy import select

    from portal.db import make_engine

    result: dict[str, Any] = {"mode": mode}
    client = signed_in_client(db) if mode in (*CSV_MODES, "xlsx") else None
    engine = make_engine(f"sqlite:///{db}")
    if mode == "query":
        from portal.exports.custom import export_layout, select_versions
        from portal.exports.queries import ExportRange, iter_response_rows, response_export
        from portal.models import User

        with engine.connect() as conn:
            admin = conn.execute(select(User).where(User.email == ADMIN_EMAIL)).one()
    result["peak_reset"] = reset_peak_rss()
    result["rss_before_mb"] = rss_mb()
    if heap:
        tracemalloc.start()
    began = time.perf_counter()
    began_cpu = time.process_time()
    rows = 0
    if mode == "scan":
        with engine.connect() as conn:
            cursor = conn.exec_driver_sql("SELECT * FROM responses")
            while batch := cursor.fetchmany(2000):
                rows += len(batch)
    elif mode == "query":
        from sqlalchemy.orm import Session

        user = User(id=admin.id, role=admin.role, email=ADMIN_EMAIL)
        with Session(engine) as session:
            versions = select_versions(session, None, None)
            layout = export_layout(versions, locale="zh_CN", other_format="其他：%(text)s")
            days = date.fromisoformat(first), date.fromisoformat(last)
            wanted = ExportRange(None, *days, versions)
            for _row in iter_response_rows(session, response_export(user, wanted, layout)):
                rows += 1
    else:
        assert client is not None
        fmt = "xlsx" if mode == "xlsx" else "csv"
        url = f"/exports/responses.{fmt}?from={first}&to={last}{CSV_MODES.get(mode, '')}"
        size = newlines = chunks = 0
        out = tempfile.NamedTemporaryFile(suffix=".xlsx") if mode == "xlsx" else None
        with client.get(url) as response:
            assert response.status_code == 200, response.status_code
            # The body as a WSGI server sends it: chunk by chunk, never joined.
            for chunk in response.response:
                chunks += 1
                size += len(chunk)
                if out is None:
                    newlines += chunk.count(b"\n")
                else:
                    out.write(chunk)
        result["bytes"] = size
        result["chunks"] = chunks
        if out is None:
            rows = newlines - 1
        else:
            out.flush()
            with zipfile.ZipFile(out.name) as archive:
                sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
                # Count <row> elements of the sheet(s) as a stream, minus the headers.
                for name in sheets:
                    with archive.open(name) as sheet:
                        tail = b""
                        while block := sheet.read(1 << 20):
                            rows += (tail + block).count(b"<row ")
                            tail = block[-4:]
                rows -= len(sheets)
            out.close()
    result["seconds"] = time.perf_counter() - began
    result["cpu_seconds"] = time.process_time() - began_cpu
    result["rows"] = rows
    result["peak_rss_mb"] = peak_rss_mb()
    if heap:
        result["heap_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    engine.dispose()
    return result


def run_child(mode: str, db: Path, first: date, last: date, heap: bool = False) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", mode, "--db", str(db)]
    command += ["--first", first.isoformat(), "--last", last.isoformat()]
    if heap:
        command.append("--heap")
    log(f"  measuring {mode}{' (tracemalloc)' if heap else ''} ...")
    out = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- the run -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="answered receipts to export")
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    parser.add_argument("--no-heap", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    parser.add_argument(
        "--child", choices=("scan", "query", *CSV_MODES, "xlsx"), help=argparse.SUPPRESS
    )
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--first", help=argparse.SUPPRESS)
    parser.add_argument("--last", help=argparse.SUPPRESS)
    parser.add_argument("--heap", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.db, args.first, args.last, args.heap)))
        return 0
    if args.rows < 1:
        parser.error("--rows must be positive")

    folder = Path(tempfile.mkdtemp(prefix="export-bench-"))
    db = folder / "bench.sqlite3"
    try:
        log(f"Building {args.rows:,} responses in {db} ...")
        began = time.perf_counter()
        first, last, customised = build(db, args.rows, args.seed)
        build_seconds = time.perf_counter() - began
        size_mb = sum(p.stat().st_size for p in folder.glob("bench.sqlite3*")) / 1e6
        results = {
            mode: run_child(mode, db, first, last)
            for mode in ("scan", "query", "csv", "xlsx", "csv-v1", "csv-v2")
        }
        heaps = {}
        if not args.no_heap:
            heaps = {mode: run_child(mode, db, first, last, heap=True) for mode in ("csv", "xlsx")}
    finally:
        if args.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)

    print(
        f"Database: SQLite file (WAL), {args.rows:,} responses, {size_mb:,.0f} MB, "
        f"built in {build_seconds:.0f} s; range {first} .. {last}"
    )
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average at the end {os.getloadavg()[0]:.2f}"
    )
    print()
    header = f"{'':34}{'rows':>11}{'seconds':>9}{'rows/s':>10}{'RSS before':>12}{'peak RSS':>10}"
    print(header + f"{'growth':>9}{'heap peak':>11}{'output':>10}")
    labels = {
        "scan": "raw SELECT * FROM responses",
        "query": "export query, rows built, no file",
        "csv": "GET /exports/responses.csv",
        "xlsx": "GET /exports/responses.xlsx",
        "csv-v1": "  CSV, version 1 (no custom)",
        "csv-v2": "  CSV, version 2 (3 custom)",
    }
    for mode, label in labels.items():
        r = results[mode]
        heap = heaps.get(mode, {}).get("heap_peak_mb")
        heap_text = "" if heap is None else f"{heap:.1f} MB"
        output = f"{r['bytes'] / 1e6:,.0f} MB" if "bytes" in r else ""
        growth = r["peak_rss_mb"] - r["rss_before_mb"]
        print(
            f"{label:34}{r['rows']:>11,}{r['seconds']:>9.1f}{r['rows'] / r['seconds']:>10,.0f}"
            f"{r['rss_before_mb']:>9.0f} MB{r['peak_rss_mb']:>7.0f} MB{growth:>6.0f} MB"
            f"{heap_text:>11}{output:>10}"
        )
    print()
    print(
        "RSS before = the process with the app built and signed in, before the export "
        "(the portal imports scipy.stats and matplotlib);\npeak RSS = high-water mark "
        "during the export"
        + (
            " (reset just before it)"
            if all(r["peak_reset"] for r in results.values())
            else " (NOT reset: includes the set-up)"
        )
        + "; growth = peak RSS - RSS before, what the export itself added."
    )
    failed = False
    for mode in ("csv", "xlsx"):
        r = results[mode]
        growth = r["peak_rss_mb"] - r["rss_before_mb"]
        ok = growth < TARGET_MB and r["rows"] == args.rows
        failed |= not ok
        whole = "under" if r["peak_rss_mb"] < TARGET_MB else "over"
        print(
            f"{'PASS' if ok else 'FAIL'}: {mode.upper()} {r['rows']:,} of {args.rows:,} rows in "
            f"{r['chunks']:,} chunks; the export added {growth:.0f} MB (target < "
            f"{TARGET_MB:.0f} MB); whole process {r['peak_rss_mb']:.0f} MB, {whole} "
            f"{TARGET_MB:.0f} MB"
        )
    failed |= not report_custom_cost(results, args.rows - customised, customised)
    if heaps:
        print(
            "heap peak: tracemalloc, in a separate run of the same export (slower; times not shown)"
        )
    return 1 if failed else 0


def report_custom_cost(results: dict[str, Any], plain: int, custom: int) -> bool:
    """Print what three custom questions cost the CSV per row, and whether that is within
    `CUSTOM_FACTOR`; with fewer than `JUDGED_ROWS` rows per half it is only shown."""
    v1, v2 = results["csv-v1"], results["csv-v2"]
    rows_ok = (v1["rows"], v2["rows"]) == (plain, custom)
    # CPU time, not wall time: SQLite runs in the process, so it is the whole cost, and it
    # does not count the time other programs on a shared machine take.
    ratio = (v2["cpu_seconds"] / max(v2["rows"], 1)) / (v1["cpu_seconds"] / max(v1["rows"], 1))
    judged = min(plain, custom) >= JUDGED_ROWS
    ok = rows_ok and (ratio < CUSTOM_FACTOR or not judged)
    verdict = ("PASS" if ok else "FAIL") if judged or not rows_ok else "SHOWN"
    print(
        f"{verdict}: three custom questions: CSV CPU seconds per row {ratio:.2f}x those of "
        f"no custom question (version 2, {v2['rows']:,} rows, against version 1, "
        f"{v1['rows']:,} rows; target < {CUSTOM_FACTOR:.1f}x"
        + ("" if judged else f", judged from {JUDGED_ROWS:,} rows each")
        + ")"
    )
    return ok


if __name__ == "__main__":
    sys.exit(main())
