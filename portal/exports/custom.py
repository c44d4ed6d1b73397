"""Custom questions in the responses export: which survey versions an export covers, one
column per custom question those versions ask, and each response's answers turned into
cells in the export's language.

The answers are read in the same pass as the responses: a second query returns the
``response_answers`` rows in the responses' own order, and `merge_answers` walks both
streams side by side, so that neither a query per row nor a table of every answer in
memory is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import DomainError
from portal.exports.writers import Cell
from portal.models import Survey, SurveyVersion
from portal.versions import definition_of
from surveys.definitions import (
    CHOICE_KINDS,
    OTHER,
    TEXT_KINDS,
    LocalizedText,
    Question,
    QuestionKind,
)
from surveys.privacy import mask_personal_data

#: Kinds whose answer is a number (a scale point; yes/no as 1 or 0).
NUMBER_KINDS = frozenset({QuestionKind.SCALE, QuestionKind.BOOLEAN})


class InvalidVersionChoice(DomainError):
    """The survey or versions asked for do not exist; ``field`` names the form field."""

    status = 400
    code = "invalid_versions"


@dataclass(frozen=True, slots=True)
class PublishedVersion:
    id: int
    survey_key: str
    number: int
    title: LocalizedText
    #: Its questions (`portal.versions.definition_of`, parsed once per content).
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class ExportVersions:
    """The survey versions an export covers, oldest first within each survey."""

    #: ``None``: every survey, and then no response is left out.
    survey_key: str | None
    #: ``None``: every version of the survey.
    numbers: tuple[int, ...] | None
    versions: tuple[PublishedVersion, ...]

    @property
    def version_ids(self) -> tuple[int, ...] | None:
        """The versions whose responses are exported; ``None`` when not limited."""
        return None if self.survey_key is None else tuple(v.id for v in self.versions)


@dataclass(frozen=True, slots=True)
class CustomColumn:
    key: str
    #: The wording of the newest selected version that asks it.
    text: LocalizedText


#: One ``response_answers`` row as `merge_answers` hands it over: the response's sort key
#: (two values), then ``question_key, number, choice, text`` as the contract encodes them
#: (`portal.models.ResponseAnswer`). Plain rows, not dataclasses: an export reads millions.
AnswerRow = Sequence[Any]


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a version's custom question goes in a row, and how its answers read."""

    index: int
    kind: QuestionKind
    #: Choice questions: each choice key's rank in the question's order and its words in
    #: the export's language.
    choices: Mapping[str, tuple[int, str]]


@dataclass(frozen=True, slots=True)
class ExportLayout:
    """How each response's version and custom answers become cells."""

    columns: tuple[CustomColumn, ...]
    #: Per version id: the slot of each custom question it asks, by key.
    plans: Mapping[int, Mapping[str, Slot]]
    #: Per version id: its survey key and number (the ``survey``/``survey_version`` cells).
    labels: Mapping[int, tuple[str, int]]
    #: ``Other: %(text)s`` in the export's language, looked up while the request lasts (the
    #: rows are written after the view has returned).
    other_format: str

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)

    def cells(self, version_id: int, answers: Sequence[AnswerRow]) -> tuple[Cell, ...]:
        """The custom cells of one response of ``version_id`` from its answer rows: empty
        for a question its version does not ask and for one left unanswered."""
        cells: list[Cell] = [None] * len(self.columns)
        plan = self.plans.get(version_id)
        if plan is None or not answers:
            return tuple(cells)
        # The work is per answer, not per column: most rows answer a few questions.
        ticked: dict[int, list[tuple[int, str]]] = {}
        for _at, _id, key, number, choice, text in answers:
            slot = plan.get(key)
            if slot is None:
                continue
            if slot.kind in NUMBER_KINDS:
                cells[slot.index] = number
            elif slot.kind in TEXT_KINDS:
                cells[slot.index] = None if text is None else mask_personal_data(text)
            elif slot.kind in CHOICE_KINDS:
                ticked.setdefault(slot.index, []).append(self._choice(slot, choice, text))
        for index, words in ticked.items():
            # The question's own order, "other" last, whatever order they were stored in.
            cells[index] = (
                words[0][1] if len(words) == 1 else "; ".join(w for _, w in sorted(words))
            )
        return tuple(cells)

    def _choice(self, slot: Slot, choice: str | None, text: str | None) -> tuple[int, str]:
        if choice == OTHER:
            return len(slot.choices), self.other_format % {"text": mask_personal_data(text)}
        # A key the version does not offer (never written by the portal) is shown as is.
        return slot.choices.get(choice or "", (len(slot.choices), choice or ""))


