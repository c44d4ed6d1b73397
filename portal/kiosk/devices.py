"""The tablets themselves: created for a store with a one-time enrolment code, enrolled by
typing that code on the tablet (which then holds a credential of its own), renamed,
revoked, given a new code when the tablet lost its credential, and recognised by that
credential. Only SHA-256 digests of codes and credentials are kept (`portal.bearer`).

Every change goes through the row's version (`Kiosk.version`): of two admins acting on
one tablet at once, the second is refused rather than silently overwriting the first.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal.audit import Actor, record_audit
from portal.bearer import MAX_SECRET_LENGTH, digest, new_secret
from portal.errors import Conflict, DomainError
from portal.models import Kiosk, Store
from portal.workflow import flush_versioned, stale
from surveys.codes import InvalidCode, new_short_code, normalize_short_code

#: How long an enrolment code can be typed on the tablet.
ENROL_HOURS = 24
#: Recognisable in a log or a leaked cookie jar, like the POS keys' ``pos_``.
CREDENTIAL_PREFIX = "ksk_"
#: As long as the column (`Kiosk.name`).
MAX_NAME_LENGTH = 100
#: The actor of an enrolment: the tablet itself, nobody signed in.
TABLET = Actor(label="kiosk")
#: "Last seen" is written at most this often: a tablet syncing every few seconds must not
#: turn each sync into a write of its row.
SEEN_INTERVAL = timedelta(minutes=1)


class KioskState(StrEnum):
    """Where a tablet is, as the console lists it."""

    #: Created; its enrolment code can still be typed on the tablet.
    WAITING = "waiting"
    #: Created, but its code expired before any tablet used it: give it a new one.
    CODE_EXPIRED = "code_expired"
    ENROLLED = "enrolled"
    REVOKED = "revoked"


def kiosk_state(kiosk: Kiosk, now: datetime) -> KioskState:
    if kiosk.revoked_at is not None:
        return KioskState.REVOKED
    if kiosk.credential_hash is not None:
        return KioskState.ENROLLED
    if kiosk.enrol_expires_at is not None and kiosk.enrol_expires_at > now:
        return KioskState.WAITING
    return KioskState.CODE_EXPIRED


def code_pending(kiosk: Kiosk, now: datetime) -> bool:
    """Whether an unused enrolment code of the tablet can still be typed."""
    expires = kiosk.enrol_expires_at
    return kiosk.enrol_code_hash is not None and expires is not None and expires > now


class BadEnrolCode(DomainError):
    status = 400
    code = "bad_enrol_code"
    message = _l(
        "This enrolment code is not right, was used already or has expired. "
        "Check it, or ask for a new code in the admin console."
    )


class KioskNotEnrolled(DomainError):
    """No credential, or one no tablet holds any more (a new code was used since)."""

    status = 401
    code = "kiosk_not_enrolled"
    message = _l("This tablet is not enrolled. Enrol it with a code from the admin console.")


class KioskRevoked(DomainError):
    status = 403
    code = "kiosk_revoked"
    message = _l(
        "This tablet has been switched off in the admin console and takes no more answers."
    )


class KioskStoreClosed(Conflict):
    code = "store_closed"
    message = _l("This store is closed: reopen it before adding a tablet.")


class InvalidKioskName(DomainError):
    status = 400
    code = "invalid_name"
    message = _l("Give the tablet a name of at most 100 characters, e.g. “counter 1”.")


def _name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidKioskName(field="name")
    return name


def _new_code(kiosk: Kiosk, now: datetime) -> str:
    code = new_short_code()
    kiosk.enrol_code_hash = digest(code)
    kiosk.enrol_expires_at = now + timedelta(hours=ENROL_HOURS)
    return code


def _about(kiosk: Kiosk) -> dict[str, str]:
    """The audit details of an entry about ``kiosk``: its store (the log's store filter
    reads it) and its name."""
    return {"store": kiosk.store.code, "name": kiosk.name}


def _check_version(kiosk: Kiosk, expected_version: int | None) -> None:
    if expected_version is not None and kiosk.version != expected_version:
        raise stale()


def create_kiosk(
    session: Session, store: Store, name: str, actor: Actor, now: datetime
) -> tuple[Kiosk, str]:
    """Add a tablet for ``store`` with a one-time enrolment code valid `ENROL_HOURS` hours,
    and audit it (``kiosk.create``). Returns the tablet and the code, which the caller
    shows once: only its digest is kept.

    Raises
    ------
    InvalidKioskName
        The name is empty or too long.
    KioskStoreClosed
        The store is closed.
    """
    if store.closed_at is not None:
        raise KioskStoreClosed()
    kiosk = Kiosk(store_id=store.id, name=_name(name), created_at=now)
    kiosk.created_by_user_id = actor.user_id
    code = _new_code(kiosk, now)
    session.add(kiosk)
    session.flush()
    record_audit(session, actor, "kiosk.create", "kiosk", kiosk.id, now, **_about(kiosk))
    return kiosk, code


def issue_enrol_code(
    session: Session, kiosk: Kiosk, *, expected_version: int | None, actor: Actor, now: datetime
) -> str:
    """A new one-time code for a tablet that lost its credential (or is replaced by another
    tablet): an earlier unused code stops working, and the credential of the tablet
    enrolled so far stops working once the new code is used. Audited (``kiosk.code``).

    Raises
    ------
    KioskRevoked
        A revoked tablet gets no code: add a new one instead.
    InvalidTransition
        The tablet changed since the page showed it.
    """
    _check_version(kiosk, expected_version)
    if kiosk.revoked_at is not None:
        raise KioskRevoked()
    code = _new_code(kiosk, now)
    flush_versioned(session)
    record_audit(session, actor, "kiosk.code", "kiosk", kiosk.id, now, **_about(kiosk))
    return code


def rename_kiosk(
    session: Session,
    kiosk: Kiosk,
    name: str,
    *,
    expected_version: int | None,
    actor: Actor,
    now: datetime,
) -> None:
    """Rename a tablet (``kiosk.rename``, with the name before).

    Raises
    ------
    InvalidKioskName, InvalidTransition
    """
    _check_version(kiosk, expected_version)
    before, kiosk.name = kiosk.name, _name(name)
    if kiosk.name == before:
        return
    flush_versioned(session)
    record_audit(
        session, actor, "kiosk.rename", "kiosk", kiosk.id, now, before=before, **_about(kiosk)
    )


def revoke_kiosk(
    session: Session, kiosk: Kiosk, *, expected_version: int | None, actor: Actor, now: datetime
) -> None:
    """Switch a tablet off for good: its pages answer 403 and the answers it still holds
    are refused. Any unused enrolment code goes with it. Audited (``kiosk.revoke``).

    Raises
    ------
    InvalidTransition
        The tablet changed since the page showed it.
    """
    _check_version(kiosk, expected_version)
    if kiosk.revoked_at is not None:
        return
    kiosk.revoked_at = now
    kiosk.enrol_code_hash = kiosk.enrol_expires_at = None
    flush_versioned(session)
    record_audit(session, actor, "kiosk.revoke", "kiosk", kiosk.id, now, **_about(kiosk))


def enrol_kiosk(session: Session, code: str, *, address: str, now: datetime) -> tuple[Kiosk, str]:
    """Enrol the tablet that typed ``code``: the code is used up, and the tablet gets a
    credential of its own (returned once, for its cookie; only the digest is kept), which
    replaces any credential it had before. Audited (``kiosk.enrol``, with the address).

    Raises
    ------
    BadEnrolCode
        Malformed, unknown, used, expired, or the tablet is revoked; also the loser of two
        tablets typing the same code at once.
    """
    try:
        canonical = normalize_short_code(code)
    except InvalidCode:
        raise BadEnrolCode(field="code") from None
    kiosk = session.scalar(select(Kiosk).where(Kiosk.enrol_code_hash == digest(canonical)))
    if (
        kiosk is None
        or kiosk.revoked_at is not None
        or kiosk.enrol_expires_at is None
        or kiosk.enrol_expires_at <= now
    ):
        raise BadEnrolCode(field="code")
    credential = new_secret(CREDENTIAL_PREFIX)
    kiosk.credential_hash = digest(credential)
    kiosk.enrol_code_hash = kiosk.enrol_expires_at = None
    kiosk.enrolled_at = kiosk.last_seen_at = now
    try:
        session.flush()  # versioned: of two tablets using one code, one wins
    except StaleDataError:
        raise BadEnrolCode(field="code") from None
    record_audit(
        session,
        TABLET,
        "kiosk.enrol",
        "kiosk",
        kiosk.id,
        now,
        address=address[:45],
        **_about(kiosk),
    )
    return kiosk, credential


def authenticate_kiosk(session: Session, credential: str | None) -> Kiosk:
    """The tablet holding ``credential`` (its cookie).

    Raises
    ------
    KioskNotEnrolled
        No credential, or one no tablet holds.
    KioskRevoked
        The tablet was switched off.
    """
    if not credential or not credential.startswith(CREDENTIAL_PREFIX):
        raise KioskNotEnrolled()
    if len(credential) > MAX_SECRET_LENGTH:
        raise KioskNotEnrolled()
    kiosk = session.scalar(select(Kiosk).where(Kiosk.credential_hash == digest(credential)))
    if kiosk is None or not hmac.compare_digest(kiosk.credential_hash or "", digest(credential)):
        raise KioskNotEnrolled()
    if kiosk.revoked_at is not None:
        raise KioskRevoked()
    return kiosk


def record_kiosk_seen(session: Session, kiosk: Kiosk, now: datetime) -> None:
    """Stamp the tablet as seen at ``now`` unless it was less than `SEEN_INTERVAL` ago.

    A plain UPDATE, not through the ORM: the stamp must not bump the row's version (an
    admin renaming the tablet while it syncs would be refused as "changed meanwhile"), and
    a busy row is skipped rather than waited for (the stamp is a convenience).
    """
    due = now - SEEN_INTERVAL
    if kiosk.last_seen_at is not None and kiosk.last_seen_at > due:
        return
    stamp = (
        update(Kiosk)
        .where(Kiosk.id == kiosk.id, or_(Kiosk.last_seen_at.is_(None), Kiosk.last_seen_at <= due))
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    try:
        with session.begin_nested():
            session.execute(stamp)
    except OperationalError:
        return
    session.expire(kiosk, ["last_seen_at"])
