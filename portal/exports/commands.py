"""``export``: the responses export (or the per-store summary) of the whole chain to a
file, as the export pages write it for one user: CSV streamed a few thousand rows at a
time, XLSX through a temporary file; memory stays flat whatever the number of rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from portal.calendar import local_today
from portal.channels import parse_channels, unknown_channels
from portal.commands import transaction
from portal.config import current_settings
from portal.db import utcnow
from portal.exports.custom import InvalidVersionChoice, export_layout, select_versions
from portal.exports.forms import DEFAULT_DAYS
from portal.exports.headers import (
    RESPONSE_HEADERS,
    SUMMARY_HEADERS,
    custom_headers,
    header_row,
)
from portal.exports.queries import (
    RESPONSE_COLUMNS,
    SUMMARY_COLUMNS,
    ExportRange,
    VisibleStore,
    iter_response_rows,
    response_cells,
    response_export,
    summarize_stores,
)
from portal.exports.writers import RowValues, csv_chunks, write_xlsx
from portal.models import Store


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(["responses", "summary"]),
    default="responses",
    show_default=True,
    help="Every answer with its columns, or one row per store with its figures.",
)
@click.option("--from", "first_text", metavar="YYYY-MM-DD", help="First day (store-local).")
@click.option("--to", "last_text", metavar="YYYY-MM-DD", help="Last day (default: today).")
@click.option("--store", "store_code", metavar="CODE", help="One store (default: all).")
@click.option("--survey", "survey_key", metavar="KEY", help="One survey's versions only.")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable).")
@click.option(
    "--locale",
    type=click.Choice(["zh_CN", "en"]),
    default=None,
    help="Language of the header row (default: PORTAL_DEFAULT_LOCALE).",
)
@with_appcontext
def export_command(
    file: Path,
    kind: str,
    first_text: str | None,
    last_text: str | None,
    store_code: str | None,
    survey_key: str | None,
    channels: tuple[str, ...],
    locale: str | None,
) -> None:
    """Write the chain's responses (or the per-store summary) to FILE: CSV or XLSX by its
    extension. Without --from/--to, the last 30 days. Prints the number of rows written."""
    suffix = file.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise click.BadParameter("name a .csv or .xlsx file", param_hint="FILE")
    unknown = unknown_channels(channels)
    if unknown:
        raise click.BadParameter(f"no such channel: {', '.join(unknown)}", param_hint="--channel")
    with transaction(read_only=True) as session:
        last = _day(last_text, "--to") or local_today(None, utcnow())
        first = _day(first_text, "--from") or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise click.BadParameter("the first day is after the last", param_hint="--from")
        store = None
        if store_code:
            found = session.scalars(select(Store).where(Store.code == store_code)).first()
            if found is None:
                raise click.BadParameter(f"no store {store_code}", param_hint="--store")
            store = VisibleStore(found.id, found.code, found.name)
        try:
            versions = select_versions(session, survey_key, None)
        except InvalidVersionChoice as error:
            raise click.BadParameter(str(error.message), param_hint="--survey") from None
        picked = tuple(c.value for c in parse_channels(channels))
        wanted = ExportRange(store, first, last, versions, picked)
        chosen = locale or current_settings().default_locale
        with force_locale(chosen):
            if kind == "summary":
                rows: Iterable[Any] = summarize_stores(session, None, wanted)
                columns: tuple[str, ...] = SUMMARY_COLUMNS
                headers = header_row(SUMMARY_COLUMNS, SUMMARY_HEADERS)
                values: RowValues | None = None
            else:
                layout = export_layout(versions, locale=chosen, other_format=_("Other: %(text)s"))
                rows = iter_response_rows(session, response_export(None, wanted, layout))
                columns = (*RESPONSE_COLUMNS, *layout.keys)
                headers = header_row(RESPONSE_COLUMNS, RESPONSE_HEADERS)
                headers += custom_headers(layout.columns, chosen)
                values = response_cells
            counted = _Counted(rows)
            with file.open("wb") as out:
                if suffix == ".csv":
                    for chunk in csv_chunks(columns, counted, headers, values=values):
                        out.write(chunk)
                else:
                    write_xlsx(out, kind, columns, counted, headers=headers, values=values)
    click.echo(f"{counted.n} rows written to {file}")


class _Counted:
    """The rows, counted as they pass (the writers take any iterable)."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self.rows, self.n = rows, 0

    def __iter__(self) -> Iterator[Any]:
        for row in self.rows:
            self.n += 1
            yield row


def _day(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter("write the day as YYYY-MM-DD", param_hint=option) from None
