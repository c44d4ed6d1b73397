"""The one pagination helper: a SELECT becomes a `Page` with its items and counts.
Templates render it with ``_macros/pagination.html``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from portal.errors import DomainError
from surveys.strict import int_or_none

T = TypeVar("T")

MAX_PER_PAGE = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


class InvalidPage(DomainError):
    status = 400
    code = "invalid_page"
    message = _l("The page number must be a whole number written with the digits 0-9.")


def requested_page() -> int:
    """The ``?page=`` argument (1 when absent), read strictly: anything but ASCII digits is
    a 400, never a guess (``1_0`` or ``１０`` is not page 10)."""
    text = request.args.get("page", "")
    if text == "":
        return 1
    page = int_or_none(text)
    if page is None:
        raise InvalidPage()
    return max(1, min(page, 1_000_000))


def paginate(session: Session, stmt: Select[Any], page: int, per_page: int = 25) -> Page[Any]:
    """Run ``stmt`` for one page. Rows of one entity come back as entities, else as rows."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    result = session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    # One entity or one column selected: hand back the objects, not one-element rows.
    items: Sequence[Any] = (
        result.scalars().all() if len(stmt.column_descriptions) == 1 else result.all()
    )
    return Page(items=items, number=page, per_page=per_page, total=total)
