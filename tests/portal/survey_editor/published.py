"""Published versions for tests: the rows the editor's publishing writes, and a seasonal
survey whose second version changes a little of everything."""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.models import Survey, SurveyVersion, User
from surveys.loader import LIBRARY, parse_definition, read_yaml

SEASONAL_KEY = "seasonal"
_HIDDEN = re.compile(r"<input[^>]*>")


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page (the CSRF token, row versions, tokens), by name."""
    fields = {}
    for tag in _HIDDEN.findall(html):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]+)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            if name:
                fields[name.group(1)] = value.group(1) if value else ""
    return fields


def publish_version(
    session: Session,
    survey: Survey,
    document: dict[str, Any],
    *,
    number: int,
    series: int = 1,
    by: User | None = None,
    now: datetime | None = None,
) -> SurveyVersion:
    """Version ``number`` of ``survey`` with ``document`` (checked by the loader)."""
    definition = parse_definition(document)
    version = SurveyVersion(
        survey_key=survey.key,
        content_hash=definition.content_hash,
        definition=json.loads(definition.content),
        published_at=now or utcnow(),
        survey_id=survey.id,
        number=number,
        scoring_series=series,
        published_by_user_id=None if by is None else by.id,
    )
    session.add(version)
    session.flush()
    return version


def seasonal_first() -> dict[str, Any]:
    """The receipt survey's questions under another key, with two custom questions."""
    doc = read_yaml(LIBRARY / "receipt.yaml")
    doc["key"] = SEASONAL_KEY
    doc["title"] = {"zh_CN": "春季购物调查", "en": "Spring shopping survey"}
    doc["questions"][2:2] = [
        {
            "key": "checkout_way",
            "kind": "choice",
            "text": {"zh_CN": "您是如何结账的？", "en": "How did you pay?"},
            "choices": [
                {"key": "till", "text": {"zh_CN": "收银台", "en": "At a till"}},
                {"key": "self", "text": {"zh_CN": "自助结账", "en": "Self-checkout"}},
                {"key": "app", "text": {"zh_CN": "手机支付", "en": "In the app"}},
            ],
            "show_if": {"any": [{"question": "csat", "op": "le", "value": 2}]},
        },
        {
            "key": "wish",
            "kind": "short_text",
            "max_length": 100,
            "text": {"zh_CN": "您希望我们增加什么商品？", "en": "What should we stock?"},
        },
    ]
    return doc


def seasonal_second() -> dict[str, Any]:
    """`seasonal_first` with a new title, a question added, one removed, one moved, and
    one changed in wording, choices, kind, condition and requirement."""
    doc = copy.deepcopy(seasonal_first())
    doc["title"]["en"] = "Spring shopping survey 2"
    doc["groups"][0]["text"]["en"] = "Rate our service (optional)"
    questions = doc["questions"]
    wish = next(q for q in questions if q["key"] == "wish")
    questions.remove(wish)
    checkout = next(q for q in questions if q["key"] == "checkout_way")
    checkout.update(kind="multiple", required=True, other=True)
    checkout["text"]["zh_CN"] = "您今天是如何结账的？"
    checkout["choices"] = [
        checkout["choices"][1],
        checkout["choices"][0],
        {"key": "scan_go", "text": {"zh_CN": "扫码购", "en": "Scan and go"}},
    ]
    checkout["show_if"] = {
        "all": [
            {"question": "csat", "op": "le", "value": 3},
            {"store_format": ["convenience", "supermarket"]},
        ]
    }
    comment = next(q for q in questions if q["key"] == "comment")
    questions.remove(comment)
    questions.insert(0, comment)
    questions.append(
        {
            "key": "bag",
            "kind": "boolean",
            "text": {"zh_CN": "您自带购物袋了吗？", "en": "Did you bring your own bag?"},
            "help": {"zh_CN": "选填", "en": "Optional"},
        }
    )
    return doc


def add_seasonal_survey(
    session: Session, *, by: User | None = None, now: datetime | None = None
) -> Survey:
    """The seasonal survey with its two versions (the second a new scoring series)."""
    survey = Survey(key=SEASONAL_KEY, created_at=now or utcnow())
    session.add(survey)
    session.flush()
    publish_version(session, survey, seasonal_first(), number=1, by=by, now=now)
    publish_version(session, survey, seasonal_second(), number=2, series=2, by=by, now=now)
    return survey
