"""Database plumbing: declarative base, engine, and the per-request session.

Plain SQLAlchemy 2.0 rather than Flask-SQLAlchemy, so that operations run unchanged from
views, the CLI, the demo builder, benchmarks and tests. One session per request lives on
``g`` and is closed at teardown; the view (the caller) commits once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, TypeVar, cast

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import (
    DateTime,
    Dialect,
    Engine,
    MetaData,
    TextClause,
    bindparam,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import registry
from sqlalchemy.engine import BindTyping, Connection
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapper,
    Session,
    make_transient_to_detached,
    mapped_column,
    object_mapper,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Execution option asking SQLite to take the write lock when the transaction begins.
WRITE_INTENT = "portal_write_intent"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    SQLite has no time zone type: values are stored as naive UTC and handed back aware,
    so comparisons never mix naive and aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


intpk = Annotated[int, mapped_column(primary_key=True)]
utc_datetime = Annotated[datetime, mapped_column(UTCDateTime())]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite turn on WAL, foreign keys and real transactions.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT, so it is switched
    off and SQLAlchemy emits BEGIN itself (the documented recipe). A write transaction begins
    IMMEDIATE: two submits of one receipt then queue on the write lock (busy_timeout) instead
    of failing with "database is locked" when a read lock cannot be upgraded.
    """
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Deleted values (purged contact details, erased comments) are overwritten with
            # zeros in the file, not only unlinked (SECURITY.md, "Retention is real"); stock
            # SQLite builds leave this off.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get(WRITE_INTENT, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def precompiled(stmt: Any, dialect: str) -> TextClause:
    """``stmt`` compiled for the ``dialect`` named (``sqlite``, ``postgresql``), as a text
    statement that SQLAlchemy's statement cache keeps.

    For statements SQLAlchemy cannot cache. The dialects' ``insert().on_conflict_do_update()``
    has no cache key in SQLAlchemy 2.0 (``inherit_cache = False``), so it is compiled again
    on every execution: about 2 ms of Python per upsert, and a survey submit makes four (the
    throttle's counter, then three rollups inside its write transaction, which on SQLite
    holds the database's one write lock). The caller builds the statement once per dialect
    and keeps the result (``lru_cache``); each value as ``bindparam(name, type_=...)``, so
    that the text's parameters keep their types.
    """
    named = cast("type[DefaultDialect]", registry.load(dialect))(paramstyle="named")
    # No ``:name::TYPE`` casts (psycopg's), which text() cannot read as parameters; the
    # columns' types decide without them.
    named.bind_typing = BindTyping.NONE
    compiled = stmt.compile(dialect=named)
    binds = [
        bindparam(name, value=bind.effective_value, type_=bind.type)
        for bind, name in compiled.bind_names.items()
    ]
    return text(str(compiled)).bindparams(*binds)


_Row = TypeVar("_Row", bound="Base")


def insert_now(session: Session, row: _Row) -> _Row:
    """Insert ``row`` (a new mapped object) at once with one Core statement on the session's
    connection, and attach it to ``session`` as if it had been loaded.

    For the few rows a hot path writes (a survey submit's response, case and audit
    entries): the ORM's unit of work costs several times the insert itself. Python-side
    column defaults are applied here and kept on ``row``, and so is its new primary key;
    an unset column without one is stored NULL (or its server default, then read only if
    asked for). Only ``row``'s columns are written: its relationships must be empty (add
    related rows after it, by their foreign keys). Raises what the insert raises (an
    IntegrityError inside the caller's savepoint, for instance).
    """
    mapper = object_mapper(row)
    state = row.__dict__
    values: dict[str, Any] = {}
    for attribute, column, default in _insert_plan(mapper):
        if attribute in state:
            value = state[attribute]
        elif default is not None:
            value = default()
            setattr(row, attribute, value)
        else:
            continue
        values[column] = value
    table: Any = mapper.local_table
    result = session.connection().execute(table.insert(), values)
    assigned: Any = result.inserted_primary_key
    for key_column, key in zip(mapper.primary_key, assigned, strict=True):
        setattr(row, mapper.get_property_by_column(key_column).key, key)
    make_transient_to_detached(row)
    session.add(row)
    return row


@cache
def _insert_plan(mapper: Mapper[Any]) -> tuple[tuple[str, str, Any], ...]:
    """(attribute, column key, default maker or None) of ``mapper``'s column attributes,
    primary keys the database assigns left out."""
    plan = []
    for prop in mapper.column_attrs:
        column: Any = prop.columns[0]
        if column.primary_key and column.autoincrement in (True, "auto"):
            continue
        default = column.default
        maker = None
        if default is not None and default.is_scalar:
            maker = (lambda value: lambda: value)(default.arg)
        elif default is not None and default.is_callable:
            maker = (lambda fn: lambda: fn(None))(default.arg)
        elif column.server_default is None and column.nullable:
            maker = _none
        plan.append((prop.key, column.key, maker))
    return tuple(plan)


def _none() -> None:
    return None


def writer(bind: Engine) -> Engine:
    """The same engine, but transactions begin with the write lock on SQLite."""
    return bind.execution_options(**{WRITE_INTENT: True})


def make_sessionmaker(bind: Engine | Connection) -> sessionmaker[Session]:
    if isinstance(bind, Connection):
        # Tests: join the test's outer transaction and roll back to a savepoint.
        return sessionmaker(
            bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
    return sessionmaker(bind=bind, expire_on_commit=False)


def init_app(app: Flask, bind: Engine | Connection) -> None:
    readers = make_sessionmaker(bind)
    writers = make_sessionmaker(writer(bind)) if isinstance(bind, Engine) else readers
    app.extensions["portal.db"] = (bind, readers, writers)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The request's session; POST/PUT/DELETE requests get one with write intent."""
    if "db_session" not in g:
        _bind, readers, writers = current_app.extensions["portal.db"]
        safe = has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
        g.db_session = (readers if safe else writers)()
    session: Session = g.db_session
    return session


def write_session() -> Session:
    """A session of its own with write intent, beside the request's, for a short write
    that a reading request (a GET) needs to make and commit at once."""
    _bind, _readers, writers = current_app.extensions["portal.db"]
    session: Session = writers()
    return session


def read_session() -> Session:
    """A session of its own without write intent, beside the request's, for a short read
    that a writing request (a POST) makes before its write transaction: on SQLite the
    request's own session would take the database's one write lock for it."""
    _bind, readers, _writers = current_app.extensions["portal.db"]
    session: Session = readers()
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
