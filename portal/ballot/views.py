"""The review queue of answers held as suspected ballot stuffing: held answers grouped by
rule, a page at a time, each with a small form to clear or reject it with a reason. A
refused decision (no reason, already decided, decided meanwhile) shows the queue again
with the refusal."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session

from portal.access import requires
from portal.audit import Actor
from portal.ballot import bp
from portal.ballot.forms import DecisionForm
from portal.ballot.queries import RULES, as_held_answers, count_held, held_answers
from portal.ballot.review import REVIEW_ROLES, decide_flag, get_flag
from portal.db import get_session, utcnow
from portal.errors import keep_typed_values
from portal.i18n import current_locale
from portal.models import FlagState
from portal.pagination import Page, paginate, requested_page
from portal.workflow import InvalidReason, InvalidTransition
from portal.workflow_forms import render_refusal
from surveys.loader import receipt_survey

PER_PAGE = 25

DONE = {
    FlagState.CLEARED: _l("Cleared: the answer counts in rankings and awards again."),
    FlagState.REJECTED: _l("Rejected: the answer stays out of rankings and awards."),
}


def _rule() -> str:
    rule = request.args.get("rule", RULES[0])
    if rule not in RULES:
        abort(404)
    return rule


def _rating_labels() -> dict[str, str]:
    survey, locale = receipt_survey(), current_locale()
    return {q.key: q.text.get(locale) for q in survey.questions if q.key.startswith("rating_")}


def _queue_page(
    session: Session,
    rule: str,
    posted: tuple[int, DecisionForm] | None = None,
    *,
    problem: Any = None,
    status: int = 200,
) -> Any:
    page: Page[Any] = paginate(
        session, held_answers(current_user, rule), requested_page(), PER_PAGE
    )
    answers = as_held_answers(page.items)
    forms = {
        answer.flag_id: DecisionForm(
            prefix=f"flag{answer.flag_id}", version=answer.version, formdata=None
        )
        for answer in answers
    }
    if posted is not None and posted[0] in forms:
        forms[posted[0]] = posted[1]
    body = render_template(
        "ballot/queue.html",
        rule=rule,
        counts=count_held(session, current_user),
        page=page,
        answers=answers,
        forms=forms,
        problem=problem,
        ratings=_rating_labels(),
    )
    return body, status


@bp.get("/held-answers")
@requires(*REVIEW_ROLES)
def queue() -> Any:
    return _queue_page(get_session(), _rule())


@bp.post("/held-answers/<int:flag_id>")
@requires(*REVIEW_ROLES)
def decide(flag_id: int) -> Any:
    session, rule = get_session(), _rule()
    flag = get_flag(session, flag_id, visible_to=current_user)
    form = DecisionForm(prefix=f"flag{flag_id}")
    page = partial(_queue_page, session, rule, (flag_id, form))
    if not form.validate_on_submit():
        return page(status=400)
    keep_typed_values(lambda message: page(problem=message))
    try:
        decide_flag(
            session,
            flag,
            decision=form.decision.data or "",
            reason=form.reason.data,
            actor=Actor.of_user(current_user),
            now=utcnow(),
            expected_version=form.expected_version,
        )
        session.commit()
    except (InvalidTransition, InvalidReason) as error:
        session.rollback()
        return render_refusal(page, form, error)
    flash(str(DONE[FlagState(flag.state)]), "success")
    return redirect(url_for("ballot.queue", rule=rule, page=requested_page()))
