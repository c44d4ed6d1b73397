"""Targeting rules as plain data: which rule decides a store's survey on a day, how an A/B
split assigns a receipt, and what makes a set of rules unacceptable.

A rule names a survey for one store, a region, a store format or (none of the three) the
whole chain, optionally for a range of store-local days, and either the survey's latest
published version or a split of two of its versions. Of the rules that apply to a store
on a day, the most specific scope wins (store, then region, then format, then chain) and,
at the same scope, a rule with dates beats one without; together these are the rule's
*rank*. A rule set is accepted only when no two rules of the same rank can ever apply to
the same store on the same day with different outcomes, so the winner is never a tie.

The portal reads the rules from the database (`portal.targeting`); nothing here knows
about Flask or SQLAlchemy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Scope(StrEnum):
    """What a rule's stores are: one store, a region, a store format, or every store."""

    STORE = "store"
    REGION = "region"
    FORMAT = "format"
    CHAIN = "chain"


#: Scopes from the most specific to the least: the earlier wins.
SCOPE_ORDER = (Scope.STORE, Scope.REGION, Scope.FORMAT, Scope.CHAIN)
#: The bounds of an A/B split's share of B, in percent (0 and 100 are not a test).
PERCENT_B_MIN, PERCENT_B_MAX = 1, 99
#: Buckets a receipt is hashed into: one per percent of the split.
BUCKETS = 100


@dataclass(frozen=True, slots=True)
class Split:
    """An A/B test: ``percent_b`` % of the receipts get version B, the rest version A."""

    version_a_id: int
    version_b_id: int
    percent_b: int

    def version_for(self, token_id: str) -> int:
        """The version a receipt with this random token id gets (see `takes_b`)."""
        return self.version_b_id if takes_b(token_id, self.percent_b) else self.version_a_id


@dataclass(frozen=True, slots=True)
class StoreFacts:
    """What targeting needs to know about a store."""

    id: int
    code: str
    #: "" when the store has no region or no format.
    region: str
    format: str
    open: bool = True


@dataclass(frozen=True, slots=True)
class Rule:
    """One targeting rule. ``id`` is None for a rule not saved yet.

    At most one of ``store_id``, ``region`` and ``store_format`` is set (none: the whole
    chain); dates are store-local and inclusive, None meaning open-ended; ``split`` None
    means the survey's latest published version.
    """

    id: int | None
    survey_id: int
    store_id: int | None = None
    region: str | None = None
    store_format: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    split: Split | None = None

    @property
    def scope(self) -> Scope:
        if self.store_id is not None:
            return Scope.STORE
        if self.region is not None:
            return Scope.REGION
        if self.store_format is not None:
            return Scope.FORMAT
        return Scope.CHAIN

    @property
    def scope_value(self) -> int | str | None:
        """The store id, region or format the rule names (None for the chain)."""
        if self.store_id is not None:
            return self.store_id
        return self.region if self.region is not None else self.store_format

    @property
    def dated(self) -> bool:
        return self.starts_on is not None or self.ends_on is not None

    @property
    def rank(self) -> int:
        """0 for a dated store rule ... 7 for an undated chain rule: the lower wins."""
        return 2 * SCOPE_ORDER.index(self.scope) + (0 if self.dated else 1)

    @property
    def outcome(self) -> tuple[int, Split | None]:
        """What the rule decides: two rules with equal outcomes may overlap harmlessly."""
        return self.survey_id, self.split

    def in_force_on(self, day: date) -> bool:
        return (self.starts_on is None or self.starts_on <= day) and (
            self.ends_on is None or day <= self.ends_on
        )

    def reaches(self, store: StoreFacts) -> bool:
        """Whether the rule's scope includes ``store`` (whatever the day)."""
        scope = self.scope
        if scope is Scope.STORE:
            return self.store_id == store.id
        if scope is Scope.REGION:
            return bool(store.region) and self.region == store.region
        if scope is Scope.FORMAT:
            return bool(store.format) and self.store_format == store.format
        return True


