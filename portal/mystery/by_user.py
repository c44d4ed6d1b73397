"""The mystery operations as `portal.mystery.demo` calls them: with the acting user as a
`User` under ``shopper=``, ``reviewer=`` or ``manager=``, where the operations themselves
follow the workflow kernel's convention of one ``actor: Actor`` keyword.

Only the demo imports this module, and only because its call sites belong to the demo's
owner; once they pass ``actor=Actor.of_user(...)`` and import the operations from
`scheduling`, `report` and `review`, this module goes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from portal.audit import Actor
from portal.mystery import report, review, scheduling

#: The keywords the demo names the acting user by.
USER_KEYWORDS = ("shopper", "reviewer", "manager")


def by_user(operation: Callable[..., Any]) -> Callable[..., Any]:
    """``operation`` taking its acting user as ``shopper=``, ``reviewer=`` or ``manager=``."""

    @wraps(operation)
    def call(*args: Any, **kwargs: Any) -> Any:
        for keyword in USER_KEYWORDS:
            if keyword in kwargs:
                kwargs["actor"] = Actor.of_user(kwargs.pop(keyword))
        return operation(*args, **kwargs)

    return call


accept_visit = by_user(scheduling.accept_visit)
decline_visit = by_user(scheduling.decline_visit)
save_facts = by_user(report.save_facts)
save_answers = by_user(report.save_answers)
save_photo = by_user(report.save_photo)
submit_report = by_user(report.submit_report)
start_review = by_user(review.start_review)
return_report = by_user(review.return_report)
reject_report = by_user(review.reject_report)
release_report = by_user(review.release_report)
adjust_answers = by_user(review.adjust_answers)
dispute_report = by_user(review.dispute_report)
decide_dispute = by_user(review.decide_dispute)
