"""The shopper survey: rendering, submitting, integrity, tokens, code entry, QR codes."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import portal.shopper.views as views
from portal.db import utcnow
from portal.models import Receipt, Response, ResponseContact, StoreDailyRollup, SurveyVersion
from surveys.codes import format_short_code, new_short_code, read_validation_code
from surveys.loader import receipt_survey
from surveys.tokens import sign_receipt_token
from tests.conftest import (
    SECRET,
    add_store_with_cashier,
    csrf_token_from,
    issue_one_receipt,
    post_form,
)

GOOD = {"nps": "9", "csat": "5"}


@pytest.fixture
def receipt(make_store, make_staff, make_receipt):
    store = make_store("SH-001")
    return make_receipt(store, make_staff(store, "S001", name="李娜"))


@pytest.fixture
def url(receipt):
    return f"/r/{receipt.token}"


def is_checked(html: str, name: str, value: str) -> bool:
    """Whether the radio or tick box ``name`` with ``value`` is rendered checked."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return re.search(r"\bchecked\b", tag) is not None
    return False


def responses(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Response))


def test_survey_renders_in_english_for_an_english_browser(client, url):
    page = client.get(url, headers={"Accept-Language": "en-GB,en;q=0.9"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="en">' in html
    assert "How likely are you to recommend this store" in html
    assert "The cashier&#39;s friendliness and help" in html
    assert "中文" in html  # the switch to the other language


def test_survey_renders_in_chinese_for_a_chinese_browser(client, url):
    html = client.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "您有多大可能向朋友或同事推荐本店" in html
    assert "提交" in html  # the Send button, from the translation catalog


def test_the_language_link_switches_and_is_remembered(client, url):
    html = client.get(f"{url}?lang=en", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "How likely are you" in html
    again = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "How likely are you" in again


def test_opening_the_link_changes_nothing(client, url, db_session, receipt):
    before = db_session.execute(select(Receipt.answered_at, Receipt.expires_at)).all()
    versions = db_session.scalar(select(func.count()).select_from(SurveyVersion))
    for _ in range(3):
        assert client.get(url).status_code == 200
        assert client.head(url).status_code == 200
    assert responses(db_session) == 0
    assert db_session.scalar(select(func.count()).select_from(SurveyVersion)) == versions
    assert db_session.execute(select(Receipt.answered_at, Receipt.expires_at)).all() == before


def test_submit_stores_the_answers_and_shows_a_validation_code(client, url, db_session, receipt):
    answers = {
        "nps": "3",
        "csat": "2",
        "rating_speed": "1",
        "rating_friendliness": "4",
        "problem": "y",
        "problem_category": "checkout_wait",
        "comment": "排队太久了\r\n<script>alert(1)</script> =SUM(A1)",
        "contact_consent": "y",
        "contact_phone": "+86 138 0013 8000",
    }
    page = post_form(client, url, answers, headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Thank you" in html
    code = re.search(r'id="validation-code">([^<]+)<', html).group(1)
    response = db_session.scalars(select(Response)).one()
    assert read_validation_code(SECRET, code) == response.id
    assert (response.nps, response.csat, response.rating_speed, response.rating_friendliness) == (
        3,
        2,
        1,
        4,
    )
    assert response.rating_cleanliness is None
    assert response.problem_reported and response.problem_category == "checkout_wait"
    assert response.comment == "排队太久了\n<script>alert(1)</script> =SUM(A1)"
    assert response.locale == "en"
    assert response.staff_id == receipt.receipt.staff_id
    assert response.store_id == receipt.receipt.store_id
    version = db_session.get(SurveyVersion, response.survey_version_id)
    assert version.content_hash == receipt_survey().content_hash
    contact = db_session.get(ResponseContact, response.id)
    assert contact.phone == "+86 138 0013 8000"
    assert contact.consent_text == receipt_survey().consent.en
    db_session.refresh(receipt.receipt)
    assert receipt.receipt.answered_at == response.submitted_at


def test_a_category_alone_records_a_problem(client, url, db_session):
    post_form(client, url, {**GOOD, "problem_category": "price"})
    assert db_session.scalars(select(Response.problem_reported)).one() is True


def test_second_submit_of_a_token_shows_already_answered(app, client, url, db_session):
    assert post_form(client, url, GOOD).status_code == 200
    # Another browser (the same one would be shown its code again: tests/portal/faults).
    again = post_form(app.test_client(), url, GOOD, page="/r")
    assert again.status_code == 409
    assert "already been answered" in again.get_data(as_text=True) or "已经" in again.get_data(
        as_text=True
    )
    reopened = client.get(url, headers={"Accept-Language": "en"})
    assert reopened.status_code == 200
    assert "already been answered" in reopened.get_data(as_text=True)
    assert responses(db_session) == 1


@pytest.mark.parametrize(
    ("answers", "field_id", "message"),
    [
        ({"csat": "4"}, "nps", "Please answer this question."),
        ({"nps": "11", "csat": "4"}, "nps", "Please choose one of the numbers."),
        ({"nps": "x", "csat": "4"}, "nps", "Please choose one of the numbers."),
        ({"nps": "7"}, "csat", "Please answer this question."),
        ({**GOOD, "rating_speed": "6"}, "rating_speed", "Please choose one of the numbers."),
        ({**GOOD, "problem": "y"}, "problem_category", "Please tell us what went wrong."),
        (
            {**GOOD, "problem_category": "weather"},
            "problem_category",
            "Please choose one of the options.",
        ),
        (
            {**GOOD, "comment": "x" * 2001},
            "comment",
            "Please keep your comment to 2,000 characters.",
        ),
        ({**GOOD, "contact_phone": "13800138000"}, "contact_consent", "Tick the box to agree"),
        (
            {**GOOD, "contact_consent": "y"},
            "contact_consent",
            "Please leave a phone number or an e-mail",
        ),
        (
            {**GOOD, "contact_consent": "y", "contact_email": "not-an-email"},
            "contact_email",
            "This does not look like an e-mail address.",
        ),
        (
            {**GOOD, "contact_consent": "y", "contact_phone": "12ab"},
            "contact_phone",
            "This does not look like a phone number.",
        ),
    ],
)
def test_validation_errors_show_next_to_the_field_and_keep_the_answers(
    client, url, db_session, answers, field_id, message
):
    page = post_form(
        client,
        url,
        {**answers, "comment": answers.get("comment", "保留我的评论")},
        headers={"Accept-Language": "en"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    field_html = html[html.index(f'id="{field_id}-field"') :]
    field_html = field_html[
        : field_html.index("</fieldset>") if "</fieldset>" in field_html else None
    ]
    assert message in field_html.split('class="errors"', 1)[1][:400]
    # Every answer given is still there.
    if answers.get("csat", "") in ("1", "2", "3", "4", "5"):
        assert is_checked(html, "csat", answers["csat"])
    assert (answers.get("comment", "保留我的评论")[:50]) in html
    assert responses(db_session) == 0


def test_an_expired_form_token_keeps_the_answers_and_saves_nothing(client, url, db_session):
    client.get(url)
    page = client.post(
        url,
        data={**GOOD, "csrf_token": "stale", "comment": "别丢了我的评论"},
        headers={"Accept-Language": "en"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "Your answers are kept" in html
    assert "别丢了我的评论" in html
    assert is_checked(html, "nps", "9")
    assert responses(db_session) == 0
    # And a second press of Send (with the fresh token) goes through.
    retry = client.post(url, data={**GOOD, "csrf_token": csrf_token_from(html)})
    assert retry.status_code == 200
    assert responses(db_session) == 1


def test_a_busy_database_shows_the_form_again_with_the_answers(
    client, url, db_session, monkeypatch
):

    def busy(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(views, "record_response", busy)
    page = post_form(client, url, {**GOOD, "comment": "保留"}, headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 503
    assert "Please press Send again" in html
    assert "保留" in html
    assert responses(db_session) == 0


@pytest.mark.parametrize("suffix", ["", "/qr.svg", "/qr.png", "/receipt"])
def test_an_altered_token_is_refused_before_any_query(client, receipt, sent_statements, suffix):
    token = receipt.token
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    before = len(sent_statements)
    page = client.get(f"/r/{altered}{suffix}", headers={"Accept-Language": "en"})
    assert page.status_code == 404
    # Only the throttle's counter of forged links (portal/throttle.py) is touched.
    sent = [s for s in sent_statements[before:] if not s.startswith(("SAVEPOINT", "RELEASE"))]
    assert sent and all("rate_limit_hits" in s for s in sent)
    html = page.get_data(as_text=True)
    assert altered not in html and token not in html
    assert "not valid" in html


@pytest.mark.parametrize("token", ["x", "a.b.c", "A" * 300, "a.b.c.d.e", "ab$cd.x.y"])
def test_forged_tokens_get_the_same_clear_page(client, token):
    page = client.get(f"/r/{token}", headers={"Accept-Language": "en"})
    assert page.status_code == 404
    assert "This survey link is not valid" in page.get_data(as_text=True)


def test_a_token_for_another_secret_is_forged(client, db_session, receipt, settings):

    other = sign_receipt_token(
        "another-secret", receipt.receipt.token_id, receipt.receipt.expires_at
    )
    assert client.get(f"/r/{other}").status_code == 404


def test_an_expired_receipt_gets_a_410_and_cannot_be_answered(
    client, db_session, make_store, make_staff, make_receipt, settings
):
    store = make_store()
    issued = make_receipt(store, make_staff(store), now=utcnow() - timedelta(days=31))
    page = client.get(f"/r/{issued.token}", headers={"Accept-Language": "en"})
    assert page.status_code == 410
    assert "closed" in page.get_data(as_text=True)
    assert client.post(f"/r/{issued.token}", data=GOOD).status_code == 410
    assert responses(db_session) == 0


def test_comments_are_inert_where_they_are_shown(
    client, url, db_session, make_user, login_as, receipt
):
    post_form(client, url, {**GOOD, "comment": '<img src=x onerror="alert(1)">'})
    # The admin's home lists the latest answers with their comments.
    login_as(make_user("admin"))
    html = client.get("/home").get_data(as_text=True)
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "<img src=x onerror" not in html


def test_simultaneous_submits_store_one_response(fresh_engine, make_app, settings):
    """Ten phones press Send at once: one thank-you, nine "already answered", no 5xx."""
    with Session(fresh_engine) as session, session.begin():
        store = add_store_with_cashier(session)
        issued = issue_one_receipt(session, settings, store)
    app = make_app(fresh_engine)
    url = f"/r/{issued.token}"
    clients = [app.test_client() for _ in range(10)]
    tokens = [csrf_token_from(c.get(url).get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def submit(client, token) -> None:
        barrier.wait()
        statuses.append(client.post(url, data={**GOOD, "csrf_token": token}).status_code)

    threads = [
        threading.Thread(target=submit, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 9
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 1
        assert session.scalars(select(Receipt.answered_at)).one() is not None


# --- typed receipt codes -------------------------------------------------------------------


def test_a_typed_code_opens_the_survey(client, receipt):
    typed = format_short_code(receipt.receipt.short_code).lower().replace("-", " ")
    page = post_form(client, "/r", {"code": typed})
    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/r/{receipt.token}?via=code")


def _answer_by_code(client, receipt, **kwargs):
    typed = format_short_code(receipt.receipt.short_code)
    survey_url = post_form(client, "/r", {"code": typed}).headers["Location"]
    html = client.get(survey_url, **kwargs).get_data(as_text=True)
    assert '<input type="hidden" name="via" value="code">' in html
    return html


def test_an_answer_reached_by_a_typed_code_is_recorded_as_channel_code(client, receipt, db_session):
    html = _answer_by_code(client, receipt)
    # The form posts to the survey's own address; the hidden field carries the fact even
    # if the query string were lost on the way.
    page = client.post(
        f"/r/{receipt.token}",
        data={"csrf_token": csrf_token_from(html), "via": "code", **GOOD},
    )
    assert page.status_code == 200
    response = db_session.scalars(select(Response)).one()
    assert response.channel == "code"
    day = response.local_day
    counted = dict(
        db_session.execute(
            select(StoreDailyRollup.channel, StoreDailyRollup.responses).where(
                StoreDailyRollup.day == day
            )
        ).all()
    )
    # The answer under "code"; the receipt's funnel (issued, answered) under "receipt".
    assert counted == {"code": 1, "receipt": 0}
    funnel = db_session.execute(
        select(StoreDailyRollup.issued, StoreDailyRollup.issued_answered).where(
            StoreDailyRollup.channel == "receipt"
        )
    ).one()
    assert tuple(funnel) == (1, 1)


def test_a_scanned_qr_code_answer_is_channel_receipt(client, url, db_session):
    assert post_form(client, url, GOOD).status_code == 200
    assert db_session.scalars(select(Response.channel)).one() == "receipt"


def test_a_wrong_answer_keeps_the_typed_code_channel_for_the_next_send(client, receipt, db_session):
    html = _answer_by_code(client, receipt)
    page = client.post(
        f"/r/{receipt.token}?via=code", data={"csrf_token": csrf_token_from(html), "nps": "11"}
    )
    assert page.status_code == 400
    again = page.get_data(as_text=True)
    assert '<input type="hidden" name="via" value="code">' in again
    client.post(
        f"/r/{receipt.token}?via=code",
        data={"csrf_token": csrf_token_from(again), "via": "code", **GOOD},
    )
    assert db_session.scalars(select(Response.channel)).one() == "code"


def test_a_mistyped_code_is_caught_by_the_check_character(client, receipt, count_queries):
    code = receipt.receipt.short_code
    wrong = code[:3] + ("0" if code[3] != "0" else "1") + code[4:]
    html_before = client.get("/r").get_data(as_text=True)
    before = count_queries()
    page = client.post(
        "/r",
        data={"code": wrong, "csrf_token": csrf_token_from(html_before)},
        headers={"Accept-Language": "en"},
    )
    assert page.status_code == 400
    assert count_queries() == before
    assert "This code is not right" in page.get_data(as_text=True)


def test_an_unknown_but_well_formed_code_is_a_404(client, receipt):

    page = post_form(client, "/r", {"code": new_short_code()}, headers={"Accept-Language": "en"})
    assert page.status_code == 404
    assert "We found no receipt with this code" in page.get_data(as_text=True)


def test_code_entry_needs_a_csrf_token(client):
    assert client.post("/r", data={"code": "ABCDE-FGH12"}).status_code == 400


# --- QR codes and the printable receipt ---------------------------------------------------


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbar-tools is not installed")
def test_the_png_qr_code_decodes_to_the_survey_url(client, receipt, tmp_path):
    page = client.get(f"/r/{receipt.token}/qr.png")
    assert page.status_code == 200
    assert page.mimetype == "image/png"
    assert "max-age=" in page.headers["Cache-Control"]
    path = tmp_path / "qr.png"
    path.write_bytes(page.data)
    decoded = subprocess.run(
        ["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert decoded == f"http://portal.test/r/{receipt.token}"


def test_the_svg_qr_code_is_served_as_svg(client, receipt):
    page = client.get(f"/r/{receipt.token}/qr.svg")
    assert page.status_code == 200
    assert page.mimetype == "image/svg+xml"
    assert page.data.startswith(b"<svg") or b"<svg" in page.data[:200]


def test_the_receipt_preview_shows_qr_code_and_instructions_in_both_languages(client, receipt):
    html = client.get(f"/r/{receipt.token}/receipt").get_data(as_text=True)
    assert format_short_code(receipt.receipt.short_code) in html
    assert f'src="/r/{receipt.token}/qr.svg"' in html
    assert "扫码" in html and "Scan to tell us" in html
    assert "http://portal.test/r" in html
