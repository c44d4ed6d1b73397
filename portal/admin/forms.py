"""Admin console forms: stores, regions, staff and the staff import. Shape only; the views
supply the choices (regions, stores) and turn domain errors into field errors."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from portal.admin.operations import (
    ADDRESS_LENGTH,
    CODE_PATTERN,
    NAME_LENGTH,
    POSITION_LENGTH,
    REGION_LENGTH,
)
from portal.forms import PortalForm
from portal.models import StoreFormat

CODE_MESSAGE = _l("Use 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit.")
FORMAT_LABELS: dict[str, Any] = {
    "": _l("not said"),
    StoreFormat.SUPERMARKET: _l("supermarket"),
    StoreFormat.CONVENIENCE: _l("convenience store"),
    StoreFormat.DEPARTMENT_STORE: _l("department store"),
}
#: The zones of China's stores first; then every other IANA zone.
COMMON_ZONES = ("Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei")


#: The IANA areas of real places; the legacy aliases (``US/Pacific``, ``Etc/GMT+8``...)
#: name no place a store is in.
ZONE_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


def zone_choices() -> list[str]:
    others = sorted(
        z
        for z in available_timezones()
        if z.split("/", 1)[0] in ZONE_AREAS and "/" in z and z not in COMMON_ZONES
    )
    return [*COMMON_ZONES, *others]


def _code(label: Any) -> StringField:
    return StringField(
        label,
        validators=[InputRequired(), Regexp(CODE_PATTERN, message=CODE_MESSAGE)],
        render_kw={"maxlength": 32, "autocomplete": "off"},
    )


def _name(label: Any, length: int) -> StringField:
    return StringField(
        label, validators=[InputRequired(), Length(max=length)], render_kw={"maxlength": length}
    )


class StoreSearchForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    state = SelectField(
        _l("State"),
        choices=[
            SelectChoice("", _l("open and closed")),
            SelectChoice("open", _l("open")),
            SelectChoice("closed", _l("closed")),
        ],
        validators=[Optional()],
    )


class StoreForm(PortalForm):
    """A store's details; `NewStoreForm` adds the code, which never changes afterwards."""

    name = _name(_l("Name"), NAME_LENGTH)
    region = SelectField(_l("Region"), validators=[Optional()])
    timezone = SelectField(
        _l("Time zone"),
        # IANA names are identifiers in English in every language of the page.
        choices=[
            SelectChoice(z, z.replace("_", " "), render_kw={"lang": "en"}) for z in zone_choices()
        ],
        default="Asia/Shanghai",
        validators=[InputRequired()],
    )
    address = StringField(
        _l("Address"),
        validators=[Optional(), Length(max=ADDRESS_LENGTH)],
        render_kw={"maxlength": ADDRESS_LENGTH},
    )
    format = SelectField(
        _l("Format"),
        choices=[SelectChoice(k, v) for k, v in FORMAT_LABELS.items()],
        validators=[Optional()],
    )


class NewStoreForm(StoreForm):
    code = _code(_l("Store code"))


class ConfirmForm(PortalForm):
    """A button that changes something named by the URL: only the CSRF token."""


class RegionForm(PortalForm):
    name = _name(_l("Region name"), REGION_LENGTH)


class StaffForm(PortalForm):
    name = _name(_l("Name"), NAME_LENGTH)
    position = StringField(
        _l("Position"),
        validators=[Optional(), Length(max=POSITION_LENGTH)],
        render_kw={"maxlength": POSITION_LENGTH},
    )


class NewStaffForm(StaffForm):
    staff_code = _code(_l("Staff code"))


class MoveStaffForm(PortalForm):
    store = SelectField(_l("Move to store"), validators=[InputRequired()])
    new_code = StringField(
        _l("Staff code there (leave empty to keep the same)"),
        validators=[Optional(), Regexp(CODE_PATTERN, message=CODE_MESSAGE)],
        render_kw={"maxlength": 32, "autocomplete": "off"},
    )


class ImportUploadForm(PortalForm):
    file = FileField(
        _l("CSV or XLSX file"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        render_kw={"accept": ".csv,.xlsx,text/csv"},
    )


_DIGEST = r"\A[0-9a-f]{64}\Z"


class ImportApplyForm(PortalForm):
    """Names the uploaded file (kept in the instance folder) and the preview's outcome by
    their digests; the rows themselves are never carried by the page."""

    upload = HiddenField(validators=[InputRequired(), Regexp(_DIGEST)])
    plan = HiddenField(validators=[InputRequired(), Regexp(_DIGEST)])
