"""The validation-code form (check and redeem use the same one field)."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from portal.forms import PortalForm


class ValidationCodeForm(PortalForm):
    code = StringField(
        _l("Validation code"),
        validators=[InputRequired(_l("Please type the code.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
