"""Why a tablet's answer was not stored, in words: the one list of reasons the sync
endpoint reports per answer and the tablet's own page shows.

Each reason has a stable ``code`` (for the tablet's script), the field it concerns when
there is one (``receipt_code`` for the typed code, a question key for an answer) and a
message in the language of the request, made when the refusal is raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.errors import DomainError
from portal.shopper.forms import ERROR_MESSAGES
from surveys.answers import AnswerError

#: The field of the typed receipt code on the tablet's form and in a queued answer.
CODE_FIELD = "receipt_code"

#: Reasons whose message has no number in it.
MESSAGES: dict[str, Any] = {
    "unreadable": _l("This answer could not be read; it was not stored."),
    "future": _l("This answer is dated in the future: check the tablet's clock."),
    "unknown_version": _l("The survey this answer was given to is not known here."),
    "bad_code": _l("This code is not right. Please check each character and try again."),
    "no_receipt": _l("We found no receipt with this code."),
    "other_store": _l("This receipt is from another store: please answer it on your phone."),
    "already_answered": _l("The survey of this receipt has already been answered."),
    "receipt_closed": _l("The survey of this receipt has closed."),
    "before_receipt": _l("This answer is dated before the receipt was printed."),
}


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    message: str
    field: str | None = None


def refusal(code: str, field: str | None = None) -> Refusal:
    """The refusal ``code`` (one of `MESSAGES`) in the request's language."""
    return Refusal(code, str(MESSAGES[code]), field)


def too_old(days: int) -> Refusal:
    return Refusal("too_old", _("This answer was given more than %(days)s days ago.", days=days))


def too_many(answers: int, minutes: int) -> Refusal:
    return Refusal(
        "rate_limited",
        _(
            "This tablet took more than %(n)s answers within %(minutes)s minutes: "
            "this one was not stored.",
            n=answers,
            minutes=minutes,
        ),
    )


def answer_errors(errors: list[AnswerError]) -> list[Refusal]:
    """The survey's own checks (`surveys.answers`), one refusal per answer at fault."""
    return [
        Refusal("invalid_answer", str(ERROR_MESSAGES[error.code]), error.question_key)
        for error in errors
    ]


class AnswerRefused(DomainError):
    """The answer was not stored, for the reasons given (at least one)."""

    status = 422
    code = "answer_refused"

    def __init__(self, *reasons: Refusal) -> None:
        super().__init__(reasons[0].message, field=reasons[0].field)
        self.reasons = reasons
