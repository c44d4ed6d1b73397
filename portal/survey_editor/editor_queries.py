"""What the editor's pages read: a survey's draft laid out for the page, with its checks,
its completion time and the scoring questions reworded since the latest version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from portal.models import Survey
from portal.survey_editor.documents import (
    STORE_FORMAT,
    SURVEY_TEXTS,
    Document,
    Text,
    questions_of,
    reworded_core_questions,
)
from portal.survey_editor.words import (
    FIELD_LABELS,
    KIND_LABELS,
    say_condition,
    say_problem,
    say_warning,
)
from portal.versions import latest_version
from surveys.checks import check_draft
from surveys.definitions import CORE_KEYS, STANDARD_KEYS, QuestionKind
from surveys.timing import Estimate


@dataclass(frozen=True, slots=True)
class Shown:
    """A draft's text as a page shows it: in the page's language, or in the other one
    (``lang``) while the draft lacks the translation."""

    text: str
    lang: str | None = None

    def markup(self) -> Markup:
        """The text isolated (``<bdi>``), marked with its language when not the page's."""
        if self.lang is None:
            return Markup("<bdi>{}</bdi>").format(self.text)
        return Markup('<bdi lang="{}">{}</bdi>').format(self.lang, self.text)


@dataclass(frozen=True, slots=True)
class QuestionRow:
    key: str
    position: int
    text: Shown
    kind: str
    required: bool
    core: bool
    standard: bool
    #: Shown only when ...: the condition in words.
    condition: Markup | None
    #: A scoring question whose wording differs from the latest version.
    reworded: bool
    first: bool
    last: bool


@dataclass(frozen=True, slots=True)
class ProblemLine:
    #: The question concerned, ``None`` for the survey itself.
    question: str | None
    sentence: Markup


@dataclass(frozen=True, slots=True)
class TextRow:
    label: str
    text: Text


@dataclass(frozen=True, slots=True)
class DraftPage:
    key: str
    title: Shown
    #: The draft revision every form of the page carries.
    revision: int
    has_draft: bool
    latest_number: int | None
    latest_series: int | None
    latest_published_at: datetime | None
    texts: tuple[TextRow, ...]
    questions: tuple[QuestionRow, ...]
    problems: tuple[ProblemLine, ...]
    warnings: tuple[str, ...]
    estimate: Estimate | None
    reworded: tuple[str, ...]


def localized(raw: Any, locale: str) -> Shown:
    """A document text in ``locale``, else in the other language (a draft may lack one)."""
    text = Text.of(raw)
    first, second = (text.zh_CN, text.en) if locale == "zh_CN" else (text.en, text.zh_CN)
    if first.strip() or not second.strip():
        return Shown(first.strip())
    return Shown(second.strip(), "en" if locale == "zh_CN" else "zh-CN")


def question_names(document: Document, locale: str) -> dict[str, Shown]:
    """Each question's key → "position. text", how pages name a question to a reader."""
    names = {}
    for n, question in enumerate(questions_of(document), start=1):
        shown = localized(question.get("text"), locale)
        names[str(question.get("key"))] = Shown(f"{n}. {shown.text}", shown.lang)
    return names


def get_draft_page(session: Session, survey: Survey, locale: str) -> DraftPage:
    """The draft page of ``survey``: its draft (if any) with its checks, and its latest
    version."""
    latest = latest_version(session, survey.id)
    document = survey.draft
    shown = document if document is not None else (latest.definition if latest else None)
    reworded: tuple[str, ...] = ()
    rows: tuple[QuestionRow, ...] = ()
    problems: tuple[ProblemLine, ...] = ()
    warnings: tuple[str, ...] = ()
    estimate = None
    if document is not None:
        reworded = reworded_core_questions(document, latest.definition if latest else None)
        rows = _rows(document, reworded, locale)
        result = check_draft({**document, "key": survey.key})
        problems = tuple(ProblemLine(p.question, say_problem(p)) for p in result.problems)
        warnings = tuple(say_warning(w) for w in result.warnings)
        estimate = result.estimate
    return DraftPage(
        key=survey.key,
        title=localized((shown or {}).get("title"), locale),
        revision=survey.draft_revision,
        has_draft=document is not None,
        latest_number=latest.number if latest else None,
        latest_series=latest.scoring_series if latest else None,
        latest_published_at=latest.published_at if latest else None,
        # Without a draft, the texts of the latest version.
        texts=tuple(
            TextRow(str(FIELD_LABELS[name]), Text.of((shown or {}).get(name)))
            for name in SURVEY_TEXTS
        ),
        questions=rows,
        problems=problems,
        warnings=warnings,
        estimate=estimate,
        reworded=reworded,
    )


