"""Fixtures of the admin console tests: a signed-in admin, and a region manager."""

from __future__ import annotations

import pytest

from portal.models import Role

EN = {"Accept-Language": "en"}


@pytest.fixture
def admin(make_user, login_as):
    user = make_user(Role.ADMIN)
    login_as(user)
    return user


@pytest.fixture
def region_manager(db_session, make_user, make_store):
    """A manager of store SH-009 (listed one by one) whose region is 华北."""
    user = make_user(Role.MANAGER, stores=[make_store("SH-009", region="华东")])
    user.region = "华北"
    db_session.flush()
    return user