def published_versions(session: Session, survey_key: str | None = None) -> list[PublishedVersion]:
    """Every published version of every survey (or of ``survey_key``), surveys in creation
    order, versions by number."""
    stmt = (
        select(SurveyVersion, Survey.key)
        .join(Survey, Survey.id == SurveyVersion.survey_id)
        .order_by(Survey.id, SurveyVersion.number)
    )
    if survey_key is not None:
        stmt = stmt.where(Survey.key == survey_key)
    found = []
    for version, key in session.execute(stmt):
        if version.number is not None:
            parsed = definition_of(version)
            found.append(
                PublishedVersion(version.id, key, version.number, parsed.title, parsed.questions)
            )
    return found


def list_survey_titles(session: Session, locale: str) -> list[tuple[str, str]]:
    """Each survey with a published version, in creation order: its key and the title of
    its latest version in ``locale`` (with the key too when two surveys share a title,
    since a key is a code, not a name to show)."""
    titles: dict[str, str] = {}
    for version in published_versions(session):
        titles[version.survey_key] = version.title.get(locale)
    words = list(titles.values())
    return [
        (key, f"{title} ({key})" if words.count(title) > 1 else title)
        for key, title in titles.items()
    ]


def select_versions(
    session: Session, survey_key: str | None, numbers: Sequence[int] | None
) -> ExportVersions:
    """The versions an export of ``survey_key`` (every survey when ``None``) covers:
    ``numbers``, or all when ``None``.

    Raises
    ------
    InvalidVersionChoice
        No published survey with that key, numbers without a survey, or numbers that
        survey has no version of.
    """
    if survey_key is None:
        if numbers is not None:
            raise InvalidVersionChoice(
                _l("Choose a survey to export some of its versions."), field="versions"
            )
        return ExportVersions(None, None, tuple(published_versions(session)))
    versions = published_versions(session, survey_key)
    if not versions:
        # Built now, not lazily: the key is what the user typed, and a lazy string
        # interpolating it would not be escaped by the page.
        raise InvalidVersionChoice(
            _("There is no published survey with the key %(key)s.", key=survey_key),
            field="survey",
        )
    if numbers is None:
        return ExportVersions(survey_key, None, tuple(versions))
    wanted = sorted(set(numbers))
    missing = [n for n in wanted if n not in {v.number for v in versions}]
    if missing:
        raise InvalidVersionChoice(
            _(
                "Survey %(key)s has no version %(numbers)s.",
                key=survey_key,
                numbers=", ".join(map(str, missing)),
            ),
            field="versions",
        )
    chosen = tuple(v for v in versions if v.number in wanted)
    return ExportVersions(survey_key, tuple(wanted), chosen)


def custom_columns(versions: Iterable[PublishedVersion]) -> tuple[CustomColumn, ...]:
    """One column per custom question key, in the order the keys are first met (versions
    oldest first), worded as the newest version that asks it words it. Contact questions
    are never exported."""
    texts: dict[str, LocalizedText] = {}
    for version in versions:
        for question in version.questions:
            if question.is_custom and question.kind is not QuestionKind.CONTACT:
                # A dict keeps a key where it was first inserted; later versions reword it.
                texts[question.key] = question.text
    return tuple(CustomColumn(key, text) for key, text in texts.items())


def export_layout(versions: ExportVersions, *, locale: str, other_format: str) -> ExportLayout:
    """The columns and per-version plans of an export of ``versions``."""
    columns = custom_columns(versions.versions)
    index = {column.key: i for i, column in enumerate(columns)}
    plans = {
        version.id: {
            q.key: Slot(
                index[q.key],
                q.kind,
                {c.key: (rank, c.text.get(locale)) for rank, c in enumerate(q.choices)},
            )
            for q in version.questions
            if q.key in index
        }
        for version in versions.versions
    }
    labels = {v.id: (v.survey_key, v.number) for v in versions.versions}
    return ExportLayout(columns, plans, labels, other_format)


def merge_answers(
    rows: Iterable[Any], answers: Iterable[AnswerRow] | None
) -> Iterator[tuple[Any, list[AnswerRow]]]:
    """Each response row with its answer rows.

    ``rows`` start with the sort key ``(submitted_at, id)`` and ``answers`` with the key of
    their response, both streams ordered by it. The answers are matched by that key rather
    than by position, so that an answer whose response the first query did not see
    (committed between the two statements) is skipped instead of holding up the ones after
    it.
    """
    stream = iter(answers or ())
    pending = next(stream, None)
    for row in rows:
        key = (row[0], row[1])
        while pending is not None and (pending[0], pending[1]) < key:
            pending = next(stream, None)
        found: list[AnswerRow] = []
        while pending is not None and (pending[0], pending[1]) == key:
            found.append(pending)
            pending = next(stream, None)
        yield row, found
