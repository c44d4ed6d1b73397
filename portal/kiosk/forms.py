"""Forms of the tablets' pages: a new tablet (store and name), renaming, the buttons that
revoke a tablet or give it a new code (each carrying the tablet's version), and the code
typed on the tablet to enrol it."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.forms import PortalForm, short_code_field
from portal.kiosk.devices import MAX_NAME_LENGTH, KioskState
from portal.workflow_forms import VersionedForm

STATE_LABELS: dict[str, Any] = {
    KioskState.WAITING: _l("waiting to be enrolled"),
    KioskState.CODE_EXPIRED: _l("enrolment code expired"),
    KioskState.ENROLLED: _l("enrolled"),
    KioskState.REVOKED: _l("switched off"),
}


def _name_field() -> StringField:
    return StringField(
        _l("Name of the tablet"),
        validators=[
            DataRequired(_l("Give the tablet a name, e.g. “counter 1”.")),
            Length(max=MAX_NAME_LENGTH),
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME_LENGTH},
    )


class NewKioskForm(PortalForm):
    store = SelectField(_l("Store"), validators=[InputRequired()])
    name = _name_field()


class RenameKioskForm(VersionedForm):
    name = _name_field()


class KioskActionForm(VersionedForm):
    """Revoking, or a new enrolment code: the button and the version the page showed."""


class EnrolForm(PortalForm):
    code = short_code_field(
        _l("Enrolment code"), _l("Type the enrolment code shown in the admin console.")
    )
