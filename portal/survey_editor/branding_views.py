"""The branding page: the chain's name, logo and primary colour, with a preview drawn on
the server (no script), and the stylesheet that paints the preview in the colours shown
(the content security policy allows no inline styles)."""

from __future__ import annotations

import base64
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from portal.access import SURVEY_OWNERS, requires
from portal.audit import Actor
from portal.branding import BRANDING_ID, shopper_branding
from portal.db import get_session, utcnow
from portal.errors import DomainError, error_response, keep_typed_values
from portal.i18n import current_locale
from portal.models import Branding
from portal.survey_editor import bp
from portal.survey_editor.branding_forms import BrandingForm
from portal.survey_editor.branding_operations import (
    BrandingChange,
    BrandingChanged,
    branding_token,
    save_branding,
)
from portal.survey_editor.logo import MAX_LOGO_BYTES, clean_logo, logo_too_large
from portal.workflow_forms import show_error
from surveys.colour import (
    AA_NORMAL_TEXT,
    WHITE,
    darker_shade_reaching,
    hex_colour,
    parse_hex_colour,
)

#: The route that takes a logo upload: its request body may be a logo of `MAX_LOGO_BYTES`
#: plus the form around it (``create_app`` sets that limit before CSRF reads the form).
BRANDING_ENDPOINT = "surveys.branding"
BRANDING_BODY_LIMIT = MAX_LOGO_BYTES + 64 * 1024


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(error: RequestEntityTooLarge) -> Any:
    # Over the body limit the form cannot be read at all (CSRF reads it first): show the
    # branding page again, through the view and its access check, with the message on the
    # logo field rather than a bare error page.
    if request.endpoint != BRANDING_ENDPOINT:
        return error_response(413, "request_entity_too_large", _("The request is too large."))
    g.logo_too_large = True
    try:
        return branding()
    except (HTTPException, DomainError) as refusal:
        return current_app.handle_user_exception(refusal)


@bp.route("/branding", methods=["GET", "POST"])
@requires(*SURVEY_OWNERS)
def branding() -> Any:
    session = get_session()
    row = session.get(Branding, BRANDING_ID)
    if g.get("logo_too_large"):
        form = BrandingForm(formdata=None, data=_data(row))
        refusal = logo_too_large()
        show_error(form, refusal)
        return _page(form, row, status=refusal.status)
    form = BrandingForm(data=None if request.method == "POST" else _data(row))
    if not form.validate_on_submit():
        return _page(form, row, status=400 if request.method == "POST" else 200)
    keep_typed_values(lambda problem: _page(form, row, problem=problem))
    try:
        changed = _save(form)
    except DomainError as error:
        session.rollback()
        if isinstance(error, BrandingChanged):
            row = session.get(Branding, BRANDING_ID)
            form.seen.data = branding_token(row)
        problem = show_error(form, error)
        return _page(form, row, problem=problem, status=error.status)
    session.commit()
    flash(_("The branding is saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("surveys.branding"))


def _save(form: BrandingForm) -> list[str]:
    upload = form.logo.data
    logo = None
    if upload and upload.filename:
        # Cleaned first: a bad logo refuses the whole save, names and colour included.
        logo = clean_logo(upload.read(MAX_LOGO_BYTES + 1))
    change = BrandingChange(
        chain_name_zh=form.chain_name_zh.data or "",
        chain_name_en=form.chain_name_en.data or "",
        logo=logo,
        remove_logo=form.remove_logo.data,
        primary_colour=form.primary_colour.data or None,
    )
    return save_branding(
        get_session(),
        change,
        seen=form.seen.data,
        actor=Actor.of_user(current_user),
        now=utcnow(),
    )


def _data(row: Branding | None) -> dict[str, Any]:
    return {
        "chain_name_zh": "" if row is None else row.chain_name_zh,
        "chain_name_en": "" if row is None else row.chain_name_en,
        "primary_colour": "" if row is None or row.primary_colour is None else row.primary_colour,
        "seen": branding_token(row),
    }


def _page(
    form: BrandingForm, row: Branding | None, *, problem: Any = None, status: int = 200
) -> Any:
    logo = None
    if row is not None and row.logo_png is not None:
        # A data: URL (the content security policy allows images from data:), so the
        # preview needs no route of its own; the shoppers' pages link the public logo.
        logo = "data:image/png;base64," + base64.b64encode(row.logo_png).decode("ascii")
    return render_template(
        "surveys/branding.html",
        form=form,
        branding=row,
        chain_name=shopper_branding(get_session()).chain_name(current_locale()),
        logo=logo,
        refused=_refused_colours(form),
        problem=problem,
    ), status


def _refused_colours(form: BrandingForm) -> tuple[str, str] | None:
    """A refused colour and the suggested shade, without ``#``, to show side by side."""
    if not form.primary_colour.errors:
        return None
    try:
        rgb = parse_hex_colour((form.primary_colour.data or "").strip())
    except ValueError:
        return None
    shade = darker_shade_reaching(rgb, parse_hex_colour(WHITE), AA_NORMAL_TEXT)
    return hex_colour(rgb)[1:], hex_colour(shade)[1:]


@bp.get("/branding/colour-<hexdigits>.css")
@requires(*SURVEY_OWNERS)
def branding_colour_css(hexdigits: str) -> Any:
    try:
        parse_hex_colour(f"#{hexdigits}")
    except ValueError:
        abort(404)
    colour = f"#{hexdigits.lower()}"
    body = render_template("surveys/branding_colour.css", name=hexdigits.lower(), colour=colour)
    response = current_app.response_class(body, mimetype="text/css")
    # The address names the colour: the stylesheet never changes.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
