"""The checks of a survey draft: every problem that would stop it being published, listed
at once, and how long the survey takes to answer.

`check_draft` reads a draft document (the structure of ``surveys/library/*.yaml``, as the
editor stores it) and returns typed `Problem` items, never raising, whatever the document
holds. It refuses exactly what `surveys.loader.parse_definition` refuses, so a draft with no
problems always parses (a property test holds the two together); the portal turns each
problem's code into a sentence in the reader's language.

The completion time comes from `surveys.timing.estimate_seconds` (its docstring gives the
model); above `surveys.timing.TARGET_SECONDS` the result carries a warning, which does not
block publishing as a problem does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from surveys.definitions import CHOICE_KINDS, CORE_KEYS, OTHER, TEXT_KINDS, QuestionKind, RuleOp
from surveys.loader import KEY_PATTERN, RULE_OPS, STANDARD_SHAPES
from surveys.timing import LANGUAGES, NO_TIME, TARGET_SECONDS, Estimate, estimate_seconds, kind_of

#: The survey's own texts, each in every language.
SURVEY_TEXTS = ("title", "intro", "thanks", "consent")


class ProblemCode(StrEnum):
    """What is wrong; the portal has one sentence for each."""

    #: A part of the document has the wrong shape (``field`` says which).
    MALFORMED = "malformed"
    #: A text lacks one language (``field``, ``language``; ``choice`` for a choice's text).
    MISSING_TRANSLATION = "missing_translation"
    #: A text names a language other than zh_CN and en (``value``).
    UNKNOWN_LANGUAGE = "unknown_language"
    NO_QUESTIONS = "no_questions"
    DUPLICATE_QUESTION_KEY = "duplicate_question_key"
    DUPLICATE_CHOICE_KEY = "duplicate_choice_key"
    INVALID_QUESTION_KEY = "invalid_question_key"
    INVALID_CHOICE_KEY = "invalid_choice_key"
    UNKNOWN_KIND = "unknown_kind"
    #: A scale without whole numbers min < max.
    INVALID_SCALE = "invalid_scale"
    #: A standard question whose kind or scale differs from its fixed shape.
    STANDARD_SHAPE = "standard_shape"
    #: A scoring question (NPS, satisfaction) is missing.
    MISSING_CORE = "missing_core"
    #: A scoring question has a condition: it is asked of everyone.
    CORE_CONDITION = "core_condition"
    EMPTY_CHOICES = "empty_choices"
    #: "Other" offered by a question that is not a choice, or listed as a choice as well.
    MISPLACED_OTHER = "misplaced_other"
    MISSING_MAX_LENGTH = "missing_max_length"
    UNKNOWN_GROUP = "unknown_group"
    #: ``show_if`` is not ``{all|any: [rules]}``, or a rule is not a rule.
    CONDITION_INVALID = "condition_invalid"
    #: A rule looks at this question itself or a later one (``target``).
    CONDITION_NOT_EARLIER = "condition_not_earlier"
    #: A rule looks at a question the survey does not ask (``target``).
    CONDITION_UNKNOWN_QUESTION = "condition_unknown_question"
    #: A rule's comparison does not fit the kind of question it looks at (``value``: kind).
    CONDITION_KIND = "condition_kind"
    #: A rule names a choice the question it looks at does not offer (``choice``).
    CONDITION_MISSING_CHOICE = "condition_missing_choice"
    #: A rule's value is missing, off the scale, or not yes/no (``value``).
    CONDITION_VALUE = "condition_value"


class WarningCode(StrEnum):
    #: The estimated completion time is above `TARGET_SECONDS`.
    LONG_SURVEY = "long_survey"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason the draft cannot be published.

    ``question`` is the key of the question concerned (``None``: the survey itself); the
    other fields say more where the code needs it.
    """

    code: ProblemCode
    question: str | None = None
    field: str | None = None
    language: str | None = None
    choice: str | None = None
    target: str | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class CheckWarning:
    """Something the owner should know that does not stop publishing."""

    code: WarningCode
    seconds: int
    limit: int


@dataclass(frozen=True, slots=True)
class CheckResult:
    problems: tuple[Problem, ...]
    warnings: tuple[CheckWarning, ...]
    estimate: Estimate

    @property
    def ok(self) -> bool:
        """No problem: the draft may be published (warnings do not count)."""
        return not self.problems


