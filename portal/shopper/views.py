"""Shopper views: survey, thank-you, QR images, printable receipt preview, code entry.

Opening a link (GET or HEAD, by a shopper, a link scanner or a chat-app preview) never
writes anything. Tokens are verified by signature before any database work.
"""

from __future__ import annotations

from typing import Any

from flask import Response as HttpResponse
from flask import current_app, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError

from portal.access import public
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import DomainError
from portal.extensions import csrf, limiter
from portal.i18n import current_locale
from portal.receipts import (
    find_receipt_by_short_code,
    get_receipt,
    receipt_token,
    survey_links,
)
from portal.shopper import bp
from portal.shopper.forms import CodeEntryForm, survey_form_class
from portal.shopper.operations import AlreadyAnswered, record_response
from surveys.codes import InvalidCode, format_short_code, make_validation_code, normalize_short_code
from surveys.loader import receipt_survey
from surveys.qr import render_qr_png, render_qr_svg
from surveys.tokens import ExpiredToken, ForgedToken, ReceiptTokenClaims, verify_receipt_token


class InvalidLink(DomainError):
    status = 404
    code = "invalid_link"
    message = _l(
        "This survey link is not valid. Please check the link, or type the code printed "
        "under the QR code on your receipt."
    )


class ExpiredLink(DomainError):
    status = 410
    code = "expired_link"
    message = _l("This survey has closed: receipts can be answered for a limited time only.")


def _claims(token: str) -> ReceiptTokenClaims:
    # Signature first: a forged or altered token never reaches the database.
    try:
        return verify_receipt_token(current_settings().secret_key, token, utcnow())
    except ExpiredToken:
        raise ExpiredLink() from None
    except ForgedToken:
        raise InvalidLink() from None


def _render_survey(form: Any, status: int = 200, problem: Any = None) -> Any:
    definition = receipt_survey()
    return (
        render_template(
            "shopper/survey.html",
            form=form,
            definition=definition,
            locale=current_locale(),
            problem=problem,
        ),
        status,
    )


@bp.get("/r/<token>")
@public
def survey(token: str) -> Any:
    receipt = get_receipt(get_session(), _claims(token))
    if receipt.answered_at is not None:
        return render_template("shopper/already_answered.html")
    form = survey_form_class(receipt_survey(), current_locale())()
    return _render_survey(form)


@bp.post("/r/<token>")
@public
@csrf.exempt  # the form checks its own token so that an expired one keeps the answers
def submit(token: str) -> Any:
    claims = _claims(token)
    session = get_session()
    receipt = get_receipt(session, claims)
    if receipt.answered_at is not None:
        return render_template("shopper/already_answered.html"), 409
    definition, locale = receipt_survey(), current_locale()
    form = survey_form_class(definition, locale)()
    answers = form.validated_answers()
    if answers is None:
        return _render_survey(form, 400)
    try:
        response = record_response(
            session,
            settings=current_settings(),
            receipt=receipt,
            definition=definition,
            answers=answers,
            locale=locale,
            now=utcnow(),
        )
        session.commit()
    except AlreadyAnswered:
        session.rollback()
        return render_template("shopper/already_answered.html"), 409
    except OperationalError:
        # Database busy or briefly unreachable: nothing was saved; keep every answer.
        session.rollback()
        current_app.logger.exception("could not save a survey response")
        problem = _l("We could not save your answers just now. Please press Send again.")
        return _render_survey(form, 503, problem)
    code = make_validation_code(current_settings().secret_key, response.id)
    return render_template("shopper/thanks.html", definition=definition, locale=locale, code=code)


#: QR renderers by file extension.
_QR_FORMATS = {"svg": (render_qr_svg, "image/svg+xml"), "png": (render_qr_png, "image/png")}


@bp.get("/r/<token>/qr.<any(svg, png):fmt>")
@public
def qr(token: str, fmt: str) -> Any:
    claims = _claims(token)  # the signature is enough: no database work for an image
    render, mimetype = _QR_FORMATS[fmt]
    response = HttpResponse(
        render(survey_links(current_settings(), token).survey_url), mimetype=mimetype
    )
    # The image for a token never changes; let printers and proxies cache it until expiry.
    seconds = max(0, int((claims.expires_at - utcnow()).total_seconds()))
    response.headers["Cache-Control"] = f"public, max-age={seconds}, immutable"
    return response


@bp.get("/r/<token>/receipt")
@public
def receipt_preview(token: str) -> Any:
    receipt = get_receipt(get_session(), _claims(token))
    return render_template(
        "shopper/receipt.html",
        receipt=receipt,
        token=token,
        short_code=format_short_code(receipt.short_code),
        entry_url=f"{current_settings().base_url}/r",
    )


@bp.route("/r", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute;60 per hour", methods=["POST"])
def code_entry() -> Any:
    form = CodeEntryForm()
    if not form.validate_on_submit():
        return render_template("shopper/code_entry.html", form=form), 400 if form.errors else 200
    try:
        short_code = normalize_short_code(form.code.data or "")
    except InvalidCode:
        form.code.errors.append(
            _l("This code is not right. Please check each character and try again.")
        )
        return render_template("shopper/code_entry.html", form=form), 400
    receipt = find_receipt_by_short_code(get_session(), short_code)
    if receipt is None:
        form.code.errors.append(_l("We found no receipt with this code."))
        return render_template("shopper/code_entry.html", form=form), 404
    return redirect(url_for("shopper.survey", token=receipt_token(current_settings(), receipt)))
