"""Personal API tokens: created on the settings page or by the CLI, shown once, stored as
a hash, revoked by their owner only, and checked by `user_for_api_token`."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from portal.api_tokens import bp
from portal.api_tokens.commands import create_api_token_command
from portal.api_tokens.operations import (
    TOKEN_PREFIX,
    BadApiToken,
    create_api_token,
    revoke_api_token,
    user_for_api_token,
)
from portal.audit import CLI, Actor
from portal.errors import NotFound
from portal.models import ApiToken, AuditEntry, Role
from tests.conftest import post_form

EN = {"Accept-Language": "en"}


@pytest.fixture
def app(app: Flask) -> Flask:
    # Until the factory registers the blueprint, register it here.
    if "tokens" not in app.blueprints:
        app.register_blueprint(bp)
    return app


def secret_on(html: str) -> str:
    start = html.index(TOKEN_PREFIX, html.index('id="new-token"'))
    return html[start : html.index("<", start)]


def test_a_created_token_is_shown_once_then_only_its_prefix(
    client, db_session, make_user, login_as
):
    user = make_user(Role.REVIEWER)
    login_as(user)
    created = post_form(client, "/settings/tokens", {"label": "weekly sheet"}, headers=EN)
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    assert "it will not be shown again" in html
    secret = secret_on(html)
    assert html.count(secret) == 1
    token = db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert token.label == "weekly sheet" and secret.startswith(token.prefix)

    listed = client.get("/settings/tokens", headers=EN).get_data(as_text=True)
    assert secret not in listed
    assert f"{token.prefix}…" in listed and "weekly sheet" in listed
    assert "it will not be shown again" not in listed
    # Nothing that could rebuild the secret went anywhere but the page.
    assert token.token_hash != secret
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    with client.session_transaction() as cookie_session:
        assert secret not in repr(dict(cookie_session))
    assert user_for_api_token(db_session, f"Bearer {secret}", token.created_at).id == user.id
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "api_token.create")
    ).one()
    assert audit.actor_user_id == user.id and secret not in repr(audit.details)


def test_a_token_needs_a_label_on_the_page(client, db_session, make_user, login_as):
    login_as(make_user(Role.HR))
    response = post_form(client, "/settings/tokens", {"label": "  "}, headers=EN)
    assert response.status_code == 400
    assert "Please give the token a label." in response.get_data(as_text=True)
    assert db_session.scalars(select(ApiToken)).all() == []


@pytest.mark.parametrize("role", list(Role))
def test_every_signed_in_role_has_the_page(client, make_user, login_as, make_store, role):
    stores = [make_store()] if role == Role.MANAGER else None
    login_as(make_user(role, stores=stores))
    assert client.get("/settings/tokens").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/settings/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_revoking_stops_the_token(client, db_session, make_user, login_as, now):
    user = make_user(Role.ADMIN)
    new = create_api_token(db_session, user, actor=CLI, now=now, label="old")
    db_session.flush()
    login_as(user)
    response = post_form(
        client,
        f"/settings/tokens/{new.api_token.id}/revoke",
        {},
        page="/settings/tokens",
        headers=EN,
    )
    assert response.status_code == 302
    db_session.refresh(new.api_token)
    assert new.api_token.revoked_at is not None
    with pytest.raises(BadApiToken):
        user_for_api_token(db_session, f"Bearer {new.secret}", now)
    page = client.get("/settings/tokens", headers=EN).get_data(as_text=True)
    assert "is revoked" in page and "revoked 20" in page
    assert f"/settings/tokens/{new.api_token.id}/revoke" not in page
    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["api_token.create", "api_token.revoke"]


def test_another_users_token_is_not_found_and_stays_live(
    client, db_session, make_user, login_as, now
):
    owner = make_user(Role.HR)
    new = create_api_token(db_session, owner, actor=CLI, now=now, label="hr")
    db_session.flush()
    login_as(make_user(Role.REVIEWER))
    response = post_form(
        client, f"/settings/tokens/{new.api_token.id}/revoke", {}, page="/settings/tokens"
    )
    assert response.status_code == 404
    db_session.refresh(new.api_token)
    assert new.api_token.revoked_at is None
    assert user_for_api_token(db_session, f"Bearer {new.secret}", now).id == owner.id


def test_posts_without_a_csrf_token_are_refused(client, db_session, make_user, login_as, now):
    user = make_user(Role.ADMIN)
    new = create_api_token(db_session, user, actor=CLI, now=now)
    db_session.flush()
    login_as(user)
    assert client.post("/settings/tokens", data={"label": "x"}).status_code == 400
    assert client.post(f"/settings/tokens/{new.api_token.id}/revoke").status_code == 400
    db_session.refresh(new.api_token)
    assert new.api_token.revoked_at is None
    assert len(db_session.scalars(select(ApiToken)).all()) == 1


def test_the_cli_prints_the_secret_alone_on_the_last_line(app, db_session, make_user, now):
    user = make_user(Role.REVIEWER, email="analyst@example.com")
    result = app.test_cli_runner().invoke(
        create_api_token_command, ["Analyst@Example.com", "--label", "BI"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.rstrip("\n").splitlines()
    assert len(lines) >= 2 and "analyst@example.com" in lines[0]
    secret = lines[-1]
    assert secret.startswith(TOKEN_PREFIX) and secret == secret.strip() and " " not in secret
    assert user_for_api_token(db_session, f"Bearer {secret}", now).id == user.id
    token = db_session.scalars(select(ApiToken)).one()
    assert token.label == "BI" and token.token_hash != secret
    audit = db_session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert audit is not None and (audit.action, audit.actor) == ("api_token.create", "cli")


def test_the_cli_refuses_an_unknown_email(app, db_session):
    result = app.test_cli_runner().invoke(create_api_token_command, ["nobody@example.com"])
    assert result.exit_code != 0
    assert "No user with e-mail nobody@example.com" in result.output
    assert db_session.scalars(select(ApiToken)).all() == []


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer pos_" + "a" * 43,
        "Bearer " + TOKEN_PREFIX + "not-a-real-token",
        "Bearer " + TOKEN_PREFIX + "x" * 300,
    ],
)
def test_missing_malformed_or_unknown_tokens_get_one_answer(db_session, make_user, now, header):
    create_api_token(db_session, make_user(Role.HR), actor=CLI, now=now)
    with pytest.raises(BadApiToken) as caught:
        user_for_api_token(db_session, header, now)
    assert (caught.value.status, caught.value.code) == (401, "bad_api_token")
    assert str(caught.value) == str(BadApiToken.message)


def test_a_deactivated_users_token_is_refused(db_session, make_user, now):
    user = make_user(Role.REVIEWER)
    new = create_api_token(db_session, user, actor=CLI, now=now)
    user.active = False
    db_session.flush()
    with pytest.raises(BadApiToken):
        user_for_api_token(db_session, f"Bearer {new.secret}", now)


def test_the_revoke_operation_only_touches_the_owners_tokens(db_session, make_user, now):
    owner, other = make_user(Role.HR), make_user(Role.HR)
    new = create_api_token(db_session, owner, actor=CLI, now=now)
    with pytest.raises(NotFound):
        revoke_api_token(db_session, other, new.api_token.id, actor=Actor.of_user(other), now=now)
    assert new.api_token.revoked_at is None
    revoke_api_token(db_session, owner, new.api_token.id, actor=Actor.of_user(owner), now=now)
    assert new.api_token.revoked_at == now


def test_last_used_is_written_on_first_use_then_at_most_once_a_minute(db_session, make_user, now):
    new = create_api_token(db_session, make_user(Role.HR), actor=CLI, now=now)
    db_session.flush()
    header = f"Bearer {new.secret}"
    assert new.api_token.last_used_at is None

    user_for_api_token(db_session, header, now)
    assert new.api_token.last_used_at == now
    db_session.flush()

    user_for_api_token(db_session, header, now + timedelta(seconds=59))
    assert new.api_token.last_used_at == now
    assert not db_session.dirty, "a read within the minute must not write"

    later = now + timedelta(seconds=61)
    user_for_api_token(db_session, header, later)
    assert new.api_token.last_used_at == later
