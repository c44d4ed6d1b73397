"""Survey versions in words, in the reader's language: the kinds of question, when a
question is shown, and the changes from one version to the next (`surveys.diff`).

What the survey owner wrote stays in the language it was written in: a change to the
Chinese wording is shown in Chinese on the English page too, as a `Said` carrying its
language so that the page can mark it (``lang``). Everything else is said in the page's
language, quoting questions and choices in that language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.admin.forms import FORMAT_LABELS
from surveys.definitions import (
    OTHER,
    AnswerRule,
    Condition,
    LocalizedText,
    QuestionKind,
    RuleOp,
    StoreFormatRule,
    SurveyDefinition,
)
from surveys.diff import (
    Change,
    ChoiceAdded,
    ChoiceRemoved,
    ChoiceRenamed,
    ChoicesReordered,
    ConditionChanged,
    GroupChanged,
    QuestionAdded,
    QuestionChange,
    QuestionChanged,
    QuestionField,
    QuestionMoved,
    QuestionRemoved,
    SurveyField,
    TextChanged,
    ValueChanged,
)

KIND_LABELS: dict[QuestionKind, Any] = {
    QuestionKind.SCALE: _l("rating scale"),
    QuestionKind.BOOLEAN: _l("yes or no"),
    QuestionKind.CHOICE: _l("single choice"),
    QuestionKind.MULTIPLE: _l("multiple choice"),
    QuestionKind.SHORT_TEXT: _l("short text"),
    QuestionKind.TEXT: _l("long text"),
    QuestionKind.CONTACT: _l("contact request"),
}
LANGUAGE_LABELS: dict[str, Any] = {"zh_CN": _l("in Chinese"), "en": _l("in English")}
#: The ``lang`` attribute of a text in each definition language.
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
#: How the items of a list and the rules of a condition are separated in each language.
_LIST_SEPARATOR = {"zh_CN": "、", "en": ", "}
_RULE_SEPARATOR = {"zh_CN": "；", "en": "; "}


def _separators(locale: str) -> tuple[str, str]:
    language = "zh_CN" if locale.replace("-", "_").startswith("zh") else "en"
    return _LIST_SEPARATOR[language], _RULE_SEPARATOR[language]


FIELD_LABELS: dict[SurveyField | QuestionField, Any] = {
    SurveyField.TITLE: _l("Survey title"),
    SurveyField.INTRO: _l("Introduction"),
    SurveyField.THANKS: _l("Thank-you text"),
    SurveyField.CONSENT: _l("Consent sentence"),
    QuestionField.TEXT: _l("Wording"),
    QuestionField.HELP: _l("Help text"),
    QuestionField.LOW_LABEL: _l("Label of the lowest point"),
    QuestionField.HIGH_LABEL: _l("Label of the highest point"),
    QuestionField.KIND: _l("Kind of question"),
    QuestionField.REQUIRED: _l("Answer required"),
    QuestionField.MINIMUM: _l("Lowest point of the scale"),
    QuestionField.MAXIMUM: _l("Highest point of the scale"),
    QuestionField.OTHER: _l("“Other” with a text box"),
    QuestionField.MAX_LENGTH: _l("Longest answer (characters)"),
    QuestionField.GROUP: _l("Shown under the heading"),
}


@dataclass(frozen=True, slots=True)
class Said:
    """A value in a change: the owner's text in its own language (``lang``), or words of
    the page (``lang`` None)."""

    text: str
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeLine:
    what: str
    before: tuple[Said, ...] = ()
    after: tuple[Said, ...] = ()
    #: A choice's key, shown as code.
    key: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeBlock:
    """One thing that changed: a question (``key``), a group heading, the survey's texts."""

    title: str
    key: str | None
    #: The question's (or heading's) words in the page's language.
    subject: str | None
    lines: tuple[ChangeLine, ...]


def kind_label(kind: QuestionKind) -> str:
    return str(KIND_LABELS[kind])


