"""Loading survey definitions from the library, validated once, pinned by content hash.

A definition that is wrong (a missing translation, an unknown kind, an empty scale) fails
here, when the file is loaded, not when a shopper opens the survey.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from surveys.definitions import (
    CORE_KEYS,
    OTHER,
    STANDARD_KEYS,
    AnswerRule,
    Choice,
    Condition,
    Group,
    LocalizedText,
    Question,
    QuestionKind,
    RuleOp,
    StoreFormatRule,
    SurveyDefinition,
)

LIBRARY = Path(__file__).resolve().parent / "library"

#: The keys of the built-in receipt survey (version 1 of the default survey): exactly the
#: standard questions.
RECEIPT_SURVEY_KEYS = STANDARD_KEYS


#: The kind (and, for scales, the range) a standard question must keep: its answers go to
#: typed columns of ``responses`` that the rest of the portal reads.
STANDARD_SHAPES: dict[str, tuple[QuestionKind, int | None, int | None]] = {
    "nps": (QuestionKind.SCALE, 0, 10),
    "csat": (QuestionKind.SCALE, 1, 5),
    "rating_friendliness": (QuestionKind.SCALE, 1, 5),
    "rating_speed": (QuestionKind.SCALE, 1, 5),
    "rating_availability": (QuestionKind.SCALE, 1, 5),
    "rating_cleanliness": (QuestionKind.SCALE, 1, 5),
    "rating_knowledge": (QuestionKind.SCALE, 1, 5),
    "problem": (QuestionKind.BOOLEAN, None, None),
    "problem_category": (QuestionKind.CHOICE, None, None),
    "comment": (QuestionKind.TEXT, None, None),
    "contact": (QuestionKind.CONTACT, None, None),
}
#: Question and choice keys: short, lower-case, safe in a form field name and a CSV header.
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
#: The kinds an answer rule may look at, with the operators that make sense for each.
RULE_OPS: dict[QuestionKind, frozenset[RuleOp]] = {
    QuestionKind.SCALE: frozenset({RuleOp.AT_MOST, RuleOp.AT_LEAST, RuleOp.EQUALS}),
    QuestionKind.BOOLEAN: frozenset({RuleOp.EQUALS}),
    QuestionKind.CHOICE: frozenset({RuleOp.ONE_OF}),
    QuestionKind.MULTIPLE: frozenset({RuleOp.ONE_OF}),
}


class DefinitionError(ValueError):
    """A survey file is malformed; the message says where."""


def load_definition(path: Path) -> SurveyDefinition:
    """Load and validate one survey definition file.

    Parameters
    ----------
    path : Path
        A YAML file in the library format.

    Returns
    -------
    SurveyDefinition
        Frozen; its ``content_hash`` identifies the exact content.

    Raises
    ------
    DefinitionError
        When the file does not describe a valid survey.
    """
    return parse_definition(read_yaml(path), source=path.name)


def parse_definition(raw: Any, *, source: str = "<definition>") -> SurveyDefinition:
    """Validate a decoded definition (the same structure as the YAML files).

    Parameters
    ----------
    raw : Any
        The decoded document.
    source : str
        A name used in error messages.

    Returns
    -------
    SurveyDefinition

    Raises
    ------
    DefinitionError
    """
    if not isinstance(raw, dict):
        raise DefinitionError(f"{source}: a survey definition must be a mapping")
    content, content_hash = canonical_content(raw, source)
    groups = tuple(
        Group(key=_str(g, "key", source), text=parse_text(g.get("text"), f"{source}: group text"))
        for g in raw.get("groups", [])
    )
    questions = tuple(_question(q, source) for q in _list(raw, "questions", source))
    keys = [q.key for q in questions]
    if len(set(keys)) != len(keys):
        raise DefinitionError(f"{source}: question keys must be unique")
    group_keys = {g.key for g in groups}
    for q in questions:
        if q.group is not None and q.group not in group_keys:
            raise DefinitionError(f"{source}: question {q.key} names unknown group {q.group}")
    for core in CORE_KEYS:
        if core not in keys:
            raise DefinitionError(f"{source}: every survey asks the scoring question {core}")
    _check_conditions(questions, source)
    return SurveyDefinition(
        key=_str(raw, "key", source),
        title=parse_text(raw.get("title"), f"{source}: title"),
        intro=parse_text(raw.get("intro"), f"{source}: intro"),
        thanks=parse_text(raw.get("thanks"), f"{source}: thanks"),
        consent=parse_text(raw.get("consent"), f"{source}: consent"),
        questions=questions,
        groups=groups,
        content_hash=content_hash,
        content=content,
    )


@cache
def receipt_survey() -> SurveyDefinition:
    """The built-in receipt survey, loaded and checked once per process.

    Returns
    -------
    SurveyDefinition
        ``library/receipt.yaml``, asking exactly the questions in `RECEIPT_SURVEY_KEYS`.

    Raises
    ------
    DefinitionError
        When the file is invalid or asks other questions than those.
    """
    definition = load_definition(LIBRARY / "receipt.yaml")
    keys = {q.key for q in definition.questions}
    if keys != RECEIPT_SURVEY_KEYS:
        raise DefinitionError(
            f"receipt.yaml must ask exactly {sorted(RECEIPT_SURVEY_KEYS)}, got {sorted(keys)}"
        )
    return definition


def _question(raw: Any, source: str) -> Question:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{source}: each question must be a mapping")
    key = _str(raw, "key", source)
    where = f"{source}: question {key}"
    try:
        kind = QuestionKind(str(raw.get("kind")))
    except ValueError:
        raise DefinitionError(f"{where}: unknown kind {raw.get('kind')!r}") from None
    minimum = raw.get("min")
    maximum = raw.get("max")
    if kind is QuestionKind.SCALE:
        if not (isinstance(minimum, int) and isinstance(maximum, int) and minimum < maximum):
            raise DefinitionError(f"{where}: a scale needs whole numbers min < max")
    choices = tuple(
        Choice(key=_str(c, "key", where), text=parse_text(c.get("text"), f"{where}: choice"))
        for c in raw.get("choices", [])
    )
    if kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE) and not choices:
        raise DefinitionError(f"{where}: a choice question needs choices")
    choice_keys = [c.key for c in choices]
    if len(set(choice_keys)) != len(choice_keys) or not all(map(KEY_PATTERN.match, choice_keys)):
        raise DefinitionError(f"{where}: choice keys must be unique lower-case words")
    other = bool(raw.get("other", False))
    if other and (
        kind not in (QuestionKind.CHOICE, QuestionKind.MULTIPLE)
        or OTHER in choice_keys
        or key in STANDARD_SHAPES  # its answer is a typed column, with no room for text
    ):
        raise DefinitionError(f"{where}: 'other' is offered by a custom choice question only")
    max_length = raw.get("max_length")
    if kind in (QuestionKind.TEXT, QuestionKind.SHORT_TEXT) and not (
        isinstance(max_length, int) and max_length > 0
    ):
        raise DefinitionError(f"{where}: a text question needs a positive max_length")
    _check_standard_shape(key, kind, minimum, maximum, where)
    return Question(
        key=key,
        kind=kind,
        text=parse_text(raw.get("text"), f"{where}: text"),
        required=bool(raw.get("required", False)),
        minimum=minimum,
        maximum=maximum,
        low_label=_optional_text(raw.get("low_label"), f"{where}: low_label"),
        high_label=_optional_text(raw.get("high_label"), f"{where}: high_label"),
        choices=choices,
        max_length=max_length,
        help=_optional_text(raw.get("help"), f"{where}: help"),
        group=raw.get("group"),
        other=other,
        show_if=_core_condition(key, raw.get("show_if"), where),
    )


def _core_condition(key: str, raw: Any, where: str) -> Condition | None:
    # A scoring question is asked of everyone: hidden, its required answer could not be given.
    if key in CORE_KEYS and raw is not None:
        raise DefinitionError(f"{where}: a scoring question is always shown")
    return _condition(raw, where)


def _check_standard_shape(
    key: str, kind: QuestionKind, minimum: Any, maximum: Any, where: str
) -> None:
    if key not in STANDARD_SHAPES:
        if not KEY_PATTERN.match(key):
            raise DefinitionError(f"{where}: a key is a lower-case word (a-z, 0-9, _)")
        return
    shape_kind, shape_min, shape_max = STANDARD_SHAPES[key]
    if kind is not shape_kind or (
        shape_min is not None and (minimum, maximum) != (shape_min, shape_max)
    ):
        raise DefinitionError(f"{where}: the standard question {key} keeps its kind and scale")


def _condition(raw: Any, where: str) -> Condition | None:
    """``show_if: {all|any: [{question, op, value|values} | {store_format: [..]}]}``."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("all", "any"):
        raise DefinitionError(f"{where}: show_if is {{all: [...]}} or {{any: [...]}}")
    match, items = next(iter(raw.items()))
    if not isinstance(items, list) or not items:
        raise DefinitionError(f"{where}: show_if needs at least one rule")
    return Condition(match=match, rules=tuple(_rule(item, where) for item in items))


