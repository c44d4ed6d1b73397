"""Paper card pages: printing cards, keying in the returned ones (one card per screen, the
keyboard first), and the check queue with its blind second keying and decisions.

For managers (their own stores, and a region manager the region's, as for cases) and
admins: keying in a card writes a customer's answer and may hold contact details.
"""

from __future__ import annotations

from typing import Any

from flask import Response as HttpResponse
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import requires, store_choices
from portal.admin.operations import get_store
from portal.audit import Actor
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import DomainError, keep_typed_values
from portal.i18n import current_locale
from portal.models import Receipt, Role
from portal.paper import bp
from portal.paper.cards import (
    CardLanguage,
    CardPurpose,
    TooManyCards,
    issue_paper_cards,
    max_cards,
    render_cards_pdf,
)
from portal.paper.checks import (
    Keeping,
    OwnEntry,
    check_card,
    decide_check,
    get_checked_card,
    needs_decision,
    refuse_own_entry,
)
from portal.paper.entry import CardRefused, enter_card, find_card
from portal.paper.forms import (
    CHECK_LABELS,
    KEPT_LABELS,
    CardSideForm,
    CodeForm,
    DecisionForm,
    PrintForm,
)
from portal.paper.queries import describe_differences, list_checks
from portal.receipts import StoreClosed, UnknownStaff
from portal.shopper.forms import SurveyForm, survey_form_class
from portal.shopper.survey_page import survey_layout
from portal.versions import definition_of
from surveys.answers import OTHER_TEXT_LIMIT
from surveys.codes import format_short_code

PAPER_ROLES = (Role.MANAGER, Role.ADMIN)


# -- printing ---------------------------------------------------------------------------


def _print_page(form: PrintForm, status: int = 200) -> Any:
    limits = {language: max_cards(language) for language in CardLanguage}
    return render_template("paper/print_form.html", form=form, limits=limits), status


