"""The daily counts of custom questions' answers (`QuestionDailyCount`): written with each
response's custom answers, and rebuilt from the raw ``response_answers`` rows.

Per survey, question, store and store-local day: the row with value ``""`` (`RESPONDENTS`)
counts the shoppers who answered the question (its n); a scale counts each point ("1",
"2", ...), yes/no "yes" and "no", a choice or multiple choice each choice key (including
"other"); text questions have only their n. Charts of custom questions read these rows, so
their cost grows with days x stores, not with answers.

Increments are one ``INSERT ... ON CONFLICT DO UPDATE SET count = count + excluded.count``
run for every value at once (executemany), compiled once per dialect, so concurrent
submits never lose a count on SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    Table,
    bindparam,
    case,
    cast,
    delete,
    false,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.db import precompiled
from portal.models import (
    RESPONDENTS,
    QuestionDailyCount,
    Response,
    ResponseAnswer,
    SurveyVersion,
)
from portal.versions import definition_of
from surveys.answers import CustomAnswer
from surveys.definitions import OTHER, QuestionKind

_KEY = ("survey_id", "question_key", "store_id", "day", "channel", "value")


#: The counted values of a yes/no answer (stored as the number 1 or 0).
YES, NO = "yes", "no"


def answer_rows(answer: CustomAnswer) -> list[dict[str, int | str | None]]:
    """The ``response_answers`` columns of one custom answer: a number (scale; yes/no as 1
    or 0), a choice key (one row per ticked choice; "other" with its text), or text."""
    value = answer.value
    if isinstance(value, bool | int):  # a scale, or yes/no
        return [{"number": int(value), "choice": None, "text": None}]
    if answer.kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE):
        keys = sorted(value) if isinstance(value, frozenset) else [str(value)]
        return [
            {"number": None, "choice": key, "text": answer.other_text if key == OTHER else None}
            for key in keys
        ]
    return [{"number": None, "choice": None, "text": str(value)}]


def insert_answers(session: Session, response_id: int, answers: Iterable[CustomAnswer]) -> None:
    """Store the custom answers of one response as its `ResponseAnswer` rows (`answer_rows`).

    One executemany through Core: the ORM's unit of work would add a round of bookkeeping
    per row inside the write transaction.
    """
    rows = [
        {"response_id": response_id, "question_key": answer.key, **row}
        for answer in answers
        for row in answer_rows(answer)
    ]
    if rows:
        table = ResponseAnswer.__table__
        assert isinstance(table, Table)
        session.connection().execute(table.insert(), rows)


def answer_value(kind: QuestionKind, number: int | None, choice: str | None) -> str | None:
    """A stored answer row's value as `question_daily_counts` counts it: a scale point as
    text, `YES`/`NO` for 1/0, a choice key; ``None`` for a text answer (only counted as a
    respondent)."""
    if kind is QuestionKind.SCALE:
        return None if number is None else str(number)
    if kind is QuestionKind.BOOLEAN:
        return None if number is None else (YES if number else NO)
    if kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE):
        return choice
    return None


def counted_values(answer: CustomAnswer) -> Iterator[str]:
    """The values one answer adds 1 to, its respondent row (`RESPONDENTS`) first."""
    yield RESPONDENTS
    for row in answer_rows(answer):
        value = answer_value(answer.kind, row["number"], row["choice"])  # type: ignore[arg-type]
        if value is not None:
            yield value


@lru_cache(maxsize=4)
def _upsert_statement(dialect: str) -> Any:
    """Compiled once per dialect (`portal.db.precompiled`): SQLAlchemy cannot cache an
    ``ON CONFLICT`` construct and would compile it on every submit."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = QuestionDailyCount.__table__
    assert isinstance(table, Table)
    columns = table.c
    stmt = insert(table).values(
        {name: bindparam(name, type_=columns[name].type) for name in (*_KEY, "count")}
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=list(_KEY), set_={"count": columns.count + stmt.excluded.count}
    )
    return precompiled(stmt, dialect)