def split_bucket(token_id: str) -> int:
    """The bucket, 0-99, of a receipt's random token id.

    The first eight bytes of SHA-256(token id), read as an unsigned big-endian integer,
    modulo 100. Token ids carry 96 random bits, so buckets are uniform (the modulo's bias
    is below 1e-17) and independent of the store, the day and the till; the same receipt
    always falls in the same bucket.

    Parameters
    ----------
    token_id : str
        The receipt's random token id (`surveys.tokens.new_token_id`).

    Returns
    -------
    int
        A number from 0 to 99.
    """
    digest = hashlib.sha256(token_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def takes_b(token_id: str, percent_b: int) -> bool:
    """Whether the receipt gets version B of a split giving B to ``percent_b`` % of them:
    ``split_bucket(token_id) < percent_b``."""
    return split_bucket(token_id) < percent_b


def winning_rule(rules: Iterable[Rule], store: StoreFacts, day: date) -> Rule | None:
    """The rule that decides ``store``'s survey on ``day`` (store-local), None when none
    applies (the store gets the default survey).

    The lowest `Rule.rank` wins. In an accepted rule set (`rule_set_problems` is empty) the
    rules sharing that rank all have the same outcome; the lowest id is taken so that even
    an unchecked set resolves the same way every time.
    """
    best: Rule | None = None
    for rule in rules:
        if not (rule.in_force_on(day) and rule.reaches(store)):
            continue
        if best is None or (rule.rank, rule.id or 0) < (best.rank, best.id or 0):
            best = rule
    return best


def top_outcomes(
    rules: Iterable[Rule], store: StoreFacts, day: date
) -> set[tuple[int, Split | None]]:
    """The distinct outcomes of the applicable rules of the winning rank: more than one
    is an ambiguous tie (what `rule_set_problems` refuses)."""
    applicable = [r for r in rules if r.in_force_on(day) and r.reaches(store)]
    if not applicable:
        return set()
    top = min(r.rank for r in applicable)
    return {r.outcome for r in applicable if r.rank == top}


class ProblemKind(StrEnum):
    #: Two rules of the same rank overlap for some stores and days with different outcomes.
    TIE = "tie"
    #: More than one of store, region and format is set.
    SCOPE = "scope"
    INVERTED_DATES = "inverted_dates"
    UNKNOWN_STORE = "unknown_store"
    CLOSED_STORE = "closed_store"
    UNKNOWN_REGION = "unknown_region"
    UNKNOWN_FORMAT = "unknown_format"
    #: A rule without a split names a survey with no published version.
    UNPUBLISHED_SURVEY = "unpublished_survey"
    PERCENT_B = "percent_b"
    #: A split's version is not a published version of the rule's survey.
    FOREIGN_VERSION = "foreign_version"
    SAME_VERSIONS = "same_versions"


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a rule set is refused, as data (the portal puts it in words).

    ``field`` names the rule's input at fault (``ends_on``, ``version_b``...), for a form.
    For a `ProblemKind.TIE`: the other rule, the open stores affected (ids) and the first
    and last day of the overlap (None: open-ended).
    """

    kind: ProblemKind
    rule_id: int | None
    field: str | None = None
    other_rule_id: int | None = None
    store_ids: tuple[int, ...] = ()
    first_day: date | None = None
    last_day: date | None = None

    def involves(self, rule_id: int) -> bool:
        """Whether the problem names the saved rule ``rule_id``."""
        return rule_id in (self.rule_id, self.other_rule_id)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What a rule may name: published versions (version id -> its survey's id), regions
    and store formats."""

    version_surveys: Mapping[int, int]
    regions: frozenset[str]
    formats: frozenset[str]
    published_surveys: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "published_surveys", frozenset(self.version_surveys.values()))