def text_in(text: LocalizedText | None, locale: str) -> str | None:
    return None if text is None else text.get(locale)


def condition_words(condition: Condition | None, definition: SurveyDefinition, locale: str) -> str:
    """When a question is shown, in words; questions and choices quoted in ``locale``."""
    if condition is None:
        return str(_("always shown"))
    rules = [_rule_words(rule, definition, locale) for rule in condition.rules]
    joined = _separators(locale)[1].join(rules)
    if len(rules) == 1:
        said = _("shown when %(rule)s", rule=rules[0])
    elif condition.match == "all":
        said = _("shown when all of these hold: %(rules)s", rules=joined)
    else:
        said = _("shown when any of these holds: %(rules)s", rules=joined)
    return str(said)


def _rule_words(
    rule: AnswerRule | StoreFormatRule, definition: SurveyDefinition, locale: str
) -> str:
    items = _separators(locale)[0]
    if isinstance(rule, StoreFormatRule):
        formats = [str(FORMAT_LABELS.get(f, f)) for f in rule.formats]
        if len(formats) == 1:
            return str(_("the store is a %(format)s", format=formats[0]))
        return str(_("the store is one of these: %(formats)s", formats=items.join(formats)))
    try:
        target = definition.question(rule.question)
    except KeyError:
        question = rule.question
        choices: dict[str, str] = {}
    else:
        question = target.text.get(locale)
        choices = {c.key: c.text.get(locale) for c in target.choices}
    choices[OTHER] = choices.get(OTHER, _("other"))
    value: Any = rule.values[0]
    if rule.op is RuleOp.ONE_OF:
        picked = items.join(f"“{choices.get(str(v), str(v))}”" for v in rule.values)
        said = _(
            "the answer to “%(question)s” is one of %(choices)s", question=question, choices=picked
        )
    elif rule.op is RuleOp.AT_MOST:
        said = _(
            "the answer to “%(question)s” is at most %(value)s", question=question, value=value
        )
    elif rule.op is RuleOp.AT_LEAST:
        said = _(
            "the answer to “%(question)s” is at least %(value)s", question=question, value=value
        )
    else:
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        said = _("the answer to “%(question)s” is %(value)s", question=question, value=value)
    return str(said)


def change_blocks(
    changes: Sequence[Change],
    previous: SurveyDefinition,
    next_: SurveyDefinition,
    locale: str,
) -> list[ChangeBlock]:
    """``changes`` (from ``previous`` to ``next_``) in words, one block per question,
    group heading or the survey's texts, in the order of the changes."""
    blocks: list[ChangeBlock] = []
    texts = [c for c in changes if isinstance(c, TextChanged)]
    if texts:
        lines = tuple(_text_line(c) for c in texts)
        blocks.append(ChangeBlock(_("The survey's texts changed"), None, None, lines))
    blocks.extend(_group_blocks([c for c in changes if isinstance(c, GroupChanged)], next_, locale))
    for change in changes:
        if isinstance(change, QuestionRemoved):
            title = _("Question removed (it was number %(n)s)", n=change.position)
            subject = change.question.text.get(locale)
            blocks.append(ChangeBlock(title, change.question.key, subject, ()))
        elif isinstance(change, QuestionAdded):
            title = _("Question added as number %(n)s", n=change.position)
            subject = change.question.text.get(locale)
            blocks.append(ChangeBlock(title, change.question.key, subject, ()))
        elif isinstance(change, QuestionMoved):
            title = _(
                "Question moved from number %(before)s to %(after)s",
                before=change.before,
                after=change.after,
            )
            subject = next_.question(change.key).text.get(locale)
            blocks.append(ChangeBlock(title, change.key, subject, ()))
        elif isinstance(change, QuestionChanged):
            title = _("Question number %(n)s changed", n=change.position)
            subject = next_.question(change.key).text.get(locale)
            lines = tuple(
                _question_line(c, change.key, previous, next_, locale) for c in change.changes
            )
            blocks.append(ChangeBlock(title, change.key, subject, lines))
    return blocks


