"""Reads for the exports, scoped to what the user may see: the response rows of a range of
store-local days and survey versions, iterated lazily in batches (never loaded at once)
with their custom answers (`portal.exports.custom`), and the per-store summary, aggregated
in SQL with conditional sums. Contact details are never selected."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from analysis.csat import csat_interval
from analysis.nps import nps_interval
from analysis.results import NpsCounts
from portal.access import scope_to_user
from portal.calendar import zone
from portal.channels import channel_condition
from portal.errors import NotFound
from portal.exports.custom import ExportLayout, ExportVersions, merge_answers
from portal.exports.writers import Cell
from portal.models import CommentTheme, Response, ResponseAnswer, Staff, Store, User
from portal.themes.words import THEMES
from surveys.privacy import mask_personal_data

#: Rows fetched per round trip. On PostgreSQL ``yield_per`` also turns on a server-side
#: cursor (stream_results); on SQLite the cursor is lazy anyway.
YIELD_PER = 2000
#: The store code of the summary's last row, the total over the stores shown.
TOTAL_CODE = "ALL"


class UnknownStore(NotFound):
    """No store with this code that the user may see; the same answer whether it exists
    or not, so that codes of other stores cannot be probed."""

    code = "unknown_store"
    message = _l("There is no such store among those you may see.")


@dataclass(frozen=True, slots=True)
class VisibleStore:
    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class ExportRange:
    """What to export: one store (or every visible one), inclusive store-local days, the
    survey versions, and the answer channels (empty: every channel)."""

    store: VisibleStore | None
    first: date
    last: date
    versions: ExportVersions
    channels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResponseExportRow:
    """One response as exported; field order is column order, then one column per custom
    question (``custom``, see `response_cells`). Times are in the store's own time zone."""

    response_id: int
    submitted_at: datetime
    store_code: str
    store_name: str
    region: str
    staff_code: str | None
    staff_name: str | None
    nps: int
    nps_group: str
    csat: int
    rating_friendliness: int | None
    rating_speed: int | None
    rating_availability: int | None
    rating_cleanliness: int | None
    rating_knowledge: int | None
    problem_reported: bool
    problem_category: str | None
    comment: str | None
    locale: str
    redeemed_at: datetime | None
    #: How the answer came in (`portal.models.Channel`: receipt, code, kiosk, paper, phone);
    #: after the answer's own columns, so that spreadsheets built on them keep working.
    channel: str
    #: The survey's key and the version's number (empty for a version of no survey).
    survey: str | None = None
    survey_version: int | None = None
    #: The comment's themes (`portal.themes.words.THEMES` keys, in the taxonomy's order,
    #: joined by "; "); empty without a comment.
    themes: str | None = None
    #: The custom questions' cells, in the order of `ExportLayout.columns`.
    custom: tuple[Cell, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreSummaryRow:
    """One store's figures for the range (or the total, with ``store_code`` ALL)."""

    store_code: str
    store_name: str
    region: str
    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    nps_ci_low: float | None
    nps_ci_high: float | None
    csat_n: int
    csat_top2: int
    csat_percent: float | None
    csat_ci_low: float | None
    csat_ci_high: float | None


RESPONSE_COLUMNS = tuple(f.name for f in fields(ResponseExportRow) if f.name != "custom")


def response_cells(row: ResponseExportRow) -> tuple[Cell, ...]:
    """The cells of ``row``: `RESPONSE_COLUMNS`, then its custom questions."""
    return (*(getattr(row, name) for name in RESPONSE_COLUMNS), *row.custom)


@dataclass(frozen=True, slots=True)
class ResponseExport:
    """The two ordered statements of a responses export and how to lay out their rows."""

    rows: Select[Any]
    #: ``None`` when the selected versions ask no custom question: nothing to read.
    answers: Select[Any] | None
    layout: ExportLayout


SUMMARY_COLUMNS = tuple(f.name for f in fields(StoreSummaryRow))


def nps_group(score: int) -> str:
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


def list_visible_stores(session: Session, user: User) -> list[VisibleStore]:
    stmt = scope_to_user(select(Store.id, Store.code, Store.name), user, Store.id)
    return [VisibleStore(*row) for row in session.execute(stmt.order_by(Store.code))]


def get_visible_store(session: Session, user: User, code: str) -> VisibleStore:
    """The store with ``code`` if ``user`` may see it.

    Raises
    ------
    UnknownStore
        No such store, or one the user may not see (the two are not told apart).
    """
    stmt = scope_to_user(select(Store.id, Store.code, Store.name), user, Store.id)
    row = session.execute(stmt.where(Store.code == code)).first()
    if row is None:
        raise UnknownStore()
    return VisibleStore(*row)


def _in_range(stmt: Select[Any], user: User | None, wanted: ExportRange) -> Select[Any]:
    # No user: the ``export`` command, which answers for the whole chain.
    if user is not None:
        stmt = scope_to_user(stmt, user, Response.store_id)
    stmt = stmt.where(Response.local_day.between(wanted.first, wanted.last))
    if wanted.store is not None:
        stmt = stmt.where(Response.store_id == wanted.store.id)
    if wanted.versions.version_ids is not None:
        stmt = stmt.where(Response.survey_version_id.in_(wanted.versions.version_ids))
    return stmt.where(channel_condition(Response.channel, wanted.channels))


def response_export(user: User | None, wanted: ExportRange, layout: ExportLayout) -> ResponseExport:
    """The statements of the responses export of ``wanted``; run them with
    `iter_response_rows`."""
    answers = None
    if layout.columns:
        answers = _in_range(
            select(
                _sort_at(),
                Response.id,
                ResponseAnswer.question_key,
                ResponseAnswer.number,
                ResponseAnswer.choice,
                ResponseAnswer.text,
            )
            .join(Response, Response.id == ResponseAnswer.response_id)
            .where(ResponseAnswer.question_key.in_(layout.keys))
            # The responses' own order (see response_export_stmt), so that the two streams
            # can be merged as they are read.
            .order_by(Response.submitted_at, Response.id, ResponseAnswer.id),
            user,
            wanted,
        )
    return ResponseExport(response_export_stmt(user, wanted), answers, layout)


def response_export_stmt(user: User | None, wanted: ExportRange) -> Select[Any]:
    """The responses of ``wanted``, oldest first."""
    stmt = (
        select(
            _sort_at(),
            Response.id,
            Response.submitted_at,
            Store.code,
            Store.name,
            Store.region,
            Store.timezone,
            Staff.code,
            Staff.name,
            Response.nps,
            Response.csat,
            Response.rating_friendliness,
            Response.rating_speed,
            Response.rating_availability,
            Response.rating_cleanliness,
            Response.rating_knowledge,
            Response.problem_reported,
            Response.problem_category,
            Response.comment,
            Response.locale,
            Response.redeemed_at,
            Response.survey_version_id,
            Response.channel,
            _themes_of_response(),
        )
        .join(Store, Store.id == Response.store_id)
        .outerjoin(Staff, Staff.id == Response.staff_id)
        .order_by(Response.submitted_at, Response.id)
    )
    return _in_range(stmt, user, wanted)


def _themes_of_response() -> Any:
    # One primary-key range read per row (comment_themes is keyed by response and theme).
    return (
        select(func.aggregate_strings(CommentTheme.theme, ";"))
        .where(CommentTheme.response_id == Response.id)
        .scalar_subquery()
        .label("themes")
    )


def _themes_cell(found: str | None) -> str | None:
    if not found:
        return None
    keys = found.split(";")
    return "; ".join(sorted(keys, key=lambda k: THEMES.index(k) if k in THEMES else len(THEMES)))


def _sort_at() -> Any:
    # ``submitted_at`` as the database returns it, without turning it into an aware
    # datetime: the two streams are merged on it, and converting a value per answer row
    # would cost more than writing the row.
    return type_coerce(Response.submitted_at, NullType()).label("sort_at")


def iter_response_rows(session: Session, export: ResponseExport) -> Iterator[ResponseExportRow]:
    """Run ``export`` and yield its rows one at a time, fetching `YIELD_PER` rows (and
    answer rows) per round trip, so that memory does not grow with the row count."""
    # Core rows straight from the connection: the ORM's row loading would double the cost
    # of reading plain columns. Two cursors open at once: the merge reads both as it goes.
    connection = session.connection()
    rows = connection.execute(export.rows.execution_options(yield_per=YIELD_PER))
    answers = None
    if export.answers is not None:
        answers = connection.execute(export.answers.execution_options(yield_per=YIELD_PER))
    layout = export.layout
    for row, found in merge_answers(rows, answers):
        (rid, submitted, code, name, region, tz, staff_code, staff_name, nps, csat) = row[1:11]
        store_zone = zone(tz)
        redeemed, version_id = row[20], row[21]
        survey, number = layout.labels.get(version_id, (None, None))
        yield ResponseExportRow(
            rid,
            submitted.astimezone(store_zone),
            code,
            name,
            region,
            staff_code,
            staff_name,
            nps,
            nps_group(nps),
            csat,
            row[11],
            row[12],
            row[13],
            row[14],
            row[15],
            bool(row[16]),
            row[17],
            row[18] and mask_personal_data(row[18]),
            row[19],
            None if redeemed is None else redeemed.astimezone(store_zone),
            row[22],
            survey,
            number,
            _themes_cell(row[23]),
            layout.cells(version_id, found) if layout.columns else (),
        )


@dataclass(frozen=True, slots=True)
class _Counts:
    n: int
    promoters: int
    passives: int
    detractors: int
    csat_n: int
    csat_top2: int


def summarize_stores(
    session: Session, user: User | None, wanted: ExportRange
) -> list[StoreSummaryRow]:
    """Per store ``user`` may see (every store without a user; also those without answers),
    then the total over them: counts by SQL GROUP BY with conditional sums, intervals from
    `analysis`."""
    counts = _in_range(
        select(
            Response.store_id,
            func.count().label("n"),
            func.sum(case((Response.nps >= 9, 1), else_=0)).label("promoters"),
            func.sum(case((Response.nps.between(7, 8), 1), else_=0)).label("passives"),
            func.sum(case((Response.nps <= 6, 1), else_=0)).label("detractors"),
            func.count(Response.csat).label("csat_n"),
            func.sum(case((Response.csat >= 4, 1), else_=0)).label("csat_top2"),
        ).group_by(Response.store_id),
        user,
        wanted,
    ).subquery()
    stmt = (
        select(
            Store.code,
            Store.name,
            Store.region,
            *(
                func.coalesce(counts.c[name], 0)
                for name in ("n", "promoters", "passives", "detractors", "csat_n", "csat_top2")
            ),
        )
        .outerjoin(counts, counts.c.store_id == Store.id)
        .order_by(Store.region, Store.code)
    )
    if user is not None:
        stmt = scope_to_user(stmt, user, Store.id)
    if wanted.store is not None:
        stmt = stmt.where(Store.id == wanted.store.id)
    rows = session.execute(stmt).all()
    per_store = [(code, name, region, _Counts(*map(int, c))) for code, name, region, *c in rows]
    # The total adds up the stores' aggregates (a handful of rows), not the responses.
    total = _Counts(*(sum(getattr(c, f.name) for *_, c in per_store) for f in fields(_Counts)))
    return [
        *(_summary_row(code, name, region, c) for code, name, region, c in per_store),
        _summary_row(TOTAL_CODE, "", "", total),
    ]


def _summary_row(code: str, name: str, region: str, c: _Counts) -> StoreSummaryRow:
    nps = nps_interval(NpsCounts(c.promoters, c.passives, c.detractors))
    csat = csat_interval(c.csat_top2, c.csat_n)
    return StoreSummaryRow(
        store_code=code,
        store_name=name,
        region=region,
        n=c.n,
        promoters=c.promoters,
        passives=c.passives,
        detractors=c.detractors,
        nps=_round(nps.value),
        nps_ci_low=_round(nps.low),
        nps_ci_high=_round(nps.high),
        csat_n=c.csat_n,
        csat_top2=c.csat_top2,
        csat_percent=_round(csat.value),
        csat_ci_low=_round(csat.low),
        csat_ci_high=_round(csat.high),
    )


def _round(value: float | None) -> float | None:
    # One decimal, as the dashboards show; the counts are there to recompute exactly.
    return None if value is None else round(value, 1)


def count_responses(
    session: Session, user: User | None, wanted: ExportRange, *, cap: int | None = None
) -> int:
    """How many responses the export of ``wanted`` holds, counting no further than
    ``cap + 1`` when given (enough to tell "more than ``cap``" at a bounded cost)."""
    ids = _in_range(select(Response.id), user, wanted)
    if cap is not None:
        ids = ids.limit(cap + 1)
    return int(session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
