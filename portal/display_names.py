"""How people are named to other people: by their display name (`User.name`), and by their
e-mail address only when they have none. Timelines, the audit-like "set by" lines and the
award pages all ask here, so an e-mail never shows where a name exists.

Timeline lines keep the actor's label as it was (``user:<e-mail>``, ``cli``, ``system``)
and the user's id; the name shown is the user's current one, looked up once per request.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.admin.audit_words import actor_label
from portal.db import get_session
from portal.models import User

#: The prefix of an actor label that names a user by e-mail (`portal.audit.Actor.of_user`).
USER_PREFIX = "user:"


def display_name(user: User) -> str:
    return user.name or user.email


def user_labels(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The display names of the users with these ids, in one query."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    found = session.execute(select(User.id, User.name, User.email).where(User.id.in_(wanted)))
    return {user_id: name or email for user_id, name, email in found}


def actor_name(label: str, user_id: int | None = None) -> str:
    """For pages: the display name of the user an actor ``label`` names (found by
    ``user_id`` when given, else by the e-mail in the label), the label's e-mail when the
    user is gone or has no name, and any other label (``cli``, ``system``, ``default``) in
    words."""
    if not label.startswith(USER_PREFIX) and user_id is None:
        return actor_label(label)
    email = label.removeprefix(USER_PREFIX)
    names: dict[tuple[str, int | None], str] = g.setdefault("actor_names", {})
    key = (email, user_id)
    if key not in names:
        session = get_session()
        if user_id is not None:
            user = session.get(User, user_id)
        else:
            user = session.scalar(select(User).where(User.email == email))
        names[key] = display_name(user) if user is not None else email
    return names[key]
