"""``next=`` after sign-in only ever leads to a path on this site."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from portal.models import Role
from tests.conftest import PASSWORD, post_form

# Each one is read by some browser (or by a proxy that decodes once more) as another site,
# or as script: scheme-relative, backslashes (browsers read "\" as "/"), tabs and newlines
# (dropped inside URLs by browsers), percent-encoded slashes and backslashes, schemes.
OFF_SITE = [
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "https:evil.example",
    "https://evil.example/home",
    "http:/evil.example",
    "HTTPS://evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%255C%255Cevil.example",
    "/%252F%252Fevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/%09/evil.example",
    "/%0d%0a/evil.example",
    "/\u2028/evil.example",
    "/\x00/evil.example",
    "/\x7f/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "",
]

ON_SITE = ["/cases", "/cases?store=SH-001&page=2", "/mystery/visits/3", "/exports/?lang=en"]


def _sign_in_with_next(client, user, target: str):
    return post_form(
        client,
        "/login?next=" + quote(target, safe=""),
        {"email": user.email, "password": PASSWORD},
        page="/login",
    )


@pytest.mark.parametrize("target", OFF_SITE)
def test_an_off_site_next_leads_home(client, make_user, target):
    response = _sign_in_with_next(client, make_user(Role.ADMIN), target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


@pytest.mark.parametrize("target", ON_SITE)
def test_a_path_on_this_site_is_followed(client, make_user, target):
    response = _sign_in_with_next(client, make_user(Role.ADMIN), target)
    assert response.status_code == 302
    assert response.headers["Location"] == target
