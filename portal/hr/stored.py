"""Stored rankings: the result of a month that is over, kept so that the month is ranked
once, not on every page view.

A month's ranking is stored the first time it is computed after the month ended (one row
per month, award scope and gating in ``stored_rankings``, with a per-person row each in
``stored_ranking_rows`` for the 12-month trend). It is used again only while its
**fingerprint** still matches: the SHA-256 of everything the ranking was computed from,
as read each time (the staff-month rollup less the answers held out, released mystery
observations, substantiated complaints and the bar of open ones, the staff list with
stores and regions, the policy's parameters, scope and channels). Whatever changes a
closed month after the fact (a late answer to one of its receipts, a corrected answer, a
flag or its clearing, a visit released or disputed, a case resolved, a person moved,
``rebuild-rollups``, a new policy) changes the fingerprint, and the month is ranked afresh
and stored in place of the old result. Reading the inputs costs a few thousand rows of the
staff-month rollup; ranking them (the funnel check and ``rank_staff``) is what is saved.

An award cycle's frozen snapshot (`portal.awards.snapshot`) is its own copy and never
changes with this store.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
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
_SCORE_FIELDS = tuple(f.name for f in fields(StaffScore))
_INPUT_FIELDS = tuple(f.name for f in fields(StaffInput))
_COMPONENT_FIELDS = tuple(f.name for f in fields(Component))
_SCALE_FIELDS = tuple(f.name for f in fields(SignalScale))


@dataclass(frozen=True, slots=True)
class StoredMonth:
    """A stored ranking read back: the ranking, each person's (display row as a tuple,
    score, input) in the order they were ranked, and the input digest."""

    ranking: Ranking
    rows: tuple[tuple[tuple[Any, ...], StaffScore, StaffInput], ...]
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


def _flat(obj: Any, names: Sequence[str]) -> list[Any]:
    return [getattr(obj, name) for name in names]


def encode(ranking: Ranking, rows: Sequence[tuple[tuple[Any, ...], StaffInput]]) -> str:
    """The ranking as JSON: its scalars and scales, then one array per person (display
    row, score with its four components, input). Floats keep every bit (``repr``), NaN
    included."""
    scores = []
    for score, (person, data) in zip(ranking.scores, rows, strict=True):
        flat = _flat(score, _SCORE_FIELDS)
        for name in _COMPONENTS:
            flat[_SCORE_FIELDS.index(name)] = _flat(getattr(score, name), _COMPONENT_FIELDS)
        scores.append([list(person), flat, _flat(data, _INPUT_FIELDS)])
    body = {
        "m": ranking.m,
        "m_source": ranking.m_source,
        "mystery_sigma": ranking.mystery_sigma,
        "mystery_tau": ranking.mystery_tau,
        "scales": [_flat(scale, _SCALE_FIELDS) for scale in ranking.scales],
        "weight_sensitivity": ranking.weight_sensitivity,
        "rows": scores,
    }
    return json.dumps(body, separators=(",", ":"))


def _score(flat: list[Any]) -> StaffScore:
    values = dict(zip(_SCORE_FIELDS, flat, strict=True))
    for name in _COMPONENTS:
        values[name] = Component(*values[name])
    values["ineligible_reasons"] = tuple(values["ineligible_reasons"])
    values["pulling_down"] = tuple(values["pulling_down"])
    return StaffScore(**values)


def _input(flat: list[Any]) -> StaffInput:
    values = dict(zip(_INPUT_FIELDS, flat, strict=True))
    values["mystery_scores"] = tuple(values["mystery_scores"])
    return StaffInput(**values)


def decode(text: str, parameters: RankingParameters) -> StoredMonth:
    """A ranking `encode` wrote (with the input digest `save` adds), read back."""
    body = json.loads(text)
    rows = tuple((tuple(p), _score(s), _input(i)) for p, s, i in body["rows"])
    ranking = Ranking(
        parameters=parameters,
        m=body["m"],
        m_source=body["m_source"],
        mystery_sigma=body["mystery_sigma"],
        mystery_tau=body["mystery_tau"],
        scales=tuple(SignalScale(*scale) for scale in body["scales"]),
        scores=tuple(score for _, score, _ in rows),
        weight_sensitivity=body["weight_sensitivity"],
    )
    return StoredMonth(ranking, rows, body.get("input_digest", ""))


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
    rows: Sequence[tuple[tuple[Any, ...], StaffInput]],
    input_digest: str,
    now: datetime,
) -> None:
    """Store ``month``'s ranking in place of any stored before, in a savepoint: when
    another request stored the same month at the same moment, theirs is kept (it was
    computed from the same data, or the next read computes it again)."""
    body = encode(ranking, rows)
    # The digest rides in the body: one text column, read in one go.
    body = body[:-1] + f',"input_digest":{json.dumps(input_digest)}}}'
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
