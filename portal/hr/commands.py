"""``rank``: the month's staff ranking on the command line. Registered by
``portal.cli.init_app``.

``flask --app portal rank KEY --month YYYY-MM [--scope region|store|chain]`` where KEY is
a store code (that store's staff), a region name (the region's staff) or a staff code
(that person's components; ``STORE/STAFF`` when the code is used in several stores). The
table is aligned for terminals that show Chinese characters two columns wide.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.ranking import Component
from portal.calendar import last_complete_month, parse_month
from portal.commands import transaction
from portal.db import utcnow
from portal.hr.queries import reasons_of
from portal.hr.ranking import (
    RankedStaff,
    current_policy,
    parameters_of,
    policy_channels,
    rank_month,
)
from portal.models import AwardScope, Staff, Store

HEADER = ("rank", "code", "name", "store", "n", "Q", "Q10", "eligible", "proposed")
#: Right-aligned columns.
NUMERIC = {"rank", "n", "Q", "Q10"}


class UnknownKey(click.ClickException):
    """No store, region or staff member by that name: a usage error (exit code 2)."""

    exit_code = 2


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of a table with columns two spaces apart, numbers right-aligned."""
    widths = [max(_width(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return [
        "  ".join(
            _pad(cell, width, name in NUMERIC)
            for cell, width, name in zip(row, widths, header, strict=True)
        ).rstrip()
        for row in (header, *rows)
    ]


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _row(ranked: RankedStaff) -> tuple[str, ...]:
    s, who = ranked.score, ranked.staff
    eligible = "yes" if s.eligible else "no: " + ", ".join(reasons_of(s))
    return (
        str(s.rank) if s.rank is not None else "-",
        who.code,
        who.name,
        who.store_code,
        str(s.n),
        _number(s.composite, 2),
        _number(s.q10, 2),
        eligible,
        "yes" if s.proposed else "",
    )


def _order(ranked: RankedStaff) -> tuple[str, bool, int, int, str]:
    s = ranked.score
    return (s.group, s.rank is None, s.rank or 0, -s.n, ranked.staff.code)


def _component_line(c: Component) -> tuple[str, ...]:
    scale, digits = (
        (100.0, 1) if c.name == "customer" else (1.0, 2 if c.name == "complaints" else 1)
    )

    def show(v: float | None) -> str:
        return _number(None if v is None else v * scale, digits)

    return (c.name, show(c.estimate), f"{show(c.low)} - {show(c.high)}", str(c.n), f"{c.omega:.2f}")


def _resolve(session: Session, key: str) -> tuple[str, list[int]]:
    """What KEY names: ("store"|"region", staff ids), or ("staff", [id])."""
    store = session.scalar(select(Store).where(Store.code == key))
    if store is not None:
        return "store", list(session.scalars(select(Staff.id).where(Staff.store_id == store.id)))
    in_region = list(
        session.scalars(
            select(Staff.id).join(Store, Store.id == Staff.store_id).where(Store.region == key)
        )
    )
    if in_region:
        return "region", in_region
    store_code, _, staff_code = key.rpartition("/")
    query = select(Staff.id, Store.code).join(Store, Store.id == Staff.store_id)
    query = query.where(Staff.code == staff_code)
    if store_code:
        query = query.where(Store.code == store_code)
    found = session.execute(query.order_by(Store.code)).all()
    if len(found) > 1:
        options = ", ".join(f"{code}/{staff_code}" for _, code in found)
        raise UnknownKey(
            f"Staff code {staff_code!r} is used in several stores: say which ({options})."
        )
    if not found:
        raise UnknownKey(f"No store, region or staff member {key!r}.")
    return "staff", [found[0][0]]


@click.command("rank")
@click.argument("key")
@click.option("--month", "month_text", help="YYYY-MM (default: the last complete month)")
@click.option(
    "--scope",
    type=click.Choice([s.value for s in AwardScope]),
    help="Rank within each store, region or the whole chain (default: the policy's).",
)
@with_appcontext
def rank_command(key: str, month_text: str | None, scope: str | None) -> None:
    """Print the month's staff ranking of a store or region, or one person's figures."""
    with transaction(read_only=True) as session:
        month = last_complete_month(session, utcnow())
        if month_text is not None:
            asked = parse_month(month_text)
            if asked is None:
                raise click.BadParameter("use YYYY-MM, e.g. 2026-10", param_hint="--month")
            month = asked
        kind, ids = _resolve(session, key)
        policy = current_policy(session)
        scope = scope or policy.scope
        ranking = rank_month(
            session,
            month,
            scope=scope,
            parameters=parameters_of(policy),
            channels=policy_channels(policy),
        )
    wanted = set(ids)
    rows = sorted((r for r in ranking.rows if r.staff.staff_id in wanted), key=_order)
    groups = sorted({r.score.group for r in rows})
    click.echo(
        f"{month:%Y-%m}, ranked within each {scope} ({', '.join(groups) or 'no staff'}); "
        f"m = {ranking.ranking.m:.1f} ({ranking.ranking.m_source})"
    )
    if kind == "staff" and rows:
        _print_person(rows[0])
        return
    for line in format_table(HEADER, [_row(r) for r in rows]):
        click.echo(line)


def _print_person(person: RankedStaff) -> None:
    s, who = person.score, person.staff
    click.echo(f"{who.code} {who.name}, {who.store_code} {who.store_name} ({who.region})")
    for line in format_table(HEADER, [_row(person)]):
        click.echo(line)
    click.echo(
        f"Q90 {_number(s.q90, 2)}, P(top) {s.p_top:.2f}, coaching {'yes' if s.coaching else 'no'}"
    )
    click.echo("")
    header = ("component", "estimate", "10-90 %", "n", "omega")
    lines = format_table(
        header, [_component_line(c) for c in (s.customer, s.nps, s.mystery, s.complaints)]
    )
    for line in lines:
        click.echo(line)
