"""The alert rule form and the dismiss button (input shape only; the view fills the
choices of metric and scope, `portal.alerts.rules.check_rule` judges the rest)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from portal.alerts.words import KIND_LABELS
from portal.forms import PortalForm, StrictFloatField


class RuleForm(PortalForm):
    name = StringField(_l("Rule name"), validators=[InputRequired(), Length(max=100)])
    metric = SelectField(_l("Metric"), validators=[InputRequired()])
    kind = SelectField(
        _l("Kind of rule"),
        choices=[SelectChoice(key, label) for key, label in KIND_LABELS.items()],
        validators=[InputRequired()],
    )
    threshold = StrictFloatField(
        _l("Threshold (in the metric's unit; threshold rules only)"),
        validators=[Optional()],
        negative=True,
    )
    scope = SelectField(_l("Stores watched"), validators=[InputRequired()])
    active = BooleanField(_l("Checked every day (active)"), default=True)
    #: The rule as the editor loaded it (see `portal.alerts.rules.update_rule`).
    loaded = HiddenField()


class DismissForm(PortalForm):
    pass


class DeleteRuleForm(PortalForm):
    pass
