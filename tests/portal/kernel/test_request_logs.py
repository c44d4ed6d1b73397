"""Request ids and log lines: every line written while a request runs carries its id, the
answer sends it back, a trusted proxy's well-formed ``X-Request-ID`` is kept, and
``PORTAL_LOG_FORMAT=json`` writes one JSON object per line."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask

from portal import create_app, logs
from portal.config import Settings, SettingsError

GENERATED = re.compile(r"\A[0-9a-f]{32}\Z")


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept() -> Iterator[Kept]:
    handler = Kept()
    logger = logging.getLogger("portal.probe")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)


def _with_probe(app: Flask) -> Flask:
    """A page that writes two lines, and one that fails (its traceback is logged)."""

    def probe() -> str:
        logging.getLogger("portal.probe").info("first line")
        logging.getLogger("portal.probe").warning("second line")
        return "done"

    def broken() -> str:
        raise RuntimeError("boom")

    app.add_url_rule("/probe", view_func=probe)
    app.add_url_rule("/broken", view_func=broken)
    # As in production: a failing view is logged and answered 500, not raised to the test.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_each_request_gets_an_id_on_its_lines_and_its_answer(app, kept):
    client = _with_probe(app).test_client()
    first, second = client.get("/probe"), client.get("/probe")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(GENERATED.match(request_id) for request_id in ids)
    assert ids[0] != ids[1]
    assert [r.request_id for r in kept.records] == [ids[0], ids[0], ids[1], ids[1]]
    # Outside a request, no id.
    logging.getLogger("portal.probe").info("between requests")
    assert kept.records[-1].request_id is None


def test_a_proxys_request_id_is_kept_only_when_trusted_and_well_formed(settings, connection):
    behind_proxy = create_app(replace(settings, trusted_proxies=1), bind=connection)
    client = behind_proxy.test_client()
    sent = "6f1c2a9e-proxy:42"
    assert client.get("/", headers={"X-Request-ID": sent}).headers["X-Request-ID"] == sent
    for forged in ("two words", "x" * 129, "line\\nbreak", "<script>"):
        echoed = client.get("/", headers={"X-Request-ID": forged}).headers["X-Request-ID"]
        assert GENERATED.match(echoed), forged
    direct = create_app(settings, bind=connection).test_client()
    echoed = direct.get("/", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert echoed != sent and GENERATED.match(echoed)


def test_json_lines_carry_the_request_id_and_the_traceback(app):
    stream = io.StringIO()
    handler = logs.configure("json", stream)
    try:
        client = _with_probe(app).test_client()
        request_id = client.get("/probe").headers["X-Request-ID"]
        failed = client.get("/broken")
    finally:
        logging.getLogger().removeHandler(handler)
    assert failed.status_code == 500
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    probe = [line for line in lines if line["logger"] == "portal.probe"]
    assert [(line["level"], line["message"]) for line in probe] == [
        ("INFO", "first line"),
        ("WARNING", "second line"),
    ]
    assert {line["request_id"] for line in probe} == {request_id}
    error = next(line for line in lines if "error" in line)
    assert "RuntimeError: boom" in error["error"]
    assert error["request_id"] == failed.headers["X-Request-ID"]
    assert error["time"].endswith("+00:00")


def test_text_lines_name_the_request_or_a_dash():
    record = logging.LogRecord("portal.x", logging.INFO, __file__, 1, "hello", None, None)
    record.request_id = None
    assert "INFO [-] portal.x: hello" in logs.formatter("text").format(record)
    record.request_id = "abc"
    assert "INFO [abc] portal.x: hello" in logs.formatter("text").format(record)


def test_the_log_format_setting():
    base = {"PORTAL_SECRET_KEY": "k" * 8}
    assert Settings.from_env(base).log_format == "text"
    assert Settings.from_env({**base, "PORTAL_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SettingsError, match="PORTAL_LOG_FORMAT"):
        Settings.from_env({**base, "PORTAL_LOG_FORMAT": "xml"})
