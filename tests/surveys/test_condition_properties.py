"""Property tests of conditions: for random survey definitions with ``show_if`` conditions and
random answers, `shown_questions` shows exactly the questions whose condition holds over
the answers to the questions shown before them, and `validate_answers` keeps no answer to
a hidden question. The expectation is computed here independently, from the kinds."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.answers import Answers, validate_answers
from surveys.conditions import AnswerValue, may_be_shown, shown_questions
from surveys.definitions import AnswerRule, Question, QuestionKind, StoreFormatRule
from surveys.loader import parse_definition

FORMATS = ("supermarket", "convenience", "department_store", "")
CHOICES = ("a", "b", "c")
RULED_KINDS = ("scale5", "scale10", "boolean", "choice", "multiple")


def text(word: str) -> dict[str, str]:
    return {"en": word, "zh_CN": word}


def question_document(key: str, kind: str) -> dict[str, Any]:
    if kind.startswith("scale"):
        low, high = (1, 5) if kind == "scale5" else (0, 10)
        return {"key": key, "kind": "scale", "min": low, "max": high, "text": text(key)}
    if kind in ("choice", "multiple"):
        return {
            "key": key,
            "kind": kind,
            "other": key.endswith("0"),
            "choices": [{"key": c, "text": text(c)} for c in CHOICES],
            "text": text(key),
        }
    if kind == "short_text":
        return {"key": key, "kind": kind, "max_length": 20, "text": text(key)}
    return {"key": key, "kind": "boolean", "text": text(key)}


@st.composite
def rules(draw: st.DrawFn, earlier: list[tuple[str, str]]) -> dict[str, Any]:
    ruled = [(key, kind) for key, kind in earlier if kind in RULED_KINDS]
    if not ruled or draw(st.integers(0, 5)) == 0:
        return {"store_format": draw(st.lists(st.sampled_from(FORMATS[:3]), min_size=1))}
    key, kind = draw(st.sampled_from(ruled))
    if kind.startswith("scale"):
        low, high = (1, 5) if kind == "scale5" else (0, 10)
        op = draw(st.sampled_from(["le", "ge", "eq"]))
        return {"question": key, "op": op, "value": draw(st.integers(low, high))}
    if kind == "boolean":
        return {"question": key, "op": "eq", "value": draw(st.booleans())}
    offered = [*CHOICES, *(["other"] if key.endswith("0") else [])]
    values = draw(st.lists(st.sampled_from(offered), min_size=1, max_size=3, unique=True))
    return {"question": key, "op": "in", "values": values}


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    """A survey document: the two scoring questions, then 1-7 questions of random kinds,
    most with a condition on earlier answers or on the store's format."""
    earlier: list[tuple[str, str]] = [("nps", "scale10"), ("csat", "scale5")]
    questions = [
        {**question_document("nps", "scale10"), "required": True},
        {**question_document("csat", "scale5"), "required": True},
    ]
    for n in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from([*RULED_KINDS, "short_text"]))
        key = f"q{n}_{kind[:3]}{n % 2}"
        document = question_document(key, kind)
        document["required"] = draw(st.booleans())
        if draw(st.integers(0, 3)):
            match = draw(st.sampled_from(["all", "any"]))
            document["show_if"] = {match: draw(st.lists(rules(earlier), min_size=1, max_size=3))}
        questions.append(document)
        earlier.append((key, kind))
    return {
        "key": "generated",
        "title": text("t"),
        "intro": text("i"),
        "thanks": text("t"),
        "consent": text("c"),
        "questions": questions,
    }


def answer_for(draw: st.DrawFn, question: Question) -> AnswerValue | None:
    if draw(st.integers(0, 4)) == 0:
        return None
    if question.kind is QuestionKind.SCALE:
        assert question.minimum is not None and question.maximum is not None
        return draw(st.integers(question.minimum, question.maximum))
    if question.kind is QuestionKind.BOOLEAN:
        return draw(st.booleans())
    offered = [*question.choice_keys(), *(["other"] if question.other else [])]
    if question.kind is QuestionKind.CHOICE:
        return draw(st.sampled_from(offered))
    if question.kind is QuestionKind.MULTIPLE:
        return frozenset(draw(st.lists(st.sampled_from(offered), min_size=1, unique=True)))
    return draw(st.text(alphabet="abc xyz", min_size=1, max_size=10).map(str.strip).filter(bool))


