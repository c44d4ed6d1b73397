"""The targeting pages: the rule list, adding, editing and deleting a rule, and the coverage
table (which survey each open store's receipts get on a day, by which rule)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.access import SURVEY_OWNERS, requires
from portal.admin.forms import FORMAT_LABELS
from portal.audit import Actor
from portal.db import get_session, utcnow
from portal.errors import DomainError, NotFound, keep_typed_values
from portal.i18n import current_locale
from portal.survey_editor import bp
from portal.survey_editor.target_rules import (
    RuleRefused,
    StaleRule,
    create_target_rule,
    delete_target_rule,
    fingerprint,
    update_target_rule,
)
from portal.survey_editor.targeting_forms import (
    MODE_LATEST,
    MODE_SPLIT,
    CoverageForm,
    DeleteRuleForm,
    TargetRuleForm,
)
from portal.survey_editor.targeting_queries import (
    Names,
    coverage,
    current_problems,
    list_rules,
    load_names,
)
from portal.survey_editor.targeting_words import RuleWords
from portal.targeting import load_rule_set
from surveys.targeting import Rule, Scope, Split

Page = Callable[..., Any]


def _words(names: Names, rules: list[Rule] | tuple[Rule, ...] = (), **kwargs: Any) -> RuleWords:
    by_id = {r.id: r for r in rules if r.id is not None}
    return RuleWords(names, current_locale(), rules=by_id, **kwargs)


@bp.get("/targeting")
@requires(*SURVEY_OWNERS)
def targeting() -> Any:
    session = get_session()
    names, rule_set = load_names(session), load_rule_set(session)
    words = _words(names, rule_set.rules)
    return render_template(
        "surveys/targeting.html",
        rows=list_rules(session),
        problems=[words.problem(p) for p in current_problems(rule_set)],
        words=words,
        names=names,
        locale=current_locale(),
    )


@bp.get("/targeting/coverage")
@requires(*SURVEY_OWNERS)
def targeting_coverage() -> Any:
    form = CoverageForm(request.args)
    valid = form.validate()
    session = get_session()
    names = load_names(session)
    on = form.on.data if valid else None
    rows = coverage(session, names, now=utcnow(), on=on)
    page = render_template(
        "surveys/targeting_coverage.html",
        form=form,
        rows=rows,
        on=on,
        words=_words(names, [r.rule for r in rows if r.rule is not None]),
        locale=current_locale(),
    )
    return page, 200 if valid else 400


def _choices(form: TargetRuleForm, names: Names, rule: Rule | None) -> None:
    """The form's choices: open stores (and the rule's own, even closed), regions, formats,
    every survey and every published version."""
    locale, none = current_locale(), SelectChoice("", "—")
    form.survey.choices = [SelectChoice("", _("Choose a survey"))] + [
        SelectChoice(
            s.key,
            s.name(locale)
            if s.versions
            else _("%(name)s (not yet published)", name=s.name(locale)),
        )
        for s in names.surveys.values()
    ]
    own = None if rule is None else rule.store_id
    form.store.choices = [none] + [
        SelectChoice(s.code, f"{s.code} {s.name}")
        for s in names.stores.values()
        if s.open or s.id == own
    ]
    regions = list(names.regions)
    if rule is not None and rule.region and rule.region not in regions:
        regions.append(rule.region)
    form.region.choices = [none] + [SelectChoice(r, r) for r in regions]
    form.store_format.choices = [none] + [SelectChoice(k, v) for k, v in FORMAT_LABELS.items() if k]
    versions = [none] + [
        SelectChoice(
            str(v.id),
            _(
                "%(survey)s: version %(n)s, published %(day)s",
                survey=s.name(locale),
                n=v.number,
                day=v.published_at.date(),
            ),
        )
        for s in names.surveys.values()
        for v in s.versions
    ]
    form.version_a.choices = form.version_b.choices = versions


def _initial(rule: Rule, names: Names) -> dict[str, Any]:
    """The form's values for a saved rule."""
    store = names.stores.get(rule.store_id or 0)
    split = rule.split
    return {
        "survey": names.surveys[rule.survey_id].key,
        "scope": rule.scope.value,
        "store": "" if store is None else store.code,
        "region": rule.region or "",
        "store_format": rule.store_format or "",
        "starts_on": rule.starts_on,
        "ends_on": rule.ends_on,
        "mode": MODE_LATEST if split is None else MODE_SPLIT,
        "version_a": "" if split is None else str(split.version_a_id),
        "version_b": "" if split is None else str(split.version_b_id),
        "percent_b": None if split is None else split.percent_b,
        "seen": fingerprint(rule),
    }


