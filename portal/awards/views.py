"""Award cycle pages: the list of months, a month's cycle page with one small form per
action, the printable certificate, a store's leaderboard and the payroll export.

HR and admins act; store managers see published months of their own stores, and may
appeal a decision about one of their staff while it is on public notice.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from babel.dates import format_date, format_skeleton
from flask import current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from portal.access import requires
from portal.audit import Actor
from portal.awards import bp
from portal.awards.appeals import answer_appeal, appeal
from portal.awards.decisions import add_nomination, decide_nomination
from portal.awards.forms import (
    CYCLE_STATE_LABELS,
    NOMINATION_STATE_LABELS,
    OUTCOME_LABELS,
    SOURCE_LABELS,
    AnswerForm,
    AppealForm,
    ApproveForm,
    NominateForm,
    OpenCycleForm,
    PublishForm,
    RejectForm,
)
from portal.awards.operations import open_cycle, publish_cycle
from portal.awards.queries import (
    PAYROLL_COLUMNS,
    PUBLIC_STATES,
    NominationLine,
    UnknownCycle,
    count_pending,
    get_appeal,
    get_cycle,
    get_nomination,
    get_staff,
    list_cycle_months,
    list_cycles,
    list_events,
    list_nominable,
    list_nominations,
    payroll_rows,
    standings,
    store_board,
)
from portal.calendar import last_complete_month, local_today, month_key, parse_month, previous_month
from portal.db import get_session, utcnow
from portal.errors import DomainError, NotFound
from portal.exports.headers import PAYROLL_HEADERS, header_row
from portal.exports.writers import CSV_MIMETYPE, XLSX_MIMETYPE, csv_chunks, write_xlsx
from portal.hr.words import cycle_needed_answers
from portal.i18n import current_locale
from portal.models import AwardCycle, CycleState, Nomination, NominationState, Role
from portal.workflow_forms import render_refusal

HR_ROLES = (Role.HR, Role.ADMIN)
AWARD_ROLES = (Role.HR, Role.ADMIN, Role.MANAGER)
#: How many past months the "open a month" form offers.
OPENABLE_MONTHS = 12


def _is_hr() -> bool:
    # Error pages render with this blueprint's context too, for signed-out visitors as well.
    return getattr(current_user, "role", None) in HR_ROLES


def month_label(month: date, locale: str | None = None) -> str:
    """``2026年10月`` / ``October 2026``."""
    return str(format_skeleton("yMMMM", month, locale=locale or current_locale()))


def staff_url(staff_id: int, month: date) -> str | None:
    """The staff member's ranking page for the month, when the HR pages offer one."""
    if "hr.staff" not in current_app.view_functions:
        return None
    try:
        return url_for("hr.staff", staff_id=staff_id, month=month_key(month))
    except BuildError:
        return None


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "month_label": month_label,
        "month_key": month_key,
        "staff_url": staff_url,
        "cycle_state_labels": CYCLE_STATE_LABELS,
        "nomination_state_labels": NOMINATION_STATE_LABELS,
        "source_labels": SOURCE_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "is_hr": _is_hr(),
    }


def _cycle(session: Session, month: str) -> AwardCycle:
    parsed = parse_month(month)
    if parsed is None:
        raise UnknownCycle()
    return get_cycle(session, parsed, visible_to=current_user)


def _actor() -> Actor:
    return Actor.of_user(current_user)


# -- the list and opening a month -----------------------------------------------------------


def _open_form(session: Session, taken: set[date], *, posted: bool = False) -> OpenCycleForm:
    form = OpenCycleForm() if posted else OpenCycleForm(formdata=None)
    month = last_complete_month(session, utcnow())
    choices = []
    for _n in range(OPENABLE_MONTHS):
        if month not in taken:
            choices.append(SelectChoice(month_key(month), month_label(month)))
        month = previous_month(month)
    form.month.choices = choices
    return form


def _index_page(
    session: Session, form: OpenCycleForm | None, status: int = 200, problem: Any = None
) -> Any:
    # The refusal of an opening always sits on the month field: ``problem`` stays None.
    summaries = list_cycles(session, current_user)
    if form is None and _is_hr():
        form = _open_form(session, {s.cycle.month for s in summaries})
    return render_template("awards/index.html", summaries=summaries, form=form), status


