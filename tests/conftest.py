"""Shared fixtures: a migrated database, a rolled-back session per test, the app bound to
it, factories for stores, staff, users, receipts and shoppers' answers, and helpers for
CSRF-protected forms.

``PORTAL_TEST_DATABASE_URL`` selects PostgreSQL (``.ci/run`` starts one); otherwise a
temporary SQLite file is used.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, create_engine, delete, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal import create_app
from portal.audit import CLI
from portal.auth.operations import create_user
from portal.calendar import local_today, month_start
from portal.config import Settings
from portal.db import make_engine, utcnow
from portal.models import (
    MysteryVisit,
    RateLimitHit,
    Response,
    Role,
    Staff,
    Store,
    SurveyVersion,
    User,
)
from portal.receipts import IssuedReceipt, issue_receipt
from portal.schema import upgrade_database
from portal.shopper.operations import record_response
from portal.versions import default_survey, latest_version, publish_survey_version
from surveys.answers import Answers, ContactAnswer
from surveys.checklists import get_checklist
from surveys.loader import receipt_survey

PASSWORD = "correct horse battery"
SECRET = "test-secret-key-not-for-production"
#: The settings of every test app (the fixture adds a per-test instance folder). Jobs run
#: by separate workers: a test that turns ``testing`` off to serve like production must not
#: leave job consumer threads ticking on the test's connection after it (a test that wants
#: a consumer starts and stops one itself).
SETTINGS = Settings(
    secret_key=SECRET,
    base_url="http://portal.test",
    default_locale="zh_CN",
    testing=True,
    job_worker="separate",
)


def _fresh_postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """Create an empty database beside the one given; return its URL and a dropper."""
    url = make_url(admin_url)
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@contextmanager
def empty_database(sqlite_file: Path, **postgres_options: Any) -> Iterator[Engine]:
    """An empty database: a fresh one on the PostgreSQL server named by
    ``PORTAL_TEST_DATABASE_URL`` (dropped afterwards), else the SQLite file given."""
    pg_url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if pg_url:
        url, drop = _fresh_postgres_database(pg_url)
        engine = make_engine(url, **postgres_options)
    else:
        engine, drop = make_engine(f"sqlite:///{sqlite_file}"), None
    try:
        yield engine
    finally:
        engine.dispose()
        if drop is not None:
            drop()


@contextmanager
def _migrated_database(sqlite_file: Path, **postgres_options: Any) -> Iterator[Engine]:
    """An empty database (`empty_database`) migrated to head."""
    with empty_database(sqlite_file, **postgres_options) as engine:
        upgrade_database(engine)
        yield engine


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with _migrated_database(tmp_path_factory.mktemp("db") / "test.sqlite3") as engine:
        yield engine


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database of its own with real commits, for concurrency and journey tests."""
    # Concurrency tests hold many connections at once.
    with _migrated_database(tmp_path / "fresh.sqlite3", pool_size=20, max_overflow=20) as engine:
        yield engine


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database of its own with no tables yet, for upgrade tests that start from an
    earlier schema."""
    with empty_database(tmp_path / "empty.sqlite3") as engine:
        yield engine


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    # The SQLAlchemy recipe: an outer transaction per test, rolled back at the end.
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def db_session(connection: Connection) -> Iterator[Session]:
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return SETTINGS.with_instance(str(tmp_path / "instance"))


def _app(settings: Settings, bind: Engine | Connection) -> Flask:
    app = create_app(settings, bind=bind)
    if isinstance(bind, Engine):
        # Throttling counts are committed on an engine: each test starts with none. (On a
        # connection they go with the test's rolled-back transaction.)
        with bind.begin() as conn:
            conn.execute(delete(RateLimitHit))
    return app


@pytest.fixture
def app(settings: Settings, connection: Connection) -> Flask:
    return _app(settings, connection)


@pytest.fixture
def make_app(settings: Settings) -> Callable[[Engine], Flask]:
    return lambda bind: _app(settings, bind)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def now() -> datetime:
    return utcnow()


def _saved(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def default_version_id(session: Session) -> int:
    """The id of the default survey's latest version: what a receipt asks unless targeted
    otherwise (for tests that insert receipts as rows)."""
    version = latest_version(session, default_survey(session).id)
    assert version is not None
    return version.id


def add_store_with_cashier(session: Session) -> Store:
    """Store SH-001 with cashier S001, for tests that commit in a database of their own
    (`fresh_engine`) rather than the rolled-back test session."""
    store = _saved(session, Store(code="SH-001", name="店", region="华东"))
    _saved(session, Staff(store_id=store.id, code="S001", name="张伟"))
    return store


def issue_one_receipt(session: Session, settings: Settings, store: Store) -> IssuedReceipt:
    """A receipt of ``store`` from cashier S001 (see `add_store_with_cashier`), now."""
    return issue_receipt(
        session,
        settings,
        store=store,
        staff_code="S001",
        transaction_id="T-1",
        issued_at=None,
        total_cents=None,
        now=utcnow(),
    )


@pytest.fixture
def make_store(db_session: Session) -> Callable[..., Store]:
    counter = iter(range(1, 10_000))

    def make(code: str | None = None, **fields: Any) -> Store:
        n = next(counter)
        fields.setdefault("name", f"测试门店 {n}")
        fields.setdefault("region", "华东")
        fields.setdefault("timezone", "Asia/Shanghai")
        return _saved(db_session, Store(code=code or f"ST-{n:03d}", **fields))

    return make


@pytest.fixture
def make_staff(db_session: Session) -> Callable[..., Staff]:
    counter = iter(range(1, 10_000))

    def make(store: Store, code: str | None = None, **fields: Any) -> Staff:
        fields.setdefault("name", "王芳")
        code = code or f"S{next(counter):03d}"
        return _saved(db_session, Staff(store_id=store.id, code=code, **fields))

    return make


@pytest.fixture
def make_user(db_session: Session) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(role: Role | str, stores: list[Store] | None = None, **fields: Any) -> User:
        user = create_user(
            db_session,
            email=fields.pop("email", f"{role}{next(counter)}@example.com"),
            role=str(role),
            password=fields.pop("password", PASSWORD),
            stores=stores or [],
            actor=CLI,
            now=utcnow(),
            **fields,
        )
        db_session.flush()
        return user

    return make


@pytest.fixture
def make_receipt(db_session: Session, settings: Settings) -> Callable[..., IssuedReceipt]:
    counter = iter(range(1, 1_000_000))

    def make(
        store: Store, staff: Staff | None, *, now: datetime | None = None, **fields: Any
    ) -> IssuedReceipt:
        issued = issue_receipt(
            db_session,
            settings,
            store=store,
            staff_code=None if staff is None else staff.code,
            transaction_id=fields.pop("transaction_id", f"TX-{next(counter):06d}"),
            issued_at=fields.pop("issued_at", None),
            total_cents=fields.pop("total_cents", None),
            now=now or utcnow(),
        )
        db_session.flush()
        return issued

    return make


@pytest.fixture
def make_response(
    db_session: Session, settings: Settings, make_receipt: Callable[..., IssuedReceipt]
) -> Callable[..., Response]:
    """A shopper's answer to a fresh receipt, through the real operation (so the rollups
    and any case it implies are written as in production). The receipt is printed
    ``receipt_age`` before the answer."""

    def make(
        store: Store,
        staff: Staff | None = None,
        *,
        nps: int = 9,
        csat: int = 5,
        ratings: dict[str, int] | None = None,
        category: str | None = None,
        comment: str | None = None,
        contact: ContactAnswer | None = None,
        now: datetime | None = None,
        receipt_age: timedelta = timedelta(hours=1),
        locale: str = "zh_CN",
        settings: Settings = settings,
        **receipt_fields: Any,
    ) -> Response:
        when = now or utcnow()
        issued = make_receipt(store, staff, now=when - receipt_age, **receipt_fields)
        response = record_response(
            db_session,
            settings=settings,
            receipt=issued.receipt,
            definition=receipt_survey(),
            answers=Answers(
                nps=nps,
                csat=csat,
                ratings=ratings or {},
                problem_reported=category is not None,
                problem_category=category,
                comment=comment,
                contact=contact,
            ),
            locale=locale,
            now=when,
        )
        db_session.flush()
        return response

    return make


@pytest.fixture
def checklist_version(db_session: Session) -> SurveyVersion:
    """The standard retail checklist, published."""
    return publish_survey_version(db_session, get_checklist("retail-standard"), utcnow())


@pytest.fixture
def make_visit(
    db_session: Session, checklist_version: SurveyVersion
) -> Callable[..., MysteryVisit]:
    """A scored mystery visit written directly (no workflow): for reports and rankings
    that read visits in bulk. ``day`` defaults to the first of this month (China time),
    every section scores ``score`` unless ``sections`` says otherwise."""
    sections_of = [s.key for s in get_checklist("retail-standard").sections]

    def make(
        store: Store,
        shopper: User,
        score: float,
        *,
        state: str = "released",
        day: date | None = None,
        sections: dict[str, float] | None = None,
        **fields: Any,
    ) -> MysteryVisit:
        day = day or month_start(local_today(None, utcnow()))
        started = datetime(day.year, day.month, day.day, 2, tzinfo=UTC)  # 10:00 in Shanghai
        fields.setdefault("score_before_autofail", score)
        fields.setdefault("auto_fail", False)
        fields.setdefault("answers", {})
        visit = MysteryVisit(
            store_id=store.id,
            shopper_id=shopper.id,
            checklist_version_id=checklist_version.id,
            checklist_key="retail-standard",
            window_start=day,
            window_end=day,
            daypart="morning",
            state=state,
            visit_day=day,
            visit_started_at=started,
            visit_ended_at=started + timedelta(minutes=25),
            score=score,
            section_scores=dict.fromkeys(sections_of, score) if sections is None else sections,
            flags=[],
            **fields,
        )
        return _saved(db_session, visit)

    return make


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def post_form(
    client: FlaskClient, url: str, data: dict[str, Any], *, page: str | None = None, **kwargs: Any
) -> Any:
    """GET ``page`` (default ``url``) for its CSRF token, then POST ``data`` to ``url``."""
    html = client.get(page or url, **kwargs).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(html), **data}, **kwargs)


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[User], Any]:
    def login(user: User) -> Any:
        response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return login


@pytest.fixture
def sent_statements(engine: Engine) -> Iterator[list[str]]:
    """The statements sent to the database while the test runs."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    yield statements
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def count_queries(sent_statements: list[str]) -> Callable[[], int]:
    """Count statements sent to the database while the test runs."""
    return lambda: len(sent_statements)


def aware(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)
