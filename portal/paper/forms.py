"""Forms of the paper pages, and the words of their codes. The card's answers are the
shopper's survey form (`portal.shopper.forms.survey_form_class`), posted beside these."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length

from portal.forms import PortalForm, StrictIntegerField, short_code_field
from portal.models import PaperCheck
from portal.paper.cards import CardLanguage, CardPurpose
from portal.paper.checks import Keeping

PURPOSE_LABELS: dict[str, Any] = {
    CardPurpose.RECEIPTS: _l("for a batch of receipts"),
    CardPurpose.COUNTER: _l("for the counter"),
}
LANGUAGE_LABELS: dict[str, Any] = {
    CardLanguage.ZH: _l("Chinese"),
    CardLanguage.EN: _l("English"),
    CardLanguage.BOTH: _l("both: Chinese on the front, English on the back"),
}
CHECK_LABELS: dict[str, Any] = {
    PaperCheck.PENDING: _l("waiting for a second keying"),
    PaperCheck.MATCHED: _l("second keying matched"),
    PaperCheck.MISMATCHED: _l("second keying differed"),
}
KEPT_LABELS: dict[str, Any] = {
    Keeping.FIRST: _l("the first keying stands"),
    Keeping.SECOND: _l("the second keying stands"),
}
#: The language of the card's side the customer filled in.
SIDE_LABELS: dict[str, Any] = {"zh_CN": _l("Chinese"), "en": _l("English")}


def _choices(labels: dict[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(str(key), label) for key, label in labels.items()]


class PrintForm(PortalForm):
    store = SelectField(_l("Store"), validators=[InputRequired(_l("Choose a store."))])
    count = StrictIntegerField(
        _l("How many cards"), validators=[InputRequired(_l("Say how many cards to print."))]
    )
    language = RadioField(
        _l("Language"),
        choices=_choices(LANGUAGE_LABELS),
        default=CardLanguage.BOTH.value,
        validators=[InputRequired(_l("Choose the cards' language."))],
    )
    purpose = RadioField(
        _l("The cards are"),
        choices=_choices(PURPOSE_LABELS),
        default=CardPurpose.COUNTER.value,
        validators=[InputRequired(_l("Say what the cards are for."))],
    )
    staff = StringField(
        _l("Cashier's staff code (only for receipts of one cashier)"),
        validators=[Length(max=32)],
    )


class CodeForm(PortalForm):
    code = short_code_field(
        _l("Card code"), _l("Type the code printed on the card."), autofocus=True
    )


class CardSideForm(PortalForm):
    """Posted with the card's answers: which language the customer filled in."""

    side = RadioField(
        _l("Language of the card"),
        choices=_choices(SIDE_LABELS),
        validators=[InputRequired(_l("Say which language the card was filled in."))],
    )


class DecisionForm(PortalForm):
    keep = RadioField(
        _l("Which keying stands?"),
        choices=_choices(KEPT_LABELS),
        validators=[InputRequired(_l("Choose which keying stands."))],
    )
