"""Custom questions for the benchmark data set (``bench/dataset.py --custom-questions``).

`add_custom_answers` publishes version 2 of the default survey (the receipt survey plus a
1-5 scale, a four-choice multiple choice and a yes/no question), moves every receipt and
response of the data set to it, and answers the three questions on every response: one
``response_answers`` row for the scale, one for the yes/no, one per ticked choice (1.4 on
average), encoded as the portal encodes them. The ``question_daily_counts`` rows are then
summed from those answers in one ``INSERT ... SELECT`` per question: the respondents row
(value "") and one row per point, "yes"/"no" or choice, per store and day.

Draws use their own random stream (``seed`` + 1), so the rest of the data set is the same
with or without them; the answers follow each response's satisfaction a little.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Integer, String, case, cast, func, insert, literal, select, text, update
from sqlalchemy.orm import Session

from portal.models import QuestionDailyCount, Receipt, Response, ResponseAnswer, SurveyVersion
from portal.models.surveys import RESPONDENTS
from portal.versions import default_survey, latest_version
from surveys.loader import LIBRARY, canonical_content, read_yaml

SCALE, MULTIPLE, BOOLEAN = "checkout_ease", "departments", "self_checkout"
CHOICES = ("bakery", "deli", "produce", "household")
#: How often each counter is ticked; a response that ticks none gets the first.
_TICK_P = (0.45, 0.35, 0.4, 0.2)
_CHUNK = 50_000


def _text(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


QUESTIONS: list[dict[str, Any]] = [
    {
        "key": SCALE,
        "kind": "scale",
        "min": 1,
        "max": 5,
        "text": _text("结账是否方便？", "How easy was the checkout?"),
        "low_label": _text("很难", "Very hard"),
        "high_label": _text("很容易", "Very easy"),
    },
    {
        "key": MULTIPLE,
        "kind": "multiple",
        "text": _text("您今天去了哪些柜台？", "Which counters did you visit today?"),
        "choices": [
            {"key": "bakery", "text": _text("面包房", "Bakery")},
            {"key": "deli", "text": _text("熟食", "Deli")},
            {"key": "produce", "text": _text("果蔬", "Fruit and vegetables")},
            {"key": "household", "text": _text("日用品", "Household")},
        ],
    },
    {
        "key": BOOLEAN,
        "kind": "boolean",
        "text": _text("您使用了自助结账吗？", "Did you use the self-checkout?"),
    },
]


def publish_custom_version(session: Session, published_at: datetime) -> SurveyVersion:
    """The next version of the default survey: the receipt survey with `QUESTIONS`."""
    document = read_yaml(LIBRARY / "receipt.yaml")
    document["questions"] += QUESTIONS
    _content, content_hash = canonical_content(document, "bench")
    survey = default_survey(session)
    previous = latest_version(session, survey.id)
    version = SurveyVersion(
        survey_key=survey.key,
        content_hash=content_hash,
        definition=json.loads(json.dumps(document)),
        published_at=published_at,
        survey_id=survey.id,
        number=(previous.number or 0) + 1 if previous else 1,
        scoring_series=previous.scoring_series if previous else 1,
    )
    session.add(version)
    session.flush()
    return version


def add_custom_answers(
    session: Session,
    insert_rows: Callable[[Any, dict[str, Sequence[Any]]], None],
    *,
    seed: int,
    published_at: datetime,
    log: Callable[[str], None],
) -> int:
    """Answer the three custom questions on every response (see the module docstring);
    ``insert_rows(table, columns)`` writes column-wise rows. Returns the answer rows."""
    started = time.perf_counter()
    version = publish_custom_version(session, published_at)
    for model in (Receipt, Response):
        session.execute(update(model).values(survey_version_id=version.id))
    ids, csat = (
        np.array(column, dtype=np.int64)
        for column in zip(
            *session.execute(select(Response.id, Response.csat).order_by(Response.id)).all(),
            strict=True,
        )
    )
    log(f"  responses moved to version {version.number} ({time.perf_counter() - started:.1f} s)")
    rng = np.random.default_rng(seed + 1)
    n = len(ids)
    ease = np.clip(csat + rng.integers(-1, 2, n), 1, 5)
    self_checkout = (rng.random(n) < 0.4).astype(np.int64)
    ticked = rng.random((n, len(CHOICES))) < np.array(_TICK_P)
    ticked[~ticked.any(axis=1), 0] = True
    rows = 0
    table = ResponseAnswer.__table__
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        who = np.arange(a, b)
        picks = np.nonzero(ticked[a:b])
        response_ids = np.concatenate([ids[who], ids[who], ids[a + picks[0]]])
        count = len(response_ids)
        insert_rows(
            table,
            {
                "id": range(rows + 1, rows + count + 1),
                "response_id": response_ids.tolist(),
                "question_key": [SCALE] * (b - a)
                + [BOOLEAN] * (b - a)
                + [MULTIPLE] * len(picks[0]),
                "number": [*ease[a:b].tolist(), *self_checkout[a:b].tolist()]
                + [None] * len(picks[0]),
                "choice": [None] * (2 * (b - a)) + [CHOICES[c] for c in picks[1].tolist()],
                "text": [None] * count,
            },
        )
        rows += count
    log(f"  {rows:,} answer rows ({time.perf_counter() - started:.1f} s)")
    assert version.survey_id is not None
    _count_answers(session, version.survey_id)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('response_answers', 'id'), max(id)) "
                "FROM response_answers"
            )
        )
    log(f"  daily counts summed ({time.perf_counter() - started:.1f} s)")
    return rows


def _count_answers(session: Session, survey_id: int) -> None:
    """The daily counts of the answers, as the submit path keeps them."""
    answer, response = ResponseAnswer, Response
    value = case(
        (answer.question_key == BOOLEAN, case((answer.number == 1, "yes"), else_="no")),
        (answer.question_key == SCALE, cast(answer.number, String)),
        else_=answer.choice,
    )
    columns = ["survey_id", "question_key", "store_id", "day", "channel", "value", "count"]
    joined = select().select_from(answer).join(response, response.id == answer.response_id)
    per_value = joined.with_only_columns(
        literal(survey_id),
        answer.question_key,
        response.store_id,
        response.local_day,
        response.channel,
        value,
        cast(func.count(), Integer),
    ).group_by(answer.question_key, response.store_id, response.local_day, response.channel, value)
    respondents = joined.with_only_columns(
        literal(survey_id),
        answer.question_key,
        response.store_id,
        response.local_day,
        response.channel,
        literal(RESPONDENTS),
        cast(func.count(answer.response_id.distinct()), Integer),
    ).group_by(answer.question_key, response.store_id, response.local_day, response.channel)
    for stmt in (per_value, respondents):
        session.execute(insert(QuestionDailyCount).from_select(columns, stmt))
