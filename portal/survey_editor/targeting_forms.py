"""The targeting pages' forms: a rule (which stores, which days, which survey, an optional
A/B split), the delete confirmation and the coverage table's day. Shape only: the views
supply the choices, and the whole rule set is checked by `target_rules`."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, RadioField, SelectChoice, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional, Regexp

from portal.forms import PortalForm, StrictIntegerField
from portal.survey_editor.targeting_words import SCOPE_LABELS
from surveys.targeting import PERCENT_B_MAX, PERCENT_B_MIN, Scope

BAD_DATE = _l("Write dates as YYYY-MM-DD, e.g. 2026-11-22.")
MODE_LATEST, MODE_SPLIT = "latest", "split"
#: The field each scope needs, and its message when it is left empty.
SCOPE_FIELDS = {
    Scope.STORE: ("store", _l("Choose the store.")),
    Scope.REGION: ("region", _l("Choose the region.")),
    Scope.FORMAT: ("store_format", _l("Choose the store format.")),
}


def _date(label: Any) -> DateField:
    return DateField(label, validators=[Optional()], invalid_value_message=BAD_DATE)


def _optional_select(label: Any) -> SelectField:
    # The view puts the empty choice first; the scope or mode decides whether it is needed.
    return SelectField(label, validators=[Optional()], default="")


class TargetRuleForm(PortalForm):
    survey = SelectField(_l("Survey"), validators=[InputRequired(_l("Choose a survey."))])
    scope = RadioField(
        _l("Which stores"),
        choices=[SelectChoice(key, label) for key, label in SCOPE_LABELS.items()],
        default=Scope.CHAIN,
        validators=[InputRequired()],
    )
    store = _optional_select(_l("Store"))
    region = _optional_select(_l("Region"))
    store_format = _optional_select(_l("Store format"))
    starts_on = _date(_l("First day (store time, optional)"))
    ends_on = _date(_l("Last day (store time, optional)"))
    mode = RadioField(
        _l("Which version"),
        choices=[
            SelectChoice(MODE_LATEST, _l("the survey's latest published version")),
            SelectChoice(MODE_SPLIT, _l("an A/B test of two published versions")),
        ],
        default=MODE_LATEST,
        validators=[InputRequired()],
    )
    version_a = _optional_select(_l("Version A"))
    version_b = _optional_select(_l("Version B"))
    percent_b = StrictIntegerField(
        _l("Share of receipts getting version B (%)"),
        validators=[
            Optional(),
            NumberRange(
                PERCENT_B_MIN, PERCENT_B_MAX, message=_l("Enter a whole number from 1 to 99.")
            ),
        ],
    )
    #: What the page showed of the rule (`target_rules.fingerprint`), when editing one.
    seen = HiddenField(validators=[Optional(), Regexp(r"\A[0-9a-f]{16}\Z")])

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        needed = next((f for s, f in SCOPE_FIELDS.items() if s.value == self.scope.data), None)
        if needed is not None and not self[needed[0]].data:
            self[needed[0]].errors.append(needed[1])
            valid = False
        if self.mode.data == MODE_SPLIT:
            for name, message in (
                ("version_a", _l("Choose version A.")),
                ("version_b", _l("Choose version B.")),
                ("percent_b", _l("Enter the share of version B, 1 to 99.")),
            ):
                if self[name].data in (None, "") and not self[name].errors:
                    self[name].errors.append(message)
                    valid = False
        return valid


class DeleteRuleForm(PortalForm):
    seen = HiddenField(validators=[InputRequired(), Regexp(r"\A[0-9a-f]{16}\Z")])


class CoverageForm(PortalForm):
    """The day of the coverage table (GET: nothing changes, no CSRF token)."""

    class Meta:
        csrf = False

    on = _date(_l("On the day"))
