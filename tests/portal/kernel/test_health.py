"""``/healthz`` (the process answers) and ``/readyz`` (the database answers at the code's
migration head): no sign-in, no cookie, 503 with a reason when the database is behind,
empty or out of reach."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from portal import create_app
from portal.db import make_engine
from portal.schema import MIGRATIONS, code_heads, upgrade_database


def test_liveness_answers_without_a_session_or_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readiness_answers_at_the_migration_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ready\n"
    assert "Set-Cookie" not in response.headers


def test_probes_take_get_and_head_only(client):
    assert client.head("/readyz").status_code == 200
    assert client.head("/readyz").get_data() == b""
    refused = client.post("/healthz")
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "GET, HEAD"


def test_readiness_is_503_on_a_database_at_an_older_revision(settings, empty_engine):
    (head,) = code_heads()
    previous = ScriptDirectory(str(MIGRATIONS)).get_revision(head).down_revision
    assert isinstance(previous, str)
    upgrade_database(empty_engine, previous)
    client = create_app(settings, bind=empty_engine).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "database schema is behind this code (run init-db)\n"
    # Alive all the same: a restart would not help, a migration would.
    assert client.get("/healthz").status_code == 200
    upgrade_database(empty_engine)
    assert client.get("/readyz").status_code == 200


def test_readiness_is_503_before_init_db(settings, empty_engine):
    response = create_app(settings, bind=empty_engine).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "database not initialised (run init-db)\n"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/no-such-folder/portal.sqlite3",
        # Port 1 on loopback: refused at once.
        "postgresql+psycopg://portal@127.0.0.1:1/portal?connect_timeout=2",
    ],
)
def test_readiness_is_503_when_the_database_is_unreachable(settings, tmp_path: Path, url):
    engine = make_engine(url.format(tmp=tmp_path))
    try:
        client = create_app(settings, bind=engine).test_client()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_data(as_text=True) == "database unreachable\n"
        assert client.get("/healthz").status_code == 200
    finally:
        engine.dispose()


def test_probes_answer_a_load_balancer_naming_no_served_host(settings, connection):
    # Production serves only its own host names; a probe names the server's address.
    production = create_app(
        replace(settings, env="production", base_url="https://feedback.example.com"),
        bind=connection,
    )
    client = production.test_client()
    assert client.get("/login", headers={"Host": "10.0.0.5:8000"}).status_code == 400
    assert client.get("/readyz", headers={"Host": "10.0.0.5:8000"}).status_code == 200


def test_readiness_stays_200_on_a_newer_schema_during_a_rolling_upgrade(settings, empty_engine):
    upgrade_database(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'from-newer-code'"))
    response = create_app(settings, bind=empty_engine).test_client().get("/readyz")
    assert response.status_code == 200
    assert "newer than this code" in response.get_data(as_text=True)
