"""The draft as a document: what the editor's forms change in it, as plain functions from
one document to the next (no database, no request).

A draft is the definition document of `surveys.loader` (the structure of
``surveys/library/receipt.yaml``), stored as it is edited. The editor may leave it with
problems (a missing translation, a condition on a later question); `surveys.checks` lists
them and publishing refuses them. What the editor itself refuses here is only what would
make the document unusable for editing: two questions with one key, removing a scoring
question, a question that is not there.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.errors import DomainError, NotFound
from surveys.definitions import CORE_KEYS, STANDARD_KEYS, QuestionKind
from surveys.loader import STANDARD_SHAPES

Document = dict[str, Any]

#: The kinds the editor offers, by their form value: (kind, min, max) of the document.
EDITOR_KINDS: dict[str, tuple[QuestionKind, int | None, int | None]] = {
    "scale_5": (QuestionKind.SCALE, 1, 5),
    "scale_11": (QuestionKind.SCALE, 0, 10),
    "boolean": (QuestionKind.BOOLEAN, None, None),
    "choice": (QuestionKind.CHOICE, None, None),
    "multiple": (QuestionKind.MULTIPLE, None, None),
    "short_text": (QuestionKind.SHORT_TEXT, None, None),
    "text": (QuestionKind.TEXT, None, None),
}
#: The maximum length a new text question gets unless the owner says otherwise.
DEFAULT_MAX_LENGTH = {QuestionKind.SHORT_TEXT: 200, QuestionKind.TEXT: 2000}
#: The survey's own texts, as the texts form edits them.
SURVEY_TEXTS = ("title", "intro", "thanks", "consent")
#: What the owner may not reword without starting a new scoring series.
LOCKED_WORDING = ("text", "low_label", "high_label")
#: The editor's rule operators: (document operator, fixed value or None for the typed one).
RULE_OPS: dict[str, tuple[str, Any]] = {
    "le": ("le", None),
    "ge": ("ge", None),
    "eq": ("eq", None),
    "yes": ("eq", True),
    "no": ("eq", False),
    "in": ("in", None),
}
#: The subject of a rule that looks at the store rather than at an answer.
STORE_FORMAT = "store_format"


class DuplicateQuestionKey(DomainError):
    status = 400
    code = "duplicate_question_key"
    message = _l("Another question of this survey already has this key.")


class CoreQuestionKept(DomainError):
    status = 400
    code = "core_question_kept"
    message = _l(
        "A scoring question (likelihood to recommend, overall satisfaction) cannot be removed."
    )


class UnknownQuestion(NotFound):
    message = _l("This draft has no such question (it may have been removed meanwhile).")


@dataclass(frozen=True, slots=True)
class Text:
    """A text in both languages as typed (either may be blank in a draft)."""

    zh_CN: str = ""
    en: str = ""

    @property
    def blank(self) -> bool:
        return not (self.zh_CN.strip() or self.en.strip())

    def document(self) -> dict[str, str]:
        return {"zh_CN": self.zh_CN.strip(), "en": self.en.strip()}

    @classmethod
    def of(cls, raw: Any) -> Text:
        """The text of a document value (anything that is not a text reads as blank)."""
        if not isinstance(raw, dict):
            return cls()
        zh, en = raw.get("zh_CN"), raw.get("en")
        return cls(zh if isinstance(zh, str) else "", en if isinstance(en, str) else "")


@dataclass(frozen=True, slots=True)
class ChoiceInput:
    key: str
    text: Text


@dataclass(frozen=True, slots=True)
class RuleInput:
    """One "show only when" rule: an earlier question and an editor operator with a number
    or choice keys, or (``subject`` = `STORE_FORMAT`) the store formats."""

    subject: str
    op: str = ""
    number: int | None = None
    choices: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuestionInput:
    """What the question form says. For a standard question ``editor_kind`` is ignored:
    its kind and scale are fixed."""

    key: str
    editor_kind: str
    text: Text
    help: Text = Text()
    required: bool = False
    low_label: Text = Text()
    high_label: Text = Text()
    choices: tuple[ChoiceInput, ...] = ()
    other: bool = False
    max_length: int | None = None
    group: str | None = None
    match: str = "all"
    rules: tuple[RuleInput, ...] = ()


def questions_of(document: Document) -> list[dict[str, Any]]:
    """The document's questions that are mappings, in order."""
    found = document.get("questions")
    return [q for q in found if isinstance(q, dict)] if isinstance(found, list) else []


