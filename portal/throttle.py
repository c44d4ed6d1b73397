"""Throttling shared by every worker and server: one interface for every throttled place.

A rule allows ``limit`` hits of one key (an address, an e-mail) per fixed ``window`` of
seconds. Counts live in the database (``rate_limit_hits``, an atomic upsert in a short
transaction of its own, so that a request whose own transaction rolls back is still counted
and the request's write lock is never held longer), or, when
``PORTAL_RATELIMIT_STORAGE_URL`` names one (``redis://…``), in a storage of the ``limits``
library. Refused requests get 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from flask import Flask, current_app, request
from sqlalchemy import Connection, Engine, TextClause, bindparam, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.exceptions import TooManyRequests

from portal.db import precompiled, utcnow
from portal.models import RateLimitHit

#: Rows of windows older than this are deleted when a new window starts.
KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Rule:
    """At most ``limit`` hits per ``window`` seconds for one subject of ``name``."""

    name: str
    limit: int
    window: int


#: Failed sign-ins of one account, and sign-in attempts from one address.
LOGIN_ACCOUNT = Rule("login-account", 10, 15 * 60)
LOGIN_IP = Rule("login-ip", 30, 15 * 60)
#: "Forgot password" requests for one address (each one mails a link), and from one client.
RESET_ACCOUNT = Rule("reset-account", 3, 3600)
RESET_IP = Rule("reset-ip", 20, 3600)
#: Bad bearer credentials (POS keys, personal API tokens) from one address.
BEARER = Rule("bearer", 20, 10 * 60)
#: Forged or unknown survey links, and unknown typed short codes, from one address.
SURVEY_TOKEN = Rule("survey-token", 20, 10 * 60)
SHORT_CODE = Rule("short-code", 10, 10 * 60)
#: Survey submits from one address (a store's Wi-Fi shares one: generous).
SUBMIT = Rule("submit", 30, 10 * 60)


class Storage(Protocol):
    def incr(self, key: str, window_start: int, window: int) -> int: ...

    def get(self, key: str, window_start: int, window: int) -> int: ...


class DatabaseStorage:
    """Counts in ``rate_limit_hits``, each hit in its own short transaction."""

    def __init__(self, bind: Engine | Connection) -> None:
        self.bind = bind

    def _begin(self) -> Any:
        # An engine: a connection and transaction of our own. A connection (the tests bind
        # the app to one inside a rolled-back transaction): a savepoint on it.
        if isinstance(self.bind, Engine):
            return self.bind.begin()
        return _Nested(self.bind)

    def incr(self, key: str, window_start: int, window: int) -> int:
        with self._begin() as conn:
            stmt = _incr_statement(conn.dialect.name)
            count = int(conn.execute(stmt, {"key": key, "window_start": window_start}).scalar_one())
            if count == 1:  # a new window: forget this key's old ones and every stale row
                conn.execute(
                    _PRUNE, {"stale": window_start - KEEP_SECONDS, "key": key, "now": window_start}
                )
        return count

    def get(self, key: str, window_start: int, window: int) -> int:
        table: Any = RateLimitHit.__table__
        stmt = select(table.c.count).where(table.c.key == key, table.c.window_start == window_start)
        with self._begin() as conn:
            return int(conn.execute(stmt).scalar() or 0)


@lru_cache(maxsize=4)
def _incr_statement(dialect: str) -> TextClause:
    """Count one hit, returning the count: compiled once (`portal.db.precompiled`)."""
    table: Any = RateLimitHit.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = insert(table).values(
        key=bindparam("key", type_=table.c.key.type),
        window_start=bindparam("window_start", type_=table.c.window_start.type),
        count=1,
    )
    stmt = upsert.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": table.c.count + 1}
    ).returning(table.c.count)
    return precompiled(stmt, dialect)


def _prune_statement() -> Any:
    table: Any = RateLimitHit.__table__
    start = table.c.window_start
    return delete(table).where(
        or_(
            start < bindparam("stale", type_=start.type),
            (table.c.key == bindparam("key", type_=table.c.key.type))
            & (start < bindparam("now", type_=start.type)),
        )
    )


#: Built once: every submit from a new address runs it.
_PRUNE = _prune_statement()


class _Nested:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def __enter__(self) -> Connection:
        self.transaction = self.connection.begin_nested()
        return self.connection

    def __exit__(self, kind: object, *_rest: object) -> None:
        if kind is None:
            self.transaction.commit()
        else:
            self.transaction.rollback()


class LimitsStorage:
    """A storage of the ``limits`` library (``redis://…``, ``memory://``), one key per window."""

    def __init__(self, url: str) -> None:
        from limits.storage import storage_from_string

        self.storage: Any = storage_from_string(url)

    def incr(self, key: str, window_start: int, window: int) -> int:
        return int(self.storage.incr(f"portal:{key}:{window_start}", window))

    def get(self, key: str, window_start: int, window: int) -> int:
        return int(self.storage.get(f"portal:{key}:{window_start}"))


def _window(rule: Rule, now: datetime) -> tuple[int, int]:
    """The start of ``now``'s window, and the whole seconds until the next one (≥ 1)."""
    seconds = now.timestamp()
    start = int(seconds // rule.window) * rule.window
    return start, max(1, math.ceil(start + rule.window - seconds))


def hit(storage: Storage, rule: Rule, subject: str, now: datetime) -> int | None:
    """Count one hit of ``subject``: None if it is allowed, else the seconds to wait."""
    start, retry_after = _window(rule, now)
    count = storage.incr(_key(rule, subject), start, rule.window)
    return None if count <= rule.limit else retry_after


def peek(storage: Storage, rule: Rule, subject: str, now: datetime) -> int | None:
    """Without counting: None if one more hit is allowed, else the seconds to wait."""
    start, retry_after = _window(rule, now)
    count = storage.get(_key(rule, subject), start, rule.window)
    return None if count < rule.limit else retry_after


def _key(rule: Rule, subject: str) -> str:
    return f"{rule.name}:{subject}"[:200]


# The web side: the app's storage, the client's address, and 429 answers.


def init_app(app: Flask, url: str, enabled: bool, bind: Engine | Connection) -> None:
    storage: Storage | None = None
    if enabled:
        storage = LimitsStorage(url) if url else DatabaseStorage(bind)
    app.extensions["portal.throttle"] = storage


def client_address() -> str:
    """The client's address (``portal/security.py`` has believed trusted proxies already)."""
    return request.remote_addr or "unknown"


def _storage() -> Storage | None:
    storage: Storage | None = current_app.extensions.get("portal.throttle")
    return storage


def enforce(rule: Rule, subject: str) -> None:
    """Count one hit; answer 429 with ``Retry-After`` when it is over the limit."""
    storage = _storage()
    if storage is not None:
        retry_after = hit(storage, rule, subject, utcnow())
        if retry_after is not None:
            raise TooManyRequests(retry_after=retry_after)


def refuse_if_exhausted(rule: Rule, subject: str) -> None:
    """Answer 429 with ``Retry-After`` if ``subject`` has no hit left in this window."""
    storage = _storage()
    if storage is not None:
        retry_after = peek(storage, rule, subject, utcnow())
        if retry_after is not None:
            raise TooManyRequests(retry_after=retry_after)


def count_failure(rule: Rule, subject: str) -> None:
    """Count one failure (the caller answers it as usual; the next attempts get 429)."""
    storage = _storage()
    if storage is not None:
        hit(storage, rule, subject, utcnow())
