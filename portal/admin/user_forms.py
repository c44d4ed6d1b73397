"""Forms of the users pages: the list's filters (GET), the invitation, the edit form and the
one-button actions. Shape only; the view supplies store and region choices."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length

from portal.auth.forms import ROLE_LABELS, display_name_field, language_field
from portal.forms import PortalForm

ROLE_CHOICES = [SelectChoice(key, label) for key, label in ROLE_LABELS.items()]


class UserFilterForm(PortalForm):
    """The user list's filters, read from the query string (a GET changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search (e-mail or name)"), validators=[Length(max=254)], default="")
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("", _l("any")), *ROLE_CHOICES],
        validate_choice=False,
        default="",
    )
    active = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("any")),
            SelectChoice("yes", _l("active")),
            SelectChoice("no", _l("switched off")),
        ],
        validate_choice=False,
        default="",
    )


class _ProfileFields(PortalForm):
    name = display_name_field()
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="manager")
    stores = SelectMultipleField(
        _l("Stores (store managers)"),
        description=_l("The stores a store manager sees; hold Ctrl or ⌘ to pick several."),
        default=[],
    )
    region = SelectField(
        _l("Region (store managers)"),
        description=_l("A region manager sees every store of the region."),
        default="",
    )
    locale = language_field()

    def set_choices(self, stores: list[SelectChoice], regions: list[str]) -> None:
        self.stores.choices = stores
        self.region.choices = [SelectChoice("", _l("none")), *(SelectChoice(r, r) for r in regions)]


class InviteForm(_ProfileFields):
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(_l("Please enter the e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "off"},
    )


class EditUserForm(_ProfileFields):
    pass


class UserActionForm(PortalForm):
    """Only the CSRF token: switching off or on and sending a link have nothing to fill in."""
