"""The HTTP half of ``bench/scale_bench.py``: the receipt API and the survey submit under
gunicorn on the data set's database, each against a bare Flask app in the same run.

- Receipt API: a store ``BENCH-<random>`` with its cashier and a POS key is added to the
  database (`served.portal_instance`); gunicorn (2 sync workers) serves the portal and
  ``CLIENTS`` threads POST ``/api/v1/receipts`` (JSON, the key as a bearer token), each
  request a new transaction id, for ``seconds``; then the same against a bare Flask app
  that parses the JSON and inserts one row per POST into a table of its own in the same
  database (created and dropped by this run).
- Survey submit: `bench/submit_bench.py` itself, run with ``--database-url`` (its own
  store, its bare Flask app), its pairs/s and CPU rows copied into the report.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from served import (  # bench/ is on sys.path when this file runs as a script
    HOST,
    STAFF_CODE,
    gunicorn,
    percentile,
    portal_instance,
    server_cpu_seconds,
    sql,
)
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 4
BARE_TABLE = "scale_bench_bare_receipts"
BARE_APP = textwrap.dedent(
    f'''\
    """Bare Flask baseline for bench/scale_bench.py: one row inserted per JSON POST."""
    import json
    import os
    import secrets

    from flask import Flask, request
    from sqlalchemy import create_engine, text

    app = Flask(__name__)
    engine = create_engine(os.environ["PORTAL_DATABASE_URL"])


    @app.get("/")
    def index():
        return "ok"


    @app.post("/api/v1/receipts")
    def create():
        data = json.loads(request.get_data())
        token = secrets.token_urlsafe(24)
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO {BARE_TABLE} (transaction_id, token) VALUES (:t, :k)"),
                {{"t": data["transaction_id"], "k": token}},
            )
        return {{"token": token}}, 201
    '''
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _post_loop(port: int, key: str, prefix: str, deadline: float, out: list[float]) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        body = json.dumps({"transaction_id": f"{prefix}-{n:07d}", "staff_code": STAFF_CODE})
        began = time.perf_counter()
        try:
            conn.request(
                "POST",
                "/api/v1/receipts",
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            )
            answer = conn.getresponse()
            answer.read()
            if answer.status == 201:
                out.append(time.perf_counter() - began)
        except OSError:
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.close()


def _phase(app_spec: str, env: dict[str, str], cwd: Path, key: str, seconds: float) -> str:
    with gunicorn(app_spec, env, cwd / f"{app_spec[:6]}.log", cwd, workers=2) as (port, pid):
        # Warm-up: every worker imports and compiles what a request needs.
        warm: list[float] = []
        _post_loop(port, key, f"W{time.time_ns()}", time.monotonic() + 1.0, warm)
        latencies: list[float] = []
        cpu = server_cpu_seconds(pid)
        began = time.monotonic()
        threads = [
            threading.Thread(
                target=_post_loop,
                args=(port, key, f"P{i}-{time.time_ns()}", began + seconds, latencies),
            )
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        after = server_cpu_seconds(pid)
    count = len(latencies)
    cpu_ms = (after - cpu) * 1e3 / count if cpu is not None and after is not None and count else 0
    p50 = percentile(latencies, 0.5) * 1e3 if latencies else 0.0
    return f"{count / elapsed:9.1f} {p50:9.1f} {cpu_ms:9.1f}"


def receipt_api_rows(url: str, seconds: float) -> list[str]:
    from sqlalchemy.orm import Session

    from portal.admin.operations import get_store
    from portal.audit import CLI
    from portal.db import make_engine, utcnow
    from portal.pos_api.operations import create_api_key

    with portal_instance("scale-api-", url, keep=False) as instance:
        engine = make_engine(url)
        try:
            with Session(engine) as session, session.begin():
                store = get_store(session, instance.store_code)
                key = create_api_key(session, store, actor=CLI, now=utcnow(), label="scale").secret
        finally:
            engine.dispose()
        log("receipt API: portal ...")
        portal = _phase("portal:create_app()", instance.env, instance.workdir, key, seconds)
        with sql(url) as conn:
            conn.execute(
                text(
                    f"CREATE TABLE {BARE_TABLE} (id INTEGER PRIMARY KEY, "
                    "transaction_id VARCHAR(64), token VARCHAR(64))"
                    if conn.dialect.name == "sqlite"
                    else f"CREATE TABLE {BARE_TABLE} (id SERIAL PRIMARY KEY, "
                    "transaction_id VARCHAR(64), token VARCHAR(64))"
                )
            )
            conn.commit()
        try:
            (instance.workdir / "bare_receipts.py").write_text(BARE_APP)
            log("receipt API: bare Flask ...")
            bare = _phase("bare_receipts:app", instance.env, instance.workdir, key, seconds)
        finally:
            with sql(url) as conn:
                conn.execute(text(f"DROP TABLE {BARE_TABLE}"))
                conn.commit()
    portal_rate, bare_rate = float(portal.split()[0]), float(bare.split()[0])
    return [
        f"\n{'receipt API, POST /api/v1/receipts':<44} {'per s':>9} {'p50 ms':>9} {'CPU ms':>9}",
        f"{'  portal (gunicorn, 2 sync workers)':<44} {portal}",
        f"{'  bare Flask, one INSERT per POST':<44} {bare}",
        f"{'  ratio portal/bare (per s)':<44} {portal_rate / bare_rate if bare_rate else 0:9.3f}",
    ]


def submit_rows(url: str, seconds: float) -> list[str]:
    """`submit_bench.py` on the same database; its table's throughput lines."""
    log("survey submit: bench/submit_bench.py --database-url ...")
    command = [
        sys.executable,
        str(ROOT / "bench" / "submit_bench.py"),
        *("--database-url", url, "--seconds", str(seconds)),
        # Enough receipts for about 100 submits a second (issuing them is most of its set-up).
        *("--receipts", str(max(200, round(seconds * 100)))),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    wanted = ("GET+POST pairs/s", "server CPU ms per pair", "ratio portal/bare", "PASS", "FAIL")
    lines = [line for line in out.stdout.splitlines() if line.strip().startswith(wanted)]
    if out.returncode != 0 and not lines:
        lines = [f"submit_bench.py exited {out.returncode}: {out.stderr[-500:]}"]
    header = (
        f"\nsurvey submit (bench/submit_bench.py){'portal':>21} {'3 custom q.':>14} {'bare':>14}"
    )
    return [header, *lines]


def http_rows(url: str, seconds: float) -> list[str]:
    return receipt_api_rows(url, seconds) + submit_rows(url, seconds)
