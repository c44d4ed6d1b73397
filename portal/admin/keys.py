"""Reading POS keys for the console: every key in scope, or one store's, newest first, with
their store (one joined query), and what the page that shows a new key once needs to build
its curl example."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.admin.scope import ConsoleScope
from portal.errors import NotFound
from portal.models import ApiKey, Staff, Store

#: The staff code shown in the example when the store has no active staff yet.
EXAMPLE_STAFF_CODE = "S0001"


def keys_stmt(scope: ConsoleScope, store: Store | None = None) -> Select[tuple[ApiKey, Store]]:
    """Keys of the stores in ``scope`` (of ``store`` alone when given), newest first."""
    stmt = (
        select(ApiKey, Store)
        .join(Store, Store.id == ApiKey.store_id)
        .where(Store.id.in_(scope.store_ids().scalar_subquery()))
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    return stmt if store is None else stmt.where(ApiKey.store_id == store.id)


def get_key_in_scope(session: Session, scope: ConsoleScope, key_id: int) -> ApiKey:
    """The key with this id when its store is in scope.

    Raises
    ------
    NotFound
    """
    api_key = session.scalar(
        select(ApiKey).where(
            ApiKey.id == key_id, ApiKey.store_id.in_(scope.store_ids().scalar_subquery())
        )
    )
    if api_key is None:
        raise NotFound()
    return api_key


@dataclass(frozen=True, slots=True)
class CurlExample:
    """A request a till's developer can paste: the real URL, the key, a documented body."""

    url: str
    body: str

    def command(self, secret: str) -> str:
        return (
            f"curl -sS -X POST {self.url} \\\n"
            f'  -H "Authorization: Bearer {secret}" \\\n'
            '  -H "Content-Type: application/json" \\\n'
            f"  -d '{self.body}'"
        )


def curl_example(session: Session, base_url: str, store: Store) -> CurlExample:
    """The POS receipt request of DESIGN section 4 for ``store``, with one of its real
    staff codes when it has one."""
    staff_code = session.scalar(
        select(Staff.code)
        .where(Staff.store_id == store.id, Staff.active.is_(True))
        .order_by(Staff.code)
        .limit(1)
    )
    body = {
        "transaction_id": f"{store.code}-0001",
        "staff_code": staff_code or EXAMPLE_STAFF_CODE,
        "total": 128.5,
    }
    # Codes are letters, digits, ".", "_" and "-" (checked when they are created): nothing
    # in the body can end the single-quoted shell argument.
    return CurlExample(url=f"{base_url.rstrip('/')}/api/v1/receipts", body=json.dumps(body))
