"""Every bench script runs on tiny data and prints its table; its ``--help`` works, and the
defaults that bench/README.md shows on its command lines are the ones argparse uses.

The developers' guide: "Every bench script runs with its documented defaults, and a smoke
run on tiny data is part of the suite." The scripts run as subprocesses, as a developer
runs them; they are mostly interpreter start-up and waiting for their own servers, so a
pool runs four at a time, all started when the first test of this module asks for one.
SQLite only: each script makes its own temporary SQLite file, and their PostgreSQL option
(``--database-url``) is the same code with another URL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
README = BENCH / "README.md"
#: Modules of bench/ that the scripts import; they are not run on their own.
HELPERS = {
    "served.py",
    "custom_questions.py",
    "dataset_draw.py",
    "dataset_write.py",
    "dataset_pg.py",
    "scale_http.py",
}
#: The longest one script may take here before it is stopped (the whole module: ~60 s).
SCRIPT_LIMIT = 240

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(
        bool(os.environ.get("PORTAL_TEST_DATABASE_URL")),
        reason="bench smoke runs use their own SQLite files; run them in the SQLite suite",
    ),
]


@dataclass(frozen=True)
class Smoke:
    #: Options for tiny data; ``{tmp}`` is a scratch folder of the test session.
    args: tuple[str, ...]
    #: Patterns that must each match a whole line of the output (the table's rows).
    lines: tuple[str, ...]


NUMBER = r"[\d.,]+"
SMOKES = {
    "qr_bench.py": Smoke(
        ("--urls", "20", "--rounds", "1"),
        (
            rf"library default PNG\s+{NUMBER}\s+\d+\s+1\.0x",
            rf"surveys\.qr render_qr_svg\s+{NUMBER}\s+\d+\s+{NUMBER}x",
        ),
    ),
    "submit_bench.py": Smoke(
        ("--seconds", "1", "--warmup", "0", "--receipts", "200", "--clients", "2"),
        (
            rf"GET\+POST pairs/s \(200 \+ code\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}",
            r"POST 5xx\s+0\s+0\s+0",
            rf"ratio custom/standard \(pairs/s\)\s+{NUMBER}",
            rf"ratio custom/standard \(CPU/pair\)\s+{NUMBER}",
            r"\s+PASS: one response per successful submit, none lost or duplicated; .*",
        ),
    ),
    "dashboard_bench.py": Smoke(
        ("--responses", "1000", "--stores", "5", "--repeat", "1"),
        (
            rf"store page, 30 days\s+< 150\s+{NUMBER}\s+{NUMBER}.*",
            rf"chain page, 365 days\s+< 300\s+{NUMBER}\s+{NUMBER}.*",
            rf"metrics API, one store, 365 days\s+—\s+{NUMBER}.*",
            rf"store page, 30 days, today\s+< 150\s+{NUMBER}\s+{NUMBER}.*",
            rf"store page, 30 days, 3 custom questions\s+< 150\s+{NUMBER}\s+{NUMBER}.*",
            rf"store page, 30 days, filtered by an answer\s+—\s+{NUMBER}.*",
            rf"A/B comparison, one store, 30 days\s+—\s+{NUMBER}.*",
            rf"custom questions, store page, 30 days: today {NUMBER} ms, with them {NUMBER} ms, "
            rf"ratio {NUMBER} (ok|MISS) \(fastest requests. ratio {NUMBER}\)",
            rf"custom-question part alone, 30 days\s+—\s+{NUMBER}.*",
            rf"ratio: store page, 365 days / full GROUP BY\s+<= 0.05\s+{NUMBER}x\s+(ok|MISS)",
            rf"ratio: chain page, 365 days / full GROUP BY\s+<= 0.10\s+{NUMBER}x\s+(ok|MISS)",
        ),
    ),
    "ranking_bench.py": Smoke(
        ("--responses", "1000", "--stores", "5", "--repeat", "1"),
        (
            rf"raw SQL: GROUP BY staff, one month\s+—\s+{NUMBER}.*",
            rf"rank_month \(one month\)\s+< 500\s+{NUMBER}.*",
        ),
    ),
    "nps_bounds_bench.py": Smoke(
        ("--staff", "40", "--repeat", "1"),
        (
            rf"Cornish-Fisher \(before\)(\s+{NUMBER}){{4}}",
            rf"exact \(nps_quantiles\)(\s+{NUMBER}){{4}}",
            rf"largest \|exact - Cornish-Fisher\|: {NUMBER} NPS points .*",
        ),
    ),
    "export_bench.py": Smoke(
        ("--rows", "1000", "--no-heap"),
        (
            r"GET /exports/responses\.csv\s+1,000\s.*",
            r"PASS: CSV 1,000 of 1,000 rows .*",
            r"PASS: XLSX 1,000 of 1,000 rows .*",
            r"\s+CSV, version 2 \(3 custom\)\s+500\s.*",
            r"SHOWN: three custom questions: CSV CPU seconds per row [\d.]+x .*",
        ),
    ),
    "dataset.py": Smoke(
        (
            *("--out", "{tmp}/dataset.sqlite3", "--responses", "1000", "--stores", "5"),
            "--custom-questions",
        ),
        (
            r"responses\s+1000",
            r"stores\s+5",
            r"busiest_store\s+\S+",
            r"custom_questions\s+True",
            r"answer_rows\s+[1-9]\d*",
        ),
    ),
    "themes_bench.py": Smoke(
        ("--limit", "40", "--repeat", "1"),
        (
            rf"queue\s+\d+\s+\d+\s+({NUMBER}|—)\s+({NUMBER}|—)\s+({NUMBER}|—)",
            rf"micro average: precision {NUMBER}, recall {NUMBER}, F1 {NUMBER}",
            rf"comment sentiment accuracy: {NUMBER}",
            rf"ms per comment: {NUMBER} \(one-time tokenizer load \d+ ms\)",
        ),
    ),
    "scale_bench.py": Smoke(
        (
            *("--database-url", "sqlite:///{tmp}/scale.sqlite3", "--responses", "2000"),
            *("--stores", "5", "--repeat", "1", "--explain", "--seconds", "1"),
        ),
        (
            rf"reference: GROUP BY store, week, all rows\s+{NUMBER}\s+{NUMBER}\s+1",
            rf"store page, 365 days\s+{NUMBER}\s+{NUMBER}\s+1\s+\d+\s+{NUMBER}x .*",
            rf"HR staff page, 12-month trend\s+{NUMBER}\s+{NUMBER}\s+1\s+\d+\s+{NUMBER}x .*",
            r"=== EXPLAIN: chain page, 365 days .*",
            rf"peak RSS with {NUMBER}x the rows: [+-]\d+ MB",
            rf"  portal \(gunicorn, 2 sync workers\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}",
            rf"ratio portal/bare \(pairs/s\)\s+{NUMBER}",
        ),
    ),
    "load_bench.py": Smoke(
        (
            *("--shoppers", "5", "--seconds", "2", "--receipts", "300", "--think", "0.05"),
            *("--double-rate", "0.4", "--timeout-rate", "0.2", "--workers", "2"),
        ),
        (
            r"accepted \(200 with a validation code\)\s+[1-9]\d*",
            r"HTTP 5xx\s+0",
            rf"POST latency, ms\s+p50\s+{NUMBER}\s+p95\s+{NUMBER}\s+p99\s+{NUMBER}",
            r"\s+double, concurrent\s+\d+.*",
            r"\s+timeout \+ retry\s+\d+.*",
            r"\s+every accepted submit stored exactly once, under the id its code names\s+\d+\s+ok",
            r"PASS",
        ),
    ),
}


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


def _run(args: list[str]) -> Finished:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=SCRIPT_LIMIT)
    except subprocess.TimeoutExpired:
        # SIGTERM first: the HTTP benchmarks stop their gunicorn in a finally block.
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        err += f"\n[stopped after {SCRIPT_LIMIT} s]"
    return Finished(proc.returncode, out, err)


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Finished]]]:
    """The smoke runs (and the ``--help`` run) that the selected tests of this module ask
    for, all started at once on a pool of four."""
    tmp = tmp_path_factory.mktemp("bench-smoke")
    selected = [item for item in request.session.items if item.module is request.module]
    wanted = {item.callspec.params["script"] for item in selected if hasattr(item, "callspec")}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {}
        if any("help" in item.name for item in selected):
            futures["--help"] = pool.submit(_run, ["-c", HELP_DRIVER, str(BENCH), *SMOKES])
        smoked = {item.callspec.params["script"] for item in selected if "tiny" in item.name}
        for script in sorted(wanted & smoked, key=list(SMOKES).index):
            args = [a.format(tmp=tmp) for a in SMOKES[script].args]
            futures[script] = pool.submit(_run, [str(BENCH / script), *args])
        yield futures


#: Runs each script named on the command line as ``__main__`` with ``--help``; prints a
#: JSON object of script name to [exit code, output].
HELP_DRIVER = """
import contextlib, io, json, runpy, sys
bench, scripts = sys.argv[1], sys.argv[2:]
sys.path.insert(0, bench)
helps = {}
for script in scripts:
    sys.argv = [script, "--help"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(f"{bench}/{script}", run_name="__main__")
            code = 0
        except SystemExit as stop:
            code = stop.code or 0
    helps[script] = [code, out.getvalue()]
print(json.dumps(helps))
"""


def _finished(runs: dict[str, Future[Finished]], key: str) -> Finished:
    return runs[key].result(timeout=SCRIPT_LIMIT + 60)


def test_every_script_has_a_smoke_run_and_a_row_in_the_readme() -> None:
    scripts = {path.name for path in BENCH.glob("*.py")} - HELPERS
    assert scripts == set(SMOKES)
    table = set(re.findall(r"^\| `(\w+\.py)` \|", README.read_text(), re.M))
    assert table == scripts


@pytest.mark.parametrize("script", sorted(SMOKES))
def test_script_runs_on_tiny_data_and_prints_its_table(
    runs: dict[str, Future[Finished]], script: str
) -> None:
    done = _finished(runs, script)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    lines = [line.rstrip() for line in done.stdout.splitlines()]
    for pattern in SMOKES[script].lines:
        assert any(re.fullmatch(pattern, line) for line in lines), (
            f"{script}: no line matches {pattern!r} in:\n{done.stdout}"
        )


def documented_options(script: str) -> dict[str, str | None]:
    """The ``[--name value]`` options of the script's command lines in the README (a flag
    without a value maps to None)."""
    text = README.read_text()
    commands = re.findall(
        rf"^\.venv/bin/python bench/{re.escape(script)}\b(.*(?:\n {{8,}}\S.*)*)", text, re.M
    )
    assert commands, f"bench/README.md shows no command line for {script}"
    options: dict[str, str | None] = {}
    for command in commands:
        for name, value in re.findall(r"\[(--[\w-]+)(?: ([^\]\s]+))?\]", command):
            options[name] = value or None
    return options


def help_defaults(help_text: str) -> dict[str, str]:
    """Each option's default as ``--help`` shows it (ArgumentDefaultsHelpFormatter)."""
    defaults = {}
    for entry in re.split(r"\n(?=  -)", help_text):
        name = re.match(r"\s*(?:-\w, )?(--[\w-]+)", entry)
        # The formatter appends the default last; a help text may speak of defaults too.
        shown = re.findall(r"\(default: ([^)]*)\)", " ".join(entry.split()))
        if name:
            defaults[name.group(1)] = shown[-1] if shown else ""
    return defaults


