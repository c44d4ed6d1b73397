"""The survey editor's forms: a new survey, the survey texts, a question with its choices
and its "show only when" rules, and the buttons that move, remove and publish.

Every form that changes a draft carries the draft revision the page showed (the hidden
``version`` of `VersionedForm`). The forms check the shape of what was typed only; what the
document then lacks (a translation, a condition on a later question) is for the checks.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional, Regexp

from portal.admin.forms import FORMAT_LABELS
from portal.forms import PortalForm, StrictIntegerField, TickBoxesField
from portal.models import StoreFormat
from portal.survey_editor.documents import (
    EDITOR_KINDS,
    RULE_OPS,
    STORE_FORMAT,
    SURVEY_TEXTS,
    ChoiceInput,
    QuestionInput,
    RuleInput,
    Text,
)
from portal.survey_editor.drafts import SurveyStart
from portal.survey_editor.words import KIND_LABELS, OP_LABELS
from portal.workflow_forms import VersionedForm, add_field_error
from surveys.loader import KEY_PATTERN

KEY_MESSAGE = _l(
    "Use lower-case letters a-z, digits and _, starting with a letter (at most 48 characters)."
)
#: Blank rows shown below the filled ones, and added by "more rows".
BLANK_CHOICE_ROWS = 3
BLANK_RULE_ROWS = 2
TEXT_LENGTH = 500
LABEL_LENGTH = 100
LONG_TEXT_LENGTH = 2000
#: Choice keys in a rule: separated by commas or blanks.
_KEY_LIST = re.compile(r"[\s,，、]+")


def _key_field(label: Any) -> StringField:
    return StringField(
        label,
        validators=[InputRequired(), Regexp(KEY_PATTERN, message=KEY_MESSAGE)],
        render_kw={"maxlength": 48, "autocomplete": "off", "spellcheck": "false"},
    )


def _text(label: Any, length: int = TEXT_LENGTH, *, area: bool = False) -> StringField:
    field = TextAreaField if area else StringField
    return field(
        label, validators=[Optional(), Length(max=length)], render_kw={"maxlength": length}
    )


class NewSurveyForm(PortalForm):
    key = _key_field(_l("Key of the new survey"))
    start = RadioField(
        _l("Start from"),
        choices=[
            SelectChoice(SurveyStart.COPY.value, _l("a copy of the default survey")),
            SelectChoice(SurveyStart.MINIMAL.value, _l("only the two scoring questions")),
        ],
        default=SurveyStart.COPY.value,
        validators=[InputRequired()],
    )


class DraftActionForm(VersionedForm):
    """A button on the draft page (start a draft, remove a question): the revision only."""


class MoveForm(VersionedForm):
    direction = HiddenField(validators=[InputRequired(), AnyOf(["up", "down"])])


class PublishForm(VersionedForm):
    new_series = BooleanField(_l("Start a new scoring series"))


class TextsForm(VersionedForm):
    title_zh = _text(_l("Title (Chinese)"), LABEL_LENGTH)
    title_en = _text(_l("Title (English)"), LABEL_LENGTH)
    intro_zh = _text(_l("Introduction (Chinese)"), LONG_TEXT_LENGTH, area=True)
    intro_en = _text(_l("Introduction (English)"), LONG_TEXT_LENGTH, area=True)
    thanks_zh = _text(_l("Thank-you text (Chinese)"), LONG_TEXT_LENGTH, area=True)
    thanks_en = _text(_l("Thank-you text (English)"), LONG_TEXT_LENGTH, area=True)
    consent_zh = _text(_l("Contact consent (Chinese)"), LONG_TEXT_LENGTH, area=True)
    consent_en = _text(_l("Contact consent (English)"), LONG_TEXT_LENGTH, area=True)

    def texts(self) -> dict[str, Text]:
        return {
            name: Text(self[f"{name}_zh"].data or "", self[f"{name}_en"].data or "")
            for name in SURVEY_TEXTS
        }

    def show(self, texts: dict[str, Text]) -> None:
        for name, text in texts.items():
            self[f"{name}_zh"].data, self[f"{name}_en"].data = text.zh_CN, text.en


class _Row(PortalForm):
    """A row of a list inside the question form (the outer form carries the CSRF token)."""

    class Meta(PortalForm.Meta):
        csrf = False


class ChoiceRowForm(_Row):
    key = StringField(
        _l("Choice key"), validators=[Optional(), Length(max=48)], render_kw={"maxlength": 48}
    )
    text_zh = _text(_l("Chinese"), LABEL_LENGTH)
    text_en = _text(_l("English"), LABEL_LENGTH)
    order = StrictIntegerField(_l("Position"), validators=[Optional(), NumberRange(0, 999)])
    remove = BooleanField(_l("Remove"))

    @property
    def blank(self) -> bool:
        return not any((self.key.data or "", self.text_zh.data or "", self.text_en.data or ""))


class RuleRowForm(_Row):
    subject = SelectField(_l("Show only when"), validators=[Optional()])
    op = SelectField(
        _l("Comparison"),
        choices=[SelectChoice("", "—")] + [SelectChoice(k, v) for k, v in OP_LABELS.items()],
        validators=[Optional()],
    )
    number = StrictIntegerField(_l("Number"), validators=[Optional(), NumberRange(0, 10)])
    choices = StringField(
        _l("Choice keys"),
        validators=[Optional(), Length(max=500)],
        description=_l("For “is one of”: the keys, separated by commas."),
    )
    formats = TickBoxesField(
        _l("Store formats"),
        choices=[SelectChoice(f.value, FORMAT_LABELS[f.value]) for f in StoreFormat],
        validators=[Optional()],
    )
    remove = BooleanField(_l("Remove this rule"))

    def choice_keys(self) -> tuple[str, ...]:
        return tuple(k for k in _KEY_LIST.split(self.choices.data or "") if k)


class QuestionForm(VersionedForm):
    """A question. For a standard question the view removes ``key`` and ``kind``: they
    are fixed."""

    key = _key_field(_l("Key"))
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k, KIND_LABELS[k]) for k in EDITOR_KINDS],
        validators=[InputRequired()],
    )
    text_zh = _text(_l("Question (Chinese)"))
    text_en = _text(_l("Question (English)"))
    help_zh = _text(_l("Help text (Chinese, optional)"))
    help_en = _text(_l("Help text (English, optional)"))
    required = BooleanField(_l("An answer is required"))
    low_zh = _text(_l("Label of the low end (Chinese)"), LABEL_LENGTH)
    low_en = _text(_l("Label of the low end (English)"), LABEL_LENGTH)
    high_zh = _text(_l("Label of the high end (Chinese)"), LABEL_LENGTH)
    high_en = _text(_l("Label of the high end (English)"), LABEL_LENGTH)
    choices = FieldList(FormField(ChoiceRowForm), min_entries=BLANK_CHOICE_ROWS)
    other = BooleanField(_l("Offer “other” with a text box"))
    max_length = StrictIntegerField(
        _l("Maximum length (characters)"),
        validators=[Optional(), NumberRange(1, 10000)],
        description=_l("Empty: 200 for a short text, 2,000 for a long one."),
    )
    group = SelectField(_l("Group"), validators=[Optional()])
    match = RadioField(
        _l("Show this question"),
        choices=[
            SelectChoice("all", _l("when all of these rules hold")),
            SelectChoice("any", _l("when any of these rules holds")),
        ],
        default="all",
        validators=[Optional()],
    )
    rules = FieldList(FormField(RuleRowForm), min_entries=BLANK_RULE_ROWS)

    def add_rows(self) -> None:
        """Blank rows below the filled ones ("more rows", or a page shown again)."""
        for _ in range(BLANK_CHOICE_ROWS):
            self.choices.append_entry()
        for _ in range(BLANK_RULE_ROWS):
            self.rules.append_entry()

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        for row in self.choices:
            if row.form.remove.data or row.form.blank:
                continue
            if not KEY_PATTERN.match(row.form.key.data or ""):
                add_field_error(row.form.key, KEY_MESSAGE)
                valid = False
        for row in self.rules:
            valid = _check_rule(row.form) and valid
        return valid

    def entry(self, *, key: str) -> QuestionInput:
        """What the form says, as the operation takes it (``key`` for a fixed one)."""
        rows = [r.form for r in self.choices if not (r.form.remove.data or r.form.blank)]
        # A row's position orders it; rows without one stay where they are.
        ordered = sorted(enumerate(rows), key=lambda p: (_position(p[1], p[0]), p[0]))
        return QuestionInput(
            key=self.key.data if "key" in self else key,
            editor_kind=self.kind.data if "kind" in self else "",
            text=Text(self.text_zh.data or "", self.text_en.data or ""),
            help=Text(self.help_zh.data or "", self.help_en.data or ""),
            required=bool(self.required.data),
            low_label=Text(self.low_zh.data or "", self.low_en.data or ""),
            high_label=Text(self.high_zh.data or "", self.high_en.data or ""),
            choices=tuple(
                ChoiceInput(row.key.data, Text(row.text_zh.data or "", row.text_en.data or ""))
                for _, row in ordered
            ),
            other=bool(self.other.data),
            max_length=self.max_length.data,
            group=self.group.data or None,
            match=self.match.data,
            rules=tuple(
                RuleInput(
                    subject=row.form.subject.data,
                    op=row.form.op.data or "",
                    number=row.form.number.data,
                    choices=row.form.choice_keys(),
                    formats=tuple(row.form.formats.data or ()),
                )
                for row in self.rules
                if row.form.subject.data and not row.form.remove.data
            ),
        )

    def show(self, entry: QuestionInput) -> None:
        """Fill the form from a stored question (a GET)."""
        if "key" in self:
            self.key.data = entry.key
        if "kind" in self:
            self.kind.data = entry.editor_kind or "scale_5"
        for name in ("text", "help", "low_label", "high_label"):
            prefix = {"low_label": "low", "high_label": "high"}.get(name, name)
            text: Text = getattr(entry, name)
            self[f"{prefix}_zh"].data, self[f"{prefix}_en"].data = text.zh_CN, text.en
        self.required.data, self.other.data = entry.required, entry.other
        self.max_length.data, self.group.data = entry.max_length, entry.group or ""
        self.match.data = entry.match
        _fill(
            self.choices,
            [
                {"key": c.key, "text_zh": c.text.zh_CN, "text_en": c.text.en, "order": n}
                for n, c in enumerate(entry.choices, start=1)
            ],
        )
        _fill(
            self.rules,
            [
                {
                    "subject": r.subject,
                    "op": r.op,
                    "number": r.number,
                    "choices": ", ".join(r.choices),
                    "formats": list(r.formats),
                }
                for r in entry.rules
            ],
        )


def _position(row: ChoiceRowForm, index: int) -> int:
    return row.order.data if row.order.data is not None else index + 1


def _fill(rows: FieldList, values: list[dict[str, Any]]) -> None:
    while len(rows):
        rows.pop_entry()
    for value in values:
        rows.append_entry(value)


def _check_rule(row: RuleRowForm) -> bool:
    """A rule row is blank, or complete for its subject and comparison."""
    if not row.subject.data or row.remove.data:
        return True
    if row.subject.data == STORE_FORMAT:
        if row.formats.data:
            return True
        add_field_error(row.formats, _l("Tick at least one store format."))
        return False
    op, fixed = RULE_OPS.get(row.op.data or "", ("", None))
    if not op:
        add_field_error(row.op, _l("Choose how the answer is compared."))
        return False
    if op == "in" and not row.choice_keys():
        add_field_error(row.choices, _l("Name at least one choice key."))
        return False
    if op in ("le", "ge", "eq") and fixed is None and row.number.data is None:
        add_field_error(row.number, _l("Enter the number to compare with."))
        return False
    return True
