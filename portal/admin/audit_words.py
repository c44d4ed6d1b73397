"""The audit log in words: the one mapping from the action keys the code writes to their
translated names, and how an entry's actor, subject and details are said on the page and
in the CSV export.

Every action written by `portal.audit.record_audit` or `portal.workflow.record_change`
must have a name here (a test reads the source to prove it). Details are shown for the keys
listed in `DETAILS`, each in words; other keys stay in the database but are not shown, so
that no internal key reaches a page. Free text (notes, reasons) is masked with
`surveys.privacy.mask_personal_data`: a manager's note may carry a customer's phone number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portal.admin.audit_log import StoreRef
from portal.admin.forms import FORMAT_LABELS
from portal.awards.forms import (
    CYCLE_STATE_LABELS,
    NOMINATION_STATE_LABELS,
    OUTCOME_LABELS,
)
from portal.awards.forms import SOURCE_LABELS as NOMINATION_SOURCE_LABELS
from portal.cases.forms import RESOLUTION_LABELS, RETURN_VISIT_LABELS
from portal.cases.forms import STATE_LABELS as CASE_STATE_LABELS
from portal.hr.forms import SCOPE_LABELS
from portal.i18n import current_locale
from portal.models import AuditEntry
from portal.mystery.forms import DAYPART_LABELS, FLAG_LABELS
from portal.mystery.forms import STATE_LABELS as VISIT_STATE_LABELS
from portal.paper.forms import CHECK_LABELS, KEPT_LABELS, LANGUAGE_LABELS, PURPOSE_LABELS
from portal.phone.forms import PHONE_OUTCOME_LABELS
from portal.sms.forms import KIND_LABELS as SMS_KIND_LABELS
from portal.sms.forms import STATUS_LABELS as SMS_STATUS_LABELS
from portal.training.words import STATE_LABELS as TRAINING_STATE_LABELS
from surveys.privacy import mask_personal_data

#: Action key -> what happened, in words. Keys are ``area.verb`` as the code writes them.
ACTION_LABELS: dict[str, Any] = {
    # stores, staff, keys and tokens
    "store.create": _l("Store created"),
    "store.update": _l("Store details changed"),
    "store.close": _l("Store closed"),
    "store.reopen": _l("Store reopened"),
    "region.create": _l("Region added"),
    "region.rename": _l("Region renamed"),
    "region.delete": _l("Region deleted"),
    "target.set": _l("Target set"),
    "target.removed": _l("Target removed"),
    "staff.create": _l("Staff member added"),
    "staff.update": _l("Staff member changed"),
    "staff.move": _l("Staff member moved to another store"),
    "staff.import": _l("Staff imported from a file"),
    "api_key.create": _l("POS key created"),
    "api_key.revoke": _l("POS key revoked"),
    "api_token.create": _l("Personal API token created"),
    "api_token.revoke": _l("Personal API token revoked"),
    # accounts and sign-in
    "user.create": _l("User created"),
    "user.update": _l("User's role, scope or details changed"),
    "user.profile": _l("Own name or language changed"),
    "user.switch_off": _l("User switched off"),
    "user.switch_on": _l("User switched on again"),
    "user.invitation_sent": _l("Invitation sent"),
    "user.reset_sent": _l("Password reset link sent"),
    "user.password_set_by_invitation": _l("Password chosen from an invitation"),
    "user.password_set_by_reset": _l("Password chosen from a reset link"),
    "user.password_change": _l("Password changed"),
    "user.sessions_end": _l("Signed out everywhere"),
    "login.failed": _l("Failed sign-in"),
    # shoppers' answers and codes
    "response.submitted": _l("Survey answered"),
    "validation_code.redeem": _l("Thank-you code redeemed"),
    # personal data
    "retention.purge": _l("Old personal data purged"),
    "customer.erase": _l("A customer's data erased"),
    # cases
    "training.assigned": _l("Training assigned"),
    "training.done": _l("Training marked done"),
    "training.cancelled": _l("Training cancelled"),
    "case.open": _l("Case opened"),
    "case.contacted": _l("Case: first contact made"),
    "case.resolved": _l("Case resolved"),
    "case.closed": _l("Case closed"),
    "case.reopened": _l("Case reopened"),
    "case.assigned": _l("Case assigned"),
    "case.note": _l("Case: note added"),
    "case.categorised": _l("Case: category given"),
    "case.follow_up_sent": _l("Case: follow-up question sent"),
    "case.follow_up_answered": _l("Case: the customer answered the follow-up"),
    "case.phone_visit": _l("Case: phone return visit recorded"),
    "phone_visit.recorded": _l("Phone return visit recorded"),
    "case.text_message": _l("Case: text message to the customer"),
    # text messages
    "sms.opt_out": _l("A customer opted out of text messages"),
    "sms.opt_in": _l("A customer opted back in to text messages"),
    # mystery visits
    "mystery.scheduled": _l("Mystery visit scheduled"),
    "mystery.accepted": _l("Mystery visit accepted"),
    "mystery.declined": _l("Mystery visit declined"),
    "mystery.cancelled": _l("Mystery visit cancelled"),
    "mystery.draft_saved": _l("Mystery report draft saved"),
    "mystery.submitted": _l("Mystery report filed"),
    "mystery.resubmitted": _l("Mystery report filed again"),
    "mystery.review_started": _l("Mystery report review started"),
    "mystery.returned": _l("Mystery report returned to the shopper"),
    "mystery.rejected": _l("Mystery report rejected"),
    "mystery.answers_corrected": _l("Mystery report answers corrected"),
    "mystery.released": _l("Mystery report released to the store"),
    "mystery.disputed": _l("Mystery report disputed"),
    "mystery.upheld": _l("Mystery dispute decided: report upheld"),
    "mystery.adjusted": _l("Mystery dispute decided: report adjusted"),
    "mystery.finalised": _l("Mystery report final"),
    # service-star awards and the ranking policy
    "ranking_policy.set": _l("Ranking policy changed"),
    "award.opened": _l("Award month opened"),
    "award.published": _l("Award month put on public notice"),
    "award.finalised": _l("Award month final"),
    "award.nominated": _l("Nomination added by hand"),
    "award.approved": _l("Nomination approved"),
    "award.rejected": _l("Nomination rejected"),
    "award.appealed": _l("Appeal raised"),
    "award.appeal_answered": _l("Appeal answered"),
    # surveys the business writes
    "survey.created": _l("Survey created"),
    "survey.draft_saved": _l("Survey draft saved"),
    "survey.published": _l("Survey version published"),
    # surveys: targeting
    "target_rule.created": _l("Targeting rule added"),
    "target_rule.updated": _l("Targeting rule changed"),
    "target_rule.deleted": _l("Targeting rule deleted"),
    # counter tablets (kiosks)
    "kiosk.create": _l("Counter tablet added"),
    "kiosk.code": _l("Counter tablet: new enrolment code made"),
    "kiosk.enrol": _l("Counter tablet enrolled"),
    "kiosk.rename": _l("Counter tablet renamed"),
    "kiosk.revoke": _l("Counter tablet switched off"),
    # paper survey cards
    "paper.cards_printed": _l("Paper survey cards printed"),
    "review.regenerated": _l("Monthly service review built again"),
    "paper.card_entered": _l("Paper card keyed in"),
    "paper.card_checked": _l("Paper card keyed in a second time"),
    "paper.check_decided": _l("Paper card: decided which keying stands"),
    # the demo chain
    "demo.build": _l("Demo data built"),
    # surveys and branding
    "survey.version_copied": _l("Survey version copied into the draft"),
    "branding.updated": _l("Branding changed"),
    # alert rules
    "alert_rule.create": _l("Alert rule added"),
    "alert_rule.update": _l("Alert rule changed"),
    "alert_rule.delete": _l("Alert rule deleted"),
}

#: Actors that are not a signed-in user.
ACTOR_LABELS: dict[str, Any] = {
    "cli": _l("command line"),
    "system": _l("the portal"),
    "shopper": _l("the shopper, by the survey"),
    "customer": _l("the customer"),
    # The ranking policy in force before HR saved one.
    "default": _l("the defaults"),
    "kiosk": _l("a counter tablet"),
}

#: Subjects named by a key their owner chose (a lower-case word), shown as code.
KEY_SUBJECTS = frozenset({"survey"})
#: What an entry is about.
SUBJECT_LABELS: dict[str, Any] = {
    "store": _l("Store"),
    "staff": _l("Staff member"),
    "api_key": _l("POS key"),
    "api_token": _l("API token"),
    "user": _l("User"),
    "login": _l("Sign-in"),
    "response": _l("Answer"),
    "retention": _l("Retention"),
    "customer": _l("Customer"),
    "case": _l("Case"),
    "phone_visit": _l("Phone return visit"),
    "mystery_visit": _l("Mystery visit"),
    "ranking_policy": _l("Ranking policy"),
    "award_cycle": _l("Award month"),
    "award_nomination": _l("Nomination"),
    "demo": _l("Demo"),
    "survey": _l("Survey"),
    "branding": _l("Branding"),
    "target_rule": _l("Targeting rule"),
    "kiosk": _l("Counter tablet"),
    "sms_number": _l("Phone number"),
    "target": _l("Target"),
    "monthly_review": _l("Monthly review"),
    "alert_rule": _l("Alert rule"),
    "training": _l("Training"),
}

ROLE_LABELS: dict[str, Any] = {
    "admin": _l("administrator"),
    "manager": _l("store manager"),
    "mystery": _l("mystery shopper"),
    "reviewer": _l("reviewer"),
    "hr": _l("HR"),
}
CASE_SOURCE_LABELS: dict[str, Any] = {
    "survey": _l("from a survey answer"),
    "manual": _l("entered by hand"),
}
ERASE_KEY_LABELS: dict[str, Any] = {
    "code": _l("receipt code"),
    "phone": _l("phone number"),
    "email": _l("e-mail address"),
}
#: What a branding save changed (`portal.survey_editor.branding_operations`).
BRANDING_CHANGE_LABELS: dict[str, Any] = {
    "chain_name": _l("chain name"),
    "logo": _l("new logo"),
    "logo_removed": _l("logo removed"),
    "colour": _l("primary colour"),
}
#: What a survey entry changed (``change``): how a survey started, which draft edit.
SURVEY_CHANGE_LABELS: dict[str, Any] = {
    "copy": _l("started as a copy of the default survey"),
    "minimal": _l("started with the scoring questions only"),
    "started": _l("draft started from a published version"),
    "texts": _l("survey texts"),
    "question_added": _l("question added"),
    "question_changed": _l("question changed"),
    "question_moved": _l("question moved"),
    "question_removed": _l("question removed"),
}
DISPUTE_OUTCOME_LABELS: dict[str, Any] = {
    "upheld": _l("report upheld"),
    "adjusted": _l("report adjusted"),
}
#: The states of every workflow, by the subject the entry is about.
STATES_BY_SUBJECT: dict[str, Mapping[str, Any]] = {
    "case": CASE_STATE_LABELS,
    "mystery_visit": VISIT_STATE_LABELS,
    "award_cycle": CYCLE_STATE_LABELS,
    "award_nomination": NOMINATION_STATE_LABELS,
    "training": TRAINING_STATE_LABELS,
}

Say = Callable[[Any, str], str | None]


def _text(value: Any, subject: str) -> str | None:
    return str(value)


def _key(value: Any, subject: str) -> str | None:
    """A key the survey owner chose (a lower-case word): shown as code, not as a word."""
    return Markup("<code>{}</code>").format(value)


def _plain(value: str) -> str:
    """``value`` without the markup of `_key` (for the CSV)."""
    return Markup(value).striptags() if isinstance(value, Markup) else value


def _masked(value: Any, subject: str) -> str | None:
    return mask_personal_data(str(value))


def _yes_no(value: Any, subject: str) -> str | None:
    return str(_("yes") if value else _("no"))


def _listed(value: Any, subject: str) -> str | None:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or None
    return str(value)


def _one_of(labels: Mapping[str, Any]) -> Say:
    def say(value: Any, subject: str) -> str | None:
        # An unknown value is left out rather than shown as a key.
        label = labels.get(str(value))
        return None if label is None else str(label)

    return say


def _each_of(labels: Mapping[str, Any]) -> Say:
    def say(value: Any, subject: str) -> str | None:
        items = value if isinstance(value, list) else [value]
        return ", ".join(str(labels[i]) for i in items if i in labels) or None

    return say


def _localized(value: Any, subject: str) -> str | None:
    """A name recorded in both languages (``{"zh_CN": ..., "en": ...}``), in the page's."""
    if isinstance(value, dict):
        said = value.get(current_locale()) or value.get("en")
        return None if said is None else str(said)
    return str(value)


