from tests.portal.test_tokens import *  # noqa
from tests.conftest import post_form

def test_peek(client, make_user, login_as):
    login_as(make_user(Role.REVIEWER))
    r = post_form(client, "/settings/tokens", {"label": "<b>sheet</b>"}, headers={"Accept-Language": "en"})
    html = r.get_data(as_text=True)
    print(html[html.index("<main"):])
