"""Password rules: common passwords refused, length rules kept, and the sign-in form
accepting every password an account may have."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit import Actor
from portal.auth.operations import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    InvalidAccount,
    common_passwords,
    create_user,
)
from portal.db import utcnow
from portal.models import Role, User
from tests.conftest import post_form

CLI = Actor(label="cli")


def _create(db_session, password: str):
    return create_user(
        db_session,
        email="hr@example.com",
        role=Role.HR.value,
        password=password,
        actor=CLI,
        now=utcnow(),
    )


def test_the_bundled_list_holds_at_least_ten_thousand_passwords():
    assert len(common_passwords()) >= 10_000


@pytest.mark.parametrize("password", ["1234567890", "qwertyuiop", "Password123", "ILOVEYOU12"])
def test_a_common_password_is_refused_with_a_clear_message(db_session, password):
    with pytest.raises(InvalidAccount) as refused:
        _create(db_session, password)
    assert refused.value.field == "password"
    assert "too common" in str(refused.value.message)


def test_a_strong_password_is_accepted(db_session):
    assert _create(db_session, "violet tram sings 42 kites").email == "hr@example.com"


@pytest.mark.parametrize(
    ("password", "words"),
    [("x" * (MIN_PASSWORD_LENGTH - 1), "at least"), ("x" * (MAX_PASSWORD_LENGTH + 1), "at most")],
)
def test_the_length_rules_hold(db_session, password, words):
    with pytest.raises(InvalidAccount, match=words):
        _create(db_session, password)


def test_the_create_user_command_refuses_a_common_password(runner):
    result = runner.invoke(
        args=["create-user", "a@example.com", "--role", "hr", "--password", "qwerty123456"]
    )
    assert result.exit_code != 0
    assert "too common" in result.output


def test_the_create_user_command_knows_every_role(runner, db_session):
    result = runner.invoke(
        args=["create-user", "cx@example.com", "--role", "cx", "--password", "surveys all year"]
    )
    assert result.exit_code == 0, result.output
    assert db_session.scalars(select(User.role).where(User.email == "cx@example.com")).one() == "cx"


def test_the_sign_in_form_accepts_the_longest_allowed_password(client, make_user):
    longest = "long pass phrase " * (MAX_PASSWORD_LENGTH // 17 + 1)
    longest = longest[:MAX_PASSWORD_LENGTH]
    user = make_user(Role.HR, password=longest)
    response = post_form(client, "/login", {"email": user.email, "password": longest})
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
