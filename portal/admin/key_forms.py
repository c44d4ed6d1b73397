"""Forms of the POS key pages: a label for a new key, and the confirmation whose only
content is the CSRF token the Revoke button posts."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.forms import PortalForm

#: As long as the column (`ApiKey.label`).
MAX_LABEL_LENGTH = 200


class NewApiKeyForm(PortalForm):
    label = StringField(
        _l("Which till or system is this key for?"),
        validators=[
            DataRequired(_l("Please give the key a label, e.g. “till 1”.")),
            Length(max=MAX_LABEL_LENGTH),
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_LABEL_LENGTH},
    )


class RevokeApiKeyForm(PortalForm):
    pass
