"""Which survey version a receipt asks: decided once, when the receipt is issued.

Targeting rules (`portal.models.TargetRule`) name a survey for one store, a region, a
store format or the whole chain, optionally for some dates and optionally split between
two versions (an A/B test). The most specific rule that applies wins; a store no rule
names gets the default survey. A POS may also name a survey for a receipt. The rules'
logic is plain data in `surveys.targeting`; this module reads them from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from portal.errors import DomainError
from portal.models import (
    DEFAULT_SURVEY_KEY,
    Region,
    Store,
    StoreFormat,
    Survey,
    SurveyVersion,
    TargetRule,
)
from portal.versions import latest_version
from surveys.targeting import Catalogue, Rule, Split, StoreFacts, winning_rule


class UnknownSurvey(DomainError):
    status = 422
    code = "unknown_survey"


def as_rule(row: TargetRule) -> Rule:
    """A stored rule as plain data."""
    split = None
    if row.version_a_id is not None and row.version_b_id is not None:
        split = Split(row.version_a_id, row.version_b_id, row.percent_b)
    return Rule(
        id=row.id,
        survey_id=row.survey_id,
        store_id=row.store_id,
        region=row.region or None,
        store_format=row.store_format or None,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        split=split,
    )


def store_facts(store: Store) -> StoreFacts:
    return StoreFacts(
        id=store.id,
        code=store.code,
        region=store.region,
        format=store.format,
        open=store.closed_at is None,
    )


#: The columns `rules_in_force` reads, in the order it unpacks them.
_RULE_COLUMNS = (
    TargetRule.id,
    TargetRule.survey_id,
    TargetRule.store_id,
    TargetRule.region,
    TargetRule.store_format,
    TargetRule.starts_on,
    TargetRule.ends_on,
    TargetRule.version_a_id,
    TargetRule.version_b_id,
    TargetRule.percent_b,
)


@cache
def _rules_in_force_stmt() -> Select[Any]:
    # Built once: a receipt pays only for executing it. A rule's region or format is never
    # "" (saved as NULL), so a store without one matches no region or format rule.
    return select(*_RULE_COLUMNS).where(
        or_(
            TargetRule.store_id == bindparam("store_id"),
            TargetRule.region == bindparam("region"),
            TargetRule.store_format == bindparam("store_format"),
            and_(
                TargetRule.store_id.is_(None),
                TargetRule.region.is_(None),
                TargetRule.store_format.is_(None),
            ),
        ),
        or_(TargetRule.starts_on.is_(None), TargetRule.starts_on <= bindparam("day")),
        or_(TargetRule.ends_on.is_(None), TargetRule.ends_on >= bindparam("day")),
    )


def rules_in_force(session: Session, store: Store, day: date) -> list[Rule]:
    """The rules that apply to ``store`` on ``day`` (store-local): one small query, of
    columns rather than ORM rows (it runs for every receipt a till prints)."""
    rows = session.execute(
        _rules_in_force_stmt(),
        {"store_id": store.id, "region": store.region, "store_format": store.format, "day": day},
    )
    rules = []
    for rule_id, survey_id, store_id, region, fmt, starts, ends, a, b, percent in rows:
        split = None if a is None or b is None else Split(a, b, percent)
        rules.append(
            Rule(rule_id, survey_id, store_id, region or None, fmt or None, starts, ends, split)
        )
    return rules


def named_survey_version(session: Session, survey_key: str) -> SurveyVersion:
    """The latest published version of the survey a POS names.

    Raises
    ------
    UnknownSurvey
        No survey has this key, or it has no published version yet.
    """
    survey = session.scalar(select(Survey).where(Survey.key == survey_key))
    version = None if survey is None else latest_version(session, survey.id)
    if version is None:
        raise UnknownSurvey(
            f"No survey with key {survey_key!r} has a published version.", field="survey"
        )
    return version


@cache
def _latest_version_stmt(default: bool) -> Select[tuple[int]]:
    # Built once, like the rules' statement: it runs for every receipt.
    stmt = select(SurveyVersion.id).order_by(SurveyVersion.number.desc()).limit(1)
    if default:
        return stmt.join(Survey, Survey.id == SurveyVersion.survey_id).where(
            Survey.key == DEFAULT_SURVEY_KEY
        )
    return stmt.where(SurveyVersion.survey_id == bindparam("survey_id"))


def _latest_version_id(session: Session, survey_id: int | None) -> int | None:
    """The latest version of the survey ``survey_id``, of the default survey for None."""
    if survey_id is None:
        found: int | None = session.scalar(_latest_version_stmt(True))
    else:
        found = session.scalar(_latest_version_stmt(False), {"survey_id": survey_id})
    return found


def version_id_for_receipt(
    session: Session,
    store: Store,
    day: date,
    token_id: str,
    *,
    named: SurveyVersion | None = None,
) -> int:
    """The id of the published version a new receipt of ``store`` issued on ``day``
    (store-local) asks: what `issue_receipt` stores. Two small queries at most, one for
    an A/B split.

    The winning rule's survey: its latest version, or for an A/B split version A or B by
    the receipt's token id (`surveys.targeting.takes_b`). No rule: the default survey. A
    survey the POS names (``named``, its latest version) replaces the rules' survey; if
    the winning rule splits that same survey, the receipt still takes part in the split,
    so that tills naming the survey do not bias the test.

    Parameters
    ----------
    token_id : str
        The receipt's random token id: the split assigns by it, so that the same receipt
        always gets the same version.
    named : SurveyVersion, optional
        `named_survey_version` of the survey the POS names.
    """
    rule = winning_rule(rules_in_force(session, store, day), store_facts(store), day)
    if named is not None and (rule is None or rule.survey_id != named.survey_id):
        return named.id
    if rule is not None and rule.split is not None:
        # Saving the rule checked that both are published versions of its survey, and
        # versions are never deleted.
        return rule.split.version_for(token_id)
    found = _latest_version_id(session, None if rule is None else rule.survey_id)
    if found is None:
        # Saving the rule checked that its survey has a version; should that ever be
        # untrue, the till still gets a receipt, with the default survey.
        found = _latest_version_id(session, None)
    assert found is not None, "migration 0011 publishes version 1 of the default survey"
    return found


def version_for_receipt(
    session: Session, store: Store, day: date, token_id: str, survey_key: str | None = None
) -> SurveyVersion:
    """The published version a new receipt of ``store`` issued on ``day`` (store-local)
    asks (`version_id_for_receipt`), ``survey_key`` naming a survey as a POS may.

    Raises
    ------
    UnknownSurvey
        ``survey_key`` names no survey with a published version.
    """
    named = None if survey_key is None else named_survey_version(session, survey_key)
    version_id = version_id_for_receipt(session, store, day, token_id, named=named)
    return session.get_one(SurveyVersion, version_id)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything a rule set is checked against: the rules, every store, the catalogue."""

    rules: tuple[Rule, ...]
    stores: tuple[StoreFacts, ...]
    catalogue: Catalogue


def load_rule_set(session: Session) -> RuleSet:
    """The saved rules (by id), every store, and what a rule may name."""
    rules = tuple(as_rule(r) for r in session.scalars(select(TargetRule).order_by(TargetRule.id)))
    stores = tuple(store_facts(s) for s in session.scalars(select(Store).order_by(Store.code)))
    versions = session.execute(
        select(SurveyVersion.id, SurveyVersion.survey_id).where(
            SurveyVersion.survey_id.is_not(None)
        )
    ).tuples()
    regions = set(session.scalars(select(Region.name)))
    # Regions a store still carries are known too, even if the list lost them.
    regions |= {s.region for s in stores if s.region}
    return RuleSet(
        rules=rules,
        stores=stores,
        catalogue=Catalogue(
            version_surveys={v: s for v, s in versions if s is not None},
            regions=frozenset(regions),
            formats=frozenset(StoreFormat),
        ),
    )
