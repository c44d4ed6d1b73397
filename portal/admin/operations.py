"""Stores and staff: created one by one or imported from CSV, validated, audited.

An import is all or nothing: every row is checked first and the errors are reported with
their line numbers; only a clean file changes anything.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.errors import Conflict, DomainError, NotFound
from portal.models import Staff, Store

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
STAFF_CSV_COLUMNS = ("store_code", "staff_code", "name", "position")


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"


class DuplicateCode(Conflict):
    code = "duplicate_code"


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int


def _check_code(value: str, what: str) -> str:
    if not _CODE.match(value):
        raise InvalidInput(
            f"{what} {value!r} must be 1-32 letters, digits, '.', '_' or '-'.", field=what
        )
    return value


def _check_name(value: str, what: str) -> str:
    value = value.strip()
    if not value or len(value) > 200:
        raise InvalidInput(f"{what} must be 1-200 characters.", field=what)
    return value


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"Unknown time zone {value!r}; use an IANA name such as Asia/Shanghai.",
            field="timezone",
        ) from None
    return value


def get_store(session: Session, code: str) -> Store:
    """The store with this code.

    Raises
    ------
    NotFound
    """
    store = session.scalar(select(Store).where(Store.code == code))
    if store is None:
        raise NotFound(f"No store with code {code!r}.")
    return store


def create_store(
    session: Session,
    *,
    code: str,
    name: str,
    region: str = "",
    timezone: str = "Asia/Shanghai",
    actor: Actor,
    now: datetime,
) -> Store:
    """Add a store.

    Raises
    ------
    InvalidInput
        Malformed code or name, unknown time zone.
    DuplicateCode
        A store with this code exists.
    """
    store = Store(
        code=_check_code(code, "store_code"),
        name=_check_name(name, "name"),
        region=region.strip()[:100],
        timezone=check_timezone(timezone),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(store)
    except IntegrityError:
        raise DuplicateCode(f"A store with code {code!r} already exists.", field="code") from None
    record_audit(session, actor, "store.create", "store", store.code, now, name=store.name)
    return store


def create_staff(
    session: Session,
    *,
    store_code: str,
    staff_code: str,
    name: str,
    position: str = "",
    actor: Actor,
    now: datetime,
) -> Staff:
    """Add a staff member to a store.

    Raises
    ------
    NotFound
        No such store.
    InvalidInput, DuplicateCode
    """
    store = get_store(session, store_code)
    staff = Staff(
        store_id=store.id,
        code=_check_code(staff_code, "staff_code"),
        name=_check_name(name, "name"),
        position=position.strip()[:100],
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(staff)
    except IntegrityError:
        raise DuplicateCode(
            f"Store {store_code} already has a staff member with code {staff_code!r}.",
            field="staff_code",
        ) from None
    record_audit(
        session, actor, "staff.create", "staff", staff.id, now, store=store_code, code=staff_code
    )
    return staff


def import_staff(session: Session, csv_text: str, *, actor: Actor, now: datetime) -> ImportResult:
    """Create or update staff from CSV with columns store_code, staff_code, name, position
    (and optionally ``active`` = yes/no). Existing staff are matched by store and code.

    Raises
    ------
    InvalidInput
        Listing every bad line; nothing is written.
    """
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    missing = [c for c in STAFF_CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(
            f"The CSV needs the columns {', '.join(STAFF_CSV_COLUMNS)}; "
            f"missing: {', '.join(missing)}."
        )
    stores = {s.code: s for s in session.scalars(select(Store))}
    errors: list[str] = []
    rows: list[tuple[Store, str, str, str, bool]] = []
    seen: set[tuple[str, str]] = set()
    for line, row in enumerate(reader, start=2):
        try:
            store_code = (row.get("store_code") or "").strip()
            if store_code not in stores:
                raise InvalidInput(f"unknown store {store_code!r}")
            staff_code = _check_code((row.get("staff_code") or "").strip(), "staff_code")
            name = _check_name(row.get("name") or "", "name")
            active_text = (row.get("active") or "yes").strip().lower()
            if active_text not in ("yes", "no", "true", "false", "1", "0", "y", "n"):
                raise InvalidInput(f"active must be yes or no, not {active_text!r}")
            if (store_code, staff_code) in seen:
                raise InvalidInput(f"staff {staff_code} appears twice for store {store_code}")
            seen.add((store_code, staff_code))
            position = (row.get("position") or "").strip()[:100]
            rows.append(
                (
                    stores[store_code],
                    staff_code,
                    name,
                    position,
                    active_text in ("yes", "true", "1", "y"),
                )
            )
        except InvalidInput as error:
            errors.append(f"line {line}: {error.message}")
    if errors:
        raise InvalidInput("The file was not imported:\n" + "\n".join(errors))
    existing = {(s.store_id, s.code): s for s in session.scalars(select(Staff))}
    created = updated = 0
    for store, staff_code, name, position, active in rows:
        staff = existing.get((store.id, staff_code))
        if staff is None:
            session.add(
                Staff(
                    store_id=store.id,
                    code=staff_code,
                    name=name,
                    position=position,
                    active=active,
                    created_at=now,
                )
            )
            created += 1
        elif (staff.name, staff.position, staff.active) != (name, position, active):
            staff.name, staff.position, staff.active = name, position, active
            updated += 1
    session.flush()
    record_audit(
        session, actor, "staff.import", "staff", "*", now, created=created, updated=updated
    )
    return ImportResult(created, updated)
