"""Every mail the portal writes, in each reader's language, and the header row of every
export (CSV and XLSX), in Chinese and in English: no word of the other language and no
internal key, like the pages (`test_every_page_translated`)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from flask import url_for
from sqlalchemy import select

from portal.audit import Actor
from portal.cases.notify import notify_assignee, notify_overdue
from portal.cases.operations import log_contact, resolve_case, send_follow_up
from portal.db import utcnow
from portal.models import Case, OutboxMessage, Resolution, Role
from tests.conftest import SETTINGS
from tests.portal.translated.conftest import Walk
from tests.portal.translated.text import Checker

LANGUAGES = {"zh-CN": "zh_CN", "en": "en"}
NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
STORE_NAME = "徐汇旗舰店"
COMMENT = "收银员态度很差，排队二十分钟。"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_mail_is_in_its_readers_language(
    app, db_session, make_store, make_staff, make_user, make_response, locale
):
    """The assignee's mails (new case, overdue) in the language they chose, and the
    customer's follow-up question in the language they answered in."""
    store = make_store("SH-001", name=STORE_NAME)
    manager = make_user(Role.MANAGER, stores=[store], email="boss@sh.example")
    manager.locale = locale
    now = utcnow()
    with app.app_context():
        response = make_response(
            store, make_staff(store), nps=2, csat=1, comment=COMMENT, locale=locale, now=now
        )
        case = db_session.scalars(select(Case).where(Case.response_id == response.id)).one()
        case.assignee_id = manager.id
        notify_assignee(db_session, SETTINGS, case, kind="new", now=now)
        notify_overdue(db_session, SETTINGS, now=case.first_response_due_at + timedelta(hours=1))
        actor = Actor.of_user(manager)
        log_contact(db_session, case, note="已致电顾客。", actor=actor, now=now)
        resolve_case(
            db_session, case, resolution=Resolution.APOLOGY, note="已道歉。", actor=actor, now=now
        )
        case.contact_email = "shopper@example.com"
        send_follow_up(db_session, SETTINGS, case, actor=actor, now=now)
    mails = db_session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id))
    texts = [line for mail in mails for line in (mail.subject, *mail.body.splitlines())]
    assert len(texts) > 6, "the new-case, overdue and follow-up mails were all written"
    checker = Checker({STORE_NAME, COMMENT, case.summary})
    assert checker.offences(texts, locale) == [], "\n".join(texts)


#: The ``key: `` (or ``key：``) before the wording in a custom question's header.
OWNER_KEY = re.compile(r"^[a-z][a-z0-9_]*[:：] ?")


def _header(response, fmt: str) -> list[str]:
    data = response.get_data()
    if fmt == "csv":
        return next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    first = sheet.find(".//x:sheetData/x:row", NS)
    assert first is not None
    return [t.text or "" for t in first.iterfind(".//x:t", NS)]


def test_every_export_header_is_in_the_readers_language(walk: Walk) -> None:
    month = walk.world.people["hr"].award_months[0]
    downloads = (
        [("admin", "exports.responses", {"fmt": fmt}) for fmt in ("csv", "xlsx")]
        + [("admin", "exports.summary", {"fmt": fmt}) for fmt in ("csv", "xlsx")]
        + [("hr", "awards.export", {"fmt": fmt, "month": month}) for fmt in ("csv", "xlsx")]
        + [("admin", "admin.audit_csv", {"fmt": "csv"})]
    )
    problems = []
    for login, endpoint, values in downloads:
        fmt = values.pop("fmt") if endpoint == "admin.audit_csv" else values["fmt"]
        with walk.app.test_request_context():
            url = url_for(endpoint, **values)
        for accept, lang in LANGUAGES.items():
            response = walk.clients[login].get(url, headers={"Accept-Language": accept})
            assert response.status_code == 200, url
            header = _header(response, fmt)
            assert header, url
            # A custom question's column starts with the owner's key for it ("wish: What
            # else ..."): an identifier the owner chose, like a store code, not a word.
            header = [OWNER_KEY.sub("", cell) for cell in header]
            problems += [f"{url} [{lang}]: {o!r}" for o in walk.checker.offences(header, lang)]
    assert not problems, "\n".join(problems)
