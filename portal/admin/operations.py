"""Stores and staff: created, edited, closed and moved one by one, or staff imported from a
CSV or XLSX file; validated, audited.

An import is all or nothing: every row is checked first (`portal.admin.staff_import`) and
the errors are reported with their line numbers; only a clean file changes anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.errors import Conflict, DomainError, NotFound
from portal.models import Region, Staff, Store, StoreFormat

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$"
_CODE = re.compile(CODE_PATTERN)
NAME_LENGTH = 200
POSITION_LENGTH = 100
ADDRESS_LENGTH = 300
REGION_LENGTH = 100
CODE_RULE = _l("1-32 letters, digits, '.', '_' or '-', starting with a letter or digit")


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"


class DuplicateCode(Conflict):
    code = "duplicate_code"


class AlreadyInState(Conflict):
    code = "already_in_state"


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class StoreDetails:
    """What a store's edit form sets (everything but its code)."""

    name: str
    region: str = ""
    timezone: str = "Asia/Shanghai"
    address: str = ""
    format: str = ""


def is_code(value: str) -> bool:
    return bool(_CODE.match(value))


def _check_code(value: str, what: str) -> str:
    if not is_code(value):
        label = _("The store code") if what == "store_code" else _("The staff code")
        raise InvalidInput(
            _(
                "%(what)s %(value)s must be %(rule)s.",
                what=label,
                value=repr(value),
                rule=CODE_RULE,
            ),
            field=what,
        )
    return value


def _check_name(value: str, what: str = "name") -> str:
    value = value.strip()
    if not value or len(value) > NAME_LENGTH:
        raise InvalidInput(_("The name must be 1-200 characters."), field=what)
    return value


def _check_length(value: str, limit: int, field: str) -> str:
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(_("At most %(n)d characters.", n=limit), field=field)
    return value


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _(
                "Unknown time zone %(zone)s; use an IANA name such as Asia/Shanghai.",
                zone=repr(value),
            ),
            field="timezone",
        ) from None
    return value


def _check_format(value: str) -> str:
    if value and value not in {f.value for f in StoreFormat}:
        raise InvalidInput(_("Unknown store format."), field="format")
    return value


def listed_region(session: Session, name: str, *, actor: Actor, now: datetime) -> str:
    """``name`` as a region of the chain's list, added to the list when it is new (the CLI
    and the demo name regions freely; the pages offer the list)."""
    name = _check_length(name, REGION_LENGTH, "region")
    if name and session.scalar(select(Region.id).where(Region.name == name)) is None:
        session.add(Region(name=name, created_at=now))
        session.flush()
        record_audit(session, actor, "region.create", "region", name, now)
    return name


def get_store(session: Session, code: str) -> Store:
    """The store with this code.

    Raises
    ------
    NotFound
    """
    store = session.scalar(select(Store).where(Store.code == code))
    if store is None:
        raise NotFound(_("No store with code %(code)s.", code=repr(code)))
    return store


def create_store(
    session: Session,
    *,
    code: str,
    name: str,
    region: str = "",
    timezone: str = "Asia/Shanghai",
    address: str = "",
    format: str = "",
    actor: Actor,
    now: datetime,
) -> Store:
    """Add a store (its region joins the regions list if new).

    Raises
    ------
    InvalidInput
        Malformed code or name, unknown time zone or format, too long a text.
    DuplicateCode
        A store with this code exists.
    """
    store = Store(
        code=_check_code(code, "store_code"),
        name=_check_name(name),
        timezone=check_timezone(timezone),
        address=_check_length(address, ADDRESS_LENGTH, "address"),
        format=_check_format(format),
        created_at=now,
    )
    store.region = listed_region(session, region, actor=actor, now=now)
    try:
        with session.begin_nested():
            session.add(store)
    except IntegrityError:
        raise DuplicateCode(
            _("A store with code %(code)s already exists.", code=repr(code)), field="code"
        ) from None
    record_audit(session, actor, "store.create", "store", store.code, now, name=store.name)
    return store


def update_store(
    session: Session, store: Store, details: StoreDetails, *, actor: Actor, now: datetime
) -> dict[str, Any]:
    """Change a store's name, region, time zone, address and format; returns (and audits)
    what changed, as ``{field: [before, after]}``.

    Raises
    ------
    InvalidInput
    """
    new = {
        "name": _check_name(details.name),
        "region": listed_region(session, details.region, actor=actor, now=now),
        "timezone": check_timezone(details.timezone),
        "address": _check_length(details.address, ADDRESS_LENGTH, "address"),
        "format": _check_format(details.format),
    }
    changed = {
        key: [getattr(store, key), value]
        for key, value in new.items()
        if getattr(store, key) != value
    }
    for key, (_before, after) in changed.items():
        setattr(store, key, after)
    if changed:
        session.flush()
        record_audit(session, actor, "store.update", "store", store.code, now, changed=changed)
    return changed