@bp.get("/awards")
@requires(*AWARD_ROLES)
def index() -> Any:
    return _index_page(get_session(), None)


@bp.post("/awards/open")
@requires(*HR_ROLES)
def open_month() -> Any:
    session = get_session()
    form = _open_form(session, list_cycle_months(session), posted=True)
    if not form.validate_on_submit():
        return _index_page(session, form, 400)
    month = parse_month(form.month.data or "")
    try:
        if month is None:
            raise NotFound()
        cycle = open_cycle(session, month, actor=_actor(), now=utcnow())
        session.commit()
    except DomainError as error:
        session.rollback()
        page = partial(_index_page, session, form)
        return render_refusal(page, form, error, default="month")
    proposed = len(cycle.nominations)
    flash(
        _(
            "The awards of %(month)s are open: %(count)s proposed.",
            month=month_label(cycle.month),
            count=proposed,
        ),
        "success",
    )
    return redirect(url_for("awards.cycle", month=month_key(cycle.month)))


# -- the cycle page -------------------------------------------------------------------------


def _forms(session: Session, cycle: AwardCycle, lines: list[NominationLine]) -> dict[str, Any]:
    """The forms the page offers to this user in the cycle's state, each under its own
    prefix (unique field ids on one page), none reading the request."""
    forms: dict[str, Any] = {}
    unbound: dict[str, Any] = {"formdata": None}
    if _is_hr() and cycle.state == CycleState.IN_REVIEW:
        for line in lines:
            n = line.nomination
            if n.state == NominationState.PENDING:
                forms[f"approve-{n.id}"] = ApproveForm(
                    prefix=f"approve-{n.id}", version=n.version, **unbound
                )
                forms[f"reject-{n.id}"] = RejectForm(
                    prefix=f"reject-{n.id}", version=n.version, **unbound
                )
        forms["nominate"] = _nominate_form(
            session, cycle, NominateForm(prefix="nominate", **unbound)
        )
        forms["publish"] = PublishForm(prefix="publish", version=cycle.version, **unbound)
    if _is_hr() and cycle.state == CycleState.PUBLISHED:
        for line in lines:
            if (open_appeal := line.open_appeal) is not None:
                name = f"answer-{open_appeal.id}"
                forms[name] = AnswerForm(prefix=name, **unbound)
    if current_user.role == Role.MANAGER and _appeal_window_open(cycle):
        for line in lines:
            if line.open_appeal is None:
                name = f"appeal-{line.nomination.id}"
                forms[name] = AppealForm(prefix=name, **unbound)
    return forms


def _appeal_window_open(cycle: AwardCycle) -> bool:
    return (
        cycle.state == CycleState.PUBLISHED
        and cycle.notice_until is not None
        and utcnow() < cycle.notice_until
    )


def _nominate_form(session: Session, cycle: AwardCycle, form: NominateForm) -> NominateForm:
    form.staff.choices = [
        SelectChoice(
            row.staff_id,
            f"{row.staff_code} {row.staff_name} · {row.store_code} · "
            f"#{row.rank if row.rank is not None else '—'} · n={row.n}",
        )
        for row in list_nominable(session, cycle)
    ]
    return form


def _cycle_page(
    session: Session,
    cycle: AwardCycle,
    *,
    posted: tuple[str, Any] | None = None,
    status: int = 200,
    problem: Any = None,
) -> Any:
    lines = list_nominations(session, cycle, current_user)
    forms = _forms(session, cycle, lines)
    if posted is not None:
        forms[posted[0]] = posted[1]
    page = render_template(
        "awards/cycle.html",
        cycle=cycle,
        lines=lines,
        forms=forms,
        pending=count_pending(session, cycle) if _is_hr() else 0,
        events=list_events(session, cycle) if _is_hr() else [],
        appeal_window_open=_appeal_window_open(cycle),
        problem=problem,
        standings=standings(session, cycle),
        needed=cycle_needed_answers(cycle.parameters),
    )
    return page, status