def _group_blocks(
    changes: list[GroupChanged], next_: SurveyDefinition, locale: str
) -> list[ChangeBlock]:
    blocks = []
    for key in dict.fromkeys(c.key for c in changes):
        mine = [c for c in changes if c.key == key]
        if all(c.before is None for c in mine):
            title = _("Heading added")
        elif all(c.after is None for c in mine):
            title = _("Heading removed")
        else:
            title = _("Heading changed")
        lines = tuple(
            ChangeLine(
                _in_language(_("Heading"), c.language),
                _own(c.before, c.language),
                _own(c.after, c.language),
            )
            for c in mine
        )
        subject = None
        if any(g.key == key for g in next_.groups):
            subject = next_.group(key).text.get(locale)
        blocks.append(ChangeBlock(title, key, subject, lines))
    return blocks


def _own(text: str | None, language: str) -> tuple[Said, ...]:
    return () if text is None else (Said(text, HTML_LANG[language]),)


def _both(text: LocalizedText) -> tuple[Said, ...]:
    return (Said(text.zh_CN, HTML_LANG["zh_CN"]), Said(text.en, HTML_LANG["en"]))


def _in_language(what: Any, language: str) -> str:
    return str(_("%(what)s, %(language)s", what=what, language=LANGUAGE_LABELS[language]))


def _text_line(change: TextChanged) -> ChangeLine:
    what = _in_language(FIELD_LABELS[change.field], change.language)
    return ChangeLine(
        what, _own(change.before, change.language), _own(change.after, change.language)
    )


def _question_line(
    change: QuestionChange,
    key: str,
    previous: SurveyDefinition,
    next_: SurveyDefinition,
    locale: str,
) -> ChangeLine:
    if isinstance(change, TextChanged):
        return _text_line(change)
    if isinstance(change, ValueChanged):
        return ChangeLine(
            str(FIELD_LABELS[change.field]),
            _value(change.field, change.before, previous, locale),
            _value(change.field, change.after, next_, locale),
        )
    if isinstance(change, ChoiceAdded):
        return ChangeLine(
            _("Choice added as number %(n)s", n=change.position), (), _both(change.text), change.key
        )
    if isinstance(change, ChoiceRemoved):
        return ChangeLine(_("Choice removed"), _both(change.text), (), change.key)
    if isinstance(change, ChoiceRenamed):
        return ChangeLine(
            _in_language(_("Choice reworded"), change.language),
            _own(change.before, change.language),
            _own(change.after, change.language),
            change.key,
        )
    if isinstance(change, ChoicesReordered):
        return ChangeLine(
            _("Order of the choices"),
            (Said(_choice_list(change.before, previous, key, locale)),),
            (Said(_choice_list(change.after, next_, key, locale)),),
        )
    assert isinstance(change, ConditionChanged)
    return ChangeLine(
        _("When it is shown"),
        (Said(condition_words(change.before, previous, locale)),),
        (Said(condition_words(change.after, next_, locale)),),
    )


def _choice_list(
    keys: tuple[str, ...], definition: SurveyDefinition, question: str, locale: str
) -> str:
    texts = {c.key: c.text.get(locale) for c in definition.question(question).choices}
    return _separators(locale)[0].join(f"“{texts.get(k, k)}”" for k in keys)


def _value(
    field: QuestionField, value: str | int | bool | None, definition: SurveyDefinition, locale: str
) -> tuple[Said, ...]:
    if field is QuestionField.KIND and isinstance(value, str):
        return (Said(kind_label(QuestionKind(value))),)
    if isinstance(value, bool):
        return (Said(_("yes") if value else _("no")),)
    if field is QuestionField.GROUP:
        if value is None:
            return (Said(_("no heading")),)
        try:
            return (Said(definition.group(str(value)).text.get(locale)),)
        except KeyError:
            return (Said(str(value)),)
    return (Said("—" if value is None else str(value)),)
