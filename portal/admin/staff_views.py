"""Admin console pages for staff: a store's staff list, adding, editing, moving,
deactivating and reactivating one person, and the import from CSV or XLSX with its preview.

The import is two requests: the upload is kept in the upload folder (``PORTAL_UPLOAD_DIR``,
shared by every app server) under its SHA-256 and previewed; Apply names that file and the
preview's outcome by their digests, plans again and writes all rows in this request's one
transaction, or nothing.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from portal.access import requires, store_label
from portal.admin import bp
from portal.admin.forms import (
    ConfirmForm,
    ImportApplyForm,
    ImportUploadForm,
    MoveStaffForm,
    NewStaffForm,
    StaffForm,
)
from portal.admin.operations import (
    create_staff,
    get_store,
    move_staff,
    set_staff_active,
    update_staff,
)
from portal.admin.queries import staff_in, staff_of
from portal.admin.staff_import import (
    COLUMN_LABELS,
    MAX_IMPORT_ROWS,
    TEMPLATE_CSV,
    ImportPlan,
    apply_previewed,
    plan_import,
    read_staff_file,
)
from portal.admin.views import EDITORS, READERS, can_edit, region_readers_only, visible_store_or_404
from portal.audit import Actor
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import DomainError, keep_typed_values
from portal.models import Staff, Store
from portal.pagination import paginate, requested_page
from portal.workflow_forms import show_error

#: Uploads not applied within this time are deleted at the next upload.
UPLOAD_KEEP_SECONDS = 24 * 3600
#: The endpoint whose request may carry a file of `MAX_IMPORT_BYTES` (see `create_app`).
IMPORT_ENDPOINT = "admin.staff_import_preview"


# -- one store's staff -------------------------------------------------------------------


def _staff_page(store: Store, form: NewStaffForm, problem: Any = None, status: int = 200) -> Any:
    page = paginate(get_session(), staff_of(store), requested_page(), 50)
    return render_template(
        "admin/store_staff.html",
        store=store,
        page=page,
        form=form,
        problem=problem,
        can_edit=can_edit(),
    ), status


@bp.get("/stores/<code>/staff")
@requires(*READERS)
@region_readers_only
def store_staff(code: str) -> Any:
    return _staff_page(visible_store_or_404(code), NewStaffForm(formdata=None))


@bp.post("/stores/<code>/staff")
@requires(*EDITORS)
def staff_add(code: str) -> Any:
    store = visible_store_or_404(code)
    form = NewStaffForm()
    if not form.validate_on_submit():
        return _staff_page(store, form, status=400)
    keep_typed_values(lambda message: _staff_page(store, form, message, 503))
    session = get_session()
    try:
        staff = create_staff(
            session,
            store_code=store.code,
            staff_code=form.staff_code.data or "",
            name=form.name.data or "",
            position=form.position.data or "",
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
    except DomainError as error:
        session.rollback()
        return _staff_page(store, form, show_error(form, error), error.status)
    session.commit()
    flash(_("%(name)s (%(code)s) was added.", name=staff.name, code=staff.code), "ok")
    return redirect(url_for("admin.store_staff", code=store.code))


# -- one person --------------------------------------------------------------------------


def _staff_or_404(staff_id: int) -> Staff:
    staff = staff_in(get_session(), current_user, staff_id)
    if staff is None:
        abort(404)
    return staff


def _move_choices(form: MoveStaffForm, staff: Staff) -> MoveStaffForm:
    # Closed stores take no one: a person moved there could be named on no receipt.
    stores = get_session().scalars(
        select(Store)
        .where(Store.id != staff.store_id, Store.closed_at.is_(None))
        .order_by(Store.code)
    )
    form.store.choices = [SelectChoice("", _("choose a store"))] + [
        SelectChoice(s.code, store_label(s)) for s in stores
    ]
    return form


def _edit_page(
    staff: Staff,
    form: StaffForm | None = None,
    move_form: MoveStaffForm | None = None,
    problem: Any = None,
    status: int = 200,
) -> Any:
    move_form = _move_choices(move_form or MoveStaffForm(formdata=None), staff)
    return render_template(
        "admin/staff_edit.html",
        staff=staff,
        form=form or StaffForm(formdata=None, obj=staff),
        move_form=move_form,
        action_form=ConfirmForm(formdata=None),
        problem=problem,
    ), status


@bp.route("/staff/<int:staff_id>", methods=["GET", "POST"])
@requires(*EDITORS)
def staff_edit(staff_id: int) -> Any:
    staff = _staff_or_404(staff_id)
    form = StaffForm(obj=staff)
    if not form.validate_on_submit():
        return _edit_page(staff, form, status=400 if form.errors else 200)
    keep_typed_values(lambda message: _edit_page(staff, form, problem=message, status=503))
    session = get_session()
    try:
        update_staff(
            session,
            staff,
            name=form.name.data or "",
            position=form.position.data or "",
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
    except DomainError as error:
        session.rollback()
        return _edit_page(staff, form, problem=show_error(form, error), status=error.status)
    session.commit()
    flash(_("The changes to %(name)s are saved.", name=staff.name), "ok")
    return redirect(url_for("admin.store_staff", code=staff.store.code))


@bp.post("/staff/<int:staff_id>/move")
@requires(*EDITORS)
def staff_move(staff_id: int) -> Any:
    staff = _staff_or_404(staff_id)
    form = _move_choices(MoveStaffForm(), staff)
    if not form.validate_on_submit():
        return _edit_page(staff, move_form=form, status=400)
    session = get_session()
    try:
        move_staff(
            session,
            staff,
            get_store(session, form.store.data or ""),
            new_code=form.new_code.data or None,
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
    except DomainError as error:
        session.rollback()
        problem = show_error(form, error, fields={"staff_code": "new_code"})
        return _edit_page(staff, move_form=form, problem=problem, status=error.status)
    session.commit()
    flash(
        _(
            "%(name)s now works at %(store)s; earlier answers stay with the store "
            "they were given in.",
            name=staff.name,
            store=staff.store.code,
        ),
        "ok",
    )
    return redirect(url_for("admin.store_staff", code=staff.store.code))


def _set_active(staff_id: int, active: bool) -> Any:
    staff = _staff_or_404(staff_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _edit_page(staff, problem=_("The form has expired; try again."), status=400)
    session = get_session()
    try:
        set_staff_active(session, staff, active, actor=Actor.of_user(current_user), now=utcnow())
    except DomainError as error:
        session.rollback()
        return _edit_page(staff, problem=error.message, status=error.status)
    session.commit()
    flash(
        _("%(name)s is active again.", name=staff.name)
        if active
        else _("%(name)s is inactive: no new receipts name them.", name=staff.name),
        "ok",
    )
    return redirect(url_for("admin.store_staff", code=staff.store.code))


@bp.post("/staff/<int:staff_id>/deactivate")
@requires(*EDITORS)
def staff_deactivate(staff_id: int) -> Any:
    return _set_active(staff_id, False)


@bp.post("/staff/<int:staff_id>/reactivate")
@requires(*EDITORS)
def staff_reactivate(staff_id: int) -> Any:
    return _set_active(staff_id, True)


# -- import ------------------------------------------------------------------------------


def _upload_folder() -> Path:
    # A setting, not this process's own disk: Apply may reach another app server.
    folder = current_settings().upload_folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep_upload(data: bytes) -> str:
    """Store ``data`` under its SHA-256 (a name nobody chooses) and drop stale uploads."""
    folder, digest = _upload_folder(), hashlib.sha256(data).hexdigest()
    stale = time.time() - UPLOAD_KEEP_SECONDS
    for old in folder.iterdir():
        if old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)
    partial = folder / f"{digest}.partial"
    partial.write_bytes(data)
    partial.replace(folder / digest)
    return digest


def _kept_upload(digest: str) -> bytes | None:
    # The digest was checked against [0-9a-f]{64} by the form: it is a plain file name.
    path = _upload_folder() / digest
    data = path.read_bytes() if path.is_file() else None
    if data is None or hashlib.sha256(data).hexdigest() != digest:
        return None
    return data


def _upload_page(form: ImportUploadForm, problem: Any = None, status: int = 200) -> Any:
    return render_template(
        "admin/staff_import.html",
        form=form,
        problem=problem,
        max_rows=MAX_IMPORT_ROWS,
        columns=COLUMN_LABELS,
    ), status


def _preview_page(plan: ImportPlan, digest: str, problem: Any = None, status: int = 200) -> Any:
    apply_form = ImportApplyForm(formdata=None, upload=digest, plan=plan.fingerprint)
    return render_template(
        "admin/staff_import_preview.html",
        plan=plan,
        apply_form=apply_form,
        upload_form=ImportUploadForm(formdata=None),
        problem=problem,
        column_labels=COLUMN_LABELS,
    ), status if not plan.errors else max(status, 422)


@bp.get("/staff/import")
@requires(*EDITORS)
def staff_import() -> Any:
    return _upload_page(ImportUploadForm(formdata=None))


@bp.post("/staff/import")
@requires(*EDITORS)
def staff_import_preview() -> Any:
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, status=400)
    data = form.file.data.read()
    try:
        plan = plan_import(get_session(), read_staff_file(data))
    except DomainError as error:
        return _upload_page(form, show_error(form, error, default="file"), error.status)
    return _preview_page(plan, _keep_upload(data))


@bp.post("/staff/import/apply")
@requires(*EDITORS)
def staff_import_apply() -> Any:
    form = ImportApplyForm()
    if not form.validate_on_submit():
        return _upload_page(
            ImportUploadForm(formdata=None),
            _("The preview has expired; upload the file again."),
            400,
        )
    data = _kept_upload(form.upload.data)
    if data is None:
        problem = _("The uploaded file is no longer kept; upload it again.")
        return _upload_page(ImportUploadForm(formdata=None), problem, 400)
    session = get_session()
    try:
        result = apply_previewed(
            session, data, form.plan.data, actor=Actor.of_user(current_user), now=utcnow()
        )
    except DomainError as error:
        # Outdated (409) or with errors (4xx): the preview as it would be now, to check again.
        session.rollback()
        plan = plan_import(session, read_staff_file(data))
        return _preview_page(plan, form.upload.data, error.message, error.status)
    session.commit()
    (_upload_folder() / form.upload.data).unlink(missing_ok=True)
    flash(
        _(
            "Staff imported: %(created)d new, %(updated)d changed, %(unchanged)d unchanged.",
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
        ),
        "ok",
    )
    return redirect(url_for("admin.stores"))


@bp.get("/staff/import/template.csv")
@requires(*EDITORS)
def staff_import_template() -> Any:
    # With a byte order mark, so that Excel opens the Chinese example as UTF-8.
    return Response(
        "\ufeff" + TEMPLATE_CSV,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=staff-template.csv"},
    )
