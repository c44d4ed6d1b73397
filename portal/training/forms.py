"""The training forms: assigning one (topic with a list of the topics used so far,
touchpoint, day, trainer, note) and the mark-done and cancel buttons (versioned)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import PortalForm
from portal.training.operations import NOTE_LENGTH, TOPIC_LENGTH, TRAINER_LENGTH
from portal.workflow_forms import VersionedForm

_BAD_DATE = _l("Enter the day of the training as YYYY-MM-DD.")


class AssignForm(PortalForm):
    topic = StringField(
        _l("Topic of the training"),
        validators=[InputRequired(_l("Name the topic of the training.")), Length(max=TOPIC_LENGTH)],
        render_kw={"maxlength": TOPIC_LENGTH, "list": "topics", "autocomplete": "off"},
    )
    touchpoint = SelectField(_l("Mystery-shop touchpoint"), choices=[], validate_choice=False)
    # An empty or malformed date fails to parse and gets the message below.
    trained_on = DateField(_l("Day of the training"), invalid_value_message=_BAD_DATE)
    trainer = StringField(
        _l("Trainer"),
        validators=[InputRequired(_l("Name who gives the training.")), Length(max=TRAINER_LENGTH)],
        render_kw={"maxlength": TRAINER_LENGTH},
    )
    note = TextAreaField(
        _l("Note"), validators=[Optional(), Length(max=NOTE_LENGTH)], render_kw={"rows": 3}
    )


class DoneForm(VersionedForm):
    pass


class CancelForm(VersionedForm):
    pass
