"""Shopper views: survey, thank-you, QR images, printable receipt preview, code entry, and
the survey's public assets (the conditions' stylesheet, the chain's logo and colour).

Opening a link (GET or HEAD, by a shopper, a link scanner or a chat-app preview) never
writes anything. Tokens are verified by signature before any database work.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from typing import Any

from flask import Response as HttpResponse
from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import throttle
from portal.access import public
from portal.ballot.origin import SubmitOrigin, origin_of
from portal.config import Settings, current_settings
from portal.db import get_session, read_session, utcnow
from portal.errors import DomainError, keep_typed_values
from portal.extensions import csrf
from portal.i18n import current_locale
from portal.models import Branding, Channel, Receipt, SurveyVersion
from portal.receipts import (
    find_receipt_by_short_code,
    get_receipt,
    receipt_token,
    survey_links,
)
from portal.shopper import bp
from portal.shopper.condition_styles import condition_stylesheet
from portal.shopper.forms import CodeEntryForm, survey_form_class
from portal.shopper.operations import AlreadyAnswered, record_response
from portal.shopper.page_cache import drawn_once
from portal.shopper.queries import (
    SurveyPage,
    get_follow_up_due,
    get_survey_page,
    was_submitted_by,
)
from portal.shopper.survey_page import blank_questions, brand_colour, survey_context
from portal.versions import definition_of
from surveys.codes import (
    InvalidCode,
    format_short_code,
    format_validation_code,
    make_validation_code,
    normalize_short_code,
)
from surveys.qr import render_qr_png, render_qr_svg
from surveys.tokens import (
    ExpiredToken,
    ForgedToken,
    ReceiptTokenClaims,
    TokenError,
    sign_opened_stamp,
    verify_opened_stamp,
    verify_receipt_token,
)


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


BUSY = _l("We could not save your answers just now. Please press Send again.")

#: The query argument (and hidden field) that says the shopper reached the survey by
#: typing the receipt's short code at ``/r`` rather than scanning its QR code.
VIA = "via"


def _channel() -> Channel:
    """How this survey was reached: the hidden field of the page, else its address."""
    via = request.form.get(VIA) or request.args.get(VIA)
    return Channel.CODE if via == Channel.CODE.value else Channel.RECEIPT


def _claims(token: str, *, opened: str | None = None) -> ReceiptTokenClaims:
    # Signature first: a forged or altered token never reaches the database; it is only
    # counted (one upsert of the throttle's own), and answered 429 past the limit.
    settings, now = current_settings(), utcnow()
    try:
        return verify_receipt_token(settings.secret_key, token, now)
    except ExpiredToken:
        claims = _within_grace(settings, token, opened, now) if opened else None
        if claims is None:
            raise ExpiredLink() from None
        return claims
    except ForgedToken:
        throttle.enforce(throttle.SURVEY_TOKEN, throttle.client_address())
        raise InvalidLink() from None


def _within_grace(
    settings: Settings, token: str, opened: str, now: datetime
) -> ReceiptTokenClaims | None:
    """The claims of a token that expired less than the grace period ago, when the survey
    page being sent (its signed "opened at") was served before the expiry: a shopper who
    was typing when the receipt ran out is not turned away."""
    grace = timedelta(minutes=settings.expiry_grace_minutes)
    try:
        claims = verify_receipt_token(settings.secret_key, token, now - grace)
        opened_at = verify_opened_stamp(settings.secret_key, opened, claims.token_id)
    except TokenError:
        return None
    return claims if grace and opened_at < claims.expires_at else None


def _submitter() -> str | None:
    """A keyed fingerprint of this browser's session, from the CSRF secret it was given
    with the survey page, before it sent anything: a retry whose first answer was lost
    still carries it, a stranger holding the same receipt does not."""
    secret = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if not isinstance(secret, str) or not secret:
        return None
    key = current_settings().secret_key.encode()
    return hmac.new(key, f"receipt-submitter:{secret}".encode(), hashlib.sha256).hexdigest()


def _origin() -> SubmitOrigin:
    """Keyed hashes of this device and its network, for the ballot-stuffing rules."""
    user_agent = request.headers.get("User-Agent", "")
    return origin_of(current_settings().secret_key, throttle.client_address(), user_agent)


def _render_survey(
    page: SurveyPage,
    form: Any,
    status: int = 200,
    problem: Any = None,
    opened: str = "",
    blank: bool = False,
) -> Any:
    """The survey page; ``blank``: ``form`` is unanswered (a GET), and its questions are
    the block drawn once (`survey_page.blank_questions`)."""
    questions = (
        blank_questions(page.definition, page.store_format, current_locale(), form)
        if blank
        else None
    )
    return (
        render_template(
            "shopper/survey.html",
            **survey_context(page.definition, page.store_format, page.branding),
            form=form,
            store_name=page.store_name,
            problem=problem,
            opened=opened,
            blank_questions=questions,
            via=Channel.CODE.value if _channel() is Channel.CODE else "",
            style_url=url_for("shopper.survey_style", content_hash=page.definition.content_hash),
        ),
        status,
    )


def _resend_page(_message: Any) -> Any:
    """The answers as sent, in a form that sends them again: shown when the database fails
    before the survey's version could be read (without it the survey cannot be drawn)."""
    fields = [(k, v) for k, v in request.form.items(multi=True) if isinstance(v, str)]
    return render_template("shopper/resend.html", fields=fields, problem=BUSY), 503


