"""Changes between two definitions, from hand-written pairs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from surveys.definitions import AnswerRule, Condition, LocalizedText, RuleOp
from surveys.diff import (
    ChoiceAdded,
    ChoiceRemoved,
    ChoiceRenamed,
    ChoicesReordered,
    ConditionChanged,
    GroupChanged,
    QuestionAdded,
    QuestionChanged,
    QuestionField,
    QuestionMoved,
    QuestionRemoved,
    SurveyField,
    TextChanged,
    ValueChanged,
    diff_definitions,
    longest_common_subsequence,
)
from surveys.loader import LIBRARY, parse_definition, read_yaml

CHECKOUT: dict[str, Any] = {
    "key": "checkout",
    "kind": "choice",
    "text": {"zh_CN": "您是如何结账的？", "en": "How did you pay?"},
    "choices": [
        {"key": "till", "text": {"zh_CN": "收银台", "en": "At a till"}},
        {"key": "self", "text": {"zh_CN": "自助结账", "en": "Self-checkout"}},
        {"key": "app", "text": {"zh_CN": "手机支付", "en": "In the app"}},
    ],
    "show_if": {"any": [{"question": "csat", "op": "le", "value": 2}]},
}
WISH: dict[str, Any] = {
    "key": "wish",
    "kind": "short_text",
    "max_length": 100,
    "text": {"zh_CN": "您希望我们增加什么商品？", "en": "What should we stock?"},
}


def document() -> dict[str, Any]:
    """The receipt survey with two custom questions after the scores."""
    doc = read_yaml(LIBRARY / "receipt.yaml")
    doc["questions"][2:2] = [copy.deepcopy(CHECKOUT), copy.deepcopy(WISH)]
    return doc


def keys(doc: dict[str, Any]) -> list[str]:
    return [q["key"] for q in doc["questions"]]


def question(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return next(q for q in doc["questions"] if q["key"] == key)


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[Any, ...]:
    return diff_definitions(parse_definition(before), parse_definition(after))


def only_question_change(before: dict[str, Any], after: dict[str, Any], key: str) -> tuple:
    changes = diff(before, after)
    assert len(changes) == 1 and isinstance(changes[0], QuestionChanged), changes
    assert changes[0].key == key
    return changes[0].changes


def test_the_same_definition_has_no_changes():
    assert diff(document(), document()) == ()


def test_reordering_only_reports_the_moved_question_and_nothing_else():
    after = document()
    comment = after["questions"].pop(keys(after).index("comment"))
    after["questions"].insert(0, comment)
    old_position = keys(document()).index("comment") + 1
    assert diff(document(), after) == (QuestionMoved("comment", old_position, 1),)


def test_swapping_two_neighbours_is_one_move():
    after = document()
    after["questions"][2], after["questions"][3] = after["questions"][3], after["questions"][2]
    changes = diff(document(), after)
    assert len(changes) == 1 and isinstance(changes[0], QuestionMoved)
    assert {changes[0].before, changes[0].after} == {3, 4}


def test_a_question_added_at_the_top_moves_nothing_else():
    after = document()
    after["questions"].insert(0, {**copy.deepcopy(WISH), "key": "first_visit"})
    changes = diff(document(), after)
    assert len(changes) == 1
    assert isinstance(changes[0], QuestionAdded)
    assert (changes[0].question.key, changes[0].position) == ("first_visit", 1)


def test_a_removed_question_is_reported_with_its_old_position():
    after = document()
    after["questions"].pop(keys(after).index("wish"))
    changes = diff(document(), after)
    assert len(changes) == 1 and isinstance(changes[0], QuestionRemoved)
    assert (changes[0].question.key, changes[0].position) == ("wish", 4)


def test_a_new_key_is_a_removed_question_and_an_added_one():
    after = document()
    question(after, "wish")["key"] = "wishes"
    changes = diff(document(), after)
    assert [type(c) for c in changes] == [QuestionRemoved, QuestionAdded]


def test_wording_is_compared_language_by_language():
    after = document()
    question(after, "checkout")["text"]["en"] = "How did you pay today?"
    question(after, "checkout")["help"] = {"zh_CN": "选一项", "en": "Pick one"}
    assert only_question_change(document(), after, "checkout") == (
        TextChanged(QuestionField.TEXT, "en", "How did you pay?", "How did you pay today?"),
        TextChanged(QuestionField.HELP, "zh_CN", None, "选一项"),
        TextChanged(QuestionField.HELP, "en", None, "Pick one"),
    )


def test_kind_required_other_length_and_group_are_settings():
    after = document()
    question(after, "checkout").update(kind="multiple", required=True, other=True)
    question(after, "wish").update(max_length=200, group="service")
    changes = diff(document(), after)
    assert changes == (
        QuestionChanged(
            "checkout",
            3,
            (
                ValueChanged(QuestionField.KIND, "choice", "multiple"),
                ValueChanged(QuestionField.REQUIRED, False, True),
                ValueChanged(QuestionField.OTHER, False, True),
            ),
        ),
        QuestionChanged(
            "wish",
            4,
            (
                ValueChanged(QuestionField.MAX_LENGTH, 100, 200),
                ValueChanged(QuestionField.GROUP, None, "service"),
            ),
        ),
    )


def test_scale_ends_and_labels():
    before = document()
    before["questions"].insert(2, {**copy.deepcopy(WISH), "kind": "scale", "min": 1, "max": 5})
    del before["questions"][2]["max_length"]
    before["questions"][2]["key"] = "queue"
    after = copy.deepcopy(before)
    question(after, "queue").update(min=0, max=10, low_label={"zh_CN": "很差", "en": "Poor"})
    assert only_question_change(before, after, "queue") == (
        TextChanged(QuestionField.LOW_LABEL, "zh_CN", None, "很差"),
        TextChanged(QuestionField.LOW_LABEL, "en", None, "Poor"),
        ValueChanged(QuestionField.MINIMUM, 1, 0),
        ValueChanged(QuestionField.MAXIMUM, 5, 10),
    )


def test_choices_added_removed_renamed_and_reordered():
    after = document()
    choices = question(after, "checkout")["choices"]
    till, self_checkout, _app = choices
    self_checkout["text"]["zh_CN"] = "自助收银"
    question(after, "checkout")["choices"] = [
        self_checkout,
        till,
        {"key": "scan", "text": {"zh_CN": "扫码购", "en": "Scan and go"}},
    ]
    assert only_question_change(document(), after, "checkout") == (
        ChoiceRemoved("app", LocalizedText("手机支付", "In the app")),
        ChoiceRenamed("self", "zh_CN", "自助结账", "自助收银"),
        ChoiceAdded("scan", LocalizedText("扫码购", "Scan and go"), 3),
        ChoicesReordered(("till", "self"), ("self", "till")),
    )


def test_a_condition_added_changed_or_removed():
    after = document()
    question(after, "checkout")["show_if"] = {"all": [{"question": "csat", "op": "le", "value": 3}]}
    question(after, "wish")["show_if"] = {"any": [{"store_format": ["convenience"]}]}
    changes = diff(document(), after)
    assert changes[0] == QuestionChanged(
        "checkout",
        3,
        (
            ConditionChanged(
                Condition("any", (AnswerRule("csat", RuleOp.AT_MOST, (2,)),)),
                Condition("all", (AnswerRule("csat", RuleOp.AT_MOST, (3,)),)),
            ),
        ),
    )
    assert isinstance(changes[1], QuestionChanged)
    (wish_change,) = changes[1].changes
    assert isinstance(wish_change, ConditionChanged) and wish_change.before is None


def test_survey_texts_and_group_headings():
    after = document()
    after["title"]["en"] = "Tell us about your visit"
    after["consent"]["zh_CN"] = "我同意门店联系我。"
    after["groups"][0]["text"]["en"] = "Rate the service"
    after["groups"].append({"key": "extra", "text": {"zh_CN": "其他", "en": "More"}})
    before_doc = document()
    changes = diff(before_doc, after)
    assert changes == (
        TextChanged(SurveyField.TITLE, "en", before_doc["title"]["en"], "Tell us about your visit"),
        TextChanged(
            SurveyField.CONSENT, "zh_CN", before_doc["consent"]["zh_CN"], "我同意门店联系我。"
        ),
        GroupChanged("service", "en", before_doc["groups"][0]["text"]["en"], "Rate the service"),
        GroupChanged("extra", "zh_CN", None, "其他"),
        GroupChanged("extra", "en", None, "More"),
    )


def test_a_moved_and_changed_question_has_both_changes_in_reading_order():
    after = document()
    wish = after["questions"].pop(keys(after).index("wish"))
    wish["required"] = True
    after["questions"].append(wish)
    after["questions"].insert(0, {**copy.deepcopy(WISH), "key": "new_first"})
    changes = diff(document(), after)
    last = len(after["questions"])
    assert [type(c) for c in changes] == [QuestionAdded, QuestionMoved, QuestionChanged]
    assert changes[1] == QuestionMoved("wish", 4, last)
    assert changes[2] == QuestionChanged(
        "wish", last, (ValueChanged(QuestionField.REQUIRED, False, True),)
    )


@pytest.mark.parametrize(
    ("first", "second", "common"),
    [
        ("abcd", "abcd", "abcd"),
        ("abcd", "dabc", "abc"),
        ("abcd", "badc", "bd"),
        ("", "ab", ""),
    ],
)
def test_longest_common_subsequence(first, second, common):
    assert len(longest_common_subsequence(list(first), list(second))) == len(common)
    kept = longest_common_subsequence(list(first), list(second))
    # In the order of both sequences.
    assert kept == [c for c in first if c in kept] == [c for c in second if c in kept]
