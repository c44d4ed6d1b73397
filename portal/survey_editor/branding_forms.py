"""The branding page's form: input shape only (the contrast check and the logo's content
are the operation's and the logo module's)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import Length, Optional, Regexp

from portal.forms import PortalForm
from portal.survey_editor.branding_operations import CHAIN_NAME_MAX

TOO_LONG = _l("At most %(max)d characters.")


class BrandingForm(PortalForm):
    chain_name_zh = StringField(
        _l("Chain name in Chinese"),
        validators=[Optional(), Length(max=CHAIN_NAME_MAX, message=TOO_LONG)],
        render_kw={"lang": "zh-CN", "maxlength": CHAIN_NAME_MAX},
    )
    chain_name_en = StringField(
        _l("Chain name in English"),
        validators=[Optional(), Length(max=CHAIN_NAME_MAX, message=TOO_LONG)],
        render_kw={"lang": "en", "maxlength": CHAIN_NAME_MAX},
    )
    logo = FileField(
        _l("New logo (PNG or JPEG, at most 2 MB)"),
        render_kw={"accept": "image/png,image/jpeg"},
    )
    remove_logo = BooleanField(_l("Remove the logo"))
    primary_colour = StringField(
        _l("Primary colour: # and six hexadecimal digits (empty for the portal's own)"),
        validators=[Optional(), Length(max=7, message=TOO_LONG)],
        # Upper case: the letters of a hexadecimal colour are not words of either language.
        render_kw={"placeholder": "#1A5FB4", "maxlength": 7, "size": 8},
    )
    #: `branding_operations.branding_token` of the branding the page showed.
    seen = HiddenField(validators=[Regexp(r"\A[0-9a-f]{16}\Z")])
