"""Survey tokens, short codes, API keys and contact details never reach a log."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from portal.logs import GunicornLogger, RedactingFilter, redact
from tests.conftest import SECRET

TOKEN = "Ab3dE5fG7hJ9kL2m.1733468400.Zx9Yw8Vu7Ts6"
SHORT_CODE = "7K3QZ-M8P2D"
POS_KEY = "pos_q3Vx9LmN2bR7tY1uWz8A"
PAT = "pat_Hk2Lm9Qw3Er7Ty5Ui0Op"
PHONE = "13812345678"
EMAIL = "zhang.san@example.com"
SECRETS = (TOKEN, SHORT_CODE, SHORT_CODE.replace("-", ""), POS_KEY, PAT, PHONE, EMAIL, SECRET)


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /r/{TOKEN} HTTP/1.1" 200',
        f'"GET /r/{TOKEN}/qr.svg HTTP/1.1" 200',
        f'"POST /f/{TOKEN} HTTP/1.1" 302',
        f"receipt {SHORT_CODE} not found",
        f"GET /r?code={SHORT_CODE.replace('-', '')}",
        f"Authorization: Bearer {POS_KEY}",
        f"{{'Authorization': 'Bearer {PAT}'}}",
        f"bad key {POS_KEY} or token {PAT}",
        f"contact {PHONE} / +86 138-1234-5678 / {EMAIL}",
    ],
)
def test_redact(line: str) -> None:
    cleaned = redact(line)
    assert_clean(cleaned)
    assert "138-1234" not in cleaned


def test_ordinary_lines_are_kept() -> None:
    line = '"GET /stores/SH-001?days=30 HTTP/1.1" 200 5120 PRODUCTION'
    assert redact(line) == line


def test_app_log_records_are_redacted(app, caplog) -> None:
    with caplog.at_level(logging.INFO):
        app.logger.warning("submit failed for /r/%s code %s phone %s", TOKEN, SHORT_CODE, PHONE)
        logging.getLogger("werkzeug").info('127.0.0.1 - - "GET /r/%s HTTP/1.1" 200 -', TOKEN)
        logging.getLogger("portal.anything").error("key %s", POS_KEY)
    assert len(caplog.records) == 3
    assert_clean(caplog.text)
    assert "/r/[redacted]" in caplog.text


def test_a_request_that_fails_logs_its_path_redacted(app, client, caplog) -> None:
    @app.get("/boom/<path:rest>")
    def boom(rest: str) -> str:
        raise RuntimeError(f"failed with {rest} and {EMAIL}")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR):
        response = client.get(f"/boom/r/{TOKEN}", headers={"Authorization": f"Bearer {PAT}"})
    assert response.status_code == 500
    assert caplog.records
    text = caplog.text + "".join(record.exc_text or "" for record in caplog.records)
    assert "RuntimeError" in text
    assert_clean(text)


def test_the_filter_redacts_records_it_is_given() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key %s", (POS_KEY,), None)
    assert RedactingFilter().filter(record) is True
    assert_clean(record.getMessage())


def test_the_gunicorn_access_log_is_redacted() -> None:
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = GunicornLogger(cfg)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.access_log.addHandler(handler)
    try:
        request = SimpleNamespace(
            headers=[("AUTHORIZATION", f"Bearer {POS_KEY}"), ("USER-AGENT", "till")]
        )
        response = SimpleNamespace(status="200 OK", sent=10, response_length=10, headers=[])
        environ = {
            "REQUEST_METHOD": "GET",
            "RAW_URI": f"/r/{TOKEN}?code={SHORT_CODE}",
            "PATH_INFO": f"/r/{TOKEN}",
            "QUERY_STRING": f"code={SHORT_CODE}",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
        }
        cfg.set("access_log_format", '%(h)s "%(r)s" %(U)s %(q)s %(s)s "%({authorization}i)s"')
        logger.access(response, request, environ, timedelta(seconds=1))
    finally:
        logger.access_log.removeHandler(handler)
    line = stream.getvalue()
    assert "GET /r/[redacted]" in line
    assert_clean(line)
