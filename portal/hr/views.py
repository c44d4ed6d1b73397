"""HR ranking pages: the month's ranking of an award group, one staff member's figures and
trend, the coaching list, the ranking policy and the method explained."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from analysis.charts import SeriesPoint
from analysis.results import Estimate
from portal.access import requires
from portal.audit import Actor
from portal.calendar import last_complete_month, next_month, parse_month
from portal.dashboard import charts
from portal.db import get_session, utcnow
from portal.hr import bp, queries, words
from portal.hr.forms import SCOPE_LABELS, PolicyForm
from portal.hr.policy import (
    PolicyValues,
    current_policy,
    parameters_of,
    policy_channels,
    set_policy,
)
from portal.hr.ranking import rank_month
from portal.i18n import current_locale
from portal.models import AwardScope, RankingPolicy, Role
from portal.pagination import paginate, requested_page
from portal.training.queries import staff_training_effects

RANKING_ROLES = (Role.ADMIN, Role.HR, Role.MANAGER)
POLICY_ROLES = (Role.ADMIN, Role.HR)
METHOD_ROLES = (Role.ADMIN, Role.HR, Role.MANAGER, Role.REVIEWER)


def _month() -> date:
    """``?month=YYYY-MM``, up to the current month; else the last complete month."""
    default = last_complete_month(get_session(), utcnow())
    asked = parse_month(request.args.get("month"))
    return asked if asked is not None and asked <= next_month(default) else default


def _scope(policy: RankingPolicy) -> str:
    # A manager compares their staff within their own store only.
    if current_user.role == Role.MANAGER:
        return AwardScope.STORE
    asked = request.args.get("scope", "")
    return asked if asked in set(AwardScope) else policy.scope


def _common(month: date, scope: str, policy: RankingPolicy) -> dict[str, Any]:
    return {
        "month": month,
        "scope": scope,
        "policy": policy,
        "policy_channels": policy_channels(policy),
        "scope_labels": SCOPE_LABELS,
        "scopes": [AwardScope.STORE] if current_user.role == Role.MANAGER else list(AwardScope),
    }


@bp.get("/hr/rankings")
@requires(*RANKING_ROLES)
def rankings() -> Any:
    session, policy = get_session(), current_policy(get_session())
    month, scope = _month(), _scope(policy)
    store_ids = queries.visible_ids(session, current_user)
    choices = queries.group_choices(session, store_ids, scope)
    key = request.args.get("key", "") if scope != AwardScope.CHAIN else ""
    if key and key not in {c.key for c in choices}:
        abort(404)  # the same answer for a group that does not exist and one not yours
    key = key or (choices[0].key if choices else "")
    table = queries.ranking_table(
        session,
        month,
        scope=scope,
        group=queries.group_for(scope, key),
        store_ids=store_ids,
        parameters=parameters_of(policy),
    )
    session.commit()  # a month that is over is stored the first time it is ranked
    return render_template(
        "hr/rankings.html",
        table=table,
        key=key,
        choices=choices,
        score_sentence=words.ranking_score_sentence(table.month.ranking),
        needed=words.needed_answers(table.month.ranking),
        **_common(month, scope, policy),
    )


def _person(staff_id: int) -> Any:
    found = queries.get_visible_staff(get_session(), current_user, staff_id)
    if found is None:
        abort(404)
    return found


@bp.get("/hr/staff/<int:staff_id>")
@requires(*RANKING_ROLES)
def staff(staff_id: int) -> Any:
    staff, store = _person(staff_id)
    session, policy = get_session(), current_policy(get_session())
    month, scope = _month(), _scope(policy)
    parameters = parameters_of(policy)
    ranking = rank_month(session, month, scope=scope, parameters=parameters)
    person = ranking.for_staff(staff_id)
    trend = queries.staff_trend(session, staff_id, month, scope=scope, parameters=parameters)
    page = paginate(session, queries.staff_comments(staff_id, month), requested_page(), 20)
    session.commit()  # the months ranked for the first time are stored
    return render_template(
        "hr/staff.html",
        staff=staff,
        store=store,
        ranking=ranking,
        person=person,
        explanation=None if person is None else queries.explain(ranking, person),
        reasons=() if person is None else queries.reasons_of(person.score),
        needed=words.needed_answers(ranking.ranking),
        score_sentence=words.ranking_score_sentence(ranking.ranking),
        trend=trend,
        page=page,
        trainings=staff_training_effects(session, staff_id),
        **_common(month, scope, policy),
    )


@bp.get("/hr/staff/<int:staff_id>/trend.svg")
@requires(*RANKING_ROLES)
def staff_trend(staff_id: int) -> Any:
    _person(staff_id)
    session, policy = get_session(), current_policy(get_session())
    trend = queries.staff_trend(
        session, staff_id, _month(), scope=_scope(policy), parameters=parameters_of(policy)
    )
    session.commit()
    points = [
        SeriesPoint(p.month.strftime("%Y-%m"), Estimate(p.composite, p.q10, p.q90, p.n))
        for p in trend
    ]
    bounds = [abs(v) for p in trend for v in (p.q10, p.q90) if v is not None]
    # A fixed, symmetric range (so months compare at a glance), wide enough for every band.
    reach = float(min(6, max(2, math.ceil(max(bounds, default=0.0)))))
    body = charts.trend_svg(
        points,
        title=_("Composite score Q, 10th to 90th percentile"),
        y_label=_("Between-staff SDs from the chain average"),
        y_range=(-reach, reach),
        empty_text=_("No answers in these months"),
        small_n_text=_("fewer than %(n)s answers", n=parameters_of(policy).display_min_n),
        min_n=parameters_of(policy).display_min_n,
    )
    return charts.svg_response(body)


@bp.get("/hr/coaching")
@requires(*RANKING_ROLES)
def coaching() -> Any:
    session, policy = get_session(), current_policy(get_session())
    month, scope = _month(), _scope(policy)
    ranking = rank_month(session, month, scope=scope, parameters=parameters_of(policy))
    rows = queries.coaching_list(ranking, queries.visible_ids(session, current_user))
    session.commit()
    return render_template(
        "hr/coaching.html", ranking=ranking, rows=rows, **_common(month, scope, policy)
    )


@bp.route("/hr/policy", methods=["GET", "POST"])
@requires(*POLICY_ROLES)
def policy() -> Any:
    session = get_session()
    current = current_policy(session)
    form = PolicyForm(data=None if request.method == "POST" else _form_data(current))
    if form.validate_on_submit():
        values = PolicyValues(
            **{name: form[name].data for name in PolicyValues.__slots__ if name != "channels"},
            channels=",".join(form.channels.data),
        )
        try:
            set_policy(session, values, actor=Actor.of_user(current_user), now=utcnow())
        except ValueError:
            session.rollback()
            form.customer_weight.errors = [_("These values do not make a valid policy.")]
        else:
            session.commit()
            flash(_("The ranking policy is saved. It applies from now on."), "success")
            return redirect(url_for("hr.policy"))
    history = queries.list_policies(session)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "hr/policy.html",
        form=form,
        current=current,
        history=_with_changes(history),
        scope_labels=SCOPE_LABELS,
    ), status


def _policy_data(policy: RankingPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in PolicyValues.__slots__}


def _form_data(policy: RankingPolicy) -> dict[str, Any]:
    # The channels are stored comma-separated and ticked one box each.
    return _policy_data(policy) | {"channels": [c.value for c in policy_channels(policy)]}


def _with_changes(history: Sequence[RankingPolicy]) -> list[tuple[RankingPolicy, set[str]]]:
    """Each saved policy with the names of the values it changed from the one before."""
    rows = []
    for i, policy in enumerate(history):
        before = history[i + 1] if i + 1 < len(history) else None
        now = _policy_data(policy)
        then = _policy_data(before) if before is not None else {}
        rows.append((policy, {k for k, v in now.items() if then.get(k) != v}))
    return rows


@bp.get("/hr/method")
@requires(*METHOD_ROLES)
def method() -> Any:
    policy = current_policy(get_session())
    parameters = parameters_of(policy)
    return render_template(
        "hr/method.html",
        policy=policy,
        parameters=asdict(parameters),
        weights=parameters.normalised_weights(),
        scope_labels=SCOPE_LABELS,
        channels=policy_channels(policy),
        body=f"hr/_method_{current_locale()}.html",
    )
