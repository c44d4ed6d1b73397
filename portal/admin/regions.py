"""The chain's list of regions: added, renamed (on its stores, region managers and targeting
rules in the same transaction) and deleted only while nothing uses it."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.admin.operations import REGION_LENGTH, InvalidInput
from portal.audit import Actor, record_audit
from portal.errors import Conflict, NotFound
from portal.models import Region, Store, TargetRule, User


class DuplicateRegion(Conflict):
    code = "duplicate_region"


class RegionInUse(Conflict):
    code = "region_in_use"


def _check_region_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > REGION_LENGTH:
        raise InvalidInput(_("The region name must be 1-100 characters."), field="name")
    return name


def get_region(session: Session, region_id: int) -> Region:
    """Raises `NotFound`."""
    region = session.get(Region, region_id)
    if region is None:
        raise NotFound(_("No such region."))
    return region


def _unique(session: Session, region: Region, name: str) -> None:
    # The region joins the session inside the savepoint, so that a refused name leaves
    # nothing pending behind for the caller's next flush to try again.
    try:
        with session.begin_nested():
            session.add(region)
            region.name = name
            session.flush()
    except IntegrityError:
        raise DuplicateRegion(
            _("A region named %(name)s already exists.", name=name), field="name"
        ) from None


def add_region(session: Session, name: str, *, actor: Actor, now: datetime) -> Region:
    """Add a region to the list.

    Raises
    ------
    InvalidInput, DuplicateRegion
    """
    region = Region(name=_check_region_name(name), created_at=now)
    _unique(session, region, region.name)
    record_audit(session, actor, "region.create", "region", region.name, now)
    return region


def rename_region(
    session: Session, region: Region, name: str, *, actor: Actor, now: datetime
) -> int:
    """Rename a region, and with it the region of its stores, the scope of its region
    managers and its targeting rules, in this transaction; returns how many stores were
    renamed.

    Raises
    ------
    InvalidInput, DuplicateRegion
    """
    old, name = region.name, _check_region_name(name)
    if name == old:
        return 0
    _unique(session, region, name)
    stores = session.scalar(select(func.count()).where(Store.region == old)) or 0
    session.execute(
        update(Store).where(Store.region == old).values(region=name),
        execution_options={"synchronize_session": "fetch"},
    )
    session.execute(
        update(User).where(User.region == old).values(region=name),
        execution_options={"synchronize_session": "fetch"},
    )
    # Targeting rules follow their region, so its stores keep their survey.
    session.execute(
        update(TargetRule).where(TargetRule.region == old).values(region=name),
        execution_options={"synchronize_session": "fetch"},
    )
    record_audit(session, actor, "region.rename", "region", name, now, before=old, stores=stores)
    return stores


def delete_region(session: Session, region: Region, *, actor: Actor, now: datetime) -> None:
    """Delete a region nothing uses.

    Raises
    ------
    RegionInUse
        Stores are in it, managers are scoped to it or targeting rules name it: say how
        many.
    """
    stores = session.scalar(select(func.count()).where(Store.region == region.name)) or 0
    if stores:
        raise RegionInUse(
            _(
                "Region %(name)s still has %(n)d store(s); move them to another region first.",
                name=region.name,
                n=stores,
            )
        )
    managers = session.scalar(select(func.count()).where(User.region == region.name)) or 0
    if managers:
        raise RegionInUse(
            _(
                "%(n)d manager(s) see region %(name)s; change their region first.",
                name=region.name,
                n=managers,
            )
        )
    rules = session.scalar(select(func.count()).where(TargetRule.region == region.name)) or 0
    if rules:
        raise RegionInUse(
            _(
                "%(n)d targeting rule(s) name region %(name)s; change or delete them first.",
                name=region.name,
                n=rules,
            )
        )
    session.delete(region)
    session.flush()
    record_audit(session, actor, "region.delete", "region", region.name, now)
