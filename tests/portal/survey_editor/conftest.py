"""The survey owner signed in, and helpers to read the editor's pages and post its forms
with the revision the page showed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Role, Survey, User
from tests.conftest import csrf_token_from

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
_REVISION = re.compile(r'name="version"[^>]*value="([0-9]+)"|value="([0-9]+)"[^>]*name="version"')


@pytest.fixture
def owner(make_user: Callable[..., User], login_as: Callable[[User], Any]) -> User:
    user = make_user(Role.CX)
    login_as(user)
    return user


def page_of(client: FlaskClient, url: str) -> str:
    response = client.get(url, headers=EN)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def revision_on(html: str) -> str:
    match = _REVISION.search(html)
    assert match, "no draft revision on the page"
    return match.group(1) or match.group(2)


def send(
    client: FlaskClient,
    url: str,
    data: dict[str, Any],
    *,
    page: str,
    revision: str | None = None,
) -> Any:
    """POST ``data`` to ``url`` with the CSRF token and the draft revision of ``page``."""
    html = page_of(client, page)
    form = {"csrf_token": csrf_token_from(html), "version": revision or revision_on(html)}
    return client.post(url, data={**form, **data}, headers=EN)


def survey_row(db_session: Session, key: str) -> Survey:
    survey = db_session.scalars(select(Survey).where(Survey.key == key)).one()
    db_session.refresh(survey)
    return survey
