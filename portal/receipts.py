"""Issuing receipts and resolving their tokens and typeable codes.

Used by the POS API, the ``issue-receipts`` CLI and the demo builder, so that every
receipt is made one way: a random token id, a signed token recomputed from it, a short
code with a check character, and an expiry fixed when it is issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.calendar import local_day, local_hour
from portal.config import Settings
from portal.errors import Conflict, DomainError, NotFound
from portal.models import Receipt, Staff, Store, SurveyVersion
from portal.rollups import (
    count_receipt,
)
from portal.targeting import named_survey_version, version_id_for_receipt
from surveys.codes import new_short_code
from surveys.tokens import ReceiptTokenClaims, new_token_id, sign_receipt_token

#: A random id or short code colliding twice in a row means something else is wrong.
_COLLISION_RETRIES = 3


class UnknownStaff(DomainError):
    status = 422
    code = "unknown_staff"


class StoreClosed(Conflict):
    code = "store_closed"


def require_open(store: Store) -> None:
    """The one rule for every way of issuing (POS API, ``issue-receipts``, demo): a closed
    store issues no receipts. Its history (answers, cases, figures) stays readable.

    Raises
    ------
    StoreClosed
    """
    if store.closed_at is not None:
        raise StoreClosed(_("Store %(code)s is closed and issues no receipts.", code=store.code))


class ConflictingReceipt(Conflict):
    code = "conflicting_receipt"


class UnknownReceipt(NotFound):
    code = "unknown_receipt"


@dataclass(frozen=True, slots=True)
class IssuedReceipt:
    receipt: Receipt
    token: str
    #: False when the same transaction was already issued (a reprint).
    created: bool


@dataclass(frozen=True, slots=True)
class SurveyLinks:
    survey_url: str
    qr_svg_url: str
    qr_png_url: str


def receipt_token(settings: Settings, receipt: Receipt) -> str:
    return sign_receipt_token(settings.secret_key, receipt.token_id, receipt.expires_at)


def survey_links(settings: Settings, token: str) -> SurveyLinks:
    """Public links for a receipt, built from PORTAL_BASE_URL so that the CLI prints the
    same URLs as the API."""
    survey_url = f"{settings.base_url}/r/{token}"
    return SurveyLinks(survey_url, f"{survey_url}/qr.svg", f"{survey_url}/qr.png")


def issue_receipt(
    session: Session,
    settings: Settings,
    *,
    store: Store,
    staff_code: str | None,
    transaction_id: str,
    issued_at: datetime | None,
    total_cents: int | None,
    now: datetime,
    source: str = "api",
    survey_key: str | None = None,
) -> IssuedReceipt:
    """Create the receipt for a till transaction, or return the one already issued.

    Idempotent per store and transaction id, also under concurrency: the unique
    constraint decides, inside a savepoint, and the loser reads the winner's row.

    ``staff_code`` None issues a card not tied to a cashier (batch printing). The survey
    version the receipt asks is decided here, by `portal.targeting` (``survey_key``: the
    survey the till names, if it does).

    Raises
    ------
    StoreClosed
        The store is closed (a reprint of an earlier receipt too: the till is told at once).
    UnknownStaff
        ``staff_code`` is not an active staff member of ``store``.
    ConflictingReceipt
        The transaction id was already issued with a different staff member, time, total
        or survey.
    UnknownSurvey
        ``survey_key`` names no published survey (a reprint too: the till's error is told
        the same way every time).
    """
    require_open(store)
    named = None if survey_key is None else named_survey_version(session, survey_key)
    staff = None
    if staff_code is not None:
        staff = session.scalar(
            select(Staff).where(Staff.store_id == store.id, Staff.code == staff_code)
        )
    if staff_code is not None and (staff is None or not staff.active):
        raise UnknownStaff(
            f"No active staff member with code {staff_code!r} at store {store.code}.",
            field="staff_code",
        )
    existing = _existing(session, store, transaction_id)
    if existing is not None:
        return _reprint(settings, existing, staff, issued_at, total_cents, named)
    # The token lifetime counts from now: a receipt keyed in late still gets its full days.
    expires_at = (now + timedelta(days=settings.token_days)).replace(microsecond=0)
    day = local_day(issued_at or now, store.timezone)
    for _attempt in range(_COLLISION_RETRIES):
        token_id = new_token_id()
        version_id = version_id_for_receipt(session, store, day, token_id, named=named)
        receipt = Receipt(
            token_id=token_id,
            short_code=new_short_code(),
            store_id=store.id,
            staff_id=None if staff is None else staff.id,
            transaction_id=transaction_id,
            issued_at=issued_at or now,
            local_day=day,
            local_hour=local_hour(issued_at or now, store.timezone),
            expires_at=expires_at,
            total_cents=total_cents,
            source=source,
            survey_version_id=version_id,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(receipt)
        except IntegrityError as error:
            existing = _existing(session, store, transaction_id)
            if existing is not None:
                return _reprint(settings, existing, staff, issued_at, total_cents, named)
            # Draw again only when a random id or short code collided; anything else is a bug.
            if not any(name in str(error.orig) for name in ("token_id", "short_code")):
                raise
            continue
        count_receipt(session, receipt)
        return IssuedReceipt(receipt, receipt_token(settings, receipt), created=True)
    raise RuntimeError("could not draw a unique receipt token")


def _existing(session: Session, store: Store, transaction_id: str) -> Receipt | None:
    return session.scalar(
        select(Receipt).where(
            Receipt.store_id == store.id, Receipt.transaction_id == transaction_id
        )
    )


def _reprint(
    settings: Settings,
    receipt: Receipt,
    staff: Staff | None,
    issued_at: datetime | None,
    total_cents: int | None,
    named: SurveyVersion | None = None,
) -> IssuedReceipt:
    # Fields the till states again must match; fields it leaves out are not compared.
    if receipt.staff_id != (None if staff is None else staff.id):
        raise ConflictingReceipt(
            "This transaction id was already issued with another staff code.", field="staff_code"
        )
    if issued_at is not None and receipt.issued_at != issued_at:
        raise ConflictingReceipt(
            "This transaction id was already issued with another issued_at.", field="issued_at"
        )
    if total_cents is not None and receipt.total_cents != total_cents:
        raise ConflictingReceipt(
            "This transaction id was already issued with another total.", field="total"
        )
    if named is not None and receipt.survey_version.survey_id != named.survey_id:
        raise ConflictingReceipt(
            "This transaction id was already issued with another survey.", field="survey"
        )
    return IssuedReceipt(receipt, receipt_token(settings, receipt), created=False)


def get_receipt(session: Session, claims: ReceiptTokenClaims) -> Receipt:
    """The receipt a verified token names.

    Raises
    ------
    UnknownReceipt
        The signature is good but no such receipt exists (e.g. a restored older backup).
    """
    receipt = session.scalar(_BY_TOKEN_ID, {"token_id": claims.token_id})
    if receipt is None:
        raise UnknownReceipt()
    return receipt


#: Built once: every survey submit reads its receipt so.
_BY_TOKEN_ID = select(Receipt).where(Receipt.token_id == bindparam("token_id"))


def find_receipt_by_short_code(session: Session, short_code: str) -> Receipt | None:
    return session.scalar(select(Receipt).where(Receipt.short_code == short_code))
