"""The ranking policy form (weights, thresholds, award scope, notice period, the answer
channels counted). Shape only;
the month and scope pickers of the ranking pages are plain GET forms in the templates."""

from __future__ import annotations

import math
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectChoice, SelectField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from portal.channels import CHANNEL_LABELS, CHANNELS
from portal.forms import PortalForm, StrictFloatField, StrictIntegerField, TickBoxesField
from portal.models import AwardScope

SCOPE_LABELS: dict[str, Any] = {
    AwardScope.REGION: _l("Region"),
    AwardScope.STORE: _l("Store"),
    AwardScope.CHAIN: _l("Whole chain"),
}


def finite(form: FlaskForm, field: Field) -> None:
    # float("nan") passes NumberRange (every comparison with NaN is false).
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(_l("Enter a number."))


def _weight(label: Any) -> StrictFloatField:
    return StrictFloatField(
        label,
        [InputRequired(), finite, NumberRange(min=0, max=10)],
        description=_l("0 or more; the weights are divided by their sum."),
    )


class AtLeastOne:
    """A tick-box field with at least one box ticked (marked required on the page)."""

    field_flags = {"required": True}

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Tick at least one channel."))


class PolicyForm(PortalForm):
    customer_weight = _weight(_l("Weight of the customer rating"))
    mystery_weight = _weight(_l("Weight of mystery shopping"))
    complaints_weight = _weight(_l("Weight of upheld complaints"))
    min_n = StrictIntegerField(
        _l("Minimum answers in the month to be eligible"),
        [InputRequired(), NumberRange(min=1, max=1000)],
    )
    top_fraction = StrictFloatField(
        _l("Share of the eligible staff proposed (more than 0, at most 1)"),
        [InputRequired(), finite, NumberRange(min=0, max=1)],
    )
    baseline = StrictFloatField(
        _l("Coaching baseline (between-staff SDs from the chain average)"),
        [InputRequired(), finite, NumberRange(min=-5, max=5)],
        negative=True,
    )
    scope = SelectField(
        _l("Award scope: the top share is taken within each"),
        choices=[SelectChoice(str(key), label) for key, label in SCOPE_LABELS.items()],
        validators=[InputRequired()],
    )
    notice_days = StrictIntegerField(
        _l("Public notice period (days)"), [InputRequired(), NumberRange(min=1, max=30)]
    )
    channels = TickBoxesField(
        _l("Answer channels the ranking counts"),
        [AtLeastOne()],
        choices=[SelectChoice(c.value, CHANNEL_LABELS[c]) for c in CHANNELS],
        description=_l(
            "By default the receipt's QR code and its typed code: there the receipt names "
            "the cashier and the shopper answered unprompted."
        ),
    )

    def validate_top_fraction(self, field: Field) -> None:
        if field.data is not None and field.data <= 0:
            raise ValidationError(_l("The share must be more than 0."))

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        weights = (self.customer_weight, self.mystery_weight, self.complaints_weight)
        if ok and sum(field.data for field in weights) <= 0:
            self.customer_weight.errors = [_l("The weights must not all be 0.")]
            ok = False
        return ok