def _rule(raw: Any, where: str) -> AnswerRule | StoreFormatRule:
    if isinstance(raw, dict) and set(raw) == {"store_format"}:
        formats = raw["store_format"]
        if not (isinstance(formats, list) and formats and all(isinstance(f, str) for f in formats)):
            raise DefinitionError(f"{where}: store_format lists store formats")
        return StoreFormatRule(formats=tuple(formats))
    if not isinstance(raw, dict) or not isinstance(raw.get("question"), str):
        raise DefinitionError(f"{where}: a rule names a question, or store_format")
    try:
        op = RuleOp(str(raw.get("op")))
    except ValueError:
        raise DefinitionError(f"{where}: unknown rule operator {raw.get('op')!r}") from None
    values = raw.get("values", [raw["value"]] if "value" in raw else [])
    if not isinstance(values, list) or not values:
        raise DefinitionError(f"{where}: a rule needs a value")
    for value in values:
        if not isinstance(value, int | str) or (op is RuleOp.ONE_OF) != isinstance(value, str):
            raise DefinitionError(f"{where}: rule values do not fit the operator {op.value}")
    return AnswerRule(question=raw["question"], op=op, values=tuple(values))


def _check_conditions(questions: tuple[Question, ...], source: str) -> None:
    """Every rule looks at an earlier question, of a kind its operator fits, and at choices
    that question offers."""
    earlier: dict[str, Question] = {}
    for question in questions:
        for rule in question.show_if.rules if question.show_if else ():
            if isinstance(rule, StoreFormatRule):
                continue
            where = f"{source}: question {question.key}"
            target = earlier.get(rule.question)
            if target is None:
                raise DefinitionError(f"{where}: its rule must look at an earlier question")
            if rule.op not in RULE_OPS.get(target.kind, frozenset()):
                raise DefinitionError(f"{where}: its rule cannot compare {target.kind.value}")
            offered = {*target.choice_keys(), *((OTHER,) if target.other else ())}
            if rule.op is RuleOp.ONE_OF and not set(map(str, rule.values)) <= offered:
                raise DefinitionError(f"{where}: its rule names a choice {target.key} lacks")
            if target.kind is QuestionKind.BOOLEAN and not all(
                isinstance(v, bool) for v in rule.values
            ):
                raise DefinitionError(f"{where}: a yes/no rule compares with true or false")
            if target.kind is QuestionKind.SCALE and not all(
                type(v) is int and target.minimum <= v <= target.maximum  # type: ignore[operator]
                for v in rule.values
            ):
                raise DefinitionError(f"{where}: its rule compares with a number off the scale")
        earlier[question.key] = question


