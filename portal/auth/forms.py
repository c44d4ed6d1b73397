"""Sign-in form, and the account settings: password change, "sign out everywhere"."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from portal.auth.operations import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from portal.forms import PortalForm


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