def count_answers(
    session: Session,
    *,
    survey_id: int,
    store_id: int,
    day: date,
    channel: str,
    answers: Iterable[CustomAnswer],
    sign: int = 1,
) -> None:
    """Add one response's custom answers to the daily counts of its survey, store, day and
    channel (``sign`` -1 takes them out again: a corrected answer).

    One statement, executed for every value at once. The rows are touched in key order:
    on PostgreSQL two submits of one store lock the same rows, always in the same order.
    """
    keys = sorted((answer.key, value) for answer in answers for value in counted_values(answer))
    if not keys:
        return
    stmt = _upsert_statement(session.get_bind().dialect.name)
    rows = [
        {
            "survey_id": survey_id,
            "question_key": key,
            "store_id": store_id,
            "day": day,
            "channel": channel,
            "value": value,
            "count": sign,
        }
        for key, value in keys
    ]
    session.connection().execute(stmt, rows)


def rebuild_question_counts(session: Session, store_ids: Iterable[int] | None = None) -> int:
    """Recompute the daily counts (of ``store_ids``, or all) from the raw answer rows.

    How a row counts depends on its question's kind, which only the version's definition
    knows: the survey versions are read once, and the kinds go into the one
    ``INSERT ... SELECT`` as lists of (version, question) pairs.

    Returns the number of count rows written.
    """
    ids = None if store_ids is None else list(store_ids)
    clear = delete(QuestionDailyCount)
    if ids is not None:
        clear = clear.where(QuestionDailyCount.store_id.in_(ids))
    session.execute(clear)
    kinds = _kinds_of_versions(session)
    a, r, v = ResponseAnswer, Response, SurveyVersion
    joined = a.__table__.join(r, r.id == a.response_id).join(v, v.id == r.survey_version_id)
    pair = tuple_(r.survey_version_id, a.question_key)

    def grouped(value: Any, *where: Any, count: Any = None) -> Any:
        stmt = (
            select(
                v.survey_id.label("survey_id"),
                a.question_key.label("question_key"),
                r.store_id.label("store_id"),
                r.local_day.label("day"),
                r.channel.label("channel"),
                value.label("value"),
                (count if count is not None else func.count()).label("count"),
            )
            .select_from(joined)
            .where(v.survey_id.is_not(None), *where)
            .group_by(v.survey_id, a.question_key, r.store_id, r.local_day, r.channel, value)
        )
        return stmt if ids is None else stmt.where(r.store_id.in_(ids))

    def of_kind(*wanted: QuestionKind) -> Any:
        pairs = [p for p, kind in kinds.items() if kind in wanted]
        return pair.in_(pairs) if pairs else false()

    parts = [
        # One respondent per response, however many rows (multiple choice) it has.
        grouped(
            cast(literal(RESPONDENTS), String),
            pair.in_(list(kinds)) if kinds else false(),
            count=func.count(func.distinct(a.response_id)),
        ),
        grouped(cast(a.number, String), of_kind(QuestionKind.SCALE), a.number.is_not(None)),
        grouped(
            case((a.number == 1, YES), else_=NO),
            of_kind(QuestionKind.BOOLEAN),
            a.number.is_not(None),
        ),
        grouped(
            a.choice,
            of_kind(QuestionKind.CHOICE, QuestionKind.MULTIPLE),
            a.choice.is_not(None),
        ),
    ]
    both = union_all(*parts).subquery()
    # A key whose kind changed between versions may give one value twice: add them up.
    merged = select(
        both.c.survey_id,
        both.c.question_key,
        both.c.store_id,
        both.c.day,
        both.c.channel,
        both.c.value,
        cast(func.sum(both.c["count"]), Integer).label("count"),
    ).group_by(
        both.c.survey_id,
        both.c.question_key,
        both.c.store_id,
        both.c.day,
        both.c.channel,
        both.c.value,
    )
    table = QuestionDailyCount.__table__
    assert isinstance(table, Table)
    session.execute(table.insert().from_select([*_KEY, "count"], merged))
    written = select(func.count()).select_from(QuestionDailyCount)
    if ids is not None:
        written = written.where(QuestionDailyCount.store_id.in_(ids))
    return int(session.scalar(written) or 0)


def _kinds_of_versions(session: Session) -> dict[tuple[int, str], QuestionKind]:
    """(version id, question key) -> kind, for the custom questions of every published
    survey version (a few dozen definitions, each parsed once per process)."""
    versions = session.scalars(select(SurveyVersion).where(SurveyVersion.survey_id.is_not(None)))
    return {
        (version.id, question.key): question.kind
        for version in versions
        for question in definition_of(version).custom_questions()
    }
