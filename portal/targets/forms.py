"""The target form (shape only; the view fills the region and store choices) and the words
of a target's status."""

from __future__ import annotations

import math
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, RadioField, SelectChoice, SelectField, ValidationError
from wtforms.validators import InputRequired, Optional

from analysis.targets import TargetStatus
from portal.forms import PortalForm, StrictFloatField, strict_int
from portal.targets.words import METRIC_LABELS

SCOPE_CHOICES = {
    "chain": _l("The whole chain"),
    "region": _l("One region"),
    "store": _l("One store"),
}

STATUS_LABELS: dict[TargetStatus, Any] = {
    TargetStatus.MEETS: _l("meets target"),
    TargetStatus.MISSES: _l("misses target"),
    TargetStatus.UNCLEAR: _l("not yet clear against target"),
}


def _finite(form: FlaskForm, field: Field) -> None:
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(_l("Enter a number."))


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "") else strict_int(value)


class TargetForm(PortalForm):
    metric = SelectField(
        _l("Figure"),
        choices=[SelectChoice(m.value, label) for m, label in METRIC_LABELS.items()],
        validators=[InputRequired(_l("Choose a figure."))],
    )
    scope = RadioField(
        _l("Applies to"),
        choices=[SelectChoice(key, label) for key, label in SCOPE_CHOICES.items()],
        default="chain",
        validators=[InputRequired(_l("Choose the chain, a region or a store."))],
    )
    region = SelectField(
        _l("Region (when for one region)"), coerce=_optional_int, validators=[Optional()]
    )
    store = SelectField(_l("Store (when for one store)"), validators=[Optional()])
    value = StrictFloatField(
        _l("Target (NPS in points, the others in percent)"),
        [InputRequired(_l("Enter a number.")), _finite],
        negative=True,
    )
    effective_from = DateField(_l("In force from"), validators=[InputRequired(_l("Enter a date."))])
