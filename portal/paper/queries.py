"""Reads of the paper pages: the check queue, and a mismatch's differences in words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access import visible_store_ids
from portal.display_names import display_name
from portal.models import PaperCheck, PaperEntry, Receipt, Response, Store, User
from portal.paper.checks import needs_decision
from portal.paper.keyings import TICKED
from surveys.answers import NO, OTHER_SUFFIX, YES
from surveys.codes import format_short_code
from surveys.definitions import OTHER, QuestionKind, SurveyDefinition

#: The most queue lines read at once: the sample is a tenth of the cards keyed in, and a
#: queue this long is worked down long before it grows further.
QUEUE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class CheckLine:
    response_id: int
    store: str
    short_code: str
    entered_by: str
    entered_by_user_id: int | None
    entered_at: datetime
    #: ``pending`` (waiting for a second keying) or ``mismatched`` (waiting for a decision).
    state: str


def list_checks(session: Session, user: User) -> list[CheckLine]:
    """The cards of ``user``'s stores waiting for a second keying or for a decision on a
    mismatch, oldest first."""
    stmt = (
        select(PaperEntry, Receipt.short_code, Store.code, User)
        .join(Response, Response.id == PaperEntry.response_id)
        .join(Receipt, Receipt.id == Response.receipt_id)
        .join(Store, Store.id == Response.store_id)
        .outerjoin(User, User.id == PaperEntry.entered_by_user_id)
        .where(
            PaperEntry.check_state.in_([PaperCheck.PENDING.value, PaperCheck.MISMATCHED.value]),
            Response.store_id.in_(visible_store_ids(user).scalar_subquery()),
        )
        .order_by(PaperEntry.entered_at, PaperEntry.response_id)
        .limit(QUEUE_LIMIT)
    )
    return [
        CheckLine(
            response_id=entry.response_id,
            store=code,
            short_code=format_short_code(short),
            entered_by="" if who is None else display_name(who),
            entered_by_user_id=entry.entered_by_user_id,
            entered_at=entry.entered_at,
            state=str(entry.check_state),
        )
        for entry, short, code, who in session.execute(stmt).tuples()
        if entry.check_state == PaperCheck.PENDING.value or needs_decision(entry)
    ]


@dataclass(frozen=True, slots=True)
class DifferenceLine:
    question: str
    first: str
    second: str
    #: ``first`` or ``second`` once a manager decided, else "".
    kept: str


def describe_differences(
    definition: SurveyDefinition, found: dict[str, Any] | None, locale: str
) -> list[DifferenceLine]:
    """A check's differing fields in words: the question, and each keying's answer."""
    lines = []
    for key, both in (found or {}).items():
        lines.append(
            DifferenceLine(
                question=_field_label(definition, key, locale),
                first=_value_label(definition, key, both.get("first", ""), locale),
                second=_value_label(definition, key, both.get("second", ""), locale),
                kept=str(both.get("kept", "")),
            )
        )
    return lines


def _field_label(definition: SurveyDefinition, key: str, locale: str) -> str:
    if key == "contact_consent":
        return str(_("Consent to be contacted"))
    if key == "contact_phone":
        return str(_("Phone"))
    if key == "contact_email":
        return str(_("E-mail"))
    if key.endswith(OTHER_SUFFIX):
        question = definition.question(key.removesuffix(OTHER_SUFFIX))
        return f"{question.text.get(locale)} ({_('Other')})"
    return definition.question(key).text.get(locale)


def _value_label(definition: SurveyDefinition, key: str, value: Any, locale: str) -> str:
    if value in ("", None, []):
        return "—"
    if key in ("contact_phone", "contact_email") or key.endswith(OTHER_SUFFIX):
        return str(value)
    if value == TICKED and key in ("problem", "contact_consent"):
        return str(_("ticked"))
    question = definition.question(key)
    if question.kind is QuestionKind.BOOLEAN:
        return str(_("Yes") if value == YES else _("No") if value == NO else value)
    if question.kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE):
        texts = {c.key: c.text.get(locale) for c in question.choices}
        keys: Sequence[str] = value if isinstance(value, list) else [str(value)]
        return ", ".join(_("Other") if k == OTHER else texts.get(k, k) for k in keys)
    return str(value)
