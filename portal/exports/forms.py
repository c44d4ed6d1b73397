"""The export form: store, store-local date range, kind and format, read from the query
string (GET, so no CSRF token: it changes nothing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, RadioField, SelectChoice, SelectField
from wtforms.validators import DataRequired, ValidationError

#: The longest range one export may cover, in days (inclusive).
MAX_DAYS = 400
#: The range offered when none is given: the last 30 days, today included.
DEFAULT_DAYS = 30

KINDS = ("responses", "summary")
FORMATS = ("csv", "xlsx")


class IsoDateField(DateField):
    """A YYYY-MM-DD date, with a message that says how to write one."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Write dates as YYYY-MM-DD, e.g. 2026-11-22.")) from None


class ExportForm(FlaskForm):
    class Meta:
        csrf = False

    # No choice validation: an unknown or invisible store code is a 404, decided by the
    # query that knows what the user may see.
    store = SelectField(_l("Store"), validate_choice=False, default="")
    # The view passes the defaults (the last DEFAULT_DAYS days): forms do not read the clock.
    date_from = IsoDateField(_l("From"), name="from", validators=[DataRequired()])
    date_to = IsoDateField(_l("To"), name="to", validators=[DataRequired()])
    kind = RadioField(
        _l("Export"),
        choices=[
            SelectChoice("responses", _l("Responses")),
            SelectChoice("summary", _l("Summary per store")),
        ],
        default="responses",
    )
    format = RadioField(
        _l("Format"),
        choices=[SelectChoice("csv", _l("CSV (UTF-8)")), SelectChoice("xlsx", _l("Excel (XLSX)"))],
        default="csv",
    )

    def validate_date_to(self, field: Field) -> None:
        first, last = self.date_from.data, field.data
        if first is None or last is None:
            return
        if first > last:
            raise ValidationError(_l("The first day is after the last day."))
        if last - first >= timedelta(days=MAX_DAYS):
            raise ValidationError(_l("A range can cover at most %(days)d days.", days=MAX_DAYS))

    def error_messages(self) -> list[Any]:
        return [message for errors in self.errors.values() for message in errors]