def _flags(value: Any, subject: str) -> str | None:
    flags = value if isinstance(value, list) else [value]
    return "; ".join(str(FLAG_LABELS[flag]) for flag in flags if flag in FLAG_LABELS) or None


def _source(value: Any, subject: str) -> str | None:
    labels = NOMINATION_SOURCE_LABELS if subject == "award_nomination" else CASE_SOURCE_LABELS
    return _one_of(labels)(value, subject)


def _score(value: Any, subject: str) -> str | None:
    if isinstance(value, list) and len(value) == 2:
        before, after = (("—" if v is None else f"{v:.1f}") for v in value)
        return f"{before} → {after}"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


@dataclass(frozen=True, slots=True)
class Detail:
    """How one details key is said: its label and how its value is put in words."""

    label: Any
    say: Say


#: Details keys shown, in the order they are shown.
DETAILS: dict[str, Detail] = {
    "store": Detail(_l("Store"), _text),
    "store_code": Detail(_l("Store"), _text),
    "staff_code": Detail(_l("Staff code"), _text),
    "code": Detail(_l("Staff code"), _text),
    "name": Detail(_l("Name"), _text),
    # A renamed region's or counter tablet's name before.
    "before": Detail(_l("Name before"), _text),
    "user": Detail(_l("User"), _text),
    "email": Detail(_l("E-mail"), _text),
    "role": Detail(_l("Role"), _one_of(ROLE_LABELS)),
    "stores": Detail(_l("Stores"), _listed),
    "assignee": Detail(_l("Assigned to"), _text),
    "label": Detail(_l("Label"), _text),
    "prefix": Detail(_l("Starts with"), _text),
    "address": Detail(_l("IP address"), _text),
    "source": Detail(_l("Source"), _source),
    "month": Detail(_l("Month"), _text),
    "resolution": Detail(_l("Resolution"), _one_of(RESOLUTION_LABELS)),
    "substantiated": Detail(_l("Complaint substantiated"), _yes_no),
    "return_visit": Detail(_l("Return visit"), _one_of(RETURN_VISIT_LABELS)),
    "call_outcome": Detail(_l("How the call went"), _one_of(PHONE_OUTCOME_LABELS)),
    "problem_solved": Detail(_l("Problem solved"), _yes_no),
    "by_email": Detail(_l("Sent by e-mail"), _yes_no),
    "by_text": Detail(_l("Sent by text message"), _yes_no),
    "text_kind": Detail(_l("Text message"), _one_of(SMS_KIND_LABELS)),
    "text_status": Detail(_l("Text message status"), _one_of(SMS_STATUS_LABELS)),
    "score": Detail(_l("Score"), _score),
    "daypart": Detail(_l("Time of day"), _one_of(DAYPART_LABELS)),
    "flags": Detail(_l("Flags"), _flags),
    "outcome": Detail(_l("Outcome"), _one_of({**OUTCOME_LABELS, **DISPUTE_OUTCOME_LABELS})),
    "named_by": Detail(_l("Found by"), _one_of(ERASE_KEY_LABELS)),
    "created": Detail(_l("Added"), _text),
    "updated": Detail(_l("Changed"), _text),
    "contact_days": Detail(_l("Contact details kept (days)"), _text),
    "comment_days": Detail(_l("Comments kept (days)"), _text),
    "contacts": Detail(_l("Contact details removed"), _text),
    "case_contacts": Detail(_l("Case contact details removed"), _text),
    "comments": Detail(_l("Comments removed"), _text),
    "answer_texts": Detail(_l("Answer texts removed"), _text),
    "case_texts": Detail(_l("Case texts removed"), _text),
    "notes": Detail(_l("Notes removed"), _text),
    "mails": Detail(_l("Mails removed"), _text),
    "texts": Detail(_l("Text messages removed"), _text),
    "scope": Detail(_l("Award scope"), _one_of(SCOPE_LABELS)),
    "min_n": Detail(_l("Minimum answers"), _text),
    "top_fraction": Detail(_l("Share recognised"), _text),
    "baseline": Detail(_l("Baseline"), _text),
    "notice_days": Detail(_l("Notice days"), _text),
    "customer_weight": Detail(_l("Weight of customer answers"), _text),
    "mystery_weight": Detail(_l("Weight of mystery visits"), _text),
    "complaints_weight": Detail(_l("Weight of complaints"), _text),
    "region": Detail(_l("Region"), _text),
    "store_format": Detail(_l("Store format"), _one_of(FORMAT_LABELS)),
    "survey": Detail(_l("Survey"), _localized),
    "starts_on": Detail(_l("First day"), _text),
    "ends_on": Detail(_l("Last day"), _text),
    "version_a": Detail(_l("Version A"), _text),
    "version_b": Detail(_l("Version B"), _text),
    "percent_b": Detail(_l("Share of version B (%)"), _text),
    "days": Detail(_l("Days"), _text),
    "receipts": Detail(_l("Receipts"), _text),
    "responses": Detail(_l("Answers"), _text),
    "version_number": Detail(_l("Version"), _text),
    "draft_replaced": Detail(_l("Draft replaced"), _yes_no),
    "branding_changed": Detail(_l("Changed"), _each_of(BRANDING_CHANGE_LABELS)),
    # Upper case: the letters of a hexadecimal colour are not words of either language.
    "colour": Detail(_l("Primary colour"), lambda value, subject: str(value).upper() or None),
    "change": Detail(_l("Change"), _one_of(SURVEY_CHANGE_LABELS)),
    "question": Detail(_l("Question"), _key),
    "version": Detail(_l("Version"), _text),
    "scoring_series": Detail(_l("Scoring series"), _text),
    "cards": Detail(_l("Cards"), _text),
    "purpose": Detail(_l("Cards for"), _one_of(PURPOSE_LABELS)),
    "language": Detail(_l("Language of the cards"), _one_of(LANGUAGE_LABELS)),
    "short_code": Detail(_l("Card code"), _text),
    "drawn_for_check": Detail(_l("Drawn for a second keying"), _yes_no),
    "check": Detail(_l("Second keying"), _one_of(CHECK_LABELS)),
    "kept": Detail(_l("Decision"), _one_of(KEPT_LABELS)),
    "note": Detail(_l("Note"), _masked),
    "reason": Detail(_l("Reason"), _masked),
    "topic": Detail(_l("Topic of the training"), _text),
    "trained_on": Detail(_l("Day of the training"), _text),
}


