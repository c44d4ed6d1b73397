"""The seeded world in a database of its own (built once for this folder), the app bound
to it, and one signed-in client per sign-in of `world.LOGINS`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from portal import create_app
from portal.db import utcnow
from portal.kiosk.views import COOKIE as KIOSK_COOKIE
from portal.schema import upgrade_database
from tests.conftest import SETTINGS, csrf_token_from, empty_database
from tests.portal.translated.text import Checker
from tests.portal.translated.world import LOGINS, PASSWORD, World, build_world


@dataclass(frozen=True, slots=True)
class Walk:
    app: Flask
    engine: Engine
    world: World
    checker: Checker
    clients: dict[str, FlaskClient]


def sign_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token_from(page), "email": email, "password": PASSWORD},
    )
    assert response.status_code == 302, f"{email} could not sign in"
    return client


@pytest.fixture(scope="package")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    folder = tmp_path_factory.mktemp("translated")
    settings = SETTINGS.with_instance(str(folder / "instance"))
    with empty_database(folder / "world.sqlite3") as engine:
        upgrade_database(engine)
        with Session(engine) as session, session.begin():
            world = build_world(session, settings, now=utcnow(), photos=folder / "photos")
        app = create_app(settings, bind=engine)
        clients = {login: sign_in(app, email) for login, email in LOGINS.items()}
        clients["anonymous"] = app.test_client()
        # The anonymous client is also the enrolled counter tablet (its cookie is /kiosk's).
        clients["anonymous"].set_cookie(KIOSK_COOKIE, world.kiosk_credential, path="/kiosk")
        yield Walk(app, engine, world, Checker(world.data), clients)
