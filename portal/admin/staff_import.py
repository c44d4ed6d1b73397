"""Staff imports from CSV or XLSX: read the file, plan every row's outcome against the staff
as they are now (new / changed / unchanged / error with its reasons), and apply a clean plan
in the caller's transaction.

The import page shows the plan before anything is written; Apply plans again from the same
stored file and refuses when the outcome differs from the preview (someone changed the staff
meanwhile). The ``import-staff`` command plans and applies in one go (`operations.import_staff`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.admin.operations import (
    CODE_RULE,
    NAME_LENGTH,
    POSITION_LENGTH,
    ImportResult,
    InvalidInput,
    is_code,
)
from portal.audit import Actor, record_audit
from portal.errors import Conflict
from portal.models import Staff, Store
from surveys.strict import text_problem

#: Larger files are refused with a message (the page allows the request a little more).
MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_ROWS = 5000
#: An XLSX is a zip: one that would expand beyond this is refused unread (a zip bomb).
MAX_XLSX_EXPANDED = 40 * 1024 * 1024
COLUMNS = ("store_code", "staff_code", "name", "position", "active")
REQUIRED_COLUMNS = COLUMNS[:4]
#: Headings a Chinese spreadsheet may use instead of the English ones.
HEADING_ALIASES = {
    "门店编码": "store_code",
    "门店代码": "store_code",
    "员工编码": "staff_code",
    "员工编号": "staff_code",
    "工号": "staff_code",
    "姓名": "name",
    "岗位": "position",
    "职位": "position",
    "在职": "active",
}
_YES = frozenset({"yes", "y", "true", "1", "是", "在职"})
_NO = frozenset({"no", "n", "false", "0", "否", "离职"})
TEMPLATE_CSV = "store_code,staff_code,name,position,active\r\nSH-001,S001,张伟,收银员,yes\r\n"
COLUMN_LABELS: dict[str, Any] = {
    "store_code": _l("store code"),
    "staff_code": _l("staff code"),
    "name": _l("name"),
    "position": _l("position"),
    "active": _l("active"),
}


class Outcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    ERROR = "error"


class PreviewOutdated(Conflict):
    code = "preview_outdated"
    message = _l("The staff changed since the preview; nothing was written. Check the new preview.")


@dataclass(frozen=True, slots=True)
class FileRow:
    """One row of the file as written (cells as text; ``active`` "" when not said)."""

    line: int
    store_code: str
    staff_code: str
    name: str
    position: str
    active: str


@dataclass(frozen=True, slots=True)
class PlannedRow:
    row: FileRow
    outcome: Outcome
    #: For `Outcome.CHANGED`: the fields that change (name, position, active).
    changes: tuple[str, ...] = ()
    #: For `Outcome.ERROR`: every reason, in words.
    errors: tuple[Any, ...] = ()
    active: bool = True
    staff_id: int | None = None
    store_id: int | None = None


@dataclass(frozen=True, slots=True)
class ImportPlan:
    rows: tuple[PlannedRow, ...]

    @property
    def errors(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.outcome is Outcome.ERROR]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def fingerprint(self) -> str:
        """A digest of every row's outcome: equal plans write the same thing."""
        text = json.dumps(
            [
                [r.row.line, r.outcome, r.changes, r.staff_id, r.store_id, r.active]
                + [r.row.staff_code, r.row.name, r.row.position]
                for r in self.rows
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- reading


def read_staff_file(data: bytes) -> list[FileRow]:
    """The rows of a CSV (UTF-8, or GB18030 as Excel saves "CSV" on Chinese Windows) or XLSX
    file, told apart by their first bytes; blank rows are skipped.

    Raises
    ------
    InvalidInput
        Too large, too many rows, unreadable, or a required column missing.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(
            _(
                "The file is larger than %(n)d KB; split it into smaller files.",
                n=MAX_IMPORT_BYTES // 1024,
            ),
            field="file",
        )
    if not data.strip():
        raise InvalidInput(_("The file is empty."), field="file")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InvalidInput(
            _("This is an old Excel (.xls) file: save it as .xlsx or as CSV UTF-8."), field="file"
        )
    table = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    return _file_rows(table)


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidInput(
                _("The file is neither UTF-8 nor GB18030 text: save it as CSV UTF-8 or XLSX."),
                field="file",
            ) from None
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error:
        raise InvalidInput(_("The file is not a well-formed CSV file."), field="file") from None


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # imported when needed: it is slow to import

    unreadable = InvalidInput(_("The file could not be read as an XLSX workbook."), field="file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise unreadable from None
    if expanded > MAX_XLSX_EXPANDED:
        raise unreadable
    try:
        with warnings.catch_warnings():
            # Workbooks not written by Excel draw style warnings: nothing the admin can act on.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                table = _bounded(
                    [_cell_text(v) for v in values]
                    for values in workbook.worksheets[0].iter_rows(values_only=True)
                )
            finally:
                workbook.close()
    except Exception:  # openpyxl raises many kinds on a malformed workbook; all mean this
        raise unreadable from None
    yield from table


def _bounded(rows: Iterable[list[str]]) -> list[list[str]]:
    """The rows up to the first one past the limit (blank ones kept for the line numbers)."""
    kept: list[list[str]] = []
    filled = 0
    for cells in rows:
        kept.append(cells)
        filled += any(cell.strip() for cell in cells)
        if filled > MAX_IMPORT_ROWS + 1:  # the heading row and one too many
            break
    return kept


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a staff code typed as 1001 comes back as 1001.0
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _heading(cell: str) -> str:
    name = cell.strip().lower().replace(" ", "_")
    return HEADING_ALIASES.get(cell.strip(), name)


def _file_rows(table: Iterable[list[str]]) -> list[FileRow]:
    lines = iter(table)
    header = [_heading(cell) for cell in next(lines, [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            _(
                "The file needs the columns %(columns)s in its first row; missing: %(missing)s.",
                columns=", ".join(REQUIRED_COLUMNS),
                missing=", ".join(missing),
            ),
            field="file",
        )
    where = {c: header.index(c) for c in COLUMNS if c in header}
    rows: list[FileRow] = []
    for line, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) == MAX_IMPORT_ROWS:
            raise InvalidInput(
                _(
                    "The file has more than %(n)d rows; split it into smaller files.",
                    n=MAX_IMPORT_ROWS,
                ),
                field="file",
            )
        value = {c: cells[i] if i < len(cells) else "" for c, i in where.items()}
        rows.append(FileRow(line, *(value.get(c, "") for c in COLUMNS)))
    return rows


# --------------------------------------------------------------------------- planning


def _row_errors(row: FileRow, stores: dict[str, Store]) -> list[Any]:
    errors: list[Any] = []
    for column in COLUMNS:
        if text_problem(getattr(row, column), single_line=True) is not None:
            errors.append(
                _(
                    "%(column)s contains a character that cannot be stored "
                    "(a line break, a control character or NUL).",
                    column=COLUMN_LABELS[column],
                )
            )
    store_code, staff_code = row.store_code.strip(), row.staff_code.strip()
    if not store_code:
        errors.append(_("The store code is empty."))
    elif store_code not in stores:
        errors.append(_("unknown store %(code)s", code=repr(store_code)))
    if not staff_code:
        errors.append(_("The staff code is empty."))
    elif not is_code(staff_code):
        errors.append(
            _("The staff code %(code)s must be %(rule)s.", code=repr(staff_code), rule=CODE_RULE)
        )
    name = row.name.strip()
    if not name:
        errors.append(_("The name is empty."))
    elif len(name) > NAME_LENGTH:
        errors.append(_("The name is longer than %(n)d characters.", n=NAME_LENGTH))
    if len(row.position.strip()) > POSITION_LENGTH:
        errors.append(_("The position is longer than %(n)d characters.", n=POSITION_LENGTH))
    active = row.active.strip().lower()
    if active and active not in _YES | _NO:
        errors.append(_("active must be yes or no, not %(value)s.", value=repr(row.active)))
    return errors


def plan_import(session: Session, rows: Sequence[FileRow]) -> ImportPlan:
    """What importing ``rows`` would do to the staff as they are now; writes nothing."""
    stores = {s.code: s for s in session.scalars(select(Store))}
    existing = {(s.store_id, s.code): s for s in session.scalars(select(Staff))}
    first_line: dict[tuple[str, str], int] = {}
    planned: list[PlannedRow] = []
    for row in rows:
        errors = _row_errors(row, stores)
        key = (row.store_code.strip(), row.staff_code.strip())
        if key in first_line:
            errors.append(
                _(
                    "Staff code %(code)s appears twice for store %(store)s "
                    "(also on line %(line)d).",
                    code=key[1],
                    store=key[0],
                    line=first_line[key],
                )
            )
        first_line.setdefault(key, row.line)
        if errors:
            planned.append(PlannedRow(row, Outcome.ERROR, errors=tuple(errors)))
            continue
        store = stores[key[0]]
        staff = existing.get((store.id, key[1]))
        said = row.active.strip().lower()
        # Not said: a new person is active, an existing one keeps their state (a file
        # without the column must not bring leavers back).
        active = (said in _YES) if said else (staff is None or staff.active)
        if staff is None:
            planned.append(PlannedRow(row, Outcome.NEW, active=active, store_id=store.id))
            continue
        now_values = {"name": staff.name, "position": staff.position, "active": staff.active}
        new_values = {"name": row.name.strip(), "position": row.position.strip(), "active": active}
        changes = tuple(k for k in now_values if now_values[k] != new_values[k])
        planned.append(
            PlannedRow(
                row,
                Outcome.CHANGED if changes else Outcome.UNCHANGED,
                changes=changes,
                active=active,
                staff_id=staff.id,
                store_id=store.id,
            )
        )
    return ImportPlan(tuple(planned))


def error_report(plan: ImportPlan) -> str:
    """Every bad line and its reasons, one line each (for the command line)."""
    return "\n".join(
        str(_("line %(line)d: %(reasons)s", line=r.row.line, reasons="; ".join(map(str, r.errors))))
        for r in plan.errors
    )


# --------------------------------------------------------------------------- applying


def apply_plan(session: Session, plan: ImportPlan, *, actor: Actor, now: datetime) -> ImportResult:
    """Write a clean plan: all rows or none (a savepoint; the caller commits).

    Raises
    ------
    InvalidInput
        The plan has errors: listing every bad line; nothing is written.
    PreviewOutdated
        A staff code was taken meanwhile by someone else's write.
    """
    if plan.errors:
        raise InvalidInput(_("The file was not imported:") + "\n" + error_report(plan))
    try:
        with session.begin_nested():
            for planned in plan.rows:
                _apply_row(session, planned, now)
            session.flush()
    except IntegrityError:
        raise PreviewOutdated() from None
    result = ImportResult(
        created=plan.count(Outcome.NEW),
        updated=plan.count(Outcome.CHANGED),
        unchanged=plan.count(Outcome.UNCHANGED),
    )
    record_audit(
        session,
        actor,
        "staff.import",
        "staff",
        "*",
        now,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
    )
    return result


def _apply_row(session: Session, planned: PlannedRow, now: datetime) -> None:
    row = planned.row
    if planned.outcome is Outcome.NEW:
        assert planned.store_id is not None
        session.add(
            Staff(
                store_id=planned.store_id,
                code=row.staff_code.strip(),
                name=row.name.strip(),
                position=row.position.strip(),
                active=planned.active,
                created_at=now,
            )
        )
    elif planned.outcome is Outcome.CHANGED:
        staff = session.get(Staff, planned.staff_id)
        if staff is None:
            raise PreviewOutdated()
        staff.name, staff.position = row.name.strip(), row.position.strip()
        staff.active = planned.active


def apply_previewed(
    session: Session, data: bytes, fingerprint: str, *, actor: Actor, now: datetime
) -> ImportResult:
    """Apply the file previewed with plan ``fingerprint``, planned again against the staff
    as they are now.

    Raises
    ------
    InvalidInput
        The file has errors (the preview said so).
    PreviewOutdated
        The outcome differs from the preview's.
    """
    plan = plan_import(session, read_staff_file(data))
    if plan.fingerprint != fingerprint:
        raise PreviewOutdated()
    return apply_plan(session, plan, actor=actor, now=now)