@dataclass(frozen=True, slots=True)
class DetailLine:
    label: str
    value: str


def action_label(action: str) -> str:
    """The name of ``action`` in the page's language (the key itself only for an action
    no code writes any more, e.g. from an older version)."""
    label = ACTION_LABELS.get(action)
    return action if label is None else str(label)


def actor_label(actor: str) -> str:
    """Who acted: a user's e-mail, or the name of the CLI, the portal or a shopper."""
    if actor.startswith("user:"):
        return actor.removeprefix("user:")
    label = ACTOR_LABELS.get(actor)
    return actor if label is None else str(label)


def subject_label(subject_type: str, subject_id: str) -> str:
    """What the entry is about: "Case 12", "Store SH-001"; the type alone for an entry
    about no one row."""
    label = SUBJECT_LABELS.get(subject_type)
    name = subject_type if label is None else str(label)
    if subject_type in KEY_SUBJECTS:
        return Markup("{} <code>{}</code>").format(name, subject_id)
    if subject_id in ("", "-", "*") or subject_type in ("login", "demo"):
        # A failed sign-in's subject is the address typed: the details say it. The demo's
        # is its source key, which names nothing a reader could look up.
        return name
    return f"{name} {subject_id}"


def describe_details(subject_type: str, details: Mapping[str, Any]) -> list[DetailLine]:
    """The entry's details in words, in `DETAILS` order; the state change first."""
    lines: list[DetailLine] = []
    states = STATES_BY_SUBJECT.get(subject_type, {})
    before, after = details.get("from_state"), details.get("to_state")
    if before and after and before in states and after in states:
        lines.append(DetailLine(_("State"), f"{states[before]} → {states[after]}"))
    for key, detail in DETAILS.items():
        value = details.get(key)
        if value is None or value == "" or value == []:
            continue
        said = detail.say(value, subject_type)
        if said:
            lines.append(DetailLine(str(detail.label), said))
    return lines


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One entry as the page and the CSV say it."""

    id: int
    at: datetime
    who: str
    what: str
    subject: str
    store: StoreRef | None
    details: list[DetailLine]

    @property
    def store_text(self) -> str:
        return "" if self.store is None else f"{self.store.code} {self.store.name}"

    @property
    def subject_text(self) -> str:
        return _plain(self.subject)

    @property
    def details_text(self) -> str:
        return "; ".join(f"{line.label}: {_plain(line.value)}" for line in self.details)


def audit_rows(entries: Sequence[AuditEntry], stores: Mapping[int, StoreRef]) -> list[AuditRow]:
    """``entries`` in words (in the language of the request), with their stores."""
    return [
        AuditRow(
            id=entry.id,
            at=entry.at,
            who=actor_label(entry.actor),
            what=action_label(entry.action),
            subject=subject_label(entry.subject_type, entry.subject_id),
            store=stores.get(entry.id),
            details=describe_details(entry.subject_type, entry.details or {}),
        )
        for entry in entries
    ]
