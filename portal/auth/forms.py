"""Sign-in form, the account settings (password change, "sign out everywhere", display
name and language), and the forms of a mailed password link."""

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from portal.auth.operations import MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from portal.forms import PortalForm
from portal.models import Role


class LoginForm(PortalForm):
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(_l("Please enter your e-mail.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        # No stricter than create_user: every password an account may have can sign in.
        validators=[
            InputRequired(_l("Please enter your password.")),
            Length(max=MAX_PASSWORD_LENGTH),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class ChangePasswordForm(PortalForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(_l("Please enter your current password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[
            InputRequired(_l("Please enter a new password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("A password has %(min)d to %(max)d characters."),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(_l("Please enter the new password again.")),
            EqualTo("new_password", _l("The two new passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class EndSessionsForm(PortalForm):
    """Only the CSRF token: "sign out everywhere" has nothing to fill in."""


#: Roles in words, for pages and choices (the stored value is the `Role`).
ROLE_LABELS: dict[str, Any] = {
    Role.ADMIN: _l("administrator"),
    Role.MANAGER: _l("store manager"),
    Role.MYSTERY: _l("mystery shopper"),
    Role.REVIEWER: _l("reviewer"),
    Role.HR: _l("HR officer"),
    Role.CX: _l("customer-experience owner"),
}
#: The language choice of an account: empty follows the browser.
LANGUAGE_CHOICES: list[SelectChoice] = [
    SelectChoice("", _l("as the browser asks")),
    # Each language named in itself, and marked so (a reader and a screen reader know it).
    SelectChoice("zh_CN", "中文（简体）", render_kw={"lang": "zh-CN"}),
    SelectChoice("en", "English", render_kw={"lang": "en"}),
]


def display_name_field() -> StringField:
    return StringField(
        _l("Display name"),
        validators=[
            Optional(),
            Length(max=MAX_NAME_LENGTH, message=_l("A name has at most %(max)d characters.")),
        ],
        description=_l("Shown to others instead of the e-mail address, e.g. in timelines."),
        render_kw={"autocomplete": "name", "maxlength": 200},
    )


def language_field() -> SelectField:
    return SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="")


class ProfileForm(PortalForm):
    """The user's own display name and language, on the settings page."""

    name = display_name_field()
    locale = language_field()


class ForgotPasswordForm(PortalForm):
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(_l("Please enter your e-mail.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )


class SetPasswordForm(PortalForm):
    """A new password chosen through an invitation or reset link."""

    new_password = PasswordField(
        _l("New password"),
        validators=[
            InputRequired(_l("Please enter a new password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("A password has %(min)d to %(max)d characters."),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(_l("Please enter the new password again.")),
            EqualTo("new_password", _l("The two new passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
