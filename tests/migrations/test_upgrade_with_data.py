"""Upgrading a chain's real data from every released schema, and downgrading it again.

For each revision R with a fixture (``fixtures/R.sql``, the chain of ``fixtures/chain.py``
as a database at R held it): an empty database is migrated to R, the fixture loaded, and
the database brought to head with ``init-db``, the operator's command. Then every row and
value that was there is still there, the columns added later hold their documented
values, and the portal at head reads the data as it was meant: the accounts sign in with
their passwords, the receipt links open, the POS gets the same token for a reprint, the
store figures are those of the answers, and cases, mystery reports and the award log open.
On SQLite, and on PostgreSQL when ``PORTAL_TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal import create_app
from portal.awards.ledger import verify_award_log
from portal.models import (
    Case,
    Channel,
    MysteryVisit,
    Receipt,
    Region,
    Response,
    ResponseContact,
    Staff,
    Store,
    Survey,
    SurveyVersion,
    User,
)
from portal.receipts import receipt_token
from portal.rollups import rebuild_rollups
from portal.schema import downgrade_database, upgrade_database
from surveys.codes import format_short_code, make_validation_code
from tests.conftest import SETTINGS, empty_database, post_form
from tests.migrations.fixture_db import (
    Rows,
    columns_of,
    fixture_path,
    fixture_revisions,
    load_fixture,
    read_tables,
    reflect_schema,
    revisions,
    table_columns,
)
from tests.migrations.fixtures.known import API_TOKEN, PASSWORDS, POS_KEYS

EN = {"Accept-Language": "en"}
ROLLUPS = ("daily_rollups", "store_daily_rollups", "store_monthly_rollups")


def since(revision: str, first: str) -> bool:
    """Whether a database at ``revision`` already had what ``first`` added."""
    order = revisions()
    return order.index(revision) >= order.index(first)


def test_every_revision_has_an_upgrade_fixture() -> None:
    missing = [rev for rev in revisions() if not fixture_path(rev).exists()]
    assert not missing, (
        f"migration(s) {', '.join(missing)} have no upgrade fixture: write it with "
        "`PYTHONPATH=. .venv/bin/python -m tests.migrations.fixtures.make_fixture` "
        "and commit tests/migrations/fixtures/<revision>.sql "
        "(tests/migrations/fixtures/README.md says how)"
    )


# -- upgrade from each revision ------------------------------------------------------------


@dataclass
class Upgraded:
    revision: str
    engine: Engine
    app: Flask
    #: Every row as loaded at the revision, and the same columns read back at head.
    before: dict[str, Rows]
    after: dict[str, Rows]
    init_db_output: str

    def session(self) -> Session:
        return Session(self.engine)


def _upgraded(revision: str, folder: Path) -> Iterator[Upgraded]:
    with empty_database(folder / "upgrade.sqlite3") as engine:
        upgrade_database(engine, revision)
        load_fixture(engine, revision)
        schema = reflect_schema(engine)
        columns, before = columns_of(schema), read_tables(engine, schema)
        app = create_app(SETTINGS.with_instance(str(folder / "instance")), bind=engine)
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        at_head = table_columns(engine)
        gone = {t: [c for c in cs if c not in at_head.get(t, [])] for t, cs in columns.items()}
        assert not any(gone.values()), f"columns of {revision} missing at head: {gone}"
        yield Upgraded(revision, engine, app, before, read_tables(engine, schema), result.output)


@pytest.fixture(scope="module", params=fixture_revisions())
def upgraded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    yield from _upgraded(request.param, tmp_path_factory.mktemp(f"upgrade-{request.param}"))


def test_every_row_and_value_survives_the_upgrade(upgraded: Upgraded) -> None:
    assert sum(len(rows) for rows in upgraded.before.values()) > 50  # the fixture loaded
    for table, rows in upgraded.before.items():
        assert upgraded.after[table] == rows, f"{table} changed upgrading from {upgraded.revision}"


#: Receipt → (the receipt's store-local day and hour, the answer's store-local day): what
#: 0002 computes from each store's time zone, and the portal writes from then on.
LOCAL_TIMES = {
    # Answered at 00:30 on 21 October in Shanghai, still the 20th in UTC.
    "SH-20261020-0877": (date(2026, 10, 20), 14, date(2026, 10, 21)),
    # Issued at 00:30 British Summer Time on 25 October, the 24th in UTC.
    "LDN-88120": (date(2026, 10, 25), 0, date(2026, 10, 25)),
    # Issued 19:00 EDT; answered 01:30 on 1 November, the hour that comes twice.
    "NY-1030-7702": (date(2026, 10, 30), 19, date(2026, 11, 1)),
    # 21:00 and 22:00 EST on 3 November, 4 November in UTC.
    "NY-1103-9120": (date(2026, 11, 3), 21, date(2026, 11, 3)),
    "SH-20261104-0019": (date(2026, 11, 4), 1, date(2026, 11, 4)),
}


def test_columns_added_later_hold_their_documented_values(upgraded: Upgraded) -> None:
    with upgraded.session() as session:
        rows = session.execute(
            select(
                Receipt.transaction_id, Receipt.local_day, Receipt.local_hour, Response.local_day
            )
            .join(Response, Response.receipt_id == Receipt.id)
            .where(Receipt.transaction_id.in_(LOCAL_TIMES))
        ).all()
        assert {tx: (day, hour, answered) for tx, day, hour, answered in rows} == LOCAL_TIMES
        assert session.scalar(select(func.count()).where(Response.local_day.is_(None))) == 0
        versions = dict(session.execute(select(User.email, User.session_version)).tuples().all())
        # 0007 starts every account at 1; from then on signing out everywhere counts up.
        signed_out = since(upgraded.revision, "0007")
        assert versions.pop("manager.sh@chain.example") == (3 if signed_out else 1)
        assert versions.pop("former.manager@chain.example") == (2 if signed_out else 1)
        assert set(versions.values()) == {1}
        if not since(upgraded.revision, "0009"):
            # 0009 lists every region a store named, so the admin console can offer them.
            regions = set(session.scalars(select(Region.name)))
            assert regions == {"华东", "North America", "Europe"}
        if since(upgraded.revision, "0003"):
            # 0006 marks no earlier case substantiated: that was not recorded before.
            substantiated = session.scalars(
                select(Case.id).where(Case.substantiated).order_by(Case.id)
            ).all()
            assert substantiated == ([1, 3] if since(upgraded.revision, "0006") else [])


def test_the_receipt_survey_becomes_version_1_of_the_default_survey(upgraded: Upgraded) -> None:
    """0011: the answers already given stay tied to the version they answered, now version
    1 (2, 3 ... for later hashes) of the default survey; every receipt asks a version."""
    with upgraded.session() as session:
        default = session.scalars(select(Survey).where(Survey.key == "receipt")).one()
        numbered = session.execute(
            select(SurveyVersion.id, SurveyVersion.number)
            .where(SurveyVersion.survey_key == "receipt")
            .order_by(SurveyVersion.published_at, SurveyVersion.id)
        ).all()
        assert [number for _id, number in numbered] == list(range(1, len(numbered) + 1))
        assert (
            session.scalar(
                select(func.count()).where(
                    SurveyVersion.survey_key == "receipt", SurveyVersion.survey_id != default.id
                )
            )
            == 0
        )
        answered = session.execute(
            select(Receipt.survey_version_id, Response.survey_version_id).join(
                Response, Response.receipt_id == Receipt.id
            )
        ).all()
        assert answered and all(asked == answered_with for asked, answered_with in answered)
        unanswered = set(
            session.scalars(select(Receipt.survey_version_id).where(Receipt.answered_at.is_(None)))
        )
        assert unanswered <= {numbered[-1][0]}
        # The scores of the existing answers did not move: the figures tests below check
        # them through the API; here, that none was lost (kiosk and phone answers, from
        # 0012 on, answer no receipt).
        with_receipt = select(func.count()).where(Response.receipt_id.is_not(None))
        assert session.scalar(with_receipt) == len(answered)


def test_rollups_at_head_are_those_of_the_answers(upgraded: Upgraded) -> None:
    if not since(upgraded.revision, "0004"):
        # The store-day and store-month rollups came with 0004; init-db counted them.
        assert "Counted existing answers" in upgraded.init_db_output
    with upgraded.engine.connect() as conn, conn.begin() as transaction:
        rollups = reflect_schema(conn, only=list(ROLLUPS))
        kept = read_tables(conn, rollups)
        with Session(conn) as session:
            rebuild_rollups(session)
        assert read_tables(conn, rollups) == kept
        transaction.rollback()
    assert all(kept.values())


#: What the answers of October and November imply, store by store.
FIGURES = {
    "SH-001": {"n": 9, "promoters": 5, "passives": 2, "detractors": 2, "nps": 33.33, "csat": 77.78},
    "LDN-001": {
        "n": 3,
        "promoters": 2,
        "passives": 0,
        "detractors": 1,
        "nps": 33.33,
        "csat": 66.67,
    },
}


def test_store_figures_at_head_are_those_the_answers_imply(upgraded: Upgraded) -> None:
    client = upgraded.app.test_client()
    token = API_TOKEN
    if not since(upgraded.revision, "0002"):
        # Personal tokens came with 0002: the manager makes one at head.
        result = upgraded.app.test_cli_runner().invoke(
            args=["create-api-token", "manager.sh@chain.example"]
        )
        token = result.output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    for code, expected in FIGURES.items():
        # The receipt's answers: what every revision before 0012 had, and what it called
        # them when the channel came.
        page = client.get(
            f"/api/v1/metrics/summary?store={code}&from=2026-10-01&to=2026-11-30&channel=receipt",
            headers=headers,
        )
        assert page.status_code == 200, page.get_data(as_text=True)
        assert {key: page.get_json()[key] for key in expected} == expected, code
        # The counts again from the raw answers, without the rollups the API reads.
        with upgraded.session() as session:
            scores = session.scalars(
                select(Response.nps)
                .join(Store)
                .where(Store.code == code, Response.channel == Channel.RECEIPT)
            ).all()
        counted = {
            "n": len(scores),
            "promoters": sum(s >= 9 for s in scores),
            "passives": sum(7 <= s <= 8 for s in scores),
            "detractors": sum(s <= 6 for s in scores),
        }
        assert counted == {key: expected[key] for key in counted}, code
    if since(upgraded.revision, "0012"):
        # A counter tablet's answer (8), a paper card's (10) and a phone call's (7).
        page = client.get(
            "/api/v1/metrics/summary?store=SH-001&from=2026-10-01&to=2026-11-30"
            "&channel=kiosk,paper,phone",
            headers=headers,
        )
        assert {k: page.get_json()[k] for k in ("n", "promoters", "passives")} == {
            "n": 3,
            "promoters": 1,
            "passives": 2,
        }


def test_accounts_sign_in_with_the_passwords_they_had(upgraded: Upgraded) -> None:
    with upgraded.session() as session:
        hashes = dict(session.execute(select(User.email, User.password_hash)).tuples().all())
    assert hashes["hr@chain.example"].startswith("pbkdf2:sha256:600000$")
    for email in ("manager.sh@chain.example", "hr@chain.example"):
        client = upgraded.app.test_client()
        signed_in = post_form(
            client, "/login", {"email": email, "password": PASSWORDS[email]}, headers=EN
        )
        assert signed_in.status_code == 302, (email, signed_in.get_data(as_text=True))
    home = client.get("/settings", headers=EN)  # a page for signed-in users only
    assert home.status_code == 200
    gone = post_form(
        upgraded.app.test_client(),
        "/login",
        {
            "email": "former.manager@chain.example",
            "password": PASSWORDS["former.manager@chain.example"],
        },
        headers=EN,
    )
    assert gone.status_code == 401  # deactivated before the upgrade, still deactivated


def _receipt(session: Session, transaction_id: str) -> Receipt:
    return session.scalars(select(Receipt).where(Receipt.transaction_id == transaction_id)).one()


def test_receipt_links_codes_and_reprints_work_as_before(upgraded: Upgraded) -> None:
    client, settings = upgraded.app.test_client(), upgraded.app.config["PORTAL_SETTINGS"]
    with upgraded.session() as session:
        url = {
            tx: f"/r/{receipt_token(settings, _receipt(session, tx))}"
            for tx in ("SH-20261118-0101", "SH-20261118-0102", "SH-20261101-0005")
        }
        october = receipt_token(settings, _receipt(session, "SH-20261012-0001"))
        short_code = _receipt(session, "SH-20261118-0101").short_code
        first = session.scalars(
            select(Response).join(Receipt).where(Receipt.transaction_id == "SH-20261012-0001")
        ).one()
        last_id = session.scalar(select(func.max(Response.id)))
    survey = client.get(url["SH-20261118-0101"], headers=EN)
    assert survey.status_code == 200 and 'name="nps"' in survey.get_data(as_text=True)
    answered_before = client.get(url["SH-20261118-0102"], headers=EN)
    assert answered_before.status_code == 200
    assert "already been answered" in answered_before.get_data(as_text=True)
    assert client.get(url["SH-20261101-0005"], headers=EN).status_code == 410  # expired
    typed = post_form(client, "/r", {"code": format_short_code(short_code)}, headers=EN)
    assert typed.headers["Location"].endswith(f"{url['SH-20261118-0101']}?via=code")
    # The till reprints a receipt of October: the same token, and the same total. (The
    # API refuses a stated purchase time older than the token lifetime, so none is sent.)
    reprint = client.post(
        "/api/v1/receipts",
        json={
            "transaction_id": "SH-20261012-0001",
            "staff_code": "S001",
            "total": 128.00,
        },
        headers={"Authorization": f"Bearer {POS_KEYS['SH-001']}"},
    )
    assert reprint.status_code == 200, reprint.get_data(as_text=True)
    assert reprint.get_json()["token"] == october
    code = make_validation_code(settings.secret_key, first.id)
    checked = upgraded.app.test_cli_runner().invoke(args=["check-code", code])
    assert "Already redeemed" in checked.output
    # The open receipt is answered at head: a new row after the old ones (PostgreSQL's
    # sequences were carried past the fixture's ids).
    answered = post_form(client, url["SH-20261118-0101"], {"nps": "9", "csat": "5"}, headers=EN)
    assert answered.status_code == 200, answered.get_data(as_text=True)
    with upgraded.session() as session:
        newest = session.execute(
            select(Response.id, Response.nps, Receipt.transaction_id)
            .join(Receipt)
            .order_by(Response.id.desc())
            .limit(1)
        ).one()
    assert tuple(newest) == (last_id + 1, 9, "SH-20261118-0101")


def test_an_unhappy_answer_keeps_its_scores_words_and_contact(upgraded: Upgraded) -> None:
    with upgraded.session() as session:
        answer = session.scalars(
            select(Response).join(Receipt).where(Receipt.transaction_id == "SH-20261020-0877")
        ).one()
        contact = session.get(ResponseContact, answer.id)
        assert contact is not None
        kept = (
            answer.nps,
            answer.csat,
            answer.rating_friendliness,
            answer.rating_knowledge,
            answer.problem_category,
            answer.comment,
            answer.submitted_at,
            contact.phone,
        )
        london = session.scalars(
            select(Response.comment).join(Store).where(Store.code == "LDN-001")
        ).all()
        james = session.scalars(select(Staff.name).where(Staff.code == "N002")).one()
    assert kept == (
        3,
        2,
        1,
        2,
        "service_attitude",
        "导购一直在玩手机，问了两次才有人理。\n希望改进。",
        datetime(2026, 10, 20, 16, 30, tzinfo=UTC),
        "13800138000",
    )
    assert "Lovely staff 👍" in london
    assert james == "James O'Brien"


def test_cases_mystery_reports_and_awards_open_as_before(upgraded: Upgraded) -> None:
    if not since(upgraded.revision, "0003"):
        pytest.skip(f"no cases, visits or awards at {upgraded.revision}")
    client = upgraded.app.test_client()
    email = "manager.sh@chain.example"
    post_form(client, "/login", {"email": email, "password": PASSWORDS[email]}, headers=EN)
    case = client.get("/cases/1", headers=EN)
    assert case.status_code == 200
    assert "导购一直在玩手机" in case.get_data(as_text=True)
    if since(upgraded.revision, "0005"):
        with upgraded.session() as session:
            visit = session.scalars(select(MysteryVisit).where(MysteryVisit.state == "final")).one()
            score = visit.score
        report = client.get(f"/mystery/visits/{visit.id}", headers=EN)
        assert report.status_code == 200
        assert score is not None and f"{score:.1f}" in report.get_data(as_text=True)
    if since(upgraded.revision, "0006"):
        with upgraded.session() as session:
            assert verify_award_log(session) == []
        assert client.get("/awards/2026-10", headers=EN).status_code == 200


# -- downgrade from head to each revision ----------------------------------------------------


def test_downgrade_from_head_through_every_revision_keeps_what_each_can_hold(
    empty_engine: Engine,
) -> None:
    """The newest fixture at head, downgraded one revision at a time down to the first:
    at each, every row and value of the tables and columns that exist there is unchanged
    (and still is after upgrading to head again). What the later migrations added, their
    tables and columns, is gone: that is what a downgrade is."""
    newest = fixture_revisions()[-1]
    upgrade_database(empty_engine, newest)
    load_fixture(empty_engine, newest)
    upgrade_database(empty_engine)
    head = reflect_schema(empty_engine)
    head_columns, at_head = columns_of(head), read_tables(empty_engine, head)
    for revision in reversed(revisions()[:-1]):
        downgrade_database(empty_engine, revision)
        schema = reflect_schema(empty_engine)
        held = at_head if since(revision, "0012") else _below_0012(head_columns, at_head)
        expected = {
            table: [tuple(row[head_columns[table].index(c)] for c in names) for row in rows]
            for table, names in columns_of(schema).items()
            for rows in [held[table]]
        }
        assert read_tables(empty_engine, schema) == expected, f"downgrading to {revision}"
    upgrade_database(empty_engine)
    assert read_tables(empty_engine, schema) == expected, "upgrading again"


#: Derived counts that 0012's downgrade empties (init-db counts the answers again).
_ROLLUPS = (
    "daily_rollups",
    "store_daily_rollups",
    "store_monthly_rollups",
    "question_daily_counts",
)


def _below_0012(columns: dict[str, list[str]], at_head: dict[str, list[Any]]) -> dict[str, Any]:
    """What a database below 0012 can hold of ``at_head``: no answer without a receipt (a
    kiosk's or a phone call's, with what hangs on it), and no rollups."""
    answers = columns["responses"]
    gone = {
        row[answers.index("id")]
        for row in at_head["responses"]
        if row[answers.index("receipt_id")] is None
    }
    held: dict[str, Any] = {}
    for table, rows in at_head.items():
        names = columns[table]
        if table in _ROLLUPS:
            rows = []
        elif table == "responses":
            rows = [row for row in rows if row[names.index("id")] not in gone]
        elif "response_id" in names and table != "cases":
            rows = [row for row in rows if row[names.index("response_id")] not in gone]
        elif table == "cases":
            at = names.index("response_id")
            rows = [(*row[:at], None, *row[at + 1 :]) if row[at] in gone else row for row in rows]
        held[table] = rows
    return held