def close_store(session: Session, store: Store, *, actor: Actor, now: datetime) -> None:
    """Close a store: from now on it issues no receipts (`portal.receipts.require_open`);
    its answers, cases and figures stay.

    Raises
    ------
    AlreadyInState
    """
    if store.closed_at is not None:
        raise AlreadyInState(_("Store %(code)s is already closed.", code=store.code))
    store.closed_at = now
    session.flush()
    record_audit(session, actor, "store.close", "store", store.code, now)


def reopen_store(session: Session, store: Store, *, actor: Actor, now: datetime) -> None:
    """Open a closed store again: it issues receipts again.

    Raises
    ------
    AlreadyInState
    """
    if store.closed_at is None:
        raise AlreadyInState(_("Store %(code)s is already open.", code=store.code))
    closed_since = store.closed_at
    store.closed_at = None
    session.flush()
    record_audit(
        session, actor, "store.reopen", "store", store.code, now, closed_at=closed_since.isoformat()
    )


def _duplicate_staff(store_code: str, staff_code: str) -> DuplicateCode:
    return DuplicateCode(
        _(
            "Store %(store)s already has a staff member with code %(code)s.",
            store=store_code,
            code=repr(staff_code),
        ),
        field="staff_code",
    )


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
        name=_check_name(name),
        position=_check_length(position, POSITION_LENGTH, "position"),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(staff)
    except IntegrityError:
        raise _duplicate_staff(store_code, staff_code) from None
    record_audit(
        session, actor, "staff.create", "staff", staff.id, now, store=store_code, code=staff_code
    )
    return staff


def update_staff(
    session: Session, staff: Staff, *, name: str, position: str, actor: Actor, now: datetime
) -> None:
    """Change a staff member's name and position.

    Raises
    ------
    InvalidInput
    """
    name, position = _check_name(name), _check_length(position, POSITION_LENGTH, "position")
    changed = {
        key: [getattr(staff, key), value]
        for key, value in (("name", name), ("position", position))
        if getattr(staff, key) != value
    }
    if changed:
        staff.name, staff.position = name, position
        session.flush()
        record_audit(session, actor, "staff.update", "staff", staff.id, now, changed=changed)


def move_staff(
    session: Session,
    staff: Staff,
    target: Store,
    *,
    new_code: str | None = None,
    actor: Actor,
    now: datetime,
) -> None:
    """Move a staff member to another store, under their code or ``new_code``, which must
    be free there. Receipts, answers, cases and rollups keep the store they were given in
    (each row carries its own ``store_id``); only the person's current store changes.

    Raises
    ------
    InvalidInput
        Same store, malformed code.
    DuplicateCode
        The code is taken at the target store.
    """
    if target.id == staff.store_id:
        raise InvalidInput(_("Choose another store than the current one."), field="store")
    code = _check_code(new_code or staff.code, "staff_code")
    before = (staff.store.code, staff.code)
    try:
        with session.begin_nested():
            staff.store_id, staff.code = target.id, code
            session.flush()
    except IntegrityError:
        raise _duplicate_staff(target.code, code) from None
    session.refresh(staff, ["store"])
    record_audit(
        session,
        actor,
        "staff.move",
        "staff",
        staff.id,
        now,
        from_store=before[0],
        from_code=before[1],
        to_store=target.code,
        to_code=code,
    )


def set_staff_active(
    session: Session, staff: Staff, active: bool, *, actor: Actor, now: datetime
) -> None:
    """Deactivate (a leaver: no new receipts name them, their history stays) or reactivate.

    Raises
    ------
    AlreadyInState
    """
    if staff.active == active:
        raise AlreadyInState(
            _("This staff member is already active.")
            if active
            else _("This staff member is already inactive.")
        )
    staff.active = active
    session.flush()
    action = "staff.reactivate" if active else "staff.deactivate"
    record_audit(session, actor, action, "staff", staff.id, now, code=staff.code)


def import_staff(
    session: Session, data: bytes | str, *, actor: Actor, now: datetime
) -> ImportResult:
    """Create or update staff from a CSV or XLSX file (columns store_code, staff_code,
    name, position, and optionally active = yes/no); existing staff are matched by store
    and code. The ``import-staff`` command and the demo call this; the import page plans
    and applies in two steps through the same functions.

    Raises
    ------
    InvalidInput
        An unreadable file, or listing every bad line; nothing is written.
    """
    from portal.admin.staff_import import apply_plan, plan_import, read_staff_file

    raw = data.encode("utf-8") if isinstance(data, str) else data
    return apply_plan(session, plan_import(session, read_staff_file(raw)), actor=actor, now=now)
