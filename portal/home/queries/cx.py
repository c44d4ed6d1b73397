"""A survey owner's home (the cx role): drafts waiting to be published, the A/B tests
running today, and the targeting rules that end within a week.

A handful of small reads (surveys with a draft, the rules); the day is the chain's today
(`portal.calendar.chain_today`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.calendar import chain_today, local_today
from portal.i18n import current_locale
from portal.models import Survey, TargetRule, User
from portal.survey_editor.targeting_queries import SurveyOption, load_names
from portal.survey_editor.targeting_words import RuleWords
from portal.targeting import as_rule
from surveys.targeting import Rule

#: Rules whose last day is at most this many days after today are listed.
ENDING_DAYS = 7


@dataclass(frozen=True, slots=True)
class DraftItem:
    survey: SurveyOption
    saved_at: datetime | None
    saved_by: str | None


@dataclass(frozen=True, slots=True)
class RuleItem:
    rule: Rule
    #: The A/B test's first day: the rule's, else the day it was added.
    since: date
    #: Days left after today (0: it ends today), for rules with an end.
    days_left: int | None


@dataclass(frozen=True, slots=True)
class CxHome:
    today: date
    drafts: tuple[DraftItem, ...]
    tests: tuple[RuleItem, ...]
    ending: tuple[RuleItem, ...]
    #: Says the rules in the page's language.
    words: RuleWords

    @property
    def nothing_waiting(self) -> bool:
        return not (self.drafts or self.tests or self.ending)


def cx_home(session: Session, user: User, now: datetime) -> CxHome:
    """The survey work waiting at ``now`` (every survey owner sees the same)."""
    today = chain_today(session, now)
    names = load_names(session)
    # Tested in Python: a published draft may be stored as JSON null rather than NULL.
    drafts = tuple(
        DraftItem(names.surveys[survey.id], survey.draft_updated_at, name or email)
        for survey, name, email in session.execute(
            select(Survey, User.name, User.email)
            .outerjoin(User, User.id == Survey.draft_updated_by_user_id)
            .order_by(Survey.draft_updated_at.desc().nulls_last(), Survey.id)
        )
        if survey.draft is not None
    )
    items = []
    for row in session.scalars(select(TargetRule).order_by(TargetRule.id)):
        rule = as_rule(row)
        left = None if rule.ends_on is None else (rule.ends_on - today).days
        added = local_today(None, row.created_at)  # the chain's calendar day it was added
        items.append(RuleItem(rule, rule.starts_on or added, left))
    tests = tuple(i for i in items if i.rule.split is not None and i.rule.in_force_on(today))
    ending = tuple(
        sorted(
            (i for i in items if i.days_left is not None and 0 <= i.days_left <= ENDING_DAYS),
            key=lambda i: (i.days_left, i.rule.id),
        )
    )
    rules = {i.rule.id: i.rule for i in items if i.rule.id is not None}
    return CxHome(
        today=today,
        drafts=drafts,
        tests=tests,
        ending=ending,
        words=RuleWords(names, current_locale(), rules=rules),
    )
