"""The tablet's own pages, under ``/kiosk`` (the tablet's credential cookie is scoped to
it): enrolment with a code, the store's survey in a kiosk layout (sent as a plain form
without JavaScript), the service worker that keeps it working offline, and the JSON
endpoint the tablet's queue of answers is sent to.

Nothing here links out of ``/kiosk``: errors are drawn in the kiosk's own layout.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response as HttpResponse
from flask import jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from portal import throttle
from portal.access import public
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import DomainError, keep_typed_values
from portal.extensions import csrf
from portal.i18n import current_locale, fixed_language
from portal.kiosk import bp
from portal.kiosk.answers import ItemResult, record_kiosk_answer, sync_answers
from portal.kiosk.devices import (
    KioskNotEnrolled,
    authenticate_kiosk,
    enrol_kiosk,
    record_kiosk_seen,
)
from portal.kiosk.forms import EnrolForm
from portal.kiosk.offline import offline_cache
from portal.kiosk.queries import KioskPage, get_kiosk_page
from portal.kiosk.refusals import CODE_FIELD, AnswerRefused
from portal.kiosk.schemas import MAX_CODE_LENGTH, QueuedAnswer, parse_batch
from portal.models import Kiosk
from portal.shopper.forms import SurveyForm, survey_form_class
from portal.shopper.survey_page import survey_context
from surveys.answers import RawValue

#: The tablet's credential. Scoped to /kiosk, HttpOnly, SameSite=Strict.
COOKIE = "kiosk_device"
#: Browsers keep a cookie at most 400 days; every page load renews it.
COOKIE_SECONDS = 400 * 24 * 3600
#: Failed enrolment codes from one address.
ENROL = throttle.Rule("kiosk-enrol", 10, 10 * 60)
#: Seconds without a touch before a half-answered survey starts over, and seconds the
#: thank-you screen stays.
IDLE_SECONDS = 60
THANKS_SECONDS = 8
#: What the tablet's script sends with every sync: a header no other site's form can add.
SYNC_HEADER = "X-Kiosk-Sync"
SYNC_ENDPOINT = "kiosk.sync"
SW_ENDPOINT = "kiosk.service_worker"


class SyncRefused(DomainError):
    status = 403
    code = "sync_refused"
    message = _l("Answers are only accepted from the kiosk page itself.")


class NotJson(DomainError):
    status = 415
    code = "not_json"
    message = _l("Send the request as application/json.")


def _is_api() -> bool:
    return request.endpoint in (SYNC_ENDPOINT, SW_ENDPOINT)


def _json_error(status: int, code: str, message: Any) -> Any:
    body = jsonify(error={"code": code, "message": str(message)})
    return body, status, {"Cache-Control": "no-store"}


@bp.errorhandler(KioskNotEnrolled)
def _not_enrolled(error: KioskNotEnrolled) -> Any:
    if _is_api():
        return _json_error(error.status, error.code, error.message)
    return redirect(url_for("kiosk.enrol"))


@bp.errorhandler(DomainError)
def _refused(error: DomainError) -> Any:
    if _is_api():
        return _json_error(error.status, error.code, error.message)
    return _notice(error.message, error.status)


#: What an HTTP error says on the tablet; any other: "not understood".
HTTP_MESSAGES = {
    404: _l("This page does not exist."),
    413: _l("The request is too large."),
    429: _l("Too many attempts. Please wait a little and try again."),
}


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    message = HTTP_MESSAGES.get(status, _l("The request was not understood."))
    code = (error.name or "error").lower().replace(" ", "_")
    body, _status, headers = (
        _json_error(status, code, message) if _is_api() else _notice(message, status)
    )
    # Keep what the error carries (Retry-After of a 429, Allow of a 405).
    headers.update((k, v) for k, v in error.get_headers() if k.lower() != "content-type")
    return body, status, headers


def _notice(message: Any, status: int) -> Any:
    page = render_template("kiosk/notice.html", message=message, status=status)
    return page, status, {"Cache-Control": "no-store"}


def _device() -> Kiosk:
    return authenticate_kiosk(get_session(), request.cookies.get(COOKIE))


def _with_cookie(response: BaseResponse, credential: str) -> BaseResponse:
    response.set_cookie(
        COOKIE,
        credential,
        max_age=COOKIE_SECONDS,
        path=url_for("kiosk.index").rstrip("/"),
        secure=current_settings().secure_transport,
        httponly=True,
        samesite="Strict",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/enrol", methods=["GET", "POST"])
@public
@fixed_language
def enrol() -> Any:
    form = EnrolForm()
    if not form.validate_on_submit():
        return render_template("kiosk/enrol.html", form=form), 400 if form.errors else 200
    address = throttle.client_address()
    throttle.refuse_if_exhausted(ENROL, address)
    session = get_session()
    try:
        _kiosk, credential = enrol_kiosk(
            session, form.code.data or "", address=address, now=utcnow()
        )
    except DomainError as error:
        session.rollback()
        throttle.count_failure(ENROL, address)
        form.code.errors = [*form.code.errors, error.message]
        return render_template("kiosk/enrol.html", form=form), error.status
    session.commit()
    return _with_cookie(redirect(url_for("kiosk.index")), credential)


def _survey_page(
    page: KioskPage,
    form: SurveyForm,
    *,
    status: int = 200,
    problem: Any = None,
    code: str = "",
    code_error: Any = None,
) -> Any:
    html = render_template(
        "kiosk/index.html",
        **survey_context(page.definition, page.store_format, page.branding),
        page=page,
        form=form,
        problem=problem,
        code=code,
        code_error=code_error,
        code_field=CODE_FIELD,
        code_length=MAX_CODE_LENGTH,
        offline=offline_cache(page),
        idle_seconds=IDLE_SECONDS,
        thanks_seconds=THANKS_SECONDS,
        style_url=url_for("shopper.survey_style", content_hash=page.definition.content_hash),
    )
    response = HttpResponse(html, status=status)
    return _with_cookie(response, request.cookies.get(COOKIE, ""))


@bp.get("/")
@public
@fixed_language
def index() -> Any:
    kiosk = _device()
    page = get_kiosk_page(get_session(), kiosk, utcnow())
    return _survey_page(page, survey_form_class(page.definition, current_locale())())


def _raw_values() -> dict[str, RawValue]:
    """The posted answers as `surveys.answers` reads them (the form's own fields aside)."""
    skipped = {"csrf_token", CODE_FIELD}
    return {
        name: values[0] if len(values) == 1 else tuple(values)
        for name, values in request.form.lists()
        if name not in skipped
    }


@bp.post("/")
@public
@fixed_language
def submit() -> Any:
    session, now, locale = get_session(), utcnow(), current_locale()
    kiosk = _device()
    page = get_kiosk_page(session, kiosk, now)
    form = survey_form_class(page.definition, locale)()
    code = request.form.get(CODE_FIELD, "")[:MAX_CODE_LENGTH].strip()
    keep_typed_values(lambda message: _survey_page(page, form, problem=message, code=code))
    answers = form.validated_answers(page.store_format)
    if answers is None:
        session.rollback()
        return _survey_page(page, form, status=400, code=code)
    item = QueuedAnswer(str(uuid.uuid4()), now, locale, page.version_id, code, _raw_values())
    try:
        record_kiosk_answer(session, current_settings(), kiosk, item, now)
    except AnswerRefused as refused:
        session.rollback()
        on_code = refused.field == CODE_FIELD
        return _survey_page(
            page,
            form,
            status=refused.status,
            code=code,
            code_error=refused.message if on_code else None,
            problem=None if on_code else refused.message,
        )
    record_kiosk_seen(session, kiosk, now)
    session.commit()
    html = render_template(
        "kiosk/thanks.html", page=page, locale=locale, thanks_seconds=THANKS_SECONDS
    )
    return html, 200, {"Cache-Control": "no-store"}


@bp.get("/sw.js")
@public
def service_worker() -> Any:
    page = get_kiosk_page(get_session(), _device(), utcnow())
    script = render_template("kiosk/sw.js", offline=offline_cache(page))
    response = HttpResponse(script, mimetype="text/javascript")
    # The browser looks for a new worker on every visit; a new survey version is a new one.
    response.headers["Cache-Control"] = "no-cache"
    return response


def sync_request(view: Callable[[], Any]) -> Callable[[], Any]:
    """Refuse a sync request that the tablet's page did not send. The page is cached for
    offline use far longer than a CSRF token lives, so instead: JSON only (a form of
    another site cannot send it), a header of our own (nor can it add one without a
    CORS preflight we never answer), and the page's own origin when the browser names
    one. The credential cookie is SameSite=Strict besides."""

    @wraps(view)
    def checked() -> Any:
        if request.mimetype != "application/json":
            raise NotJson()
        if request.headers.get(SYNC_HEADER) != "1":
            raise SyncRefused()
        origin = request.headers.get("Origin")
        if origin is not None and origin != request.host_url.rstrip("/"):
            raise SyncRefused()
        return view()

    return checked


def _result(result: ItemResult) -> dict[str, Any]:
    return {
        "id": result.client_id,
        "status": str(result.status),
        "reasons": [
            {"code": reason.code, "field": reason.field, "message": reason.message}
            for reason in result.reasons
        ],
    }


@bp.post("/api/answers")
@public
@csrf.exempt
@sync_request
def sync() -> Any:
    session = get_session()
    kiosk = _device()
    items = parse_batch(request.get_data())
    results = sync_answers(session, current_settings(), kiosk, items, utcnow())
    session.commit()
    return jsonify(results=[_result(r) for r in results]), 200, {"Cache-Control": "no-store"}