def _thanks(page: SurveyPage, response_id: int, due: datetime | None) -> Any:
    code = make_validation_code(current_settings().secret_key, response_id)
    locale = current_locale()

    def draw() -> str:
        return render_template(
            "shopper/thanks.html",
            definition=page.definition,
            locale=locale,
            code=code,
            store_name=page.store_name,
            store_timezone=page.store_timezone,
            branding=page.branding,
            brand_colour=brand_colour(page.branding),
            follow_up_due=due,
        )

    if due is not None:
        return draw()
    kind = ("thanks", page.definition.content_hash, locale, page.store_name, page.branding)
    return drawn_once(kind, {"code": format_validation_code(code)}, draw)


def _answered_before(db: Session, receipt: Receipt, page: SurveyPage) -> Any:
    """The code again for the browser that answered (its first answer may never have
    reached it); "already answered" for anyone else."""
    submitter, response = _submitter(), receipt.response
    same = bool(submitter and response and was_submitted_by(db, response, submitter))
    response_id = response.id if response is not None else 0
    due = get_follow_up_due(db, response_id) if same else None
    db.rollback()  # nothing to write: let other submits have the write lock while we render
    if same:
        return _thanks(page, response_id, due)
    return render_template("shopper/already_answered.html"), 409


@bp.get("/r/<token>")
@public
def survey(token: str) -> Any:
    claims = _claims(token)
    page = get_survey_page(get_session(), claims.token_id)
    if page.answered:
        return render_template("shopper/already_answered.html")
    locale = current_locale()
    opened = sign_opened_stamp(current_settings().secret_key, claims.token_id, utcnow())
    channel = _channel()
    kind = ("survey", page.definition.content_hash, page.store_format, locale, page.store_name)
    return drawn_once(
        (*kind, page.branding, channel),
        {"token": token, "csrf": generate_csrf(), "opened": opened},
        lambda: _render_survey(
            page, survey_form_class(page.definition, locale)(), opened=opened, blank=True
        )[0],
    )


