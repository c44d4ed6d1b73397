"""Saving targeting rules: every create, edit and delete checks the whole resulting rule
set (`surveys.targeting.rule_set_problems`) and writes nothing when it is refused, so that
every open store always has exactly one survey.

Changes are serialised: on PostgreSQL by an advisory lock held to the commit, on SQLite by
the write lock a POST's transaction takes when it begins. Two owners saving rules that
would tie only together are therefore checked one after the other, and the second is
refused. An edit or delete names the rule as the page showed it (`fingerprint`): a rule
changed or deleted meanwhile is refused rather than overwritten.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.errors import Conflict, DomainError, NotFound
from portal.i18n import current_locale
from portal.models import TargetRule
from portal.survey_editor.targeting_queries import Names, SurveyOption, load_names
from portal.survey_editor.targeting_words import RuleWords
from portal.targeting import RuleSet, load_rule_set
from surveys.targeting import Problem, Rule, rule_set_problems

#: The key of the PostgreSQL advisory lock that serialises rule changes ("TARGETNG").
RULES_LOCK_KEY = 0x5441_5247_4554_4E47


class RuleRefused(DomainError):
    """The rule set a change would leave is not accepted: ``messages`` says every reason."""

    status = 422
    code = "rule_refused"

    def __init__(self, messages: list[str], *, field: str | None = None) -> None:
        super().__init__(" ".join(messages), field=field)
        self.messages = messages


class StaleRule(Conflict):
    code = "stale_rule"


def fingerprint(rule: Rule) -> str:
    """What the page showed of a rule: any change to it changes this."""
    return hashlib.sha256(repr(rule).encode("utf-8")).hexdigest()[:16]


def _lock_rules(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RULES_LOCK_KEY})


def _check(before: RuleSet, rules: tuple[Rule, ...], changed: Rule | None, names: Names) -> None:
    """Refuse ``rules`` if it has a problem the saved set did not have, or one of the
    changed rule. (A store closed or a region renamed since may leave a saved rule at
    fault: that rule is flagged on the list, and does not block unrelated changes.)"""
    old = set(rule_set_problems(before.rules, before.stores, before.catalogue))
    found = rule_set_problems(rules, before.stores, before.catalogue)
    # A new rule's problems are all new; a saved rule's are blocking even if it had them.
    changed_id = None if changed is None else changed.id
    blocking: list[Problem] = [
        p for p in found if p not in old or (changed_id is not None and p.involves(changed_id))
    ]
    if not blocking:
        return
    words = RuleWords(
        names,
        current_locale(),
        rules={r.id: r for r in rules if r.id is not None},
        current=changed,
    )
    raise RuleRefused([words.problem(p) for p in blocking], field=blocking[0].field)


def _stored(rule_set: RuleSet, rule_id: int, seen: str) -> Rule:
    current = next((r for r in rule_set.rules if r.id == rule_id), None)
    if current is None:
        raise NotFound(_("This targeting rule no longer exists: someone deleted it."))
    if fingerprint(current) != seen:
        raise StaleRule(
            _(
                "Someone changed this rule meanwhile; it is shown as it is now. "
                "Check it and save again."
            )
        )
    return current


def _write(row: TargetRule, rule: Rule) -> None:
    row.survey_id = rule.survey_id
    row.store_id = rule.store_id
    row.region = rule.region
    row.store_format = rule.store_format
    row.starts_on = rule.starts_on
    row.ends_on = rule.ends_on
    split = rule.split
    row.version_a_id = None if split is None else split.version_a_id
    row.version_b_id = None if split is None else split.version_b_id
    row.percent_b = 0 if split is None else split.percent_b


def _details(rule: Rule, names: Names) -> dict[str, Any]:
    """The audit entry's details: what the rule says, by codes and numbers."""
    store = names.stores.get(rule.store_id or 0)
    survey = names.surveys.get(rule.survey_id)
    details: dict[str, Any] = {
        "store": None if store is None else store.code,
        "region": rule.region,
        "store_format": rule.store_format,
        # The survey by its title then, in both languages (said in the reader's).
        "survey": None if survey is None else _titles(survey),
        "survey_key": None if survey is None else survey.key,
        "starts_on": None if rule.starts_on is None else rule.starts_on.isoformat(),
        "ends_on": None if rule.ends_on is None else rule.ends_on.isoformat(),
    }
    if rule.split is not None:
        versions = names.versions
        a, b = versions.get(rule.split.version_a_id), versions.get(rule.split.version_b_id)
        details["version_a"] = None if a is None else a.number
        details["version_b"] = None if b is None else b.number
        details["percent_b"] = rule.split.percent_b
    return {key: value for key, value in details.items() if value is not None}


def _titles(survey: SurveyOption) -> dict[str, str]:
    if survey.title is None:
        return {"zh_CN": survey.key, "en": survey.key}
    return {"zh_CN": survey.title.zh_CN, "en": survey.title.en}


def create_target_rule(session: Session, rule: Rule, *, actor: Actor, now: datetime) -> TargetRule:
    """Add ``rule`` (its id None) and audit it.

    Raises
    ------
    RuleRefused
        The rule set with it would have a problem (a tie, a closed store, dates...).
    """
    _lock_rules(session)
    before = load_rule_set(session)
    names = load_names(session)
    _check(before, (*before.rules, rule), rule, names)
    row = TargetRule(created_at=now, created_by_user_id=actor.user_id)
    _write(row, rule)
    session.add(row)
    session.flush()
    record_audit(
        session, actor, "target_rule.created", "target_rule", row.id, now, **_details(rule, names)
    )
    return row


def update_target_rule(
    session: Session, rule: Rule, *, seen: str, actor: Actor, now: datetime
) -> TargetRule:
    """Replace the saved rule ``rule.id`` by ``rule``, if it is still as ``seen``.

    Raises
    ------
    NotFound
        The rule was deleted meanwhile.
    StaleRule
        The rule changed since the page showed it.
    RuleRefused
    """
    assert rule.id is not None
    _lock_rules(session)
    before = load_rule_set(session)
    _stored(before, rule.id, seen)
    names = load_names(session)
    rules = tuple(rule if r.id == rule.id else r for r in before.rules)
    _check(before, rules, rule, names)
    row = session.get(TargetRule, rule.id)
    assert row is not None
    _write(row, rule)
    session.flush()
    record_audit(
        session, actor, "target_rule.updated", "target_rule", row.id, now, **_details(rule, names)
    )
    return row


def delete_target_rule(
    session: Session, rule_id: int, *, seen: str, actor: Actor, now: datetime
) -> None:
    """Delete a rule if it is still as ``seen``; its stores fall to the next rule in
    precedence or to the default survey. (Removing a rule never creates a tie.)

    Raises
    ------
    NotFound, StaleRule, RuleRefused
    """
    _lock_rules(session)
    before = load_rule_set(session)
    current = _stored(before, rule_id, seen)
    names = load_names(session)
    _check(before, tuple(r for r in before.rules if r.id != rule_id), None, names)
    row = session.get(TargetRule, rule_id)
    assert row is not None
    session.delete(row)
    session.flush()
    record_audit(
        session,
        actor,
        "target_rule.deleted",
        "target_rule",
        rule_id,
        now,
        **_details(current, names),
    )
