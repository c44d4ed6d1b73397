"""Reading the audit log: filters (who, what, when, which store), newest first, and the
store each entry concerns.

The log keeps no store column: an entry names its subject (a case, a visit, a key, a
store...) and sometimes a store code in its details. `concerns_stores` turns that into one
SQL condition (index-friendly IN subqueries, no per-row lookups), used both by the store
filter and to keep a region manager to the region's entries; `stores_of` finds the store
of a page of entries with one query per kind of subject.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from portal.admin.scope import ConsoleScope
from portal.calendar import local_midnight
from portal.models import (
    ApiKey,
    AuditEntry,
    Case,
    MysteryVisit,
    Nomination,
    Receipt,
    Response,
    Staff,
    Store,
    User,
    user_stores,
)

#: Rows read per round trip while a CSV export streams.
EXPORT_BATCH = 500


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the page asks for; every part optional. ``who`` is a user id or the label of a
    non-user actor (``cli``, ``system``...); days are read in ``store``'s time zone, or the
    chain's when no store is chosen."""

    who_user_id: int | None = None
    who_label: str | None = None
    action: str | None = None
    first: date | None = None
    last: date | None = None
    store: Store | None = None


def _id_strings(column: InstrumentedAttribute[int]) -> Any:
    return cast(column, String)


def concerns_stores(store_ids: Select[tuple[int]]) -> ColumnElement[bool]:
    """Entries about one of the stores ``store_ids`` selects: the store itself, or a case,
    visit, key, staff member, answer or nomination of it, or a store code in the details."""
    ids = store_ids.scalar_subquery()
    codes = select(Store.code).where(Store.id.in_(ids)).scalar_subquery()
    subject, kind = AuditEntry.subject_id, AuditEntry.subject_type

    def rows_of(model: Any, column: Any) -> Any:
        return select(_id_strings(model.id)).where(column.in_(ids)).scalar_subquery()

    answers = (
        select(_id_strings(Response.id))
        .join(Receipt, Receipt.id == Response.receipt_id)
        .where(Receipt.store_id.in_(ids))
        .scalar_subquery()
    )
    nominations = (
        select(_id_strings(Nomination.id))
        .join(Staff, Staff.id == Nomination.staff_id)
        .where(Staff.store_id.in_(ids))
        .scalar_subquery()
    )
    return or_(
        (kind == "store") & subject.in_(codes),
        (kind == "case") & subject.in_(rows_of(Case, Case.store_id)),
        (kind == "mystery_visit") & subject.in_(rows_of(MysteryVisit, MysteryVisit.store_id)),
        (kind == "api_key") & subject.in_(rows_of(ApiKey, ApiKey.store_id)),
        (kind == "staff") & subject.in_(rows_of(Staff, Staff.store_id)),
        (kind == "response") & subject.in_(answers),
        (kind == "award_nomination") & subject.in_(nominations),
        AuditEntry.details["store"].as_string().in_(codes),
        AuditEntry.details["store_code"].as_string().in_(codes),
    )