@bp.post("/r/<token>")
@public
@csrf.exempt  # the form checks its own token so that an expired one keeps the answers
def submit(token: str) -> Any:
    opened = request.form.get("opened", "")
    claims = _claims(token, opened=opened)
    # A page posted without its stamp (or re-shown now) gets one: the token is valid now.
    opened = opened or sign_opened_stamp(current_settings().secret_key, claims.token_id, utcnow())
    # The form is the receipt's survey version: read first, in a read transaction of its
    # own. The request's session would begin with SQLite's one write lock (see below) and
    # hold it while the answers are checked; a read takes no lock from other submits.
    keep_typed_values(_resend_page)
    with read_session() as reader:
        page = get_survey_page(reader, claims.token_id)
    locale = current_locale()
    form = survey_form_class(page.definition, locale)()
    # Database busy or briefly unreachable (from here on: a POST begins with the write
    # lock): nothing was saved; keep every answer (503).
    keep_typed_values(lambda _message: _render_survey(page, form, problem=BUSY, opened=opened))
    # Every submit of one client counts (in a transaction of its own, before this
    # request's); a database too busy to count it gives the 503 above, answers kept.
    throttle.enforce(throttle.SUBMIT, throttle.client_address())
    # Checked before the first query: a POST's transaction holds SQLite's one write lock
    # from that query to its end, and every other submit waits for it meanwhile.
    answers = form.validated_answers(page.store_format)
    db = get_session()
    receipt = get_receipt(db, claims)
    if receipt.answered_at is not None:
        return _answered_before(db, receipt, page)
    if answers is None:
        db.rollback()
        return _render_survey(page, form, 400, opened=opened)
    try:
        response = record_response(
            db,
            settings=current_settings(),
            receipt=receipt,
            definition=page.definition,
            answers=answers,
            locale=locale,
            now=utcnow(),
            submitter=_submitter(),
            origin=_origin(),
            survey_id=page.survey_id,
            channel=_channel(),
            timezone=page.store_timezone,
        )
        # Only a shopper who left contact details is told when the store will call.
        due = None if answers.contact is None else get_follow_up_due(db, response.id)
        db.commit()
    except AlreadyAnswered:
        db.rollback()
        return _answered_before(db, get_receipt(db, claims), page)
    return _thanks(page, response.id, due)


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
    # A mistyped check character costs nothing; a lookup counts when it finds nothing.
    address = throttle.client_address()
    throttle.refuse_if_exhausted(throttle.SHORT_CODE, address)
    db = get_session()
    receipt = find_receipt_by_short_code(db, short_code)
    if receipt is None:
        db.rollback()  # nothing to keep; the write lock is let go before counting
        throttle.count_failure(throttle.SHORT_CODE, address)
        form.code.errors.append(_l("We found no receipt with this code."))
        return render_template("shopper/code_entry.html", form=form), 404
    token = receipt_token(current_settings(), receipt)
    return redirect(url_for("shopper.survey", token=token, via=Channel.CODE.value))


#: Assets named by their content: the same URL always serves the same bytes.
_FOR_EVER = "public, max-age=31536000, immutable"
_HEX = re.compile(r"[0-9a-f]+")


@bp.get("/survey-style/<string(length=64):content_hash>.css")
@public
def survey_style(content_hash: str) -> Any:
    if not _HEX.fullmatch(content_hash):
        abort(404)
    version = get_session().scalar(
        select(SurveyVersion).where(
            SurveyVersion.content_hash == content_hash, SurveyVersion.survey_id.is_not(None)
        )
    )
    if version is None:
        abort(404)
    sheet = condition_stylesheet(definition_of(version))
    response = HttpResponse(sheet, mimetype="text/css")
    response.headers["Cache-Control"] = _FOR_EVER
    return response


@bp.get("/brand/<string(length=6):colour>.css")
@public
def brand_style(colour: str) -> Any:
    # The colour is the URL: nothing to read, and the inline style the CSP forbids is not
    # needed. The contrast check was made when the owner saved it.
    if not _HEX.fullmatch(colour):
        abort(404)
    sheet = f"body.shopper {{ --accent: #{colour}; accent-color: #{colour}; }}\n"
    response = HttpResponse(sheet, mimetype="text/css")
    response.headers["Cache-Control"] = _FOR_EVER
    return response


@bp.get("/brand/<string(length=64):sha>.png")
@public
def logo(sha: str) -> Any:
    if not _HEX.fullmatch(sha):
        abort(404)
    png = get_session().scalar(select(Branding.logo_png).where(Branding.logo_sha256 == sha))
    if png is None:
        abort(404)
    response = HttpResponse(png, mimetype="image/png")
    response.headers["Cache-Control"] = _FOR_EVER
    return response
