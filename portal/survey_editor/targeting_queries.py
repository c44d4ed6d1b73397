"""What the targeting pages read: the surveys and versions a rule may name, the stores and
regions, the saved rules, and the coverage table (which survey each open store's receipts
get on a day, and by which rule)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.calendar import local_today
from portal.models import DEFAULT_SURVEY_KEY, Region, Store, Survey, SurveyVersion, TargetRule, User
from portal.survey_editor.queries import document_title
from portal.targeting import RuleSet, as_rule, load_rule_set
from surveys.definitions import LocalizedText
from surveys.targeting import Problem, Rule, rule_set_problems, winning_rule


@dataclass(frozen=True, slots=True)
class VersionOption:
    id: int
    survey_id: int
    number: int
    published_at: datetime


@dataclass(frozen=True, slots=True)
class SurveyOption:
    id: int
    key: str
    #: The latest version's title (the draft's before the first), None when it has none.
    title: LocalizedText | None
    #: Published versions, the newest first.
    versions: tuple[VersionOption, ...]

    def name(self, locale: str) -> str:
        return self.title.get(locale) if self.title is not None else self.key

    @property
    def latest(self) -> VersionOption | None:
        return self.versions[0] if self.versions else None


@dataclass(frozen=True, slots=True)
class StoreOption:
    id: int
    code: str
    name: str
    timezone: str
    open: bool


@dataclass(frozen=True, slots=True)
class Names:
    """What rules refer to by id, to say them in words and to fill the form's choices."""

    surveys: Mapping[int, SurveyOption]
    versions: Mapping[int, VersionOption]
    stores: Mapping[int, StoreOption]
    regions: tuple[str, ...]
    default_survey_id: int

    def survey_by_key(self, key: str) -> SurveyOption | None:
        return next((s for s in self.surveys.values() if s.key == key), None)

    def store_by_code(self, code: str) -> StoreOption | None:
        return next((s for s in self.stores.values() if s.code == code), None)


def load_names(session: Session) -> Names:
    """Every survey with its published versions, every store, the regions."""
    versions: dict[int, list[VersionOption]] = {}
    titles: dict[int, LocalizedText | None] = {}
    rows = session.execute(
        select(SurveyVersion)
        .where(SurveyVersion.survey_id.is_not(None))
        .order_by(SurveyVersion.survey_id, SurveyVersion.number.desc())
    ).scalars()
    for row in rows:
        assert row.survey_id is not None and row.number is not None
        if row.survey_id not in titles:
            titles[row.survey_id] = document_title(row.definition)
        option = VersionOption(row.id, row.survey_id, row.number, row.published_at)
        versions.setdefault(row.survey_id, []).append(option)
    surveys = {}
    default_id = 0
    for survey in session.scalars(select(Survey).order_by(Survey.id)):
        title = titles.get(survey.id) or document_title(survey.draft)
        surveys[survey.id] = SurveyOption(
            survey.id, survey.key, title, tuple(versions.get(survey.id, ()))
        )
        if survey.key == DEFAULT_SURVEY_KEY:
            default_id = survey.id
    stores = {
        s.id: StoreOption(s.id, s.code, s.name, s.timezone, s.closed_at is None)
        for s in session.scalars(select(Store).order_by(Store.code))
    }
    regions = set(session.scalars(select(Region.name)))
    regions |= set(session.scalars(select(Store.region).where(Store.region != "").distinct()))
    return Names(
        surveys=surveys,
        versions={v.id: v for vs in versions.values() for v in vs},
        stores=stores,
        regions=tuple(sorted(regions)),
        default_survey_id=default_id,
    )


@dataclass(frozen=True, slots=True)
class RuleRow:
    """One line of the rule list."""

    rule: Rule
    created_at: datetime
    created_by: str | None


def list_rules(session: Session) -> list[RuleRow]:
    """Every saved rule, the most specific scope first, then by first day and id."""
    rows = session.execute(
        select(TargetRule, User.name, User.email)
        .outerjoin(User, User.id == TargetRule.created_by_user_id)
        .order_by(TargetRule.id)
    ).all()
    found = [RuleRow(as_rule(r), r.created_at, name or email) for r, name, email in rows]
    return sorted(found, key=lambda row: (row.rule.rank, row.rule.starts_on or date.min))


def current_problems(rule_set: RuleSet) -> list[Problem]:
    """What is wrong with the saved rules now (a store closed, a region gone since)."""
    return rule_set_problems(rule_set.rules, rule_set.stores, rule_set.catalogue)


@dataclass(frozen=True, slots=True)
class Share:
    """A version a store's receipts get, and the share of them that get it (percent)."""

    version: VersionOption | None
    percent: int


@dataclass(frozen=True, slots=True)
class CoverageRow:
    store: StoreOption
    day: date
    #: The rule that decides, None for the default survey.
    rule: Rule | None
    survey: SurveyOption
    shares: tuple[Share, ...]


def coverage(
    session: Session, names: Names, *, now: datetime, on: date | None = None
) -> list[CoverageRow]:
    """For each open store: the survey and version(s) its receipts get on ``on`` (each
    store's own today when None), and the rule that decides it."""
    rule_set = load_rule_set(session)
    rows = []
    for facts in rule_set.stores:
        if not facts.open:
            continue
        store = names.stores[facts.id]
        day = on or local_today(store.timezone, now)
        rule = winning_rule(rule_set.rules, facts, day)
        survey = names.surveys[names.default_survey_id if rule is None else rule.survey_id]
        if rule is not None and rule.split is not None:
            split = rule.split
            shares: tuple[Share, ...] = (
                Share(names.versions.get(split.version_a_id), 100 - split.percent_b),
                Share(names.versions.get(split.version_b_id), split.percent_b),
            )
        else:
            shares = (Share(survey.latest, 100),)
        rows.append(CoverageRow(store, day, rule, survey, shares))
    return rows
