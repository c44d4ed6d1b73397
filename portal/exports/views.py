"""The export page and its downloads: responses (with a column per custom question of the
chosen survey versions) and the per-store summary, as CSV (streamed chunk by chunk) or
XLSX (written to a temporary file, then sent)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from flask import current_app, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import requires, store_choices
from portal.calendar import local_today
from portal.channels import parse_channels
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import DomainError
from portal.exports import bp
from portal.exports.custom import (
    InvalidVersionChoice,
    export_layout,
    list_survey_titles,
    select_versions,
)
from portal.exports.forms import DEFAULT_DAYS, FORMATS, KINDS, ExportForm
from portal.exports.headers import (
    RESPONSE_HEADERS,
    SUMMARY_HEADERS,
    custom_headers,
    header_row,
)
from portal.exports.jobs import EXPORT_JOB, export_params
from portal.exports.queries import (
    RESPONSE_COLUMNS,
    SUMMARY_COLUMNS,
    ExportRange,
    ResponseExport,
    ResponseExportRow,
    count_responses,
    get_visible_store,
    iter_response_rows,
    response_cells,
    response_export,
    summarize_stores,
)
from portal.exports.writers import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    RowValues,
    csv_chunks,
    write_xlsx,
)
from portal.i18n import current_locale
from portal.jobs.operations import enqueue
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
    form.survey.choices = _survey_choices()
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
    # Above the threshold the file is prepared as a job (`portal.exports.jobs`): the page
    # offers it rather than holding a request open for minutes.
    threshold = current_settings().export_job_rows
    if count_responses(get_session(), current_user, wanted, cap=threshold) > threshold:
        action = url_for("exports.responses_job", fmt=fmt, **_range_args(wanted))
        return render_template(
            "exports/as_job.html", wanted=wanted, threshold=threshold, action=action, fmt=fmt
        )
    locale = current_locale()
    layout = export_layout(wanted.versions, locale=locale, other_format=_("Other: %(text)s"))
    rows = _stream_rows(response_export(current_user, wanted, layout))
    columns = (*RESPONSE_COLUMNS, *layout.keys)
    headers = header_row(RESPONSE_COLUMNS, RESPONSE_HEADERS)
    headers += custom_headers(layout.columns, locale)
    return _download(fmt, "responses", columns, headers, rows, wanted, values=response_cells)


@bp.post("/responses.<any(csv, xlsx):fmt>/job")
@requires(*EXPORT_ROLES)
def responses_job(fmt: str) -> Any:
    wanted = _requested_range(_form())
    filename = f"{_filename('responses', wanted)}.{fmt}"
    params = export_params(fmt, _range_args(wanted), filename, current_locale())
    session = get_session()
    job = enqueue(session, EXPORT_JOB, params, current_user, now=utcnow())
    session.commit()
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.get("/summary.<any(csv, xlsx):fmt>")
@requires(*EXPORT_ROLES)
def summary(fmt: str) -> Any:
    wanted = _requested_range(_form())
    rows = summarize_stores(get_session(), current_user, wanted)
    headers = header_row(SUMMARY_COLUMNS, SUMMARY_HEADERS)
    return _download(fmt, "summary", SUMMARY_COLUMNS, headers, rows, wanted)


def _survey_choices() -> list[tuple[str, str]]:
    titles = list_survey_titles(get_session(), current_locale())
    return [("", _("All surveys")), *titles]


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
    session = get_session()
    store = None
    if form.store.data:
        store = get_visible_store(session, current_user, form.store.data)
    try:
        versions = select_versions(session, form.survey.data or None, form.version_numbers())
    except InvalidVersionChoice as error:
        # Shown on its field when the form page is drawn again, like the form's own errors.
        form[error.field or "survey"].errors.append(error.message)
        raise InvalidExport(error.message) from None
    channels = tuple(c.value for c in parse_channels(form.channels.data or ()))
    return ExportRange(store, first, last, versions, channels)


def _range_args(wanted: ExportRange) -> dict[str, Any]:
    args: dict[str, Any] = {"from": wanted.first.isoformat(), "to": wanted.last.isoformat()}
    if wanted.store is not None:
        args["store"] = wanted.store.code
    if wanted.versions.survey_key is not None:
        args["survey"] = wanted.versions.survey_key
        if wanted.versions.numbers is not None:
            args["versions"] = ",".join(map(str, wanted.versions.numbers))
    if wanted.channels:
        args["channel"] = list(wanted.channels)
    return args


def _links(wanted: ExportRange) -> list[tuple[str, str]]:
    args = _range_args(wanted)
    return [
        (f"{kind}.{fmt}", url_for(f"exports.{kind}", fmt=fmt, **args))
        for kind in KINDS
        for fmt in FORMATS
    ]


def _stream_rows(export: ResponseExport) -> Iterator[ResponseExportRow]:
    # A session of its own for as long as the download runs: the request's session is
    # closed when the view returns, before the first chunk is sent. The session opens on
    # the first row and closes at the end, or when the client goes away (generator close).
    _bind, readers, _writers = current_app.extensions["portal.db"]

    def rows() -> Iterator[ResponseExportRow]:
        with readers() as session:
            yield from iter_response_rows(session, export)

    return rows()


def _download(
    fmt: str,
    kind: str,
    columns: Sequence[str],
    headers: Sequence[str],
    rows: Iterable[Any],
    wanted: ExportRange,
    *,
    values: RowValues | None = None,
) -> Any:
    if fmt == "csv":
        response = current_app.response_class(
            csv_chunks(columns, rows, headers, values=values), content_type=CSV_MIMETYPE
        )
    else:
        response = _send_xlsx(kind, columns, headers, rows, values)
    filename = f"{_filename(kind, wanted)}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Shoppers' answers: never kept by a shared cache or proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


def _filename(kind: str, wanted: ExportRange) -> str:
    parts = [kind, "all" if wanted.store is None else wanted.store.code]
    if wanted.versions.survey_key is not None:
        parts.append(wanted.versions.survey_key)
        if wanted.versions.numbers is not None:
            parts.append("v" + "_".join(map(str, wanted.versions.numbers)))
    if wanted.channels:
        parts.append("_".join(wanted.channels))
    parts += [wanted.first.isoformat(), wanted.last.isoformat()]
    return "-".join(_UNSAFE_IN_FILENAME.sub("_", part) for part in parts)


def _send_xlsx(
    sheet: str,
    columns: Sequence[str],
    headers: Sequence[str],
    rows: Iterable[Any],
    values: RowValues | None,
) -> Any:
    # The workbook cannot be streamed as it is written (see write_xlsx): it goes to a
    # temporary file, which is deleted when the response closes it after sending.
    file = tempfile.NamedTemporaryFile(prefix="portal-export-", suffix=".xlsx")
    try:
        write_xlsx(file, sheet, columns, rows, headers=headers, values=values)
        file.flush()
        size = os.fstat(file.fileno()).st_size
        file.seek(0)
    except BaseException:
        file.close()
        raise
    response = send_file(file, mimetype=XLSX_MIMETYPE, etag=False, conditional=False)
    response.content_length = size
    return response
