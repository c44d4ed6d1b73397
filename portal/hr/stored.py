"""Stored rankings: the result of a month that is over, kept so that the month is ranked
once, not on every page view.

A month's ranking is stored the first time it is computed after the month ended (one row
per month, award scope and gating in ``stored_rankings``, with a per-person row each in
``stored_ranking_rows`` for the 12-month trend). It is used again only while its
**fingerprint** still matches: the SHA-256 of everything the ranking was computed from,
summed by the database each time (`portal.hr.fingerprints`: the staff-month rows' write
counter, the answers held out, released mystery observations, substantiated complaints
and the bar of open ones, the staff list with stores and regions, the policy's
parameters, scope and channels). Whatever changes a closed month after the fact (a late
answer to one of its receipts, a corrected or moved answer, a flag or its clearing, a
visit released, disputed or adjusted, a case resolved, a person moved,
``rebuild-rollups``, a new policy) changes the fingerprint, and the month is ranked afresh
and stored in place of the old result. Checking reads none of the month's rows; the body
is columnar (`encode`) and names are attached when shown.

An award cycle's frozen snapshot (`portal.awards.snapshot`) is its own copy and never
changes with this store.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import math
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from analysis.ranking import (
    Component,
    Ranking,
    RankingParameters,
    SignalScale,
    StaffInput,
    StaffScore,
)
from portal.models import StoredRanking, StoredRankingRow

_COMPONENTS = ("customer", "nps", "mystery", "complaints")
_SCALE_FIELDS = tuple(f.name for f in fields(SignalScale))
#: The field orders `decode` builds the objects in (positionally, column by column).
_ORDERS = {
    StaffScore: "staff_id store_id group customer nps mystery complaints customer_signal n "
    "composite q10 q90 p_top greyed eligible ineligible_reasons rank proposed coaching "
    "pulling_down",
    Component: "name estimate low high n omega raw z sd",
    StaffInput: "staff_id store_id group satisfied rated promoters passives detractors "
    "mystery_scores complaints transactions excluded_reason",
}
for _cls, _order in _ORDERS.items():
    if tuple(f.name for f in fields(_cls)) != tuple(_order.split()):
        raise RuntimeError(f"portal.hr.stored must be updated for the fields of {_cls.__name__}")


@dataclass(frozen=True, slots=True)
class StoredMonth:
    """A stored ranking read back: the ranking, each person's input (in the order of its
    scores) and the input digest. Who they are (names, codes) is read when shown."""

    ranking: Ranking
    inputs: tuple[StaffInput, ...]
    input_digest: str


@dataclass(frozen=True, slots=True)
class MonthPoint:
    """One person's figures in one stored month (what their trend shows)."""

    n: int
    composite: float
    q10: float
    q90: float
    rank: int | None
    greyed: bool
    group_ranked: int


def _float(value: float | None) -> float:
    # SQLite keeps a NaN as NULL.
    return math.nan if value is None else value


def point_of(score: StaffScore, ranking: Ranking) -> MonthPoint:
    """``score``'s figures as a stored row holds them."""
    ranked = sum(1 for s in ranking.scores if s.group == score.group and s.rank is not None)
    return MonthPoint(
        score.n, score.composite, score.q10, score.q90, score.rank, score.greyed, ranked
    )


def fingerprint(base: Any, month_parts: Iterable[Any]) -> str:
    """SHA-256 of ``base`` (a ``hashlib`` object over what all the months share) and the
    month's own parts, each written with ``repr`` (ints, floats and strings in tuples:
    exact, and the same in every process)."""
    digest = base.copy()
    for part in month_parts:
        digest.update(repr(part).encode())
    return str(digest.hexdigest())


def fingerprint_base(*parts: Any) -> Any:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode())
    return digest


# --------------------------------------------------------------------------- encoding
#
# The body is JSON holding columns, not one object per person: each number column is the
# little-endian bytes of a C array in base64 (a float keeps every bit, NaN included), so
# reading a month back decodes a few dozen strings instead of parsing 250,000 numbers, and
# the objects are built column-wise (``map`` over the columns).

