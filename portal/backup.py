"""Backup and restore of the whole portal: the database and the mystery photos in one
``.tar.gz`` with a small manifest (``backup FILE`` and ``restore FILE``, DESIGN.md section 4).

SQLite is copied with its online backup API (``sqlite3.Connection.backup``), which takes a
consistent snapshot page by page while other connections keep reading and writing;
PostgreSQL with ``pg_dump -Fc`` and ``pg_restore --clean --if-exists``, the URL's
credentials passed in ``PG*`` environment variables, never on the command line.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL

from portal.errors import DomainError

#: The ``format`` of our manifest: an archive without it is not one of ours.
FORMAT = "receipt-feedback-portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PHOTOS = "photos"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}


class BackupError(DomainError):
    status = 400
    code = "backup_error"


@dataclass(frozen=True, slots=True)
class BackupSummary:
    dialect: str
    photos: int


def _database_file(dialect: str) -> str:
    try:
        return DATABASE_FILES[dialect]
    except KeyError:
        raise BackupError(f"Backups of {dialect} databases are not supported.") from None


def _pg_env(url: URL) -> dict[str, str]:
    """libpq's environment for ``url``: the password never shows in a process list."""
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[name] = str(value)
    return env


def _run(command: list[str], url: URL) -> None:
    try:
        done = subprocess.run(command, env=_pg_env(url), capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed.") from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


def _dump_database(engine: Engine, target: Path) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            source: Any = conn.connection.driver_connection
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
    else:
        _run(["pg_dump", "-Fc", "--no-owner", "-f", str(target)], engine.url)


def _load_database(engine: Engine, source: Path) -> None:
    if engine.dialect.name == "sqlite":
        # Copied into the live file through the same API: the pages are replaced under the
        # database's own locks, so open connections see the restored data afterwards.
        engine.dispose()
        with engine.connect() as conn:
            target: Any = conn.connection.driver_connection
            copy = sqlite3.connect(source)
            try:
                copy.backup(target)
            finally:
                copy.close()
        engine.dispose()
    else:
        engine.dispose()
        _run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "-d", str(engine.url.database)]
            + [str(source)],
            engine.url,
        )


def backup(engine: Engine, photo_folder: Path, archive: Path, *, now: datetime) -> BackupSummary:
    """Write ``archive``: the database, the photos folder and a manifest."""
    dialect = engine.dialect.name
    name = _database_file(dialect)
    photos = (
        sorted(p for p in photo_folder.rglob("*") if p.is_file()) if photo_folder.is_dir() else []
    )
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / name
        _dump_database(engine, dump)
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "dialect": dialect,
            "database": name,
            "photos": len(photos),
            "created": now.isoformat(),
        }
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=name)
            for photo in photos:
                tar.add(photo, arcname=f"{PHOTOS}/{photo.relative_to(photo_folder).as_posix()}")
        partial.replace(archive)
    return BackupSummary(dialect, len(photos))


def read_manifest(archive: Path) -> dict[str, Any]:
    """The manifest of ``archive``; a `BackupError` when it is not one of our backups."""
    not_ours = BackupError(f"{archive} is not a backup of this portal.")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise not_ours
            manifest = json.loads(member.read())
    except (tarfile.TarError, KeyError, OSError, ValueError):
        raise not_ours from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise not_ours
    if manifest.get("version") != FORMAT_VERSION or manifest.get("database") not in (
        DATABASE_FILES.values()
    ):
        raise BackupError(f"{archive} is a backup of a format this portal cannot read.")
    return manifest


def holds_data(engine: Engine, photo_folder: Path) -> bool:
    """Whether a restore would overwrite something: any table, or any photo."""
    if inspect(engine).get_table_names():
        return True
    return photo_folder.is_dir() and any(photo_folder.iterdir())


def restore(engine: Engine, photo_folder: Path, archive: Path) -> BackupSummary:
    """Replace the database and the photos folder with those of ``archive``."""
    manifest = read_manifest(archive)
    dialect = engine.dialect.name
    if manifest["dialect"] != dialect:
        raise BackupError(
            f"{archive} holds a {manifest['dialect']} database; this portal uses {dialect}."
        )
    with tempfile.TemporaryDirectory() as work:
        with tarfile.open(archive, "r:gz") as tar:
            # The "data" filter refuses absolute paths, "..", links out and device files.
            tar.extractall(work, filter="data")
        dump = Path(work) / manifest["database"]
        if not dump.is_file():
            raise BackupError(f"{archive} has no database in it.")
        _load_database(engine, dump)
        photos = Path(work) / PHOTOS
        if photo_folder.exists():
            shutil.rmtree(photo_folder)
        photo_folder.parent.mkdir(parents=True, exist_ok=True)
        if photos.is_dir():
            shutil.copytree(photos, photo_folder)
        else:
            photo_folder.mkdir()
        count = sum(1 for p in photo_folder.rglob("*") if p.is_file())
    return BackupSummary(dialect, count)