def find_question(document: Document, key: str) -> dict[str, Any]:
    """The question with this key; `UnknownQuestion` when there is none."""
    for question in questions_of(document):
        if question.get("key") == key:
            return question
    raise UnknownQuestion()


def editor_kind(question: dict[str, Any]) -> str:
    """The form value of a stored question's kind (``""`` when the editor has none)."""
    kind, low, high = question.get("kind"), question.get("min"), question.get("max")
    for value, (shape_kind, shape_low, shape_high) in EDITOR_KINDS.items():
        if kind == shape_kind and (low, high) == (shape_low, shape_high):
            return value
    return ""


def question_document(entry: QuestionInput, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The document form of a question as the form describes it.

    A standard question keeps its key, kind and scale from ``previous`` whatever was sent:
    its answers live in typed columns.
    """
    if previous is not None and previous.get("key") in STANDARD_KEYS:
        key = str(previous["key"])
        kind, low, high = STANDARD_SHAPES[key]
    else:
        key = entry.key
        kind, low, high = EDITOR_KINDS[entry.editor_kind]
    question: dict[str, Any] = {"key": key, "kind": kind.value, "text": entry.text.document()}
    if low is not None:
        question.update(min=low, max=high)
    if entry.required:
        question["required"] = True
    if kind is QuestionKind.SCALE:
        for name in ("low_label", "high_label"):
            label: Text = getattr(entry, name)
            if not label.blank:
                question[name] = label.document()
    if kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE):
        question["choices"] = [
            {"key": c.key, "text": c.text.document()} for c in entry.choices if c.key
        ]
        if entry.other:
            question["other"] = True
    if kind in DEFAULT_MAX_LENGTH:
        question["max_length"] = entry.max_length or DEFAULT_MAX_LENGTH[kind]
    if not entry.help.blank:
        question["help"] = entry.help.document()
    if entry.group:
        question["group"] = entry.group
    rules = [rule_document(rule) for rule in entry.rules]
    if rules:
        question["show_if"] = {entry.match if entry.match == "any" else "all": rules}
    return question


def rule_document(rule: RuleInput) -> dict[str, Any]:
    """A rule of the form as a ``show_if`` rule of the document."""
    if rule.subject == STORE_FORMAT:
        return {"store_format": list(rule.formats)}
    op, fixed = RULE_OPS[rule.op]
    if op == "in":
        return {"question": rule.subject, "op": op, "values": list(rule.choices)}
    return {"question": rule.subject, "op": op, "value": rule.number if fixed is None else fixed}


def question_input(question: dict[str, Any]) -> QuestionInput:
    """A stored question as the form shows it (what the form cannot show is left out)."""
    condition: Any = question.get("show_if")
    match, raw_rules = next(iter(condition.items())) if _one_item(condition) else ("all", [])
    rules = tuple(rule_input(r) for r in _listed(raw_rules) if isinstance(r, dict))
    choices = question.get("choices")
    max_length = question.get("max_length")
    return QuestionInput(
        key=str(question.get("key") or ""),
        editor_kind=editor_kind(question),
        text=Text.of(question.get("text")),
        help=Text.of(question.get("help")),
        required=bool(question.get("required")),
        low_label=Text.of(question.get("low_label")),
        high_label=Text.of(question.get("high_label")),
        choices=tuple(
            ChoiceInput(str(c.get("key") or ""), Text.of(c.get("text")))
            for c in (choices if isinstance(choices, list) else [])
            if isinstance(c, dict)
        ),
        other=bool(question.get("other")),
        max_length=max_length if type(max_length) is int else None,
        group=question.get("group") if isinstance(question.get("group"), str) else None,
        match="any" if match == "any" else "all",
        rules=rules,
    )


def rule_input(rule: dict[str, Any]) -> RuleInput:
    """A stored rule as the form shows it."""
    if set(rule) == {"store_format"}:
        formats = rule["store_format"]
        return RuleInput(STORE_FORMAT, formats=tuple(map(str, _listed(formats))))
    values = rule.get("values", [rule["value"]] if "value" in rule else [])
    values = _listed(values)
    subject, op = str(rule.get("question") or ""), str(rule.get("op") or "")
    if op == "in":
        return RuleInput(subject, "in", choices=tuple(map(str, values)))
    if op == "eq" and values and isinstance(values[0], bool):
        return RuleInput(subject, "yes" if values[0] else "no")
    number = values[0] if values and type(values[0]) is int else None
    return RuleInput(subject, op, number=number)


def _one_item(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def put_question(
    document: Document, entry: QuestionInput, *, replacing: str | None = None
) -> Document:
    """The document with the question added at the end, or put in place of ``replacing``.

    A renamed question's key is renamed in the conditions that look at it too.

    Raises
    ------
    DuplicateQuestionKey
        Another question has the key.
    UnknownQuestion
        ``replacing`` is not a question of the document.
    """
    changed = copy.deepcopy(document)
    questions = changed.setdefault("questions", [])
    previous = find_question(changed, replacing) if replacing is not None else None
    question = question_document(entry, previous)
    if any(q is not previous and q.get("key") == question["key"] for q in questions_of(changed)):
        raise DuplicateQuestionKey(field="key")
    if previous is None:
        questions.append(question)
        return changed
    questions[questions.index(previous)] = question
    if question["key"] != replacing:
        for rule in _answer_rules(changed):
            if rule.get("question") == replacing:
                rule["question"] = question["key"]
    return changed


def _answer_rules(document: Document) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for question in questions_of(document):
        condition = question.get("show_if")
        if isinstance(condition, dict):
            for listed in condition.values():
                rules += [r for r in _listed(listed) if isinstance(r, dict) and "question" in r]
    return rules


def move_question(document: Document, key: str, step: int) -> Document:
    """The document with the question moved ``step`` places (-1 up, +1 down); a question
    already first or last stays. `UnknownQuestion` when there is no such question."""
    changed = copy.deepcopy(document)
    questions = changed.get("questions")
    question = find_question(changed, key)
    assert isinstance(questions, list)
    position = questions.index(question)
    target = min(max(position + step, 0), len(questions) - 1)
    questions.insert(target, questions.pop(position))
    return changed


def remove_question(document: Document, key: str) -> Document:
    """The document without the question (conditions that looked at it are left for the
    checks to show).

    Raises
    ------
    CoreQuestionKept
        For a scoring question.
    UnknownQuestion
    """
    if key in CORE_KEYS:
        raise CoreQuestionKept()
    changed = copy.deepcopy(document)
    question = find_question(changed, key)
    changed["questions"].remove(question)
    return changed


def set_texts(document: Document, texts: dict[str, Text]) -> Document:
    """The document with the survey's own texts (title, intro, thanks, consent) replaced."""
    changed = copy.deepcopy(document)
    for name in SURVEY_TEXTS:
        changed[name] = texts[name].document()
    return changed


def reworded_core_questions(document: Document, published: Document | None) -> tuple[str, ...]:
    """The scoring questions whose wording (text, end labels) differs from ``published``.

    Every other change leaves scores comparable; these start a new scoring series.
    """
    if published is None:
        return ()
    changed = []
    for key in CORE_KEYS:
        try:
            now, then = find_question(document, key), find_question(published, key)
        except UnknownQuestion:
            continue
        if any(now.get(part) != then.get(part) for part in LOCKED_WORDING):
            changed.append(key)
    return tuple(changed)


def minimal_document(key: str, texts_from: Document) -> Document:
    """A survey asking only the scoring questions, with the survey texts and the scoring
    questions' wording of ``texts_from`` (the default survey)."""
    return {
        "key": key,
        **{name: copy.deepcopy(texts_from.get(name)) for name in SURVEY_TEXTS},
        "questions": [
            copy.deepcopy(q) for q in questions_of(texts_from) if q.get("key") in CORE_KEYS
        ],
    }


def copied_document(key: str, source: Document) -> Document:
    """``source`` (a published definition) as the draft of the survey ``key``."""
    return {**copy.deepcopy(source), "key": key}
