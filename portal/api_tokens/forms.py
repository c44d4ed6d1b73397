"""Forms of the API token settings page: a label for a new token, and the empty form
whose only content is the CSRF token that a Revoke button posts."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.api_tokens.operations import MAX_LABEL_LENGTH
from portal.forms import PortalForm


class NewApiTokenForm(PortalForm):
    label = StringField(
        _l("What is this token for?"),
        validators=[
            DataRequired(_l("Please give the token a label.")),
            Length(max=MAX_LABEL_LENGTH),
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_LABEL_LENGTH},
    )


class RevokeApiTokenForm(PortalForm):
    pass
