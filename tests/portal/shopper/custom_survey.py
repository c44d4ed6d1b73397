"""A survey with custom questions of every kind and conditions, published for the tests of
the shopper's page, the preview and the question rollups."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Survey, SurveyVersion
from surveys.loader import LIBRARY, canonical_content, read_yaml


def text(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh_CN": zh}


#: Custom questions after the receipt survey's "problem_category": one of each kind, with
#: conditions on an answer, on two answers and on the store's format.
CUSTOM_QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "visit_reason",
        "kind": "choice",
        "required": True,
        "other": True,
        "text": text("Why did you come in today?", "您今天来店的主要目的是？"),
        "help": text("Pick the main reason.", "请选择最主要的一项。"),
        "choices": [
            {"key": "groceries", "text": text("Groceries", "买菜")},
            {"key": "pharmacy", "text": text("Pharmacy", "药品")},
        ],
    },
    {
        "key": "self_checkout",
        "kind": "boolean",
        "text": text("Did you use the self-checkout?", "您使用了自助收银吗？"),
    },
    {
        "key": "checkout_ease",
        "kind": "scale",
        "min": 1,
        "max": 5,
        "required": True,
        "text": text("How easy was the self-checkout?", "自助收银好用吗？"),
        "show_if": {"all": [{"question": "self_checkout", "op": "eq", "value": True}]},
    },
    {
        "key": "departments",
        "kind": "multiple",
        "other": True,
        "text": text("Which departments did you visit?", "您去了哪些区域？"),
        "choices": [
            {"key": "food", "text": text("Food hall", "食品区")},
            {"key": "fashion", "text": text("Fashion", "服装区")},
            {"key": "electronics", "text": text("Electronics", "电器区")},
        ],
        "show_if": {"any": [{"store_format": ["department_store"]}]},
    },
    {
        "key": "improve",
        "kind": "short_text",
        "max_length": 80,
        "text": text("What one thing should we fix?", "我们最该改进哪一点？"),
        "show_if": {
            "any": [
                {"question": "csat", "op": "le", "value": 2},
                {"question": "nps", "op": "le", "value": 6},
            ]
        },
    },
    {
        "key": "story",
        "kind": "text",
        "max_length": 300,
        "text": text("Tell us about your visit", "说说您这次的购物经历"),
    },
]


def custom_document(questions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The receipt survey with ``questions`` (default `CUSTOM_QUESTIONS`) inserted before
    its comment."""
    document = copy.deepcopy(read_yaml(LIBRARY / "receipt.yaml"))
    document["key"] = "custom"
    at = next(n for n, q in enumerate(document["questions"]) if q["key"] == "comment")
    document["questions"][at:at] = copy.deepcopy(
        CUSTOM_QUESTIONS if questions is None else questions
    )
    return document


def publish(
    session: Session, document: dict[str, Any], now: datetime, survey_key: str = "custom"
) -> SurveyVersion:
    """Publish ``document`` as the next version of the survey ``survey_key`` (created when
    absent), as the editor's publishing does; the version already holding this exact
    content when there is one."""
    content, content_hash = canonical_content(document, survey_key)
    same = session.scalar(select(SurveyVersion).where(SurveyVersion.content_hash == content_hash))
    if same is not None:
        return same  # identical content is one version
    survey = session.scalar(select(Survey).where(Survey.key == survey_key))
    if survey is None:
        survey = Survey(key=survey_key, created_at=now)
        session.add(survey)
        session.flush()
    number = session.scalar(
        select(func.coalesce(func.max(SurveyVersion.number), 0)).where(
            SurveyVersion.survey_id == survey.id
        )
    )
    version = SurveyVersion(
        survey_key=survey_key,
        content_hash=content_hash,
        definition=json.loads(content),
        published_at=now,
        survey_id=survey.id,
        number=(number or 0) + 1,
    )
    session.add(version)
    session.flush()
    return version
