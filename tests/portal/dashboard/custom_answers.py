"""Test data for custom questions: published versions of the default survey with custom
questions, and answers written as `ResponseAnswer` rows plus their `QuestionDailyCount`
rows (what the submit path writes), encoded as the issue's contract says."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from portal.models import QuestionDailyCount, Response, ResponseAnswer, SurveyVersion
from portal.models.surveys import RESPONDENTS
from portal.versions import default_survey, definition_of
from surveys.definitions import QuestionKind
from surveys.loader import LIBRARY, canonical_content, read_yaml


def _text(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


#: Four custom questions: a 1-5 scale, a multiple choice with "other", a yes/no and text.
CUSTOM_QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "checkout_ease",
        "kind": "scale",
        "min": 1,
        "max": 5,
        "text": _text("结账是否方便？", "How easy was the checkout?"),
        "low_label": _text("很难", "Very hard"),
        "high_label": _text("很容易", "Very easy"),
    },
    {
        "key": "departments",
        "kind": "multiple",
        "other": True,
        "text": _text("您今天去了哪些柜台？", "Which counters did you visit today?"),
        "choices": [
            {"key": "bakery", "text": _text("面包房", "Bakery")},
            {"key": "deli", "text": _text("熟食", "Deli")},
            {"key": "produce", "text": _text("果蔬", "Fruit and vegetables")},
        ],
    },
    {
        "key": "self_checkout",
        "kind": "boolean",
        "text": _text("您使用了自助结账吗？", "Did you use the self-checkout?"),
    },
    {
        "key": "suggestion",
        "kind": "short_text",
        "max_length": 200,
        "text": _text("一句话建议", "One suggestion"),
    },
]


def survey_document(
    questions: list[dict[str, Any]] | None = None, *, title_en: str | None = None
) -> dict[str, Any]:
    """The receipt survey's document with ``questions`` (default `CUSTOM_QUESTIONS`) added
    after its own."""
    document = copy.deepcopy(read_yaml(LIBRARY / "receipt.yaml"))
    document["questions"] += copy.deepcopy(CUSTOM_QUESTIONS if questions is None else questions)
    if title_en is not None:
        document["title"] = {**document["title"], "en": title_en}
    return document


def publish_version(
    session: Session,
    document: dict[str, Any],
    *,
    number: int,
    published_at: datetime,
    scoring_series: int = 1,
) -> SurveyVersion:
    """Version ``number`` of the default survey with this document."""
    content, content_hash = canonical_content(document, "test")
    version = SurveyVersion(
        survey_key="receipt",
        content_hash=content_hash,
        definition=document,
        published_at=published_at,
        survey_id=default_survey(session).id,
        number=number,
        scoring_series=scoring_series,
    )
    session.add(version)
    session.flush()
    return version


def answer(
    session: Session,
    response: Response,
    version: SurveyVersion,
    answers: dict[str, Any] | None = None,
) -> None:
    """Move ``response`` (and its receipt) to ``version`` and record its custom answers:
    ``{"checkout_ease": 4, "departments": ["bakery", ("other", "florist")],
    "self_checkout": True, "suggestion": "more tills"}``; the daily counts follow."""
    response.survey_version_id = version.id
    response.receipt.survey_version_id = version.id
    definition = definition_of(version)
    for key, given in (answers or {}).items():
        kind = definition.question(key).kind
        rows: list[ResponseAnswer]
        values: list[str]
        if kind is QuestionKind.SCALE:
            rows, values = [ResponseAnswer(number=given)], [str(given)]
        elif kind is QuestionKind.BOOLEAN:
            rows, values = [ResponseAnswer(number=int(given))], ["yes" if given else "no"]
        elif kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE):
            ticked = [given] if isinstance(given, str | tuple) else list(given)
            rows, values = [], []
            for choice in ticked:
                choice_key, text = choice if isinstance(choice, tuple) else (choice, None)
                rows.append(ResponseAnswer(choice=choice_key, text=text))
                values.append(choice_key)
        else:
            rows, values = [ResponseAnswer(text=given)], []
        for row in rows:
            row.response_id = response.id
            row.question_key = key
            session.add(row)
        for value in [RESPONDENTS, *values]:
            count_answer(session, version, response, key, value)
    session.flush()


def count_answer(
    session: Session, version: SurveyVersion, response: Response, key: str, value: str, by: int = 1
) -> None:
    """Add ``by`` to the daily count of one value (the respondents row for ``""``)."""
    assert version.survey_id is not None
    ids = (version.survey_id, key, response.store_id, response.local_day, response.channel, value)
    row = session.get(QuestionDailyCount, ids)
    if row is None:
        row = QuestionDailyCount(
            survey_id=ids[0],
            question_key=key,
            store_id=ids[2],
            day=ids[3],
            channel=response.channel,
            value=value,
            count=0,
        )
        session.add(row)
    row.count += by
    session.flush()
