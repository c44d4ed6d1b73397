"""Validation of custom answers (surveys.answers): typed per kind, "other" with its text,
text limits, required only while shown, answers to hidden questions dropped, and surveys
without the receipt survey's optional questions."""

from __future__ import annotations

from typing import Any

import pytest

from surveys.answers import AnswerError, Answers, CustomAnswer, validate_answers
from surveys.definitions import QuestionKind
from surveys.loader import parse_definition


def text(word: str) -> dict[str, str]:
    return {"en": word, "zh_CN": word}


SURVEY = parse_definition(
    {
        "key": "short",
        "title": text("t"),
        "intro": text("i"),
        "thanks": text("t"),
        "consent": text("c"),
        "questions": [
            {
                "key": "nps",
                "kind": "scale",
                "min": 0,
                "max": 10,
                "required": True,
                "text": text("n"),
            },
            {
                "key": "csat",
                "kind": "scale",
                "min": 1,
                "max": 5,
                "required": True,
                "text": text("c"),
            },
            {"key": "used_app", "kind": "boolean", "required": True, "text": text("app")},
            {
                "key": "app_rating",
                "kind": "scale",
                "min": 0,
                "max": 10,
                "required": True,
                "text": text("rate"),
                "show_if": {"all": [{"question": "used_app", "op": "eq", "value": True}]},
            },
            {
                "key": "paid_with",
                "kind": "choice",
                "other": True,
                "text": text("pay"),
                "choices": [
                    {"key": "cash", "text": text("cash")},
                    {"key": "card", "text": text("card")},
                ],
            },
            {
                "key": "bought",
                "kind": "multiple",
                "text": text("bought"),
                "choices": [
                    {"key": "milk", "text": text("milk")},
                    {"key": "bread", "text": text("b")},
                ],
                "show_if": {"any": [{"store_format": ["convenience"]}]},
            },
            {"key": "name_it", "kind": "short_text", "max_length": 10, "text": text("n")},
        ],
    }
)


def check(store_format: str = "", **raw: Any) -> Answers | list[AnswerError]:
    return validate_answers(
        SURVEY, {"nps": "9", "csat": "5", "used_app": "no", **raw}, store_format
    )


def test_each_kind_is_typed():
    result = check(
        "convenience",
        used_app="yes",
        app_rating="0",
        paid_with="card",
        bought=("milk", "bread", "milk"),
        name_it="  ok  ",
    )
    assert isinstance(result, Answers)
    assert result.custom == (
        CustomAnswer("used_app", QuestionKind.BOOLEAN, True),
        CustomAnswer("app_rating", QuestionKind.SCALE, 0),
        CustomAnswer("paid_with", QuestionKind.CHOICE, "card"),
        CustomAnswer("bought", QuestionKind.MULTIPLE, frozenset({"milk", "bread"})),
        CustomAnswer("name_it", QuestionKind.SHORT_TEXT, "ok"),
    )
    # The receipt survey's own answers are absent from this survey, and that is fine.
    assert (result.problem_reported, result.comment, result.contact) == (False, None, None)


def test_other_needs_its_text_and_keeps_it():
    assert check(paid_with="other") == [AnswerError("paid_with-other", "other_required")]
    result = check(paid_with="other", **{"paid_with-other": " 微信 "})
    assert result.custom[-1] == CustomAnswer("paid_with", QuestionKind.CHOICE, "other", "微信")
    # Text typed beside "other" without choosing it is not kept.
    assert check(paid_with="cash", **{"paid_with-other": "x"}).custom[-1].other_text is None


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"used_app": ""}, AnswerError("used_app", "required")),
        ({"used_app": "perhaps"}, AnswerError("used_app", "unknown_choice")),
        ({"used_app": "yes"}, AnswerError("app_rating", "required")),
        ({"used_app": "yes", "app_rating": "11"}, AnswerError("app_rating", "out_of_range")),
        ({"paid_with": "coupon"}, AnswerError("paid_with", "unknown_choice")),
        ({"paid_with": ("cash", "card")}, AnswerError("paid_with", "unknown_choice")),
        ({"name_it": "x" * 11}, AnswerError("name_it", "too_long")),
        ({"name_it": "a\tb"}, AnswerError("name_it", "invalid_text")),
        (
            {"paid_with": "other", "paid_with-other": "x" * 201},
            AnswerError("paid_with-other", "too_long"),
        ),
    ],
)
def test_bad_custom_answers_are_refused(raw, error):
    assert check(**raw) == [error]


def test_hidden_questions_are_neither_kept_nor_required():
    # "no" hides the required rating; what was sent for it is dropped, not refused.
    result = check(used_app="no", app_rating="99")
    assert isinstance(result, Answers)
    assert [a.key for a in result.custom] == ["used_app"]
    # The store's format hides "bought" outside convenience stores.
    assert "bought" not in [a.key for a in check("supermarket", bought=("milk",)).custom]
    assert "bought" in [a.key for a in check("convenience", bought=("milk",)).custom]


def test_the_scoring_questions_are_always_needed():
    assert validate_answers(SURVEY, {"used_app": "no"}) == [
        AnswerError("nps", "required"),
        AnswerError("csat", "required"),
    ]
