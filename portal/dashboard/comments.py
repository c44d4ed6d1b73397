"""The comment search of the store page: the comments and the answers to custom text
questions (short and long) of one store and period, found by the same search (``LIKE``
on the text, wildcards escaped) and the same response filters, newest first; each text
answer labelled with its question as the version its shopper answered words it."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, String, cast, false, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from portal.calendar import Period
from portal.channels import channel_condition
from portal.dashboard.queries import submitted_near
from portal.errors import DomainError
from portal.models import Case, Response, ResponseAnswer, Staff, Survey, SurveyVersion
from portal.pagination import MAX_PER_PAGE, Page
from portal.themes.queries import has_theme, themes_of
from portal.versions import definition_of
from surveys.definitions import TEXT_KINDS, LocalizedText

#: The ``question`` filter of the comment search that keeps the comments only.
COMMENT_QUESTION = "comment"


class UnknownTextQuestion(DomainError):
    status = 400
    code = "unknown_question"


@dataclass(frozen=True, slots=True)
class CommentFilter:
    text: str = ""
    group: str = ""  # promoter | passive | detractor
    category: str = ""
    staff_code: str = ""
    #: "" for comments and text answers, `COMMENT_QUESTION`, or a text question's key.
    question: str = ""
    #: The answer channels searched (empty: every channel).
    channels: tuple[str, ...] = ()
    #: A comment theme (`portal.themes.words.THEMES`) and a sentiment: comments only,
    #: those classified with the theme (spoken of with the sentiment), or with only a
    #: sentiment, those of that overall sentiment.
    theme: str = ""
    sentiment: str = ""


@dataclass(frozen=True, slots=True)
class CommentItem:
    """A comment, or a text answer with the wording of its question (``question``)."""

    submitted_at: datetime
    staff_code: str | None
    staff_name: str | None
    nps: int
    csat: int
    category: str | None
    text: str
    case_id: int | None
    question: str | None
    #: How the answer came in (`portal.models.Channel`).
    channel: str = "receipt"
    #: A comment's themes (`portal.themes.words.THEMES`), in the taxonomy's order.
    themes: tuple[str, ...] = ()


def text_questions(session: Session) -> dict[str, LocalizedText]:
    """The custom text questions (short and long) of every published survey version, by
    key, each worded as the newest version that asks it words it."""
    stmt = (
        select(SurveyVersion)
        .join(Survey, Survey.id == SurveyVersion.survey_id)
        .order_by(Survey.id, SurveyVersion.number)
    )
    found: dict[str, LocalizedText] = {}
    for version in session.scalars(stmt):
        for question in definition_of(version).custom_questions():
            if question.kind in TEXT_KINDS:
                found[question.key] = question.text
    return found


def checked_question(key: str, questions: Iterable[str]) -> str:
    """``key`` when the comment search may filter by it ("" for no filter).

    Raises
    ------
    UnknownTextQuestion
        Neither `COMMENT_QUESTION` nor the key of a custom text question.
    """
    if key in ("", COMMENT_QUESTION) or key in questions:
        return key
    # Built now rather than lazily: the key is what was typed, and must be escaped.
    raise UnknownTextQuestion(
        _("There is no text question with the key %(key)s to search.", key=key),
        field="question",
    )


def comments(store_id: int, period: Period, filters: CommentFilter) -> Select[Any]:
    """The period's comments and text answers, newest first, filtered; each with the id of
    the case its response opened, if any (a response opens at most one). A response's
    comment comes before its text answers; both are found by the same search. The store
    page reads one page of it through `comment_page`, which returns the same rows."""
    found = _union(_branches(store_id, period, filters))
    return select(*(found.c[name] for name in _COMMENT_FIELDS)).order_by(*_newest_first(found.c))


def comment_page(
    session: Session,
    store_id: int,
    period: Period,
    filters: CommentFilter,
    page: int,
    per_page: int,
    text_keys: Collection[str],
) -> Page[Any]:
    """One page of `comments` (label it with `label_comments`), without sorting the whole
    period: each branch is counted on its own (the unfiltered comment count from a partial
    index alone) and walks the store's ``(store_id, submitted_at)`` index newest first,
    stopping at the rows the page needs, before the branches are merged. ``text_keys``
    are the keys of every text question (`text_questions`): only their answers are text
    answers, and without any the text-answer branch is left out."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    counts = _branches(store_id, period, filters, counting=True, text_keys=text_keys)
    total = sum(session.scalar(branch) or 0 for branch in counts)
    keep = page * per_page
    limited = [
        select(*branch.order_by(*_newest_first(branch.selected_columns)).limit(keep).subquery().c)
        for branch in _branches(store_id, period, filters, text_keys=text_keys)
    ]
    found = _union(limited)
    stmt = (
        select(*(found.c[name] for name in _COMMENT_FIELDS))
        .order_by(*_newest_first(found.c))
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(items=session.execute(stmt).all(), number=page, per_page=per_page, total=total)


def _union(branches: list[Select[Any]]) -> Any:
    return union_all(*branches).subquery() if len(branches) > 1 else branches[0].subquery()


def _newest_first(columns: Any) -> tuple[Any, ...]:
    return (columns.submitted_at.desc(), columns.response_id.desc(), columns.position)


def _counting(filters: CommentFilter) -> Select[Any]:
    """``count(*)`` of responses, joined to staff only when the filter names one (a
    response has at most one staff member and one case): the unfiltered comment count then
    reads the partial index alone."""
    stmt = select(func.count()).select_from(Response)
    if filters.staff_code:
        stmt = stmt.join(Staff, Staff.id == Response.staff_id)
    return stmt


def _branches(
    store_id: int,
    period: Period,
    filters: CommentFilter,
    *,
    counting: bool = False,
    text_keys: Collection[str] | None = None,
) -> list[Select[Any]]:
    """The comment branch and the text-answer branch that the filters leave, as rows or,
    ``counting``, as ``count(*)``; ``text_keys`` (when given) limits the text answers to
    those questions."""
    branches = []
    if filters.question in ("", COMMENT_QUESTION):
        base = (
            _counting(filters)
            if counting
            else _comment_columns(Response.comment, literal(0), cast(null(), String(64)))
        )
        branches.append(
            _comment_filters(
                base, Response.comment, filters, store_id, period, ordered=not counting
            ).where(Response.comment.is_not(None))
        )
    # Themes are the comment's: a theme filter leaves the custom text answers out.
    texts = text_keys is None or bool(text_keys)
    if texts and filters.question != COMMENT_QUESTION and not (filters.theme or filters.sentiment):
        base = (
            _counting(filters)
            if counting
            else _comment_columns(
                ResponseAnswer.text, ResponseAnswer.id, ResponseAnswer.question_key
            )
        )
        answers = _comment_filters(
            base.join(ResponseAnswer, ResponseAnswer.response_id == Response.id)
            # A text question's answer, as the contract stores it: text without a choice
            # (an "other" choice carries text too, but is a choice).
            .where(ResponseAnswer.text.is_not(None), ResponseAnswer.choice.is_(None)),
            ResponseAnswer.text,
            filters,
            store_id,
            period,
            ordered=not counting,
        )
        if filters.question:
            answers = answers.where(ResponseAnswer.question_key == filters.question)
        if text_keys is not None:
            answers = answers.where(ResponseAnswer.question_key.in_(sorted(text_keys)))
        branches.append(answers)
    if not branches:
        # A theme filter with a text question's key: themes are the comment's only. (And,
        # with no text question at all, a search of text answers finds nothing.)
        base = (
            _counting(filters)
            if counting
            else _comment_columns(Response.comment, literal(0), cast(null(), String(64)))
        )
        branches.append(base.where(false()))
    return branches


#: The columns of a `comments` row, in order.
_COMMENT_FIELDS = (
    "submitted_at",
    "response_id",
    "position",
    "staff_code",
    "staff_name",
    "nps",
    "csat",
    "category",
    "text",
    "case_id",
    "version_id",
    "question_key",
    "channel",
)


def _comment_columns(text: Any, position: Any, question_key: Any) -> Select[Any]:
    return (
        select(
            Response.submitted_at.label("submitted_at"),
            Response.id.label("response_id"),
            position.label("position"),
            Staff.code.label("staff_code"),
            Staff.name.label("staff_name"),
            Response.nps.label("nps"),
            Response.csat.label("csat"),
            Response.problem_category.label("category"),
            text.label("text"),
            Case.id.label("case_id"),
            Response.survey_version_id.label("version_id"),
            question_key.label("question_key"),
            Response.channel.label("channel"),
        )
        .select_from(Response)
        .outerjoin(Staff, Staff.id == Response.staff_id)
        .outerjoin(Case, Case.response_id == Response.id)
    )


def _comment_filters(
    stmt: Select[Any],
    text: Any,
    filters: CommentFilter,
    store_id: int,
    period: Period,
    *,
    ordered: bool = True,
) -> Select[Any]:
    stmt = stmt.where(
        Response.store_id == store_id,
        Response.local_day >= period.start,
        Response.local_day <= period.end,
        channel_condition(Response.channel, filters.channels),
    )
    if ordered:
        # For reads newest first; a count is better served by the partial index.
        stmt = stmt.where(*submitted_near(period))
    if filters.text:
        # Escape LIKE wildcards: a shopper's "100%" is text, not a pattern.
        escaped = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(text.like(f"%{escaped}%", escape="\\"))
    if filters.group == "promoter":
        stmt = stmt.where(Response.nps >= 9)
    elif filters.group == "passive":
        stmt = stmt.where(Response.nps.between(7, 8))
    elif filters.group == "detractor":
        stmt = stmt.where(Response.nps <= 6)
    if filters.category:
        stmt = stmt.where(Response.problem_category == filters.category)
    if filters.staff_code:
        stmt = stmt.where(Staff.code == filters.staff_code)
    if filters.theme or filters.sentiment:
        stmt = stmt.where(has_theme(filters.theme, filters.sentiment))
    return stmt


def label_comments(session: Session, rows: Sequence[Any], locale: str) -> list[CommentItem]:
    """The rows of one page of `comments`, each text answer labelled with its question in
    ``locale`` as the version its shopper answered words it."""
    ids = {row.version_id for row in rows if row.question_key is not None}
    wording = {}
    if ids:
        stmt = select(SurveyVersion).where(SurveyVersion.id.in_(ids))
        wording = {version.id: definition_of(version) for version in session.scalars(stmt)}
    themes = themes_of(session, [row.response_id for row in rows if row.question_key is None])
    items = []
    for row in rows:
        question = None
        if row.question_key is not None:
            definition = wording.get(row.version_id)
            asked = definition and next(
                (q for q in definition.questions if q.key == row.question_key), None
            )
            question = asked.text.get(locale) if asked else row.question_key
        items.append(
            CommentItem(
                row.submitted_at,
                row.staff_code,
                row.staff_name,
                row.nps,
                row.csat,
                row.category,
                row.text,
                row.case_id,
                question,
                row.channel,
                themes.get(row.response_id, ()) if row.question_key is None else (),
            )
        )
    return items
