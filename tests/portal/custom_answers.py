"""Test factory for custom questions: published versions of a survey whose definitions ask
them, and answers stored as the contract of issue 12 encodes them (`ResponseAnswer` rows),
put on responses made the ordinary way (the real submit path is the shopper's part)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Receipt, Response, ResponseAnswer, Survey, SurveyVersion
from portal.versions import definition_of, publish_survey_version
from surveys.definitions import OTHER, QuestionKind
from surveys.loader import LIBRARY, parse_definition, read_yaml

# Custom questions of every kind, for tests to put in versions.
SELF_CHECKOUT = {
    "key": "self_checkout",
    "kind": "boolean",
    "text": {"zh_CN": "您用过自助收银吗？", "en": "Did you use self-checkout?"},
}
DEPARTMENT = {
    "key": "department",
    "kind": "choice",
    "other": True,
    "text": {"zh_CN": "您去了哪个部门？", "en": "Which department did you visit?"},
    "choices": [
        {"key": "grocery", "text": {"zh_CN": "食品", "en": "Grocery"}},
        {"key": "fresh", "text": {"zh_CN": "生鲜", "en": "Fresh food"}},
    ],
}
VISIT_NOTE = {
    "key": "visit_note",
    "kind": "short_text",
    "max_length": 200,
    "text": {"zh_CN": "一句话说说这次购物", "en": "Your visit in a few words"},
}
SERVICES = {
    "key": "services",
    "kind": "multiple",
    "other": True,
    "text": {"zh_CN": "您用了哪些服务？", "en": "Which services did you use?"},
    "choices": [
        {"key": "bakery", "text": {"zh_CN": "面包房", "en": "Bakery"}},
        {"key": "pharmacy", "text": {"zh_CN": "药房", "en": "Pharmacy"}},
        {"key": "parking", "text": {"zh_CN": "停车场", "en": "Parking"}},
    ],
}
APP_RATING = {
    "key": "app_rating",
    "kind": "scale",
    "min": 1,
    "max": 5,
    "text": {"zh_CN": "您给我们的应用打几分？", "en": "How do you rate our app?"},
}
WISH = {
    "key": "wish",
    "kind": "text",
    "max_length": 500,
    "text": {"zh_CN": "您还希望我们提供什么？", "en": "What else would you like?"},
}


def receipt_document(*custom: dict[str, Any], title_en: str | None = None) -> dict[str, Any]:
    """The receipt survey's document with the ``custom`` question documents added last."""
    document = copy.deepcopy(read_yaml(LIBRARY / "receipt.yaml"))
    document["questions"].extend(copy.deepcopy(list(custom)))
    if title_en is not None:
        document["title"]["en"] = title_en
    return document


def publish_version(
    session: Session, document: dict[str, Any], now: datetime, survey_key: str = "receipt"
) -> SurveyVersion:
    """``document`` published as the next version of survey ``survey_key`` (created when
    it does not exist yet)."""
    survey = session.scalar(select(Survey).where(Survey.key == survey_key))
    if survey is None:
        survey = Survey(key=survey_key)
        session.add(survey)
        session.flush()
    version = publish_survey_version(session, parse_definition(document), now)
    last = session.scalar(
        select(func.max(SurveyVersion.number)).where(SurveyVersion.survey_id == survey.id)
    )
    version.survey_id, version.number = survey.id, (last or 0) + 1
    session.flush()
    return version


def answer(session: Session, response: Response, version: SurveyVersion, **answers: Any) -> None:
    """Move ``response`` (and its receipt) to ``version`` and store ``answers`` to its
    custom questions: a number for a scale, True/False for yes/no, a key (or a list of
    keys) for choices, ``("other", text)`` for "other", a string for text."""
    response.survey_version_id = version.id
    session.get_one(Receipt, response.receipt_id).survey_version_id = version.id
    definition = definition_of(version)
    for key, value in answers.items():
        kind = definition.question(key).kind
        for number, choice, text in _encoded(kind, value):
            session.add(
                ResponseAnswer(
                    response_id=response.id,
                    question_key=key,
                    number=number,
                    choice=choice,
                    text=text,
                )
            )
    session.flush()


def _encoded(kind: QuestionKind, value: Any) -> list[tuple[int | None, str | None, str | None]]:
    if kind is QuestionKind.BOOLEAN:
        return [(1 if value else 0, None, None)]
    if kind is QuestionKind.SCALE:
        return [(value, None, None)]
    if kind in (QuestionKind.SHORT_TEXT, QuestionKind.TEXT):
        return [(None, None, value)]
    picked = value if isinstance(value, list) else [value]
    return [
        (None, OTHER, item[1]) if isinstance(item, tuple) else (None, item, None) for item in picked
    ]
