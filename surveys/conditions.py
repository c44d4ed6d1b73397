"""When a question is shown: its ``show_if`` condition over earlier answers and the store.

The one evaluation every channel uses: the server drops the answers to questions whose
condition is false (a browser without CSS ``:has()`` shows them anyway), the preview and the
property tests ask the same function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

from surveys.definitions import (
    AnswerRule,
    Condition,
    Question,
    RuleOp,
    StoreFormatRule,
    SurveyDefinition,
)

#: A typed answer: a number (scale), yes/no, one choice key, the set of choice keys ticked
#: (multiple), or text.
AnswerValue: TypeAlias = int | bool | str | frozenset[str]


def rule_holds(
    rule: AnswerRule | StoreFormatRule, answers: Mapping[str, AnswerValue], store_format: str
) -> bool:
    """Whether one rule holds for these answers and this store's format.

    An unanswered question meets no answer rule.
    """
    if isinstance(rule, StoreFormatRule):
        return store_format in rule.formats
    answer = answers.get(rule.question)
    if answer is None:
        return False
    if rule.op is RuleOp.ONE_OF:
        picked = answer if isinstance(answer, frozenset) else frozenset({str(answer)})
        return not picked.isdisjoint(str(value) for value in rule.values)
    if isinstance(answer, frozenset | str):
        return False
    if rule.op is RuleOp.EQUALS:
        return any(answer == value and type(answer) is type(value) for value in rule.values)
    if isinstance(answer, bool):
        return False
    (limit,) = rule.values[:1]
    assert isinstance(limit, int)
    return answer <= limit if rule.op is RuleOp.AT_MOST else answer >= limit


def condition_holds(
    condition: Condition | None, answers: Mapping[str, AnswerValue], store_format: str
) -> bool:
    """Whether a question with this condition is shown (no condition: always)."""
    if condition is None:
        return True
    results = (rule_holds(rule, answers, store_format) for rule in condition.rules)
    return all(results) if condition.match == "all" else any(results)


def shown_questions(
    definition: SurveyDefinition, answers: Mapping[str, AnswerValue], store_format: str
) -> tuple[Question, ...]:
    """The questions shown for these answers, in order.

    A hidden question counts as unanswered for the conditions of later questions, whatever
    was sent for it: its answer is never kept.
    """
    kept: dict[str, AnswerValue] = {}
    shown: list[Question] = []
    for question in definition.questions:
        if condition_holds(question.show_if, kept, store_format):
            shown.append(question)
            if question.key in answers:
                kept[question.key] = answers[question.key]
    return tuple(shown)


def may_be_shown(question: Question, store_format: str) -> bool:
    """Whether some answers could show this question in a store of this format: its store
    rules alone do not rule it out. A question that never can is not rendered at all."""
    condition = question.show_if
    if condition is None:
        return True
    store_rules = [r for r in condition.rules if isinstance(r, StoreFormatRule)]
    if condition.match == "all":
        return all(store_format in rule.formats for rule in store_rules)
    return bool(len(store_rules) < len(condition.rules)) or any(
        store_format in rule.formats for rule in store_rules
    )