@bp.get("/awards/<month>")
@requires(*AWARD_ROLES)
def cycle(month: str) -> Any:
    session = get_session()
    return _cycle_page(session, _cycle(session, month))


@dataclass(frozen=True, slots=True)
class _Posted:
    """A form posted from the cycle page: its name (field prefix), and the nomination or
    cycle whose version it carries, if any."""

    month: str
    cycle: AwardCycle
    name: str
    form: Any
    changed: AwardCycle | Nomination | None = None


def _submit(session: Session, posted: _Posted, apply: Callable[[], Any]) -> tuple[Any, Any]:
    """Validate the posted form, apply it and commit. Returns what ``apply`` returned and
    None, or None and the page to answer with: the form's own errors (400), or the
    refusal of the operation."""
    if not posted.form.validate_on_submit():
        page = _cycle_page(session, posted.cycle, posted=(posted.name, posted.form), status=400)
        return None, page
    try:
        result = apply()
        session.commit()
    except DomainError as error:
        return None, _refused(session, posted, error)
    return result, None


def _refused(session: Session, posted: _Posted, error: DomainError) -> Any:
    """Show the cycle page again as it is now, with the refusal on the form's field when
    it names one, else above the page; a versioned form takes the current version of the
    row it changes (the rollback expired it: reading it reloads it)."""
    session.rollback()
    current = _cycle(session, posted.month)
    if posted.name == "nominate":
        _nominate_form(session, current, posted.form)
    page = partial(_cycle_page, session, current, posted=(posted.name, posted.form))
    version = None if posted.changed is None else posted.changed.version
    return render_refusal(page, posted.form, error, version=version)


def _done(cycle: AwardCycle, message: str, anchor: str = "") -> Any:
    flash(message, "success")
    url = url_for("awards.cycle", month=month_key(cycle.month))
    return redirect(f"{url}#{anchor}" if anchor else url)


@bp.post("/awards/<month>/nominations/<int:nomination_id>/<any(approve, reject):action>")
@requires(*HR_ROLES)
def decide(month: str, nomination_id: int, action: str) -> Any:
    session = get_session()
    current = _cycle(session, month)
    nomination = get_nomination(session, current, nomination_id, current_user).nomination
    name = f"{action}-{nomination_id}"
    form = (ApproveForm if action == "approve" else RejectForm)(prefix=name)
    _decided, page = _submit(
        session,
        _Posted(month, current, name, form, nomination),
        lambda: decide_nomination(
            session,
            nomination,
            approve=action == "approve",
            reason=form.reason.data or "",
            actor=_actor(),
            now=utcnow(),
            expected_version=form.expected_version,
        ),
    )
    done = _("Approved.") if action == "approve" else _("Rejected.")
    return page or _done(current, done, f"nomination-{nomination_id}")


@bp.post("/awards/<month>/nominations")
@requires(*HR_ROLES)
def nominate(month: str) -> Any:
    session = get_session()
    current = _cycle(session, month)
    form = _nominate_form(session, current, NominateForm(prefix="nominate"))
    nomination, page = _submit(
        session,
        _Posted(month, current, "nominate", form),
        lambda: add_nomination(
            session,
            current,
            get_staff(session, form.staff.data),
            justification=form.justification.data or "",
            actor=_actor(),
            now=utcnow(),
        ),
    )
    if page is not None:
        return page
    message = _("Nomination added: another HR colleague decides it.")
    return _done(current, message, f"nomination-{nomination.id}")


@bp.post("/awards/<month>/publish")
@requires(*HR_ROLES)
def publish(month: str) -> Any:
    session = get_session()
    current = _cycle(session, month)
    form = PublishForm(prefix="publish")
    _published, page = _submit(
        session,
        _Posted(month, current, "publish", form, current),
        lambda: publish_cycle(
            session, current, actor=_actor(), now=utcnow(), expected_version=form.expected_version
        ),
    )
    return page or _done(current, _("Published: the decisions are on public notice."))


