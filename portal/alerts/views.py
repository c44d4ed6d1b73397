"""Alert pages: the rules (admin and CX), a user's alerts, and the dismiss button."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.access import CHAIN_WIDE, requires
from portal.alerts import bp
from portal.alerts.forms import DeleteRuleForm, DismissForm, RuleForm
from portal.alerts.queries import alerts_page, list_rules, scope_choices
from portal.alerts.rules import (
    InvalidRule,
    RuleChanged,
    RuleFields,
    create_rule,
    delete_rule,
    dismiss_alert,
    get_rule,
    update_rule,
)
from portal.alerts.words import CHARTED_SHARE, KIND_LABELS, SIGNAL_LABELS, alert_sentence
from portal.audit import Actor
from portal.db import get_session, utcnow
from portal.errors import keep_typed_values
from portal.models import Role, scope_key_of
from portal.pagination import requested_page
from portal.targets.words import METRIC_LABELS

RULE_EDITORS = (Role.ADMIN, Role.CX)
READERS = (Role.ADMIN, Role.CX, Role.HR, Role.REVIEWER, Role.MANAGER)


def words() -> dict[str, Any]:
    """What alert templates need to say an alert in words."""
    return {
        "metric_labels": METRIC_LABELS,
        "signal_labels": SIGNAL_LABELS,
        "kind_labels": KIND_LABELS,
        "charted_share": CHARTED_SHARE,
        "alert_sentence": lambda row: alert_sentence(row.alert, row.metric, _),
    }


def _rule_form(**kwargs: Any) -> RuleForm:
    form = RuleForm(**kwargs)
    form.metric.choices = [SelectChoice(str(m), label) for m, label in METRIC_LABELS.items()]
    form.scope.choices = scope_choices(get_session(), _("Every store of the chain"))
    return form


def _fields(form: RuleForm) -> RuleFields:
    kind, _sep, ident = (form.scope.data or "chain").partition(":")
    region_id = int(ident) if kind == "region" else None
    store_id = int(ident) if kind == "store" else None
    return RuleFields(
        form.name.data or "",
        form.metric.data or "",
        form.kind.data or "",
        form.threshold.data,
        region_id,
        store_id,
        bool(form.active.data),
    )


def _rules_page(form: RuleForm, status: int = 200) -> Any:
    rules = list_rules(get_session())
    return render_template("alerts/rules.html", form=form, rules=rules, **words()), status


@bp.get("/rules")
@requires(*RULE_EDITORS)
def rules() -> Any:
    return _rules_page(_rule_form())


@bp.post("/rules")
@requires(*RULE_EDITORS)
def add_rule() -> Any:
    form = _rule_form()
    if not form.validate():
        return _rules_page(form, 400)
    keep_typed_values(lambda message: _rules_page(form, 503))
    try:
        create_rule(get_session(), _fields(form), actor=Actor.of_user(current_user), now=utcnow())
    except InvalidRule as error:
        getattr(form, error.field or "name").errors.append(error.message)
        return _rules_page(form, 400)
    get_session().commit()
    flash(_("Rule saved."), "success")
    return redirect(url_for("alerts.rules"))


def _edit_page(rule_id: int, form: RuleForm, status: int = 200, problem: str = "") -> Any:
    rule = get_rule(get_session(), rule_id)
    page = render_template(
        "alerts/rule_edit.html",
        rule=rule,
        form=form,
        delete_form=DeleteRuleForm(),
        problem=problem,
        **words(),
    )
    return page, status


@bp.get("/rules/<int:rule_id>")
@requires(*RULE_EDITORS)
def edit_rule(rule_id: int) -> Any:
    rule = get_rule(get_session(), rule_id)
    loaded = RuleFields.of(rule)
    form = _rule_form(
        name=rule.name,
        metric=rule.metric,
        kind=rule.kind,
        threshold=rule.threshold,
        scope=scope_key_of(rule.region_id, rule.store_id),
        active=rule.active,
        loaded=json.dumps(asdict(loaded)),
    )
    return _edit_page(rule_id, form)


@bp.post("/rules/<int:rule_id>")
@requires(*RULE_EDITORS)
def save_rule(rule_id: int) -> Any:
    form = _rule_form()
    if not form.validate():
        return _edit_page(rule_id, form, 400)
    try:
        loaded = RuleFields(**json.loads(form.loaded.data or ""))
    except (ValueError, TypeError):
        abort(400)
    keep_typed_values(lambda message: _edit_page(rule_id, form, 503, str(message)))
    session = get_session()
    try:
        update_rule(
            session, rule_id, loaded, _fields(form), actor=Actor.of_user(current_user), now=utcnow()
        )
    except InvalidRule as error:
        getattr(form, error.field or "name").errors.append(error.message)
        return _edit_page(rule_id, form, 400)
    except RuleChanged as error:
        session.rollback()
        return _edit_page(rule_id, form, 409, str(error.message))
    session.commit()
    flash(_("Rule saved."), "success")
    return redirect(url_for("alerts.rules"))


@bp.post("/rules/<int:rule_id>/delete")
@requires(*RULE_EDITORS)
def remove_rule(rule_id: int) -> Any:
    if not DeleteRuleForm().validate():
        abort(400)
    delete_rule(get_session(), rule_id, actor=Actor.of_user(current_user), now=utcnow())
    get_session().commit()
    flash(_("Rule deleted, with its alerts."), "success")
    return redirect(url_for("alerts.rules"))


@bp.get("")
@requires(*READERS)
def index() -> Any:
    page, rows = alerts_page(get_session(), current_user, requested_page())
    return render_template(
        "alerts/index.html",
        page=page,
        rows=rows,
        chain_wide=current_user.role in CHAIN_WIDE,
        dismiss_form=DismissForm(),
        **words(),
    )


@bp.post("/<int:alert_id>/dismiss")
@requires(*READERS)
def dismiss(alert_id: int) -> Any:
    if not DismissForm().validate():
        abort(400)
    dismiss_alert(get_session(), alert_id, current_user.id, now=utcnow())
    get_session().commit()
    back = "alerts.index" if request.args.get("from") == "list" else "home.dashboard"
    return redirect(url_for(back))
