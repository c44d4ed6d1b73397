"""The review archive (``/reviews``), one review as a printable page (``/reviews/<id>``)
and as a PDF (``/reviews/<id>.pdf``), each in the reader's language; an admin may build a
review again from today's data."""

from __future__ import annotations

from typing import Any

from flask import Response as HttpResponse
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import requires
from portal.audit import Actor
from portal.calendar import month_key
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.i18n import current_locale
from portal.models import Role
from portal.pagination import paginate, requested_page
from portal.review import bp
from portal.review.content import from_json
from portal.review.document import render_review_pdf
from portal.review.forms import RegenerateForm
from portal.review.operations import regenerate_review
from portal.review.queries import get_review, visible_reviews
from portal.review.words import review_words

#: Who reads reviews: they hold the coaching list and the service stars, so the roles of
#: the staff ranking pages (managers scoped to their stores and region).
REVIEW_ROLES = (Role.ADMIN, Role.HR, Role.MANAGER)


@bp.get("/reviews")
@requires(*REVIEW_ROLES)
def archive() -> Any:
    page = paginate(get_session(), visible_reviews(current_user), requested_page(), 50)
    return render_template("review/archive.html", page=page, **review_words())


@bp.get("/reviews/<int:review_id>")
@requires(*REVIEW_ROLES)
def detail(review_id: int) -> Any:
    review = get_review(get_session(), review_id, visible_to=current_user)
    return render_template(
        "review/detail.html",
        review=review,
        content=from_json(review.content),
        locale=current_locale(),
        form=RegenerateForm(),
        **review_words(),
    )


@bp.get("/reviews/<int:review_id>.pdf")
@requires(*REVIEW_ROLES)
def pdf(review_id: int) -> Any:
    review = get_review(get_session(), review_id, visible_to=current_user)
    body = render_review_pdf(from_json(review.content))
    name = f"service-review-{review.scope_key.replace(':', '-')}-{month_key(review.month)}.pdf"
    return HttpResponse(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@bp.post("/reviews/<int:review_id>/regenerate")
@requires(Role.ADMIN)
def regenerate(review_id: int) -> Any:
    session = get_session()
    review = get_review(session, review_id, visible_to=current_user)
    if RegenerateForm().validate_on_submit():
        regenerate_review(
            session, current_settings(), review, actor=Actor.of_user(current_user), now=utcnow()
        )
        session.commit()
        flash(_("The review was built again from today's data."), "success")
    return redirect(url_for("review.detail", review_id=review.id))
