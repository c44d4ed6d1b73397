"""Targeting rules in words: the one place that says a rule's scope, dates and outcome, and
why a rule set is refused (`surveys.targeting.Problem`), in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from portal.admin.forms import FORMAT_LABELS
from portal.survey_editor.targeting_queries import Names
from surveys.targeting import Problem, ProblemKind, Rule, Scope


def _(text: str, **variables: Any) -> str:
    """`flask_babel.gettext`, typed: every sentence here is said at once, as a str."""
    return str(gettext(text, **variables))


SCOPE_LABELS: dict[str, Any] = {
    Scope.CHAIN: _l("the whole chain"),
    Scope.FORMAT: _l("stores of one format"),
    Scope.REGION: _l("stores of one region"),
    Scope.STORE: _l("one store"),
}
#: Stores named in a refusal before "and N more".
STORES_NAMED = 5


def days_in_words(first: date | None, last: date | None) -> str:
    """An inclusive range of days, either end open."""
    if first is None and last is None:
        return _("every day")
    if last is None:
        return _("from %(first)s on", first=first)
    if first is None:
        return _("until %(last)s", last=last)
    if first == last:
        return _("on %(day)s", day=first)
    return _("%(first)s to %(last)s", first=first, last=last)


@dataclass(frozen=True, slots=True)
class RuleWords:
    """Says rules and their problems; ``current`` is the rule being saved ("this rule")."""

    names: Names
    locale: str
    rules: Mapping[int, Rule] = field(default_factory=dict)
    current: Rule | None = None

    def _rule_of(self, problem: Problem) -> Rule | None:
        if self.current is not None and problem.rule_id == self.current.id:
            return self.current
        return self.rules.get(problem.rule_id or 0)

    def survey(self, survey_id: int) -> str:
        survey = self.names.surveys.get(survey_id)
        return "?" if survey is None else survey.name(self.locale)

    def version(self, version_id: int) -> str:
        version = self.names.versions.get(version_id)
        if version is None:
            return _("an unknown version")
        return _("version %(n)s", n=version.number)

    def scope(self, rule: Rule) -> str:
        if rule.scope is Scope.STORE:
            store = self.names.stores.get(rule.store_id or 0)
            code = "?" if store is None else f"{store.code} {store.name}"
            return _("store %(store)s", store=code)
        if rule.scope is Scope.REGION:
            return _("region %(region)s", region=rule.region)
        if rule.scope is Scope.FORMAT:
            label = FORMAT_LABELS.get(rule.store_format or "")
            return _("format: %(format)s", format=label or rule.store_format)
        return _("the whole chain")

    def dates(self, rule: Rule) -> str:
        return days_in_words(rule.starts_on, rule.ends_on)

    def outcome(self, rule: Rule) -> str:
        split = rule.split
        if split is None:
            return _("%(survey)s, its latest published version", survey=self.survey(rule.survey_id))
        return _(
            "%(survey)s, A/B test: %(a)s to %(pa)s %%, %(b)s to %(pb)s %%",
            survey=self.survey(rule.survey_id),
            a=self.version(split.version_a_id),
            pa=100 - split.percent_b,
            b=self.version(split.version_b_id),
            pb=split.percent_b,
        )

    def rule(self, rule_id: int | None, *, first: bool = False) -> str:
        """ "this rule" for the rule being saved, else its number and what it says;
        ``first`` for the start of a sentence."""
        if self.current is not None and rule_id == self.current.id:
            return _("This rule") if first else _("this rule")
        rule = self.rules.get(rule_id or 0)
        if rule is None:
            return _("Rule %(n)s", n=rule_id) if first else _("rule %(n)s", n=rule_id)
        said = {
            "n": rule_id,
            "scope": self.scope(rule),
            "dates": self.dates(rule),
            "outcome": self.outcome(rule),
        }
        if first:
            return _("Rule %(n)s (%(scope)s, %(dates)s, %(outcome)s)", **said)
        return _("rule %(n)s (%(scope)s, %(dates)s, %(outcome)s)", **said)

    def stores(self, store_ids: Sequence[int]) -> str:
        if not store_ids:
            return _("any store that joins it later (no open store is in it now)")
        codes = [self.names.stores[i].code for i in store_ids[:STORES_NAMED]]
        listed = ", ".join(codes)
        if len(store_ids) > STORES_NAMED:
            return _("%(stores)s and %(n)s more", stores=listed, n=len(store_ids) - STORES_NAMED)
        return listed

    def problem(self, problem: Problem) -> str:
        """Why the set is refused, naming the rule unless it is the one being saved."""
        said = self._problem(problem)
        if problem.kind is ProblemKind.TIE or (
            self.current is not None and problem.rule_id == self.current.id
        ):
            return said
        return _("%(rule)s: %(problem)s", rule=self.rule(problem.rule_id, first=True), problem=said)

    def _problem(self, problem: Problem) -> str:
        rule = self._rule_of(problem)
        kind = problem.kind
        if kind is ProblemKind.TIE:
            return _(
                "Two rules at the same level apply to %(stores)s (%(days)s) with different "
                "surveys or splits: %(rule)s and %(other)s. Change the dates so that they do "
                "not overlap, or keep only one of them.",
                rule=self.rule(problem.rule_id),
                other=self.rule(problem.other_rule_id),
                stores=self.stores(problem.store_ids),
                days=days_in_words(problem.first_day, problem.last_day),
            )
        if kind is ProblemKind.CLOSED_STORE and rule is not None:
            store = self.names.stores.get(rule.store_id or 0)
            return _(
                "Store %(code)s is closed and issues no receipts: it needs no rule.",
                code="?" if store is None else store.code,
            )
        if kind is ProblemKind.UNKNOWN_REGION and rule is not None:
            return _("There is no region named %(region)s.", region=rule.region)
        if kind is ProblemKind.INVERTED_DATES and rule is not None:
            return _(
                "The last day (%(last)s) is before the first day (%(first)s).",
                first=rule.starts_on,
                last=rule.ends_on,
            )
        if kind in (ProblemKind.UNPUBLISHED_SURVEY, ProblemKind.FOREIGN_VERSION) and rule:
            survey = self.survey(rule.survey_id)
            if kind is ProblemKind.UNPUBLISHED_SURVEY:
                return _("Survey %(survey)s has no published version yet.", survey=survey)
            return _(
                "Versions A and B must be published versions of survey %(survey)s.",
                survey=survey,
            )
        return str(PROBLEM_MESSAGES[kind])


#: The problems said the same way whatever the rule.
PROBLEM_MESSAGES: dict[ProblemKind, Any] = {
    ProblemKind.SCOPE: _l("Choose one kind of stores: a store, a region, a format or the chain."),
    ProblemKind.UNKNOWN_STORE: _l("This store does not exist."),
    ProblemKind.CLOSED_STORE: _l("The store is closed and issues no receipts."),
    ProblemKind.UNKNOWN_REGION: _l("This region does not exist."),
    ProblemKind.UNKNOWN_FORMAT: _l("This store format does not exist."),
    ProblemKind.INVERTED_DATES: _l("The last day is before the first day."),
    ProblemKind.UNPUBLISHED_SURVEY: _l("The survey has no published version yet."),
    ProblemKind.FOREIGN_VERSION: _l("Versions A and B must be published versions of its survey."),
    ProblemKind.SAME_VERSIONS: _l("Versions A and B must be two different versions."),
    ProblemKind.PERCENT_B: _l("The share of version B must be a whole number from 1 to 99."),
}