def _list(raw: dict[str, Any], key: str, source: str) -> list[Any]:
    value = raw.get(key)
    if not isinstance(value, list) or not value:
        raise DefinitionError(f"{source}: {key} must be a non-empty list")
    return value


def _str(raw: Any, key: str, source: str) -> str:
    value = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(value, str) or not value:
        raise DefinitionError(f"{source}: {key} must be a non-empty string")
    return value


def parse_text(raw: Any, where: str) -> LocalizedText:
    """A ``{zh_CN: ..., en: ...}`` mapping as `LocalizedText`.

    Parameters
    ----------
    raw : Any
        The decoded value.
    where : str
        The place in the file, for the error message.

    Returns
    -------
    LocalizedText

    Raises
    ------
    DefinitionError
        Unless both languages are given as non-blank strings and no other language is.
    """
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where} must give zh_CN and en")
    unknown = raw.keys() - {"zh_CN", "en"}
    if unknown:
        raise DefinitionError(f"{where}: unknown language(s) {sorted(unknown)}; use zh_CN, en")
    zh, en = raw.get("zh_CN"), raw.get("en")
    if not (isinstance(zh, str) and zh.strip() and isinstance(en, str) and en.strip()):
        raise DefinitionError(f"{where} must give non-empty zh_CN and en")
    return LocalizedText(zh_CN=zh, en=en)


def read_yaml(path: Path) -> Any:
    """The decoded YAML document in ``path``; `DefinitionError` naming the file if the text
    is not YAML."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DefinitionError(f"{path.name}: not valid YAML ({error})") from None


def canonical_content(raw: Any, source: str) -> tuple[str, str]:
    """``raw`` as canonical JSON (sorted keys, no spaces) and that text's SHA-256: the
    content a published version stores and the hash that pins it."""
    try:
        content = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        raise DefinitionError(f"{source}: the definition must hold plain JSON values") from None
    return content, hashlib.sha256(content.encode("utf-8")).hexdigest()


def _optional_text(raw: Any, where: str) -> LocalizedText | None:
    return None if raw is None else parse_text(raw, where)
