"""Return-call pages: the stores with customers to call back, a store's list of them, and
the phone survey form, from a case or from that list.

Phone numbers are contact details: these pages are for those who may read a store's
(`portal.access.CONTACT_ROLES`, scoped to their stores), as the case pages are.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session

from portal.access import CONTACT_ROLES, requires
from portal.cases.queries import get_case
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import keep_typed_values
from portal.i18n import current_locale
from portal.models import Case, PhoneOutcome, Response, Store
from portal.pagination import requested_page
from portal.phone import bp
from portal.phone.forms import PHONE_OUTCOME_LABELS, CasePhoneVisitForm, PhoneVisitForm
from portal.phone.operations import CannotCall, InvalidPhoneVisit, record_phone_visit
from portal.phone.queries import (
    RECENT_DAYS,
    get_answer_to_call,
    get_case_of,
    get_visible_store,
    list_case_calls,
    list_customers_to_call,
    list_stores_to_call,
)
from portal.phone.survey import phone_survey_version
from portal.versions import definition_of
from portal.workflow import InvalidTransition
from portal.workflow_forms import render_refusal

#: Flashed once the call is recorded.
RECORDED: dict[str, Any] = {
    PhoneOutcome.ANSWERED: _l("The call is recorded with the customer's answers."),
    PhoneOutcome.UNREACHABLE: _l("The call is recorded: the customer could not be reached."),
    PhoneOutcome.DECLINED: _l("The call is recorded: the customer declined to answer."),
}


@bp.get("/phone-visits")
@requires(*CONTACT_ROLES)
def index() -> Any:
    stores = list_stores_to_call(get_session(), current_user, now=utcnow())
    return render_template("phone/index.html", stores=stores)


@bp.get("/stores/<code>/phone-visits")
@requires(*CONTACT_ROLES)
def store(code: str) -> Any:
    session = get_session()
    shop = get_visible_store(session, current_user, code)
    page = list_customers_to_call(session, shop, now=utcnow(), page=requested_page())
    return render_template("phone/store.html", store=shop, page=page, recent_days=RECENT_DAYS)


@bp.route("/phone-visits/answers/<int:response_id>", methods=["GET", "POST"])
@requires(*CONTACT_ROLES)
def call_answer(response_id: int) -> Any:
    session = get_session()
    about = get_answer_to_call(session, current_user, response_id)
    case = get_case_of(session, about.id)
    if case is not None:
        # The customer has a case: the call is the case's, recorded with its version.
        return redirect(url_for("phone.call_case", case_id=case.id))
    if about.contact is None or not about.contact.phone:
        raise CannotCall()
    return _call(session, PhoneVisitForm(), about.store, about=about, case=None)


@bp.route("/cases/<int:case_id>/phone-visit", methods=["GET", "POST"])
@requires(*CONTACT_ROLES)
def call_case(case_id: int) -> Any:
    session = get_session()
    case = get_case(session, case_id, visible_to=current_user)
    if not case.contact_phone:
        raise CannotCall()
    form = CasePhoneVisitForm(version=case.version)
    return _call(session, form, case.store, about=case.response, case=case)


def _call(
    session: Session,
    form: PhoneVisitForm,
    shop: Store,
    *,
    about: Response | None,
    case: Case | None,
) -> Any:
    now = utcnow()
    definition = definition_of(phone_survey_version(session, shop, now))
    form.ask(definition, current_locale())
    page = partial(_page, session, form, shop, about=about, case=case)
    if request.method == "GET":
        return page()
    call = form.checked_call(definition)
    if call is None:
        return page(status=400)
    keep_typed_values(lambda message: page(problem=message))
    try:
        record_phone_visit(
            session,
            current_settings(),
            store=shop,
            case=case,
            about_response=about if case is None else None,
            outcome=call.outcome,
            answers=call.answers,
            problem_solved=call.problem_solved,
            note=call.note,
            user=current_user,
            now=now,
            expected_version=_version(form),
        )
        session.commit()
    except (InvalidPhoneVisit, CannotCall, InvalidTransition) as error:
        session.rollback()
        if case is not None:
            case = get_case(session, case.id, visible_to=current_user)
            page = partial(_page, session, form, shop, about=case.response, case=case)
        return render_refusal(page, form, error, version=None if case is None else case.version)
    flash(str(RECORDED[call.outcome]), "success")
    if case is not None:
        return redirect(url_for("cases.detail", case_id=case.id))
    return redirect(url_for("phone.store", code=shop.code))


def _version(form: PhoneVisitForm) -> int | None:
    """The case version a call from a case was posted with (None from the list)."""
    return form.expected_version if isinstance(form, CasePhoneVisitForm) else None


def _page(
    session: Session,
    form: PhoneVisitForm,
    shop: Store,
    *,
    about: Response | None,
    case: Case | None,
    problem: Any = None,
    status: int = 200,
) -> Any:
    page = render_template(
        "phone/call.html",
        form=form,
        store=shop,
        about=about,
        case=case,
        phone=_phone_of(about, case),
        calls=[] if case is None else list_case_calls(session, case.id),
        outcome_labels=PHONE_OUTCOME_LABELS,
        problem=problem,
    )
    return page, status


def _phone_of(about: Response | None, case: Case | None) -> str:
    """The number to call: the case's consented contact, else the answer's."""
    if case is not None and case.contact_phone:
        return case.contact_phone
    assert about is not None and about.contact is not None and about.contact.phone
    return about.contact.phone