#: Bits of the ``flags`` column.
_GREYED, _ELIGIBLE, _PROPOSED, _COACHING = 1, 2, 4, 8
#: ``raw`` of the component in slot k is None (n = 0) when bit 16 << k is set.
_RAW_NONE = 16
_COMPONENT_FLOATS = ("estimate", "low", "high", "omega", "raw", "z", "sd")
_SCORE_FLOATS = ("composite", "q10", "q90", "p_top")
_INPUT_INTS = (
    "satisfied",
    "rated",
    "promoters",
    "passives",
    "detractors",
    "complaints",
    "transactions",
)
_NO_RANK = -1


def _pack(code: str, values: Iterable[Any]) -> str:
    column = array(code, values)
    if sys.byteorder == "big":
        column.byteswap()
    return base64.b64encode(column.tobytes()).decode("ascii")


def _unpack(code: str, text: str) -> list[Any]:
    column = array(code)
    column.frombytes(base64.b64decode(text))
    if sys.byteorder == "big":
        column.byteswap()
    return column.tolist()


def _same_or_list(values: list[Any]) -> Any:
    # The component names are the slot's name in every row: kept once.
    return {"all": values[0]} if values and all(v == values[0] for v in values) else values


def _as_list(value: Any, count: int) -> list[Any]:
    return [value["all"]] * count if isinstance(value, dict) else list(value)