def expected_rule(
    rule: AnswerRule | StoreFormatRule, question: Question | None, answer: Any, store_format: str
) -> bool:
    """The rule's meaning, written out per kind of the question it looks at."""
    if isinstance(rule, StoreFormatRule):
        return store_format in rule.formats
    if answer is None or question is None:
        return False
    if question.kind is QuestionKind.SCALE:
        (limit,) = rule.values[:1]
        return {
            "le": answer <= limit,
            "ge": answer >= limit,
            "eq": answer in rule.values,
        }[rule.op.value]
    if question.kind is QuestionKind.BOOLEAN:
        return answer in rule.values
    picked = answer if isinstance(answer, frozenset) else {answer}
    return bool(set(picked) & set(rule.values))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), document=definitions(), store_format=st.sampled_from(FORMATS))
def test_a_question_is_shown_exactly_when_its_condition_holds(data, document, store_format):
    definition = parse_definition(document)
    answers = {
        q.key: value
        for q in definition.questions
        if (value := answer_for(data.draw, q)) is not None
    }
    shown = {q.key for q in shown_questions(definition, answers, store_format)}
    seen: dict[str, Any] = {}
    for question in definition.questions:
        condition = question.show_if
        if condition is None:
            holds = True
        else:
            results = [
                expected_rule(
                    rule,
                    None
                    if isinstance(rule, StoreFormatRule)
                    else definition.question(rule.question),
                    None if isinstance(rule, StoreFormatRule) else seen.get(rule.question),
                    store_format,
                )
                for rule in condition.rules
            ]
            holds = all(results) if condition.match == "all" else any(results)
        # Never shown when the rule is false; always shown when it holds.
        assert (question.key in shown) == holds, (question.key, condition, seen)
        if holds and question.key in answers:
            seen[question.key] = answers[question.key]
        if not may_be_shown(question, store_format):
            assert question.key not in shown


def raw_of(question: Question, value: AnswerValue) -> dict[str, str | tuple[str, ...]]:
    """The form fields a browser sends for ``value``."""
    if isinstance(value, bool):
        return {question.key: "yes" if value else "no"}
    if isinstance(value, frozenset):
        raw: dict[str, str | tuple[str, ...]] = {question.key: tuple(sorted(value))}
    else:
        raw = {question.key: str(value)}
    if question.other and ("other" in value if isinstance(value, frozenset) else value == "other"):
        raw[question.key + "-other"] = "something else"
    return raw


@settings(max_examples=200, deadline=None)
@given(data=st.data(), document=definitions(), store_format=st.sampled_from(FORMATS))
def test_validation_keeps_no_answer_to_a_hidden_question(data, document, store_format):
    definition = parse_definition(document)
    # An answer to every question, hidden or not, as a page without CSS would send it.
    answers = {q.key: answer_for(data.draw, q) for q in definition.questions}
    answers["nps"] = answers["nps"] if answers["nps"] is not None else 5
    answers["csat"] = answers["csat"] if answers["csat"] is not None else 3
    raw: dict[str, Any] = {}
    for question in definition.questions:
        if answers[question.key] is not None:
            raw |= raw_of(question, answers[question.key])
    typed = {key: value for key, value in answers.items() if value is not None}
    shown = shown_questions(definition, typed, store_format)
    result = validate_answers(definition, raw, store_format)
    missing_required = [q.key for q in shown if q.required and q.key not in typed]
    if missing_required:
        assert isinstance(result, list)
        assert {e.question_key for e in result} == set(missing_required)
        return
    assert isinstance(result, Answers)
    kept = {answer.key: answer.value for answer in result.custom}
    assert kept == {q.key: typed[q.key] for q in shown if q.is_custom and q.key in typed}