@bp.route("/paper/print", methods=["GET", "POST"])
@requires(*PAPER_ROLES)
def print_form() -> Any:
    session = get_session()
    form = PrintForm()
    form.store.choices = store_choices(session, current_user)
    if not form.validate_on_submit():
        return _print_page(form, 400 if form.errors else 200)
    keep_typed_values(lambda _message: _print_page(form))
    store, now = get_store(session, form.store.data or ""), utcnow()
    language, purpose = CardLanguage(form.language.data), CardPurpose(form.purpose.data)
    try:
        cards = issue_paper_cards(
            session,
            current_settings(),
            store,
            form.count.data or 0,
            purpose=purpose,
            language=language,
            actor=Actor.of_user(current_user),
            now=now,
            staff_code=(form.staff.data or "").strip() or None,
        )
    except (TooManyCards, StoreClosed, UnknownStaff) as error:
        session.rollback()
        _show_print_error(form, error)
        return _print_page(form, error.status)
    # Committed before drawing: the PDF takes seconds, the database's write lock none.
    session.commit()
    pdf = render_cards_pdf(cards, store, purpose=purpose, language=language)
    name = f"paper-cards-{store.code}-{now:%Y%m%d-%H%M}.pdf"
    return HttpResponse(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _show_print_error(form: PrintForm, error: DomainError) -> None:
    if isinstance(error, UnknownStaff):
        form.staff.errors = [_("No active cashier of this store has this staff code.")]
    elif isinstance(error, StoreClosed):
        form.store.errors = [error.message]
    else:
        form.count.errors = [error.message]


# -- keying in --------------------------------------------------------------------------


def _code_page(form: CodeForm, status: int = 200) -> Any:
    return render_template("paper/entry.html", form=form), status


def _refused(error: CardRefused) -> Any:
    form = CodeForm()
    form.code.errors = [error.message]
    return _code_page(form, error.status)


@bp.route("/paper/entry", methods=["GET", "POST"])
@requires(*PAPER_ROLES)
def entry() -> Any:
    form = CodeForm()
    if not form.validate_on_submit():
        return _code_page(form, 400 if form.errors else 200)
    try:
        receipt = find_card(get_session(), current_user, form.code.data or "", utcnow())
    except CardRefused as error:
        get_session().rollback()
        return _refused(error)
    return redirect(url_for("paper.card", code=format_short_code(receipt.short_code)))


def _survey_form(receipt: Receipt, answers: SurveyForm) -> dict[str, Any]:
    """What the keying and the check pages both draw: the card's questions as its version
    lays them out for its store, and the form of its answers."""
    definition = definition_of(receipt.survey_version)
    return {
        "receipt": receipt,
        "code": format_short_code(receipt.short_code),
        "definition": definition,
        "layout": survey_layout(definition, receipt.store.format),
        "locale": current_locale(),
        "form": answers,
        "other_limit": OTHER_TEXT_LIMIT,
    }


def _card_page(receipt: Receipt, answers: SurveyForm, side: CardSideForm, status: int = 200) -> Any:
    page = _survey_form(receipt, answers)
    action = url_for("paper.card", code=page["code"])
    return render_template("paper/card.html", side=side, action=action, **page), status


@bp.route("/paper/entry/<code>", methods=["GET", "POST"])
@requires(*PAPER_ROLES)
def card(code: str) -> Any:
    session, now, locale = get_session(), utcnow(), current_locale()
    try:
        receipt = find_card(session, current_user, code, now)
    except CardRefused as error:
        session.rollback()
        return _refused(error)
    answers = survey_form_class(definition_of(receipt.survey_version), locale)()
    side = CardSideForm(side=locale)
    if not answers.is_submitted():
        return _card_page(receipt, answers, side)
    keep_typed_values(lambda _message: _card_page(receipt, answers, side))
    valid_side = side.validate()
    typed = answers.validated_answers(receipt.store.format)
    if typed is None or not valid_side:
        session.rollback()
        return _card_page(receipt, answers, side, 400)
    try:
        enter_card(
            session,
            current_settings(),
            receipt=receipt,
            answers=typed,
            user=current_user,
            now=now,
            locale=side.side.data or locale,
        )
    except CardRefused as error:
        session.rollback()
        return _refused(error)
    session.commit()
    flash(_("Saved card %(code)s.", code=format_short_code(receipt.short_code)), "ok")
    return redirect(url_for("paper.entry"))


# -- checks -----------------------------------------------------------------------------


@bp.get("/paper/checks")
@requires(*PAPER_ROLES)
def checks() -> Any:
    lines = list_checks(get_session(), current_user)
    return render_template("paper/checks.html", lines=lines, check_labels=CHECK_LABELS)


def _check_page(receipt: Receipt, answers: SurveyForm, status: int = 200) -> Any:
    return render_template("paper/check.html", **_survey_form(receipt, answers)), status


def _own_entry(error: OwnEntry) -> Any:
    return render_template("paper/refused.html", problem=error.message), error.status


@bp.route("/paper/checks/<int:response_id>", methods=["GET", "POST"])
@requires(*PAPER_ROLES)
def check(response_id: int) -> Any:
    session, now = get_session(), utcnow()
    entry, response, receipt = get_checked_card(session, current_user, response_id)
    try:
        refuse_own_entry(entry, current_user)
    except OwnEntry as error:
        session.rollback()
        return _own_entry(error)
    if entry.check_state != "pending":
        return redirect(url_for("paper.decision", response_id=response_id))
    answers = survey_form_class(definition_of(receipt.survey_version), current_locale())()
    if not answers.is_submitted():
        return _check_page(receipt, answers)
    keep_typed_values(lambda _message: _check_page(receipt, answers))
    typed = answers.validated_answers(receipt.store.format)
    if typed is None:
        session.rollback()
        return _check_page(receipt, answers, 400)
    checked = check_card(
        session,
        entry=entry,
        response=response,
        receipt=receipt,
        answers=typed,
        user=current_user,
        now=now,
    )
    session.commit()
    if checked.check_state == "matched":
        flash(
            _("Card %(code)s: both keyings match.", code=format_short_code(receipt.short_code)),
            "ok",
        )
        return redirect(url_for("paper.checks"))
    flash(
        _(
            "Card %(code)s: the keyings differ; a manager decides which stands.",
            code=format_short_code(receipt.short_code),
        ),
        "error",
    )
    return redirect(url_for("paper.decision", response_id=response_id))


def _decision_page(
    response_id: int, form: DecisionForm, status: int = 200, problem: Any = None
) -> Any:
    session = get_session()
    entry, _response, receipt = get_checked_card(session, current_user, response_id)
    definition = definition_of(receipt.survey_version)
    return (
        render_template(
            "paper/decision.html",
            entry=entry,
            code=format_short_code(receipt.short_code),
            lines=describe_differences(definition, entry.differences, current_locale()),
            open_decision=needs_decision(entry),
            own=entry.entered_by_user_id == current_user.id,
            form=form,
            problem=problem,
            check_labels=CHECK_LABELS,
            kept_labels=KEPT_LABELS,
        ),
        status,
    )


@bp.route("/paper/checks/<int:response_id>/decision", methods=["GET", "POST"])
@requires(*PAPER_ROLES)
def decision(response_id: int) -> Any:
    session = get_session()
    form = DecisionForm()
    if not form.validate_on_submit():
        return _decision_page(response_id, form, 400 if form.errors else 200)
    keep_typed_values(lambda message: _decision_page(response_id, form, problem=message))
    entry, response, receipt = get_checked_card(session, current_user, response_id, lock=True)
    try:
        decide_check(
            session,
            current_settings(),
            entry=entry,
            response=response,
            receipt=receipt,
            keep=Keeping(form.keep.data),
            user=current_user,
            now=utcnow(),
        )
    except DomainError as error:
        session.rollback()
        return _decision_page(response_id, form, error.status, problem=error.message)
    session.commit()
    flash(_("Decision saved for card %(code)s.", code=format_short_code(receipt.short_code)), "ok")
    return redirect(url_for("paper.checks"))