def rule_set_problems(
    rules: Sequence[Rule], stores: Sequence[StoreFacts], catalogue: Catalogue
) -> list[Problem]:
    """Everything wrong with a whole rule set; empty when it is accepted.

    Each rule must name one scope that exists (an open store, a known region or format),
    dates in order, and a survey with a published version; a split two different published
    versions of that survey and a share of B from 1 to 99 %. And no two rules of the same
    rank (scope kind, dated or not) may name the same scope on an overlapping day with
    different outcomes. That holds per scope, whether or not an open store is in it today,
    so that opening a store or moving it to another region never creates a tie.

    Parameters
    ----------
    rules : sequence of Rule
        The whole set as it would be saved.
    stores : sequence of StoreFacts
        Every store, open and closed.
    catalogue : Catalogue
        The published versions, regions and formats.

    Returns
    -------
    list of Problem
        In rule order, then the ties.
    """
    by_id = {s.id: s for s in stores}
    problems = [p for rule in rules for p in _rule_problems(rule, by_id, catalogue)]
    return problems + _ties(rules, [s for s in stores if s.open])


def _rule_problems(
    rule: Rule, stores: Mapping[int, StoreFacts], catalogue: Catalogue
) -> list[Problem]:
    found: list[Problem] = []

    def add(kind: ProblemKind, field: str | None) -> None:
        found.append(Problem(kind, rule.id, field))

    named = [v for v in (rule.store_id, rule.region, rule.store_format) if v is not None]
    if len(named) > 1:
        add(ProblemKind.SCOPE, "scope")
    if rule.store_id is not None:
        store = stores.get(rule.store_id)
        if store is None:
            add(ProblemKind.UNKNOWN_STORE, "store")
        elif not store.open:
            add(ProblemKind.CLOSED_STORE, "store")
    if rule.region is not None and rule.region not in catalogue.regions:
        add(ProblemKind.UNKNOWN_REGION, "region")
    if rule.store_format is not None and rule.store_format not in catalogue.formats:
        add(ProblemKind.UNKNOWN_FORMAT, "store_format")
    if _inverted(rule):
        add(ProblemKind.INVERTED_DATES, "ends_on")
    split = rule.split
    if split is None:
        if rule.survey_id not in catalogue.published_surveys:
            add(ProblemKind.UNPUBLISHED_SURVEY, "survey")
        return found
    for name, version_id in (("version_a", split.version_a_id), ("version_b", split.version_b_id)):
        if catalogue.version_surveys.get(version_id) != rule.survey_id:
            add(ProblemKind.FOREIGN_VERSION, name)
    if split.version_a_id == split.version_b_id:
        add(ProblemKind.SAME_VERSIONS, "version_b")
    if not PERCENT_B_MIN <= split.percent_b <= PERCENT_B_MAX:
        add(ProblemKind.PERCENT_B, "percent_b")
    return found


def _ties(rules: Sequence[Rule], open_stores: Sequence[StoreFacts]) -> list[Problem]:
    # Two rules can only tie when they share a rank and name the same scope: a store is in
    # one region and has one format, so rules naming different ones never meet.
    groups: dict[tuple[int, Scope, int | str | None], list[Rule]] = {}
    for rule in rules:
        groups.setdefault((rule.rank, rule.scope, rule.scope_value), []).append(rule)
    found = []
    for group in groups.values():
        for i, first in enumerate(group):
            for second in group[i + 1 :]:
                if first.outcome == second.outcome:
                    continue
                overlap = _overlap(first, second)
                if overlap is None:
                    continue
                affected = tuple(s.id for s in open_stores if first.reaches(s))
                found.append(
                    Problem(
                        ProblemKind.TIE,
                        second.id,
                        "scope",
                        other_rule_id=first.id,
                        store_ids=affected,
                        first_day=overlap[0],
                        last_day=overlap[1],
                    )
                )
    return found


def _overlap(first: Rule, second: Rule) -> tuple[date | None, date | None] | None:
    """The days both rules are in force (None ends: open-ended), or None when none is."""
    starts = [d for d in (first.starts_on, second.starts_on) if d is not None]
    ends = [d for d in (first.ends_on, second.ends_on) if d is not None]
    start, end = max(starts, default=None), min(ends, default=None)
    if start is not None and end is not None and start > end:
        return None
    # A rule whose own dates are inverted is in force on no day.
    if _inverted(first) or _inverted(second):
        return None
    return start, end


def _inverted(rule: Rule) -> bool:
    return rule.starts_on is not None and rule.ends_on is not None and rule.starts_on > rule.ends_on
