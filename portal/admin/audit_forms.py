"""The audit log's filter form, read from the query string (GET: it changes nothing, so no
CSRF token, and a filtered page can be bookmarked or shared)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field, SelectField
from wtforms.validators import Optional, ValidationError

from portal.forms import PortalForm

_BAD_DATE = _l("Write dates as YYYY-MM-DD, e.g. 2026-11-22.")


class AuditFilterForm(PortalForm):
    class Meta:
        csrf = False

    # Choices come from the view (the users and actions there are); a value that is not
    # one of them is a 400 with the field's message, never a guess.
    who = SelectField(_l("Who"), default="")
    action = SelectField(_l("What"), default="")
    # An unknown or out-of-scope store code is a 404, decided by the query that knows the
    # user's scope.
    store = SelectField(_l("Store"), validate_choice=False, default="")
    date_from = DateField(
        _l("From"), name="from", validators=[Optional()], invalid_value_message=_BAD_DATE
    )
    date_to = DateField(
        _l("To"), name="to", validators=[Optional()], invalid_value_message=_BAD_DATE
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in (self.who, self.action, self.store, self.date_from, self.date_to):
            field.flags.required = False

    def validate_date_to(self, field: Field) -> None:
        first, last = self.date_from.data, field.data
        if first is not None and last is not None and first > last:
            raise ValidationError(_l("The first day is after the last day."))
