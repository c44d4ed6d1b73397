"""The audit log page and its CSV export: the same filters, the same words."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from portal.access import requires
from portal.admin import bp
from portal.admin.audit_forms import AuditFilterForm
from portal.admin.audit_log import (
    AuditFilter,
    audit_stmt,
    iter_audit_batches,
    list_actors,
    stores_of,
)
from portal.admin.audit_words import ACTION_LABELS, ACTOR_LABELS, audit_rows
from portal.admin.scope import (
    ConsoleScope,
    console_scope,
    get_store_in_scope,
    list_stores_in_scope,
)
from portal.calendar import zone
from portal.db import get_session
from portal.errors import DomainError
from portal.exports.writers import CSV_MIMETYPE, csv_chunks, iso_time
from portal.models import Role
from portal.pagination import paginate, requested_page

CONSOLE_ROLES = (Role.ADMIN, Role.MANAGER)
#: The prefix of a user in the "who" filter's values (the rest are non-user actors).
USER_CHOICE = "user-"


class InvalidFilter(DomainError):
    status = 400
    code = "invalid_filter"


def _filter_form(session: Session, scope: ConsoleScope) -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.who.choices = [
        SelectChoice("", _("Anyone")),
        *(
            SelectChoice(f"{USER_CHOICE}{who.user_id}", f"{who.name or who.email} ({who.email})")
            for who in list_actors(session, scope)
        ),
        *(SelectChoice(key, str(label)) for key, label in ACTOR_LABELS.items()),
    ]
    actions = sorted(((str(label), key) for key, label in ACTION_LABELS.items()))
    form.action.choices = [
        SelectChoice("", _("Anything")),
        *(SelectChoice(key, label) for label, key in actions),
    ]
    stores = list_stores_in_scope(session, scope)
    form.store.choices = [
        SelectChoice("", _("All stores")),
        *(SelectChoice(s.code, f"{s.code} {s.name}") for s in stores),
    ]
    return form


def _wanted(session: Session, scope: ConsoleScope, form: AuditFilterForm) -> AuditFilter:
    who: str = form.who.data or ""
    user_id = int(who.removeprefix(USER_CHOICE)) if who.startswith(USER_CHOICE) else None
    store = get_store_in_scope(session, scope, form.store.data) if form.store.data else None
    return AuditFilter(
        who_user_id=user_id,
        who_label=who if who and user_id is None else None,
        action=form.action.data or None,
        first=form.date_from.data,
        last=form.date_to.data,
        store=store,
    )


def _filter_args(form: AuditFilterForm) -> dict[str, Any]:
    """The filter as query arguments, for the pages' links and the CSV link."""
    args = {
        "who": form.who.data or "",
        "action": form.action.data or "",
        "store": form.store.data or "",
        "from": "" if form.date_from.data is None else form.date_from.data.isoformat(),
        "to": "" if form.date_to.data is None else form.date_to.data.isoformat(),
    }
    return {key: value for key, value in args.items() if value}


@bp.get("/audit")
@requires(*CONSOLE_ROLES)
def audit() -> Any:
    scope, session = console_scope(current_user), get_session()
    form = _filter_form(session, scope)
    if not form.validate():
        return render_template("admin/audit.html", form=form, page=None, rows=[]), 400
    wanted = _wanted(session, scope, form)
    page = paginate(session, audit_stmt(scope, wanted), requested_page(), per_page=50)
    rows = audit_rows(page.items, stores_of(session, page.items))
    args = _filter_args(form)
    return render_template(
        "admin/audit.html",
        form=form,
        page=page,
        rows=rows,
        args=args,
        zone=None if wanted.store is None else wanted.store.timezone,
        csv_url=url_for("admin.audit_csv", **args),
    )


@dataclass(frozen=True, slots=True)
class AuditCsvRow:
    time: str
    who: str
    what: str
    subject: str
    store: str
    details: str


CSV_COLUMNS = ("time", "who", "what", "subject", "store", "details")


@bp.get("/audit.csv")
@requires(*CONSOLE_ROLES)
def audit_csv() -> Any:
    scope, session = console_scope(current_user), get_session()
    form = _filter_form(session, scope)
    if not form.validate():
        raise InvalidFilter(" ".join(str(m) for errors in form.errors.values() for m in errors))
    wanted = _wanted(session, scope, form)
    stmt = audit_stmt(scope, wanted)
    tz = zone(None if wanted.store is None else wanted.store.timezone)
    headers = [_("Time"), _("Who"), _("What"), _("About"), _("Store"), _("Details")]
    # A session of its own for as long as the download runs (the request's closes when the
    # view returns); the request context stays for the translated words of each row.
    _bind, readers, _writers = current_app.extensions["portal.db"]

    def rows() -> Iterator[AuditCsvRow]:
        with readers() as reader:
            for entries, stores in iter_audit_batches(reader, stmt):
                for row in audit_rows(entries, stores):
                    yield AuditCsvRow(
                        iso_time(row.at.astimezone(tz)),
                        row.who,
                        row.what,
                        row.subject_text,
                        row.store_text,
                        row.details_text,
                    )

    body = stream_with_context(csv_chunks(CSV_COLUMNS, rows(), headers))
    response = current_app.response_class(body, content_type=CSV_MIMETYPE)
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
