"""The base of every form and the strict number fields (`surveys.strict` does the reading).

`PortalForm` checks every text field in one place: NUL and unpaired surrogates are refused
everywhere, line breaks and control characters in single-line fields (every `StringField`
that is not a text area or a password). A form whose text rules live elsewhere (the
shopper survey: `surveys.answers`) sets ``check_text = False``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    Field,
    FloatField,
    IntegerField,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from portal.errors import DomainError
from surveys.strict import NotANumber, parse_decimal, parse_int, text_problem

TEXT_MESSAGES: dict[str, Any] = {
    "nul": _l("This text contains a character that cannot be stored (NUL)."),
    "surrogate": _l("This text contains a character that cannot be stored."),
    "line_break": _l("Keep this on one line."),
    "control": _l("This text contains a control character."),
}
WHOLE_NUMBER = _l("Enter a whole number using the digits 0-9.")
NUMBER = _l("Enter a number using the digits 0-9 and at most one decimal point.")


class InvalidEncoding(DomainError):
    status = 400
    code = "invalid_encoding"
    message = _l("The request is not valid UTF-8 text; nothing was saved.")


def _is_utf8_query(data: bytes) -> bool:
    for pair in data.split(b"&"):
        for part in pair.split(b"=", 1):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return False
    return True


def refuse_invalid_utf8() -> None:
    """``before_request``: a query string or form body whose bytes are not UTF-8 is a 400,
    rather than decoded with U+FFFD stand-ins and stored as mojibake. (JSON bodies are
    refused by their parser; file uploads carry bytes.)"""
    body_is_form = request.mimetype == "application/x-www-form-urlencoded"
    if not _is_utf8_query(request.query_string) or (
        # Cached: the form is then parsed from the same bytes.
        body_is_form and not _is_utf8_query(request.get_data(cache=True))
    ):
        raise InvalidEncoding()


def check_text(single_line: bool) -> Any:
    """A validator refusing what `surveys.strict.text_problem` refuses."""

    def validator(form: Any, field: Field) -> None:
        values = [v for v in (field.raw_data or []) if isinstance(v, str)]
        for value in values:
            problem = text_problem(value, single_line=single_line)
            if problem is not None:
                raise StopValidation(TEXT_MESSAGES[problem])

    return validator


def single_line(field: Field) -> bool:
    return isinstance(field, StringField) and not isinstance(field, TextAreaField | PasswordField)


class PortalForm(FlaskForm):
    """Every form of the portal derives from this (a test checks it)."""

    check_text = True

    class Meta(FlaskForm.Meta):
        def bind_field(self, form: Any, unbound_field: Any, options: Any) -> Field:
            field: Field = super().bind_field(form, unbound_field, options)
            if getattr(form, "check_text", True) and isinstance(field, StringField):
                field.validators = [check_text(single_line(field)), *field.validators]
            return field


def strict_int(value: Any) -> int:
    """``coerce`` of the select and radio fields whose values are ids or numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise TypeError(value)
    return parse_int(value)


class _StrictNumber:
    """What the strict number fields share: one submitted value read by `read`, or refused
    with `message`; ``negative=True`` allows a leading minus."""

    message: Any = NUMBER
    data: Any

    def __init__(self, *args: Any, negative: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.negative = negative

    def read(self, text: str) -> Any:
        return parse_decimal(text, negative=self.negative)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            self.data = self.read(valuelist[0])
        except NotANumber:
            self.data = None
            raise ValueError(self.message) from None


class StrictIntegerField(_StrictNumber, IntegerField):
    """An `IntegerField` reading only ASCII digits (and a minus with ``negative=True``)."""

    message = WHOLE_NUMBER

    def read(self, text: str) -> Any:
        return parse_int(text, negative=self.negative)


class StrictDecimalField(_StrictNumber, DecimalField):
    """A `DecimalField` reading ASCII digits and one point: no exponent, NaN or infinity."""


class StrictFloatField(_StrictNumber, FloatField):
    """A `FloatField` read as `StrictDecimalField` reads, then made a float."""

    def read(self, text: str) -> Any:
        return float(parse_decimal(text, negative=self.negative))


class TickBoxesField(SelectMultipleField):
    """Several choices, each a tick box: `render_field` writes them like radio options. A
    plain `SelectMultipleField` stays a list to pick several from (a chain's stores)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


__all__ = [
    "PortalForm",
    "StrictDecimalField",
    "StrictFloatField",
    "StrictIntegerField",
    "TickBoxesField",
    "strict_int",
]


def short_code_field(label: Any, missing: Any, *, autofocus: bool = False) -> StringField:
    """A field for a receipt's or card's short code as printed (``ABCDE-FGH12``): typed, so
    no autocompletion or spelling help, capitals offered on phones. ``missing`` is the
    message when it is left empty; the code itself is checked by `surveys.codes`."""
    render_kw: dict[str, Any] = {
        "autocomplete": "off",
        "autocapitalize": "characters",
        "spellcheck": "false",
        "placeholder": "ABCDE-FGH12",
    }
    if autofocus:
        render_kw["autofocus"] = True
    return StringField(
        label, validators=[InputRequired(missing), Length(max=40)], render_kw=render_kw
    )
