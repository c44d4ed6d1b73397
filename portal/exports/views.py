"""The export page and its downloads: responses and the per-store summary, as CSV (streamed
chunk by chunk) or XLSX (written to a temporary file, then sent)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from flask import current_app, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select

from portal.access import requires, store_choices
from portal.calendar import local_today
from portal.db import get_session, utcnow
from portal.errors import DomainError
from portal.exports import bp
from portal.exports.forms import DEFAULT_DAYS, FORMATS, KINDS, ExportForm
from portal.exports.headers import RESPONSE_HEADERS, SUMMARY_HEADERS, header_row
from portal.exports.queries import (
    RESPONSE_COLUMNS,
    SUMMARY_COLUMNS,
    ExportRange,
    ResponseExportRow,
    get_visible_store,
    iter_response_rows,
    response_export_stmt,
    summarize_stores,
)
from portal.exports.writers import CSV_MIMETYPE, XLSX_MIMETYPE, csv_chunks, write_xlsx
from portal.models import Role

EXPORT_ROLES = (Role.ADMIN, Role.MANAGER, Role.HR, Role.REVIEWER, Role.CX)
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


class InvalidExport(DomainError):
    status = 400
    code = "invalid_export"


@bp.get("/")
@requires(*EXPORT_ROLES)
def index() -> Any:
    form = _form()
    form.store.choices = store_choices(
        get_session(), current_user, blank=_("All stores you may see")
    )
    try:
        wanted = _requested_range(form)
    except InvalidExport:
        return render_template("exports/index.html", form=form, wanted=None, links=[]), 400
    if "kind" in request.args:
        endpoint = f"exports.{form.kind.data}"
        return redirect(url_for(endpoint, fmt=form.format.data, **_range_args(wanted)))
    return render_template("exports/index.html", form=form, wanted=wanted, links=_links(wanted))


@bp.get("/responses.<any(csv, xlsx):fmt>")
@requires(*EXPORT_ROLES)
def responses(fmt: str) -> Any:
    wanted = _requested_range(_form())
    rows = _stream_rows(response_export_stmt(current_user, wanted))
    return _download(fmt, "responses", RESPONSE_COLUMNS, RESPONSE_HEADERS, rows, wanted)


@bp.get("/summary.<any(csv, xlsx):fmt>")
@requires(*EXPORT_ROLES)
def summary(fmt: str) -> Any:
    wanted = _requested_range(_form())
    rows = summarize_stores(get_session(), current_user, wanted)
    return _download(fmt, "summary", SUMMARY_COLUMNS, SUMMARY_HEADERS, rows, wanted)


def _form() -> ExportForm:
    # The default range is the last DEFAULT_DAYS days of the chain's calendar.
    today = local_today(None, utcnow())
    first = today - timedelta(days=DEFAULT_DAYS - 1)
    return ExportForm(request.args, date_from=first, date_to=today)


def _requested_range(form: ExportForm) -> ExportRange:
    if not form.validate():
        raise InvalidExport(" ".join(str(message) for message in form.error_messages()))
    first: date = form.date_from.data
    last: date = form.date_to.data
    if not form.store.data:
        return ExportRange(None, first, last)
    return ExportRange(get_visible_store(get_session(), current_user, form.store.data), first, last)


def _range_args(wanted: ExportRange) -> dict[str, Any]:
    args: dict[str, Any] = {"from": wanted.first.isoformat(), "to": wanted.last.isoformat()}
    if wanted.store is not None:
        args["store"] = wanted.store.code
    return args


def _links(wanted: ExportRange) -> list[tuple[str, str]]:
    args = _range_args(wanted)
    return [
        (f"{kind}.{fmt}", url_for(f"exports.{kind}", fmt=fmt, **args))
        for kind in KINDS
        for fmt in FORMATS
    ]


def _stream_rows(stmt: Select[Any]) -> Iterator[ResponseExportRow]:
    # A session of its own for as long as the download runs: the request's session is
    # closed when the view returns, before the first chunk is sent. The session opens on
    # the first row and closes at the end, or when the client goes away (generator close).
    _bind, readers, _writers = current_app.extensions["portal.db"]

    def rows() -> Iterator[ResponseExportRow]:
        with readers() as session:
            yield from iter_response_rows(session, stmt)

    return rows()


def _download(
    fmt: str,
    kind: str,
    columns: Sequence[str],
    labels: Mapping[str, Any],
    rows: Iterable[Any],
    wanted: ExportRange,
) -> Any:
    store = "all" if wanted.store is None else _UNSAFE_IN_FILENAME.sub("_", wanted.store.code)
    filename = f"{kind}-{store}-{wanted.first.isoformat()}-{wanted.last.isoformat()}.{fmt}"
    if fmt == "csv":
        response = current_app.response_class(
            csv_chunks(columns, rows, header_row(columns, labels)), content_type=CSV_MIMETYPE
        )
    else:
        response = _send_xlsx(kind, columns, header_row(columns, labels), rows)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Shoppers' answers: never kept by a shared cache or proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


def _send_xlsx(
    sheet: str, columns: Sequence[str], headers: Sequence[str], rows: Iterable[Any]
) -> Any:
    # The workbook cannot be streamed as it is written (see write_xlsx): it goes to a
    # temporary file, which is deleted when the response closes it after sending.
    file = tempfile.NamedTemporaryFile(prefix="portal-export-", suffix=".xlsx")
    try:
        write_xlsx(file, sheet, columns, rows, headers=headers)
        file.flush()
        size = os.fstat(file.fileno()).st_size
        file.seek(0)
    except BaseException:
        file.close()
        raise
    response = send_file(file, mimetype=XLSX_MIMETYPE, etag=False, conditional=False)
    response.content_length = size
    return response
