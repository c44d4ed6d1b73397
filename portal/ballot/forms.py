"""The review queue's one form: clear or reject a held answer, with a reason. Shape only;
`portal.ballot.review.decide_flag` applies it (reason length, state, version)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length

from portal.models import FlagState
from portal.workflow_forms import VersionedForm

REASON_LENGTH = 2000


class DecisionForm(VersionedForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[InputRequired(_l("Please write a few words.")), Length(max=REASON_LENGTH)],
        render_kw={"maxlength": REASON_LENGTH, "rows": 2},
    )
    #: Set by the button pressed (Clear or Reject); not rendered as a field.
    decision = StringField(
        validators=[
            InputRequired(),
            AnyOf([str(FlagState.CLEARED), str(FlagState.REJECTED)]),
        ]
    )
