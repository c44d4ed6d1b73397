"""The web side of the workflow kernel (`portal.workflow`): the base of every form that
changes a versioned row, putting a domain error on the form field it names, and showing a
refused action again on the page it was posted from, with the refusal's 4xx status.

A refused action re-renders the page as it is now (not a separate error page): the user
sees the current state and, on the form they used, their input with the current version,
so a second try applies to what they see. The refusal itself is drawn by the ``refusal``
macro of ``templates/_macros/refusal.html``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField
from wtforms.validators import InputRequired, Regexp

from portal.errors import DomainError
from portal.forms import PortalForm


class VersionedForm(PortalForm):
    """Base of the forms that change a versioned row: the version the page showed, in a
    hidden field. A form without a well-formed version fails validation (a 400), so an
    operation never applies a change made for an unknown state."""

    version = HiddenField(validators=[InputRequired(), Regexp(r"\A[0-9]{1,9}\Z")])

    @property
    def expected_version(self) -> int:
        return int(self.version.data)

    def show_version(self, version: int) -> None:
        """Carry ``version`` from now on (the page is shown again with the current row)."""
        self.version.data = str(version)


def add_field_error(field: Field, message: Any) -> None:
    """Add ``message`` under ``field``. (Before validation ``errors`` is a tuple: no append.)"""
    field.errors = [*field.errors, message]


def show_error(
    form: FlaskForm,
    error: DomainError,
    *,
    fields: Mapping[str, str] | None = None,
    default: str | None = None,
) -> Any:
    """Put ``error`` on the form field it names (``error.field``, renamed through
    ``fields`` when the operation's name differs from the form's, else ``default``).

    Returns the message when no field of the form takes it, to be shown above the page,
    else None.
    """
    name = error.field
    if name is not None and fields is not None:
        name = fields.get(name, name)
    if name is None or name not in form:
        name = default
    if name is None or name not in form:
        return error.message
    add_field_error(form[name], error.message)
    return None


def render_refusal(
    page: Callable[..., Any],
    form: FlaskForm,
    error: DomainError,
    *,
    version: int | None = None,
    fields: Mapping[str, str] | None = None,
    default: str | None = None,
) -> Any:
    """Show the page again after ``error`` refused the action posted with ``form``.

    ``page(problem=..., status=...)`` renders the area's page as it is now; ``problem`` is
    the refusal when no field of the form takes it (see `show_error`), and ``status`` the
    error's 4xx. With ``version`` (the row's current one), a `VersionedForm` carries it
    from now on.
    """
    if version is not None and isinstance(form, VersionedForm):
        form.show_version(version)
    problem = show_error(form, error, fields=fields, default=default)
    return page(problem=problem, status=error.status)
