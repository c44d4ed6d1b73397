"""A local stand-in for Twilio's REST API: a real HTTP server in the test process that
answers like Twilio and records what it was sent; and helpers to sign webhook requests."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select

from portal.models import SmsMessage
from portal.sms.providers import twilio_signature
from tests.conftest import SETTINGS

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "stand-in-auth-token"
FROM_NUMBER = "+15005550006"
MOBILE = "13800138000"
E164 = "+8613800138000"


@dataclass
class Recorded:
    """One request the stand-in received."""

    path: str
    authorization: str
    form: dict[str, str]


@dataclass
class StandIn:
    """Twilio's Messages endpoint: answers the queued replies in order (then success),
    records every request."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    replies: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    counter: int = 0

    def then(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self.replies.append((status, body, headers or {}))

    def next_reply(self, form: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.replies:
            return self.replies.pop(0)
        self.counter += 1
        sid = f"SM{self.counter:032x}"
        return (
            201,
            {"sid": sid, "status": "queued", "to": form.get("To"), "body": form.get("Body")},
            {},
        )


def handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server name)
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
            standin.requests.append(
                Recorded(self.path, self.headers.get("Authorization", ""), form)
            )
            status, body, headers = standin.next_reply(form)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None

    return Handler


def basic_auth() -> str:
    return "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


def signed_post(client: Any, path: str, form: dict[str, str], *, token: str = AUTH_TOKEN) -> Any:
    """POST ``form`` to a webhook as Twilio does, signed for the public URL."""
    signature = twilio_signature(token, SETTINGS.base_url + path, form.items())
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def messages(db_session) -> list[SmsMessage]:
    db_session.expire_all()
    return list(db_session.scalars(select(SmsMessage).order_by(SmsMessage.id)))
