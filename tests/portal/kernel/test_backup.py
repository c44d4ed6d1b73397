"""``backup FILE`` and ``restore FILE``: the database and the mystery photos in one archive,
restored to identical counts and figures; a backup taken while another connection writes.

On SQLite always; on PostgreSQL when ``PORTAL_TEST_DATABASE_URL`` names one and
``pg_dump`` is installed (skipped otherwise).
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal.backup import FORMAT, MANIFEST
from portal.calendar import Period, local_today
from portal.dashboard import queries
from portal.db import Base, utcnow, writer
from portal.models import Store
from portal.receipts import issue_receipt
from portal.shopper.operations import record_response
from surveys.answers import Answers
from surveys.loader import receipt_survey
from tests.conftest import add_store_with_cashier


@pytest.fixture
def backup_engine(fresh_engine: Engine) -> Engine:
    if fresh_engine.dialect.name == "postgresql" and not (
        shutil.which("pg_dump") and shutil.which("pg_restore")
    ):
        pytest.skip("pg_dump/pg_restore are not installed")
    return fresh_engine


def _answer(engine: Engine, settings, nps: int, index: int) -> None:
    # As the portal writes: the transaction takes the write lock at BEGIN, so it waits for
    # other writers instead of failing to upgrade a stale read snapshot.
    with Session(writer(engine)) as session, session.begin():
        store = session.scalars(select(Store)).one()
        now = utcnow()
        issued = issue_receipt(
            session,
            settings,
            store=store,
            staff_code="S001",
            transaction_id=f"T-{index}",
            issued_at=None,
            total_cents=None,
            now=now - timedelta(hours=1),
        )
        record_response(
            session,
            settings=settings,
            receipt=issued.receipt,
            definition=receipt_survey(),
            answers=Answers(
                nps=nps,
                csat=4,
                ratings={},
                problem_reported=False,
                problem_category=None,
                comment=f"评论 {index}",
                contact=None,
            ),
            locale="zh_CN",
            now=now,
        )


def _chain(engine: Engine, settings) -> None:
    with Session(engine) as session, session.begin():
        add_store_with_cashier(session)
    for index, nps in enumerate([10, 9, 7, 3, 0, 10]):
        _answer(engine, settings, nps, index)


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: conn.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def _figures(engine: Engine) -> object:
    """The store page's totals of the last 30 days."""
    with Session(engine) as session:
        store = session.scalars(select(Store)).one()
        today = local_today(store.timezone, utcnow())
        return queries.totals(session, [store.id], Period(today - timedelta(days=29), today))


def _photos(settings) -> None:
    folder = settings.photo_folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.jpg").write_bytes(b"\xff\xd8photo-a")
    (folder / "b.jpg").write_bytes(b"\xff\xd8photo-b")


def test_a_restored_copy_has_identical_counts_figures_and_photos(
    backup_engine, make_app, settings, tmp_path
):
    _chain(backup_engine, settings)
    _photos(settings)
    counts, figures = _counts(backup_engine), _figures(backup_engine)
    assert counts["responses"] == 6
    runner = make_app(backup_engine).test_cli_runner()
    archive = tmp_path / "portal.tar.gz"
    made = runner.invoke(args=["backup", str(archive)])
    assert made.exit_code == 0, made.output
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.loads(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]
    assert {"photos/a.jpg", "photos/b.jpg", MANIFEST} <= names
    assert manifest["format"] == FORMAT and manifest["photos"] == 2

    # A bad day: answers after the backup, a photo lost.
    _answer(backup_engine, settings, 1, 99)
    (settings.photo_folder / "a.jpg").unlink()
    assert _counts(backup_engine) != counts

    refused = runner.invoke(args=["restore", str(archive)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert _counts(backup_engine)["responses"] == 7

    restored = runner.invoke(args=["restore", str(archive), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert _counts(backup_engine) == counts
    assert _figures(backup_engine) == figures
    assert (settings.photo_folder / "a.jpg").read_bytes() == b"\xff\xd8photo-a"
    assert sorted(p.name for p in settings.photo_folder.iterdir()) == ["a.jpg", "b.jpg"]


@pytest.mark.parametrize(
    "members",
    [
        {"database.sqlite3": b"SQLite format 3\x00"},
        {MANIFEST: b'{"format": "something-else", "version": 1}'},
        {MANIFEST: b"not json"},
    ],
    ids=["no-manifest", "other-format", "bad-manifest"],
)
def test_restore_refuses_an_archive_that_is_not_ours(
    backup_engine, make_app, settings, tmp_path, members
):
    _chain(backup_engine, settings)
    counts = _counts(backup_engine)
    archive = tmp_path / "other.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    result = (
        make_app(backup_engine).test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
    )
    assert result.exit_code != 0 and "not a backup of this portal" in result.output
    assert _counts(backup_engine) == counts


def test_restore_refuses_a_plain_file(backup_engine, make_app, tmp_path):
    archive = tmp_path / "plain.tar.gz"
    archive.write_text("hello")
    result = (
        make_app(backup_engine).test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
    )
    assert result.exit_code != 0 and "not a backup of this portal" in result.output


def test_backup_while_another_connection_writes(backup_engine, make_app, settings, tmp_path):
    _chain(backup_engine, settings)
    stop = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        index = 100
        try:
            while not stop.is_set():
                _answer(backup_engine, settings, 8, index)
                written.append(index)
                index += 1
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 2 and not errors:
            stop.wait(0.01)
        runner = make_app(backup_engine).test_cli_runner()
        archives = [tmp_path / f"during-{n}.tar.gz" for n in range(2)]
        for archive in archives:
            made = runner.invoke(args=["backup", str(archive)])
            assert made.exit_code == 0, made.output
    finally:
        stop.set()
        thread.join()
    assert errors == [] and len(written) >= 2
    # The writer went on unharmed, and each backup restores as a consistent database.
    for archive in archives:
        assert (
            make_app(backup_engine)
            .test_cli_runner()
            .invoke(args=["restore", str(archive), "--yes"])
            .exit_code
            == 0
        )
        counts = _counts(backup_engine)
        assert counts["responses"] == counts["receipts"] >= 6
