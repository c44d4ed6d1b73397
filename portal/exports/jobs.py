"""The responses export as a job: above ``PORTAL_EXPORT_JOB_ROWS`` rows the export page
queues this instead of streaming. It writes the same file as the direct download, chunk
by chunk into the job's result (memory stays flat), reporting its progress."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.errors import DomainError
from portal.exports.custom import export_layout, select_versions
from portal.exports.headers import RESPONSE_HEADERS, custom_headers, header_row
from portal.exports.queries import (
    RESPONSE_COLUMNS,
    ExportRange,
    count_responses,
    get_visible_store,
    iter_response_rows,
    response_cells,
    response_export,
)
from portal.exports.writers import CSV_MIMETYPE, XLSX_MIMETYPE, csv_chunks, write_xlsx
from portal.jobs.context import JobContext
from portal.jobs.registry import job_kind
from portal.models import User

EXPORT_JOB = "export"
#: Rows between two progress updates.
PROGRESS_EVERY = 5000


class RequesterGone(DomainError):
    status = 410
    code = "requester_gone"
    message = _l("The account that asked for this export no longer exists or is inactive.")


def export_params(fmt: str, args: Mapping[str, Any], filename: str, locale: str) -> dict[str, Any]:
    """The job parameters of a responses export: the page's range arguments (as
    ``exports.views._range_args`` makes them), the format, file name and language."""
    return {"fmt": fmt, "args": dict(args), "filename": filename, "locale": locale}


def range_of(session: Session, user: User, args: Mapping[str, Any]) -> ExportRange:
    """The export range the page's arguments name, seen as ``user`` sees it now."""
    store = get_visible_store(session, user, args["store"]) if args.get("store") else None
    numbers = None
    if args.get("versions"):
        numbers = tuple(int(n) for n in str(args["versions"]).split(","))
    versions = select_versions(session, args.get("survey") or None, numbers)
    return ExportRange(
        store,
        date.fromisoformat(args["from"]),
        date.fromisoformat(args["to"]),
        versions,
        tuple(args.get("channel") or ()),
    )


@job_kind(EXPORT_JOB, _l("Responses export"))
def export_responses(context: JobContext, params: Mapping[str, Any]) -> None:
    fmt, locale = params["fmt"], params["locale"]
    with context.reading() as session, force_locale(locale):
        user = session.get(User, context.requested_by_user_id or 0)
        if user is None or not user.active:
            raise RequesterGone()
        wanted = range_of(session, user, params["args"])
        layout = export_layout(wanted.versions, locale=locale, other_format=_("Other: %(text)s"))
        total = count_responses(session, user, wanted)
        context.report(0, total)
        export = response_export(user, wanted, layout)
        rows = _reporting(context, iter_response_rows(session, export))
        columns = (*RESPONSE_COLUMNS, *layout.keys)
        headers = header_row(RESPONSE_COLUMNS, RESPONSE_HEADERS)
        headers += custom_headers(layout.columns, locale)
        mimetype = CSV_MIMETYPE if fmt == "csv" else XLSX_MIMETYPE
        with context.result_file(params["filename"], mimetype) as out:
            if fmt == "csv":
                for chunk in csv_chunks(columns, rows, headers, values=response_cells):
                    out.write(chunk)
            else:
                _copy_xlsx(out, columns, headers, rows)
        context.report(total, total)


def _reporting(context: JobContext, rows: Iterable[Any]) -> Iterator[Any]:
    for done, row in enumerate(rows, start=1):
        yield row
        if done % PROGRESS_EVERY == 0:
            context.report(done)


def _copy_xlsx(out: Any, columns: Any, headers: Any, rows: Iterable[Any]) -> None:
    # The workbook is a zip, which needs a seekable file: it is written to a temporary
    # file first, then copied into the result a chunk at a time.
    with tempfile.TemporaryFile(prefix="portal-export-", suffix=".xlsx") as file:
        write_xlsx(file, "responses", columns, rows, headers=headers, values=response_cells)
        file.seek(0)
        shutil.copyfileobj(file, out, 256 * 1024)
