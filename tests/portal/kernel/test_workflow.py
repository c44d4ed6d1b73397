"""The workflow kernel on its own: allowed moves and their refusals, the version check, the
reason rule, and the web side's placing of a refusal on a form field. The domains' own
tests (cases, mystery, awards) cover recording changes and concurrent updates end to end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from wtforms import StringField

from portal.workflow import (
    MIN_REASON_LENGTH,
    STALE_MESSAGE,
    InvalidReason,
    InvalidTransition,
    Workflow,
    move,
    require_reason,
    require_state,
)
from portal.workflow_forms import VersionedForm, render_refusal, show_error


@dataclass
class Row:
    id: int = 1
    state: str = "draft"
    version: int = 3


def no_timeline(session: Any, row: Any, change: Any) -> None:
    return None


FLOW = Workflow(
    name="thing",
    subject_type="thing",
    allowed={"draft": frozenset({"sent"}), "sent": frozenset({"done"}), "done": frozenset()},
    refused=lambda state, target: f"{state} cannot become {target}",
    timeline=no_timeline,
    refusals={("draft", "done"): "send it first"},
)


def test_an_allowed_move_sets_the_state_and_returns_the_old_one() -> None:
    row = Row()
    assert move(FLOW, row, "sent", expected_version=3) == "draft"
    assert row.state == "sent"


@pytest.mark.parametrize(
    ("state", "target", "message"),
    [("draft", "done", "send it first"), ("done", "draft", "done cannot become draft")],
)
def test_a_move_the_table_lacks_is_refused_with_its_own_words(
    state: str, target: str, message: str
) -> None:
    row = Row(state=state)
    with pytest.raises(InvalidTransition, match=message) as refused:
        move(FLOW, row, target)
    assert refused.value.status == 409 and row.state == state


def test_a_form_for_another_version_gets_the_one_stale_message() -> None:
    row = Row()
    with pytest.raises(InvalidTransition) as refused:
        move(FLOW, row, "sent", expected_version=2)
    assert str(refused.value) == str(STALE_MESSAGE) and row.state == "draft"
    # Without a version (the CLI, a job) there is nothing to compare.
    assert move(FLOW, row, "sent") == "draft"


def test_require_state_refuses_with_the_callers_message() -> None:
    with pytest.raises(InvalidTransition, match="already sent"):
        require_state(Row(state="sent"), "draft", "already sent")
    require_state(Row(), "draft", "already sent")


def test_a_reason_is_stripped_and_needs_ten_characters() -> None:
    assert MIN_REASON_LENGTH == 10
    assert require_reason("  ten chars!  ", field="reason") == "ten chars!"
    with pytest.raises(InvalidReason, match="at least 10 characters") as short:
        require_reason(" too short", field="note")
    assert (short.value.field, short.value.status) == ("note", 400)
    with pytest.raises(InvalidReason, match="Say more"):
        require_reason(None, field="note", message="Say more")


class ThingForm(VersionedForm):
    note = StringField()


def test_a_refusal_goes_on_the_field_it_names_else_above_the_page(app: Flask) -> None:
    with app.test_request_context():
        form = ThingForm(formdata=None, version=3)
        assert form.expected_version == 3
        assert show_error(form, InvalidReason("too short", field="note")) is None
        assert form.note.errors == ["too short"]
        # Renamed through ``fields``, or on the default field when it names none.
        assert (
            show_error(form, InvalidReason("x", field="reason"), fields={"reason": "note"}) is None
        )
        assert show_error(form, InvalidTransition("y"), default="note") is None
        assert form.note.errors == ["too short", "x", "y"]
        assert show_error(form, InvalidTransition("stale")) == "stale"


def test_render_refusal_shows_the_page_with_the_current_version_and_the_status(
    app: Flask,
) -> None:
    with app.test_request_context():
        form = ThingForm(formdata=None, version=3)
        shown = render_refusal(
            lambda problem, status: (problem, status), form, InvalidTransition("moved"), version=4
        )
        assert shown == ("moved", 409) and form.version.data == "4"