def _rows(document: Document, reworded: tuple[str, ...], locale: str) -> tuple[QuestionRow, ...]:
    questions = questions_of(document)
    names = question_names(document, locale)
    rows = []
    for position, question in enumerate(questions, start=1):
        key = str(question.get("key") or "")
        kind = str(question.get("kind"))
        label = str(KIND_LABELS.get(kind, kind))
        if kind == QuestionKind.SCALE:
            label = f"{label} {question.get('min')}–{question.get('max')}"
        rows.append(
            QuestionRow(
                key=key,
                position=position,
                text=localized(question.get("text"), locale),
                kind=label,
                required=bool(question.get("required")),
                core=key in CORE_KEYS,
                standard=key in STANDARD_KEYS,
                condition=say_condition(
                    question.get("show_if"), {k: v.markup() for k, v in names.items()}
                ),
                reworded=key in reworded,
                first=position == 1,
                last=position == len(questions),
            )
        )
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class QuestionChoices:
    """The choices the question form offers: the subjects of rules, groups, and the
    choice keys of earlier questions (for "is one of")."""

    subjects: list[SelectChoice]
    groups: list[SelectChoice]
    choice_keys: list[tuple[Markup, list[str]]]


def question_choices(
    document: Document, editing: str | None, store_format_label: str, locale: str, blank: str
) -> QuestionChoices:
    """What the question form's lists offer for the question ``editing`` (``None``: new).

    Rules may look at the questions before it; one that already looks elsewhere keeps its
    subject, so that the form shows it (and the checks name the problem).
    """
    questions = questions_of(document)
    keys = [str(q.get("key")) for q in questions]
    earlier = questions[: keys.index(editing)] if editing in keys else questions
    names = question_names(document, locale)
    referenced = _referenced_keys(questions[keys.index(editing)]) if editing in keys else []
    subjects = [SelectChoice("", blank), SelectChoice(STORE_FORMAT, store_format_label)]
    subject_keys = [str(q.get("key")) for q in earlier] + [
        k for k in referenced if k not in {str(q.get("key")) for q in earlier}
    ]
    subjects += [_option(k, names.get(k, Shown(k))) for k in subject_keys]
    groups = [SelectChoice("", blank)] + [
        _option(str(g.get("key")), localized(g.get("text"), locale))
        for g in _listed(document.get("groups"))
        if isinstance(g, dict)
    ]
    choice_keys = [
        (names[str(q.get("key"))].markup(), _offered(q))
        for q in earlier
        if q.get("kind") in (QuestionKind.CHOICE, QuestionKind.MULTIPLE)
    ]
    return QuestionChoices(subjects, groups, choice_keys)


def _option(value: str, label: Shown) -> SelectChoice:
    return SelectChoice(value, label.text, render_kw={"lang": label.lang} if label.lang else None)


def _referenced_keys(question: dict[str, Any]) -> list[str]:
    condition = question.get("show_if")
    if not isinstance(condition, dict):
        return []
    return [
        str(rule["question"])
        for rules in condition.values()
        if isinstance(rules, list)
        for rule in rules
        if isinstance(rule, dict) and "question" in rule
    ]


def _offered(question: dict[str, Any]) -> list[str]:
    keys = [str(c.get("key")) for c in _listed(question.get("choices")) if isinstance(c, dict)]
    return keys + (["other"] if question.get("other") else [])


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
