"""The export form: store, survey and versions, store-local date range, answer channels,
kind and format, read from the query string (GET, so no CSRF token: it changes nothing)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import ValidationError

from portal.channels import CHANNEL_LABELS, CHANNELS
from portal.forms import PortalForm, TickBoxesField
from surveys.strict import NotANumber, parse_int

#: The longest range one export may cover, in days (inclusive).
MAX_DAYS = 400
#: The range offered when none is given: the last 30 days, today included.
DEFAULT_DAYS = 30

KINDS = ("responses", "summary")
_BAD_DATE = _l("Write dates as YYYY-MM-DD, e.g. 2026-11-22.")
FORMATS = ("csv", "xlsx")
#: What the versions field accepts for "every version" (besides leaving it empty).
ALL_VERSIONS = ("all", "全部")
#: Version numbers are separated by commas (also the full-width and ideographic ones).
_VERSION_SEPARATORS = re.compile(r"\s*[,，、]\s*")
_BAD_VERSIONS = _l("Write the versions as all, or as numbers separated by commas, e.g. 1, 3.")


class ExportForm(PortalForm):
    class Meta:
        csrf = False

    # No choice validation: an unknown or invisible store code is a 404, decided by the
    # query that knows what the user may see.
    store = SelectField(_l("Store"), validate_choice=False, default="")
    # No choice validation either: an unknown survey or version is a 400 naming it, decided
    # by the query that knows the published versions.
    survey = SelectField(_l("Survey"), validate_choice=False, default="")
    versions = StringField(_l("Versions (all, or numbers such as 1, 3)"), default="")
    # The view passes the defaults (the last DEFAULT_DAYS days): forms do not read the clock.
    # An empty or malformed date fails to parse and gets the message below; no
    # DataRequired, which would replace that message by a vaguer one.
    date_from = DateField(_l("From"), name="from", invalid_value_message=_BAD_DATE)
    date_to = DateField(_l("To"), name="to", invalid_value_message=_BAD_DATE)
    # ``channel=receipt&channel=code``, as on the dashboards; none ticked: every channel.
    channels = TickBoxesField(
        _l("Answer channels (none ticked: every channel)"),
        name="channel",
        choices=[SelectChoice(c.value, CHANNEL_LABELS[c]) for c in CHANNELS],
    )
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # render_form passes required=field.flags.required, which an unset flag (None)
        # renders as required="None"; say it outright. Both days are needed, the store not.
        self.store.flags.required = self.survey.flags.required = False
        self.versions.flags.required = self.channels.flags.required = False
        self.date_from.flags.required = self.date_to.flags.required = True

    def validate_date_to(self, field: Field) -> None:
        first, last = self.date_from.data, field.data
        if first is None or last is None:
            return
        if first > last:
            raise ValidationError(_l("The first day is after the last day."))
        if last - first >= timedelta(days=MAX_DAYS):
            raise ValidationError(_l("A range can cover at most %(days)d days.", days=MAX_DAYS))

    def validate_versions(self, field: Field) -> None:
        self.version_numbers()

    def version_numbers(self) -> tuple[int, ...] | None:
        """The version numbers asked for; ``None`` for every version (empty or "all").

        Raises
        ------
        ValidationError
            Anything but "all" or whole numbers from 1 separated by commas.
        """
        text = (self.versions.data or "").strip()
        if text.lower() in ("", *ALL_VERSIONS):
            return None
        try:
            numbers = tuple(parse_int(part) for part in _VERSION_SEPARATORS.split(text))
        except NotANumber:
            raise ValidationError(_BAD_VERSIONS) from None
        if 0 in numbers:
            raise ValidationError(_BAD_VERSIONS)
        return numbers

    def error_messages(self) -> list[Any]:
        return [message for errors in self.errors.values() for message in errors]