def check_draft(document: Any) -> CheckResult:
    """Every problem of a draft document at once, its completion time and its warnings.

    Parameters
    ----------
    document : Any
        The decoded definition document (what ``Survey.draft`` holds).

    Returns
    -------
    CheckResult
        ``ok`` exactly when `surveys.loader.parse_definition` accepts the document.
    """
    if not isinstance(document, dict):
        return CheckResult((Problem(ProblemCode.MALFORMED, field="document"),), (), NO_TIME)
    problems: list[Problem] = []
    try:
        json.dumps(document, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        problems.append(Problem(ProblemCode.MALFORMED, field="document"))
    key = document.get("key")
    if not (isinstance(key, str) and key):
        problems.append(Problem(ProblemCode.MALFORMED, field="key"))
    for name in SURVEY_TEXTS:
        problems += text_problems(document.get(name), field=name)
    group_keys = _check_groups(document.get("groups", []), problems)
    questions = document.get("questions")
    if not isinstance(questions, list) or not questions:
        problems.append(Problem(ProblemCode.NO_QUESTIONS))
        questions = []
    seen: list[_Seen | None] = []
    for raw in questions:
        seen.append(_check_question(raw, group_keys, problems))
    _check_keys(seen, problems)
    _check_conditions(questions, seen, problems)
    estimate = estimate_seconds(document)
    warnings: tuple[CheckWarning, ...] = ()
    if estimate.seconds > TARGET_SECONDS:
        warnings = (CheckWarning(WarningCode.LONG_SURVEY, estimate.seconds, TARGET_SECONDS),)
    return CheckResult(tuple(problems), warnings, estimate)


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the condition checks need of a question that was readable enough."""

    key: str | None
    kind: QuestionKind | None
    minimum: Any
    maximum: Any
    choice_keys: tuple[str, ...]
    other: bool


def text_problems(
    raw: Any,
    *,
    field: str,
    question: str | None = None,
    choice: str | None = None,
    group: str | None = None,
) -> list[Problem]:
    """The problems of one ``{zh_CN, en}`` text (a missing one lacks both languages).

    Parameters
    ----------
    raw : Any
        The decoded text.
    field : str
        Which text it is (``title``, ``text``, ``help``, ``choice`` ...), for the message.
    question, choice, group : str or None
        The question and choice, or the group, the text belongs to (a group's key is
        the problem's ``value``).

    Returns
    -------
    list[Problem]
    """
    if raw is None:
        raw = {}
    where = {"question": question, "field": field, "choice": choice}
    if not isinstance(raw, dict):
        return [Problem(ProblemCode.MALFORMED, value=group, **where)]
    problems = [
        Problem(ProblemCode.UNKNOWN_LANGUAGE, value=str(k), **where)
        for k in sorted(raw.keys() - set(LANGUAGES), key=str)
    ]
    for language in LANGUAGES:
        value = raw.get(language)
        if not (isinstance(value, str) and value.strip()):
            problems.append(
                Problem(ProblemCode.MISSING_TRANSLATION, language=language, value=group, **where)
            )
    return problems


def _check_groups(raw: Any, problems: list[Problem]) -> set[str]:
    if not isinstance(raw, list):
        problems.append(Problem(ProblemCode.MALFORMED, field="groups"))
        return set()
    keys: set[str] = set()
    for group in raw:
        key = group.get("key") if isinstance(group, dict) else None
        if not (isinstance(key, str) and key):
            problems.append(Problem(ProblemCode.MALFORMED, field="groups"))
            continue
        keys.add(key)
        problems += text_problems(group.get("text"), field="group", group=key)
    return keys


def _check_question(raw: Any, group_keys: set[str], problems: list[Problem]) -> _Seen | None:
    """The problems of one question on its own; what the condition checks need of it."""
    if not isinstance(raw, dict):
        problems.append(Problem(ProblemCode.MALFORMED, field="question"))
        return None
    key = raw.get("key")
    name = key if isinstance(key, str) and key else None
    if name is None:
        problems.append(Problem(ProblemCode.INVALID_QUESTION_KEY, value=_shown(key)))
    kind = kind_of(raw.get("kind"))
    if kind is None:
        problems.append(
            Problem(ProblemCode.UNKNOWN_KIND, question=name, value=_shown(raw.get("kind")))
        )
    minimum, maximum = raw.get("min"), raw.get("max")
    if kind is QuestionKind.SCALE and not (
        isinstance(minimum, int) and isinstance(maximum, int) and minimum < maximum
    ):
        problems.append(Problem(ProblemCode.INVALID_SCALE, question=name))
    choice_keys = _check_choices(raw, name, kind, problems)
    other = bool(raw.get("other", False))
    if other and (kind not in CHOICE_KINDS or OTHER in choice_keys or name in STANDARD_SHAPES):
        problems.append(Problem(ProblemCode.MISPLACED_OTHER, question=name))
    max_length = raw.get("max_length")
    if kind in TEXT_KINDS and not (isinstance(max_length, int) and max_length > 0):
        problems.append(Problem(ProblemCode.MISSING_MAX_LENGTH, question=name))
    if name is not None:
        problems += _shape_problems(name, kind, minimum, maximum)
    problems += text_problems(raw.get("text"), field="text", question=name)
    for field in ("low_label", "high_label", "help"):
        if raw.get(field) is not None:
            problems += text_problems(raw.get(field), field=field, question=name)
    group = raw.get("group")
    if group is not None and (not isinstance(group, str) or group not in group_keys):
        problems.append(Problem(ProblemCode.UNKNOWN_GROUP, question=name, value=_shown(group)))
    problems += _condition_shape(raw.get("show_if"), name)
    if name in CORE_KEYS and raw.get("show_if") is not None:
        problems.append(Problem(ProblemCode.CORE_CONDITION, question=name))
    return _Seen(name, kind, minimum, maximum, choice_keys, other)


def _shown(value: Any) -> str:
    """A value as the message quotes it (short: it may be anything)."""
    return str(value)[:60]


def _check_choices(
    raw: dict[str, Any], name: str | None, kind: QuestionKind | None, problems: list[Problem]
) -> tuple[str, ...]:
    choices = raw.get("choices", [])
    if not isinstance(choices, list):
        problems.append(Problem(ProblemCode.MALFORMED, question=name, field="choices"))
        return ()
    if kind in CHOICE_KINDS and not choices:
        problems.append(Problem(ProblemCode.EMPTY_CHOICES, question=name))
    keys: list[str] = []
    for choice in choices:
        key = choice.get("key") if isinstance(choice, dict) else None
        if not isinstance(choice, dict):
            problems.append(Problem(ProblemCode.MALFORMED, question=name, field="choices"))
            continue
        if not (isinstance(key, str) and key and KEY_PATTERN.match(key)):
            problems.append(
                Problem(ProblemCode.INVALID_CHOICE_KEY, question=name, choice=_shown(key or ""))
            )
        if isinstance(key, str) and key:
            if key in keys:
                problems.append(
                    Problem(ProblemCode.DUPLICATE_CHOICE_KEY, question=name, choice=key)
                )
            keys.append(key)
        problems += text_problems(
            choice.get("text"),
            field="choice",
            question=name,
            choice=key if isinstance(key, str) else None,
        )
    return tuple(keys)


def _shape_problems(
    key: str, kind: QuestionKind | None, minimum: Any, maximum: Any
) -> list[Problem]:
    """A standard question keeps its kind and scale; any other key is a lower-case word."""
    if key not in STANDARD_SHAPES:
        if KEY_PATTERN.match(key):
            return []
        return [Problem(ProblemCode.INVALID_QUESTION_KEY, question=key, value=_shown(key))]
    shape_kind, shape_min, shape_max = STANDARD_SHAPES[key]
    if kind is None:
        return []
    if kind is not shape_kind or (
        shape_min is not None and (minimum, maximum) != (shape_min, shape_max)
    ):
        return [Problem(ProblemCode.STANDARD_SHAPE, question=key, value=shape_kind.value)]
    return []


def _condition_shape(raw: Any, name: str | None) -> list[Problem]:
    """``show_if: {all|any: [{question, op, value|values} | {store_format: [...]}]}``."""
    if raw is None:
        return []
    invalid = Problem(ProblemCode.CONDITION_INVALID, question=name)
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("all", "any"):
        return [invalid]
    rules = next(iter(raw.values()))
    if not isinstance(rules, list) or not rules:
        return [invalid]
    problems: list[Problem] = []
    for rule in rules:
        if isinstance(rule, dict) and set(rule) == {"store_format"}:
            formats = rule["store_format"]
            if not (
                isinstance(formats, list) and formats and all(isinstance(f, str) for f in formats)
            ):
                problems.append(invalid)
            continue
        if not isinstance(rule, dict) or not isinstance(rule.get("question"), str):
            problems.append(invalid)
            continue
        op = _op(rule.get("op"))
        if op is None:
            problems.append(invalid)
            continue
        values = rule_values(rule)
        if (
            not isinstance(values, list)
            or not values
            or not all(
                isinstance(v, int | str) and (op is RuleOp.ONE_OF) == isinstance(v, str)
                for v in values
            )
        ):
            problems.append(
                Problem(ProblemCode.CONDITION_VALUE, question=name, target=rule["question"])
            )
    return problems


def _op(raw: Any) -> RuleOp | None:
    try:
        return RuleOp(str(raw))
    except ValueError:
        return None


def rule_values(rule: dict[str, Any]) -> Any:
    """The values of an answer rule: ``values``, or ``[value]``, or none (``[]``)."""
    return rule.get("values", [rule["value"]] if "value" in rule else [])


def _check_keys(seen: list[_Seen | None], problems: list[Problem]) -> None:
    keys = [s.key for s in seen if s is not None and s.key is not None]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(Problem(ProblemCode.DUPLICATE_QUESTION_KEY, question=key))
    for core in CORE_KEYS:
        if core not in keys:
            problems.append(Problem(ProblemCode.MISSING_CORE, question=core))


def _check_conditions(
    questions: list[Any], seen: list[_Seen | None], problems: list[Problem]
) -> None:
    """Each answer rule looks at an earlier question, of a kind its operator fits, with
    values that question can give."""
    all_keys = {s.key for s in seen if s is not None and s.key is not None}
    earlier: dict[str, _Seen] = {}
    for raw, question in zip(questions, seen, strict=True):
        for rule in _answer_rules(raw):
            target = earlier.get(rule["question"])
            name = question.key if question is not None else None
            if target is None:
                code = (
                    ProblemCode.CONDITION_NOT_EARLIER
                    if rule["question"] in all_keys
                    else ProblemCode.CONDITION_UNKNOWN_QUESTION
                )
                problems.append(Problem(code, question=name, target=_shown(rule["question"])))
                continue
            problems += _rule_fits(rule, target, name)
        if question is not None and question.key is not None:
            earlier[question.key] = question


def _answer_rules(raw: Any) -> Iterable[dict[str, Any]]:
    """The well-formed answer rules of a question (`_condition_shape` reports the rest)."""
    condition = raw.get("show_if") if isinstance(raw, dict) else None
    if not isinstance(condition, dict) or len(condition) != 1:
        return ()
    rules = next(iter(condition.values()))
    if not isinstance(rules, list):
        return ()
    return [
        rule
        for rule in rules
        if isinstance(rule, dict)
        and set(rule) != {"store_format"}
        and isinstance(rule.get("question"), str)
        and _op(rule.get("op")) is not None
        and isinstance(rule_values(rule), list)
    ]


def _rule_fits(rule: dict[str, Any], target: _Seen, name: str | None) -> list[Problem]:
    op = _op(rule.get("op"))
    assert op is not None
    values = rule_values(rule)
    where = {"question": name, "target": target.key}
    if target.kind is None:
        return []
    if op not in RULE_OPS.get(target.kind, frozenset()):
        return [Problem(ProblemCode.CONDITION_KIND, value=target.kind.value, **where)]
    if op is RuleOp.ONE_OF:
        offered = {*target.choice_keys, *((OTHER,) if target.other else ())}
        return [
            Problem(ProblemCode.CONDITION_MISSING_CHOICE, choice=_shown(v), **where)
            for v in dict.fromkeys(map(str, values))
            if v not in offered
        ]
    if target.kind is QuestionKind.BOOLEAN and not all(isinstance(v, bool) for v in values):
        return [
            Problem(ProblemCode.CONDITION_VALUE, value=_shown(values[0] if values else ""), **where)
        ]
    if target.kind is QuestionKind.SCALE:
        low, high = target.minimum, target.maximum
        scale_ok = isinstance(low, int) and isinstance(high, int)
        bad = [v for v in values if not (type(v) is int and scale_ok and low <= v <= high)]
        if bad:
            return [Problem(ProblemCode.CONDITION_VALUE, value=_shown(bad[0]), **where)]
    return []