@bp.post("/awards/<month>/nominations/<int:nomination_id>/appeal")
@requires(Role.MANAGER)
def appeal_decision(month: str, nomination_id: int) -> Any:
    session = get_session()
    current = _cycle(session, month)
    nomination = get_nomination(session, current, nomination_id, current_user).nomination
    name = f"appeal-{nomination_id}"
    form = AppealForm(prefix=name)
    _made, page = _submit(
        session,
        _Posted(month, current, name, form),
        lambda: appeal(
            session, nomination, actor=_actor(), reason=form.reason.data or "", now=utcnow()
        ),
    )
    return page or _done(current, _("Your appeal is sent to HR."), f"nomination-{nomination_id}")


@bp.post("/awards/<month>/appeals/<int:appeal_id>/answer")
@requires(*HR_ROLES)
def answer(month: str, appeal_id: int) -> Any:
    session = get_session()
    current = _cycle(session, month)
    found = get_appeal(session, current, appeal_id)
    name = f"answer-{appeal_id}"
    form = AnswerForm(prefix=name)
    _answered, page = _submit(
        session,
        _Posted(month, current, name, form),
        lambda: answer_appeal(
            session,
            found,
            actor=_actor(),
            outcome=form.outcome.data or "",
            answer=form.answer.data or "",
            now=utcnow(),
        ),
    )
    anchor = f"nomination-{found.nomination_id}"
    return page or _done(current, _("The appeal is answered."), anchor)


# -- certificate, leaderboard, export --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CertificateText:
    """The certificate's words in one language."""

    lang: str
    title: str
    awarded_to: str
    citation: str
    store: str
    issued: str
    signed: str


def _certificate_text(
    locale: str, line: NominationLine, cycle: AwardCycle, issued: date
) -> CertificateText:
    with force_locale(locale):
        return CertificateText(
            lang="zh-CN" if locale == "zh_CN" else "en",
            title=_("Service Star"),
            awarded_to=_("Awarded to"),
            citation=_(
                "for outstanding service to our customers in %(month)s",
                month=month_label(cycle.month, locale),
            ),
            store=_("Store: %(store)s", store=line.row.store_name),
            issued=_("Issued on %(date)s", date=format_date(issued, "long", locale=locale)),
            signed=_("Human Resources"),
        )


@bp.get("/awards/<month>/certificate/<int:nomination_id>")
@requires(*AWARD_ROLES)
def certificate(month: str, nomination_id: int) -> Any:
    session = get_session()
    current = _cycle(session, month)
    line = get_nomination(session, current, nomination_id, current_user)
    if current.state not in PUBLIC_STATES or line.nomination.state != NominationState.APPROVED:
        raise NotFound(_l("There is no certificate for this nomination."))
    issued_at = current.final_at or current.published_at or utcnow()
    issued = local_today(None, issued_at)
    texts = [_certificate_text(locale, line, current, issued) for locale in ("zh_CN", "en")]
    return render_template("awards/certificate.html", cycle=current, line=line, texts=texts)


@bp.get("/awards/<month>/stores/<code>")
@requires(*AWARD_ROLES)
def store(month: str, code: str) -> Any:
    session = get_session()
    current = _cycle(session, month)
    board = store_board(session, current, code, current_user)
    return render_template("awards/store.html", cycle=current, board=board)


@bp.get("/awards/<month>/export.<any(csv, xlsx):fmt>")
@requires(*HR_ROLES)
def export(month: str, fmt: str) -> Any:
    session = get_session()
    current = _cycle(session, month)
    rows = payroll_rows(session, current, current_user)
    filename = f"service-stars-{month_key(current.month)}.{fmt}"
    headers = header_row(PAYROLL_COLUMNS, PAYROLL_HEADERS)
    if fmt == "csv":
        response = current_app.response_class(
            csv_chunks(PAYROLL_COLUMNS, rows, headers), content_type=CSV_MIMETYPE
        )
    else:
        # One row per nomination: small enough to build in memory.
        buffer = io.BytesIO()
        write_xlsx(buffer, "service-stars", PAYROLL_COLUMNS, rows, headers=headers)
        buffer.seek(0)
        response = send_file(buffer, mimetype=XLSX_MIMETYPE, etag=False, conditional=False)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Names and pay-relevant decisions: never kept by a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response