def _same(documented: str, default: str) -> bool:
    try:
        return float(documented.replace("_", "")) == float(default)
    except ValueError:
        return documented == default


@pytest.mark.parametrize("script", sorted(SMOKES))
def test_help_works_and_the_readme_shows_the_real_defaults(
    runs: dict[str, Future[Finished]], script: str
) -> None:
    done = _finished(runs, "--help")
    assert done.returncode == 0, done.stderr
    code, help_text = json.loads(done.stdout)[script]
    assert code == 0, help_text
    assert help_text.startswith(f"usage: {script}")
    defaults = help_defaults(help_text)
    for name, value in documented_options(script).items():
        assert name in defaults, f"README shows {name} for {script}; --help does not know it"
        if value is None or defaults[name] in ("None", ""):
            continue  # a flag, or an example value of an option without a default
        assert _same(value, defaults[name]), (
            f"README shows {name} {value} for {script}; its default is {defaults[name]}"
        )


def test_help_defaults_are_read_as_argparse_prints_them() -> None:
    help_text = (
        "usage: x.py [-h] [--workers WORKERS]\n\noptions:\n"
        "  -h, --help            show this help message and exit\n"
        "  --workers WORKERS     gunicorn workers, a rather long help text that wraps onto\n"
        "                        the next line (default: 3)\n"
        "  --keep                keep the folder (default: False)\n"
        "  --reuse REUSE         SQLite file (default: None)\n"
    )
    assert help_defaults(help_text) == {
        "--help": "",
        "--workers": "3",
        "--keep": "False",
        "--reuse": "None",
    }
    assert _same("1_000_000", "1000000") and _same("10", "10.0") and not _same("8", "2")