def encode(ranking: Ranking, inputs: Sequence[StaffInput], input_digest: str) -> str:
    """The ranking and its inputs (one per score, in order) as the stored body."""
    scores = ranking.scores
    flags = []
    for s in scores:
        bits = (
            _GREYED * s.greyed
            | _ELIGIBLE * s.eligible
            | _PROPOSED * s.proposed
            | _COACHING * s.coaching
        )
        for k, name in enumerate(_COMPONENTS):
            if getattr(s, name).raw is None:
                bits |= _RAW_NONE << k
        flags.append(bits)
    columns: dict[str, Any] = {
        "staff_id": _pack("q", (s.staff_id for s in scores)),
        "store_id": _pack("q", (s.store_id for s in scores)),
        "group": [s.group for s in scores],
        "customer_signal": _same_or_list([s.customer_signal for s in scores]),
        "n": _pack("q", (s.n for s in scores)),
        "rank": _pack("q", (_NO_RANK if s.rank is None else s.rank for s in scores)),
        "flags": _pack("q", flags),
        "ineligible_reasons": [list(s.ineligible_reasons) for s in scores],
        "pulling_down": [list(s.pulling_down) for s in scores],
        **{name: _pack("d", (getattr(s, name) for s in scores)) for name in _SCORE_FLOATS},
    }
    for slot in _COMPONENTS:
        parts = [getattr(s, slot) for s in scores]
        columns[f"{slot}.name"] = _same_or_list([c.name for c in parts])
        columns[f"{slot}.n"] = _pack("q", (c.n for c in parts))
        for name in _COMPONENT_FLOATS:
            values = (math.nan if getattr(c, name) is None else getattr(c, name) for c in parts)
            columns[f"{slot}.{name}"] = _pack("d", values)
    columns["in.staff_id"] = _pack("q", (d.staff_id for d in inputs))
    columns["in.store_id"] = _pack("q", (d.store_id for d in inputs))
    columns["in.group"] = _same_or_list([d.group for d in inputs])
    for name in _INPUT_INTS:
        columns[f"in.{name}"] = _pack("q", (getattr(d, name) for d in inputs))
    columns["in.visits"] = _pack("q", (len(d.mystery_scores) for d in inputs))
    columns["in.mystery_scores"] = _pack("d", (y for d in inputs for y in d.mystery_scores))
    columns["in.excluded_reason"] = [d.excluded_reason for d in inputs]
    body = {
        "format": 2,
        "count": len(scores),
        "m": ranking.m,
        "m_source": ranking.m_source,
        "mystery_sigma": ranking.mystery_sigma,
        "mystery_tau": ranking.mystery_tau,
        "scales": [_flat(scale, _SCALE_FIELDS) for scale in ranking.scales],
        "weight_sensitivity": ranking.weight_sensitivity,
        "input_digest": input_digest,
        "columns": columns,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _flat(obj: Any, names: Sequence[str]) -> list[Any]:
    return [getattr(obj, name) for name in names]


def _components(columns: dict[str, Any], slot: int, flags: list[int]) -> list[Component]:
    name = _COMPONENTS[slot]
    count = len(flags)
    floats = {f: _unpack("d", columns[f"{name}.{f}"]) for f in _COMPONENT_FLOATS}
    none = _RAW_NONE << slot
    raw = [None if f & none else v for f, v in zip(flags, floats["raw"], strict=True)]
    return list(
        map(
            Component,
            _as_list(columns[f"{name}.name"], count),
            floats["estimate"],
            floats["low"],
            floats["high"],
            _unpack("q", columns[f"{name}.n"]),
            floats["omega"],
            raw,
            floats["z"],
            floats["sd"],
        )
    )


def _inputs(columns: dict[str, Any], count: int) -> list[StaffInput]:
    visits = _unpack("q", columns["in.visits"])
    scores = _unpack("d", columns["in.mystery_scores"])
    mystery, at = [], 0
    for v in visits:
        mystery.append(tuple(scores[at : at + v]))
        at += v
    ints = [_unpack("q", columns[f"in.{name}"]) for name in _INPUT_INTS]
    satisfied, rated, promoters, passives, detractors, complaints, transactions = ints
    return list(
        map(
            StaffInput,
            _unpack("q", columns["in.staff_id"]),
            _unpack("q", columns["in.store_id"]),
            _as_list(columns["in.group"], count),
            satisfied,
            rated,
            promoters,
            passives,
            detractors,
            mystery,
            complaints,
            transactions,
            columns["in.excluded_reason"],
        )
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a month's 30,000 objects are built: they
    hold no cycles, and each burst of allocations otherwise triggers collections of the
    whole heap (measured: half of the calls 300 ms slower, in a process holding a few
    rankings)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def decode(text: str, parameters: RankingParameters) -> StoredMonth:
    """A ranking `encode` wrote, read back."""
    with collector_paused():
        return _decode(text, parameters)


def _decode(text: str, parameters: RankingParameters) -> StoredMonth:
    body = json.loads(text)
    columns, count = body["columns"], body["count"]
    flags = _unpack("q", columns["flags"])
    slots = [_components(columns, k, flags) for k in range(len(_COMPONENTS))]
    scores = tuple(
        map(
            StaffScore,
            _unpack("q", columns["staff_id"]),
            _unpack("q", columns["store_id"]),
            columns["group"],
            *slots,
            _as_list(columns["customer_signal"], count),
            _unpack("q", columns["n"]),
            *(_unpack("d", columns[name]) for name in ("composite", "q10", "q90", "p_top")),
            [bool(f & _GREYED) for f in flags],
            [bool(f & _ELIGIBLE) for f in flags],
            map(tuple, columns["ineligible_reasons"]),
            [None if r == _NO_RANK else r for r in _unpack("q", columns["rank"])],
            [bool(f & _PROPOSED) for f in flags],
            [bool(f & _COACHING) for f in flags],
            map(tuple, columns["pulling_down"]),
        )
    )
    ranking = Ranking(
        parameters=parameters,
        m=body["m"],
        m_source=body["m_source"],
        mystery_sigma=body["mystery_sigma"],
        mystery_tau=body["mystery_tau"],
        scales=tuple(SignalScale(*scale) for scale in body["scales"]),
        scores=scores,
        weight_sensitivity=body["weight_sensitivity"],
    )
    return StoredMonth(ranking, tuple(_inputs(columns, count)), body["input_digest"])


# --------------------------------------------------------------------------- the table


def _key(month: date, scope: str, gated: bool) -> Any:
    return (
        StoredRanking.month == month,
        StoredRanking.scope == scope,
        StoredRanking.gated == gated,
    )


def load(
    session: Session,
    month: date,
    *,
    scope: str,
    gated: bool,
    fingerprint: str,
    parameters: RankingParameters,
) -> StoredMonth | None:
    """The stored ranking of ``month`` if its fingerprint is ``fingerprint``, else
    ``None`` (never stored, or computed from data that has changed since)."""
    row = session.execute(
        select(StoredRanking.body, StoredRanking.fingerprint).where(*_key(month, scope, gated))
    ).first()
    if row is None or row[1] != fingerprint:
        return None
    return decode(row[0], parameters)


def load_points(
    session: Session,
    staff_id: int,
    fingerprints: dict[date, str],
    *,
    scope: str,
    gated: bool,
) -> dict[date, MonthPoint | None]:
    """For each month of ``fingerprints`` whose stored ranking still matches, ``staff_id``'s
    figures in it (``None`` when they were not in that ranking)."""
    if not fingerprints:
        return {}
    stored = session.execute(
        select(StoredRanking.id, StoredRanking.month, StoredRanking.fingerprint).where(
            StoredRanking.month.in_(sorted(fingerprints)),
            StoredRanking.scope == scope,
            StoredRanking.gated == gated,
        )
    ).all()
    fresh = {rid: month for rid, month, printed in stored if fingerprints[month] == printed}
    found: dict[date, MonthPoint | None] = dict.fromkeys(fresh.values())
    if fresh:
        r = StoredRankingRow
        for rid, n, composite, q10, q90, rank, greyed, ranked in session.execute(
            select(
                r.ranking_id, r.n, r.composite, r.q10, r.q90, r.rank, r.greyed, r.group_ranked
            ).where(r.ranking_id.in_(sorted(fresh)), r.staff_id == staff_id)
        ):
            found[fresh[rid]] = MonthPoint(
                n, _float(composite), _float(q10), _float(q90), rank, greyed, ranked
            )
    return found


def save(
    session: Session,
    month: date,
    *,
    scope: str,
    gated: bool,
    fingerprint: str,
    ranking: Ranking,
    inputs: Sequence[StaffInput],
    input_digest: str,
    now: datetime,
) -> None:
    """Store ``month``'s ranking in place of any stored before, in a savepoint: when
    another request stored the same month at the same moment, theirs is kept (it was
    computed from the same data, or the next read computes it again)."""
    body = encode(ranking, inputs, input_digest)
    ranked = Counter(s.group for s in ranking.scores if s.rank is not None)
    try:
        with session.begin_nested():
            session.execute(delete(StoredRanking).where(*_key(month, scope, gated)))
            ranking_id = session.scalar(
                insert(StoredRanking)
                .values(
                    month=month,
                    scope=scope,
                    gated=gated,
                    fingerprint=fingerprint,
                    computed_at=now,
                    body=body,
                )
                .returning(StoredRanking.id)
            )
            people = [
                {
                    "ranking_id": ranking_id,
                    "staff_id": s.staff_id,
                    "award_group": s.group,
                    "n": s.n,
                    "composite": s.composite,
                    "q10": s.q10,
                    "q90": s.q90,
                    "rank": s.rank,
                    "greyed": s.greyed,
                    "group_ranked": ranked[s.group],
                }
                for s in ranking.scores
            ]
            if people:  # an empty list would be one INSERT without values
                session.execute(insert(StoredRankingRow), people)
    except DBAPIError:
        # A lost race to store is not the reader's failure: the savepoint is rolled back
        # and the computed result is still returned.
        return


def forget(session: Session, months: Iterable[date] | None = None) -> int:
    """Delete the stored rankings (of ``months``, or all): they are computed again when
    next read. Not needed for correctness (the fingerprint catches every change); for
    ``rebuild-rollups`` and tests. Flushed, not committed."""
    stmt = delete(StoredRanking)
    if months is not None:
        stmt = stmt.where(StoredRanking.month.in_(sorted(set(months))))
    result: Any = session.execute(stmt)
    return int(result.rowcount or 0)