def _rule_from(form: TargetRuleForm, names: Names, rule_id: int | None) -> Rule:
    """The rule the form describes (choices validated: every key and code exists)."""
    survey = names.survey_by_key(form.survey.data or "")
    assert survey is not None
    scope = form.scope.data
    store = names.store_by_code(form.store.data or "") if scope == Scope.STORE else None
    split = None
    if form.mode.data == MODE_SPLIT:
        split = Split(int(form.version_a.data), int(form.version_b.data), form.percent_b.data)
    return Rule(
        id=rule_id,
        survey_id=survey.id,
        store_id=None if store is None else store.id,
        region=(form.region.data or None) if scope == Scope.REGION else None,
        store_format=(form.store_format.data or None) if scope == Scope.FORMAT else None,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        split=split,
    )


def _rule_page(template: str, form: TargetRuleForm, **context: Any) -> Page:
    def page(problems: list[str] | None = None, status: int = 200) -> Any:
        return render_template(template, form=form, problems=problems or [], **context), status

    return page


@bp.route("/targeting/new", methods=["GET", "POST"])
@requires(*SURVEY_OWNERS)
def targeting_new() -> Any:
    session = get_session()
    names = load_names(session)
    form = TargetRuleForm()
    _choices(form, names, None)
    page = _rule_page("surveys/targeting_new.html", form)
    if not form.validate_on_submit():
        return page(status=400 if form.errors else 200)
    keep_typed_values(lambda message: page([message], 503))
    try:
        row = create_target_rule(
            session, _rule_from(form, names, None), actor=Actor.of_user(current_user), now=utcnow()
        )
    except RuleRefused as error:
        session.rollback()
        return page(error.messages, error.status)
    session.commit()
    flash(_("Targeting rule %(n)s is saved.", n=row.id), "ok")
    return redirect(url_for("surveys.targeting"))


def _saved_rule(rule_id: int) -> Rule:
    rule = next((r for r in load_rule_set(get_session()).rules if r.id == rule_id), None)
    if rule is None:
        abort(404)
    return rule


@bp.route("/targeting/<int:rule_id>/edit", methods=["GET", "POST"])
@requires(*SURVEY_OWNERS)
def targeting_edit(rule_id: int) -> Any:
    session = get_session()
    names, saved = load_names(session), _saved_rule(rule_id)
    form = TargetRuleForm(data=_initial(saved, names))
    _choices(form, names, saved)
    words = _words(names, [saved])
    page = _rule_page(
        "surveys/targeting_edit.html", form, rule_id=rule_id, saved=saved, words=words
    )
    if not form.validate_on_submit():
        return page(status=400 if form.errors else 200)
    keep_typed_values(lambda message: page([message], 503))
    try:
        update_target_rule(
            session,
            _rule_from(form, names, rule_id),
            seen=form.seen.data or "",
            actor=Actor.of_user(current_user),
            now=utcnow(),
        )
    except StaleRule as error:
        session.rollback()
        # Shown with what was typed, but carrying the rule as it is now (read by this
        # request): a second save applies to the rule the page then describes.
        form.seen.data = fingerprint(saved)
        now_said = _(
            "Now: %(scope)s, %(dates)s, %(outcome)s.",
            scope=words.scope(saved),
            dates=words.dates(saved),
            outcome=words.outcome(saved),
        )
        return page([error.message, now_said], error.status)
    except (RuleRefused, NotFound) as error:
        session.rollback()
        messages = error.messages if isinstance(error, RuleRefused) else [error.message]
        return page(messages, error.status)
    session.commit()
    flash(_("Targeting rule %(n)s is saved.", n=rule_id), "ok")
    return redirect(url_for("surveys.targeting"))


@bp.route("/targeting/<int:rule_id>/delete", methods=["GET", "POST"])
@requires(*SURVEY_OWNERS)
def targeting_delete(rule_id: int) -> Any:
    session = get_session()
    names, saved = load_names(session), _saved_rule(rule_id)
    form = DeleteRuleForm(data={"seen": fingerprint(saved)})
    words = _words(names, [saved])

    def page(problems: list[str] | None = None, status: int = 200) -> Any:
        return render_template(
            "surveys/targeting_delete.html",
            form=form,
            rule=saved,
            words=words,
            problems=problems or [],
        ), status

    if not form.validate_on_submit():
        return page(status=400 if form.errors else 200)
    try:
        delete_target_rule(
            session, rule_id, seen=form.seen.data, actor=Actor.of_user(current_user), now=utcnow()
        )
    except DomainError as error:
        session.rollback()
        form.seen.data = fingerprint(saved)
        messages = error.messages if isinstance(error, RuleRefused) else [error.message]
        return page(messages, error.status)
    session.commit()
    flash(_("Targeting rule %(n)s is deleted.", n=rule_id), "ok")
    return redirect(url_for("surveys.targeting"))