def audit_stmt(scope: ConsoleScope, wanted: AuditFilter) -> Select[tuple[AuditEntry]]:
    """The entries ``wanted`` asks for within ``scope``, newest first."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if scope.region is not None:
        stmt = stmt.where(concerns_stores(scope.store_ids()))
    if wanted.store is not None:
        stmt = stmt.where(concerns_stores(select(Store.id).where(Store.id == wanted.store.id)))
    if wanted.who_user_id is not None:
        stmt = stmt.where(AuditEntry.actor_user_id == wanted.who_user_id)
    if wanted.who_label is not None:
        stmt = stmt.where(AuditEntry.actor == wanted.who_label)
    if wanted.action is not None:
        stmt = stmt.where(AuditEntry.action == wanted.action)
    zone = None if wanted.store is None else wanted.store.timezone
    if wanted.first is not None:
        stmt = stmt.where(AuditEntry.at >= local_midnight(wanted.first, zone))
    if wanted.last is not None:
        stmt = stmt.where(AuditEntry.at < local_midnight(wanted.last + timedelta(days=1), zone))
    return stmt


@dataclass(frozen=True, slots=True)
class StoreRef:
    code: str
    name: str
    timezone: str


def _int_ids(entries: Iterable[AuditEntry]) -> list[int]:
    return [int(e.subject_id) for e in entries if e.subject_id.isascii() and e.subject_id.isdigit()]


#: Subjects whose row names its store directly: the model and its store column.
_DIRECT: dict[str, tuple[Any, Any]] = {
    "case": (Case, Case.store_id),
    "mystery_visit": (MysteryVisit, MysteryVisit.store_id),
    "api_key": (ApiKey, ApiKey.store_id),
    "staff": (Staff, Staff.store_id),
}


def stores_of(session: Session, entries: Sequence[AuditEntry]) -> dict[int, StoreRef]:
    """The store each of ``entries`` concerns, by entry id (entries about no store are
    missing); one query per kind of subject present, not per entry."""
    by_kind: dict[str, list[AuditEntry]] = defaultdict(list)
    for entry in entries:
        by_kind[entry.subject_type].append(entry)
    store_of_row: dict[tuple[str, str], int] = {}
    for kind, (model, column) in _DIRECT.items():
        ids = _int_ids(by_kind.get(kind, []))
        if ids:
            rows = session.execute(select(model.id, column).where(model.id.in_(ids)))
            store_of_row.update({(kind, str(row_id)): store_id for row_id, store_id in rows})
    answer_ids = _int_ids(by_kind.get("response", []))
    if answer_ids:
        rows = session.execute(
            select(Response.id, Receipt.store_id)
            .join(Receipt, Receipt.id == Response.receipt_id)
            .where(Response.id.in_(answer_ids))
        )
        store_of_row.update({("response", str(row_id)): store_id for row_id, store_id in rows})
    codes = {e.subject_id for e in by_kind.get("store", [])}
    for entry in entries:
        for key in ("store", "store_code"):
            if isinstance(entry.details.get(key), str):
                codes.add(entry.details[key])
    wanted_ids = set(store_of_row.values())
    if not (codes or wanted_ids):
        return {}
    stores = session.scalars(
        select(Store).where(or_(Store.code.in_(codes), Store.id.in_(wanted_ids)))
    ).all()
    by_id = {s.id: StoreRef(s.code, s.name, s.timezone) for s in stores}
    by_code = {s.code: by_id[s.id] for s in stores}
    found: dict[int, StoreRef] = {}
    for entry in entries:
        ref = _store_of_entry(entry, store_of_row, by_id, by_code)
        if ref is not None:
            found[entry.id] = ref
    return found


def _store_of_entry(
    entry: AuditEntry,
    store_of_row: dict[tuple[str, str], int],
    by_id: dict[int, StoreRef],
    by_code: dict[str, StoreRef],
) -> StoreRef | None:
    if entry.subject_type == "store":
        return by_code.get(entry.subject_id)
    store_id = store_of_row.get((entry.subject_type, entry.subject_id))
    if store_id is not None:
        return by_id.get(store_id)
    for key in ("store", "store_code"):
        code = entry.details.get(key)
        if isinstance(code, str) and code in by_code:
            return by_code[code]
    return None


def iter_audit_batches(
    session: Session, stmt: Select[tuple[AuditEntry]]
) -> Iterator[tuple[Sequence[AuditEntry], dict[int, StoreRef]]]:
    """``stmt``'s entries in batches of `EXPORT_BATCH`, each with the stores it concerns
    (keyset pagination on (at, id): no OFFSET that grows with the file)."""
    last: tuple[datetime, int] | None = None
    while True:
        batch_stmt = stmt
        if last is not None:
            at, entry_id = last
            batch_stmt = stmt.where(
                or_(AuditEntry.at < at, (AuditEntry.at == at) & (AuditEntry.id < entry_id))
            )
        batch = session.scalars(batch_stmt.limit(EXPORT_BATCH)).all()
        if not batch:
            return
        yield batch, stores_of(session, batch)
        session.expunge_all()  # a long export keeps one batch in memory, not the file
        if len(batch) < EXPORT_BATCH:
            return
        last = (batch[-1].at, batch[-1].id)


@dataclass(frozen=True, slots=True)
class WhoChoice:
    user_id: int
    email: str
    name: str


def list_actors(session: Session, scope: ConsoleScope) -> list[WhoChoice]:
    """The users offered in the "who" filter: everyone for an admin; for a region manager
    the users of that region (its managers and the managers of its stores)."""
    stmt = select(User.id, User.email, User.name).order_by(User.email)
    if scope.region is not None:
        of_region_stores = select(user_stores.c.user_id).where(
            user_stores.c.store_id.in_(scope.store_ids().scalar_subquery())
        )
        stmt = stmt.where(or_(User.region == scope.region, User.id.in_(of_region_stores)))
    return [WhoChoice(*row) for row in session.execute(stmt)]
