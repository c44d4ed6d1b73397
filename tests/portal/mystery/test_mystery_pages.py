"""The mystery workflow through the web: the shopper's lists and report pages, reviewer
actions, a manager's dispute, the photo route and who may see what."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.audit import Actor
from portal.calendar import zone
from portal.db import utcnow
from portal.models import MysteryVisit, Role, VisitState
from portal.mystery.photos import clean_photo
from portal.mystery.report import VisitFacts, save_answers, save_facts, save_photo, submit_report
from portal.mystery.review import release_report, start_review
from portal.mystery.scheduling import VisitPlan, accept_visit, schedule_visit
from portal.mystery.visits import checklist_of, visit_answers
from tests.conftest import csrf_token_from, post_form
from tests.portal.mystery.test_mystery_workflow import complete_answers, receipt_png

EN = {"Accept-Language": "en"}


@pytest.fixture
def setup(app, db_session, settings, make_store, make_staff, make_user):
    store = make_store(code="SH-01", name="徐汇店")
    other = make_store(code="SH-02")
    staff = make_staff(store, name="李娜")
    shopper = make_user(Role.MYSTERY, name="陈晨", email="shopper@example.com")
    reviewer = make_user(Role.REVIEWER)
    manager = make_user(Role.MANAGER, stores=[store])
    other_manager = make_user(Role.MANAGER, stores=[other])
    today = utcnow().date()
    visit = schedule_visit(
        db_session,
        settings,
        VisitPlan(
            store_id=store.id,
            shopper_id=shopper.id,
            checklist_key="retail-standard",
            window_start=today - timedelta(days=5),
            window_end=today + timedelta(days=5),
            daypart="afternoon",
            fee_cents=5000,
        ),
        actor=Actor.of_user(reviewer),
        now=utcnow(),
    )
    db_session.flush()
    return dict(
        store=store,
        staff=staff,
        shopper=shopper,
        reviewer=reviewer,
        manager=manager,
        other_manager=other_manager,
        visit=visit,
        session=db_session,
        settings=settings,
        photos=Path(app.instance_path) / "mystery-photos",
    )


def _act(client, visit_id: int, action: str, data: dict[str, Any] | None = None, **kw: Any):
    page = client.get(f"/mystery/visits/{visit_id}", headers=EN).get_data(as_text=True)
    version = re.search(rf'id="{action}-version"[^>]*value="(\d+)"', page)
    fields = {f"{action}-{key}": value for key, value in (data or {}).items()}
    if version:
        fields[f"{action}-version"] = version.group(1)
    return post_form(
        client,
        f"/mystery/visits/{visit_id}/{action}",
        fields,
        page=f"/mystery/visits/{visit_id}",
        headers=EN,
        **kw,
    )


def test_the_shopper_sees_only_their_assignments(client, login_as, setup, make_user):
    other = make_user(Role.MYSTERY)
    login_as(other)
    page = client.get("/mystery", headers=EN).get_data(as_text=True)
    assert "No assignments yet." in page
    assert client.get(f"/mystery/visits/{setup['visit'].id}").status_code == 404
    login_as(setup["shopper"])
    page = client.get("/mystery", headers=EN).get_data(as_text=True)
    assert f"visit-{setup['visit'].id}" in page


def test_a_manager_sees_no_unreleased_report(client, login_as, setup):
    login_as(setup["manager"])
    assert client.get(f"/mystery/visits/{setup['visit'].id}").status_code == 404
    assert f"visit-{setup['visit'].id}" not in client.get("/mystery").get_data(as_text=True)


def test_the_shopper_files_a_report_page_by_page(client, login_as, setup):
    visit, store = setup["visit"], setup["store"]
    login_as(setup["shopper"])
    accepted = _act(client, visit.id, "accept")
    assert accepted.status_code == 302
    base = f"/mystery/visits/{visit.id}/report"
    # The shopper types the store's local wall-clock time, whatever the server's zone.
    started = utcnow().astimezone(zone(store.timezone)).replace(tzinfo=None) - timedelta(hours=2)
    facts = {
        "started_at": started.strftime("%Y-%m-%dT%H:%M"),
        "ended_at": (started + timedelta(minutes=25)).strftime("%Y-%m-%dT%H:%M"),
        "served_by": str(setup["staff"].id),
        "served_by_description": "",
        "transaction_id": "TX-900",
    }
    saved = post_form(client, f"{base}/visit", facts, headers=EN)
    assert saved.status_code == 302 and saved.location.endswith(f"{base}/environment")

    # N/A where the checklist allows none: the rest is kept, the field says what is wrong.
    section = {
        "item-A1": "na",
        "item-A2": "no",
        "comment-A2": "",
        "item-A3": "yes",
        "item-A4": "yes",
        "item-A5": "na",
        "comment-A5": "There is no restroom in this store at all.",
        "narrative-environment": "Floor clean at the entrance, one empty facing in aisle 3.",
    }
    refused = post_form(client, f"{base}/environment", section, headers=EN)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="item-A1-errors"' in body
    setup["session"].expire_all()
    kept = visit_answers(setup["session"].get(MysteryVisit, visit.id))
    assert kept.items["A3"].value == "yes" and kept.items["A2"].value == "no"

    # The photo page refuses a non-image with a message and accepts a PNG.
    bad = post_form(
        client,
        f"{base}/proof",
        {"photo": (io.BytesIO(b"not an image"), "r.png")},
        headers=EN,
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "JPEG or PNG" in bad.get_data(as_text=True)
    good = post_form(
        client,
        f"{base}/proof",
        {"photo": (io.BytesIO(receipt_png()), "r.png")},
        headers=EN,
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    # Submitting while items are missing answers 400 and lists what is missing.
    incomplete = _act(client, visit.id, "submit")
    assert incomplete.status_code == 400 and 'id="missing"' in incomplete.get_data(as_text=True)

    # Fill the rest through the operations (each section page works the same way).
    session = setup["session"]
    session.expire_all()
    current = session.get(MysteryVisit, visit.id)
    save_answers(
        session,
        current,
        complete_answers(checklist_of(current)),
        actor=Actor.of_user(setup["shopper"]),
        now=utcnow(),
        part="all",
    )
    session.flush()
    filed = _act(client, visit.id, "submit")
    assert filed.status_code == 302
    session.expire_all()
    assert session.get(MysteryVisit, visit.id).state == VisitState.SUBMITTED
    # After filing, the report pages are closed.
    assert client.get(f"{base}/visit").status_code == 302


def test_review_release_dispute_and_decide_through_the_pages(client, login_as, setup):
    visit = setup["visit"]
    session = setup["session"]
    now = utcnow()
    accept_visit(session, visit, actor=Actor.of_user(setup["shopper"]), now=now)
    session.flush()
    released = _released_from_accepted(setup)
    login_as(setup["manager"])
    page = client.get(f"/mystery/visits/{released.id}", headers=EN).get_data(as_text=True)
    assert "Dispute this report" in page
    # Store staff never learn who the shopper was.
    assert "陈晨" not in page and "shopper@example.com" not in page
    photo = client.get(f"/mystery/visits/{released.id}/photo")
    assert photo.status_code == 200 and photo.data.startswith(b"\x89PNG")
    assert photo.headers["Cache-Control"] == "private, no-store"
    photo.close()
    short = _act(client, released.id, "dispute", {"item": "B2", "reason": "no"})
    assert short.status_code == 400
    filed = _act(
        client, released.id, "dispute", {"item": "B2", "reason": "She greeted him, CCTV 15:01."}
    )
    assert filed.status_code == 302
    login_as(setup["other_manager"])
    assert client.get(f"/mystery/visits/{released.id}").status_code == 404
    assert client.get(f"/mystery/visits/{released.id}/photo").status_code == 404
    login_as(setup["reviewer"])
    decided = _act(
        client,
        released.id,
        "decide",
        {
            "outcome": "adjusted",
            "item": "B2",
            "value": "no",
            "comment": "No eye contact, shopper notes.",
            "note": "The CCTV shows no eye contact.",
        },
    )
    assert decided.status_code == 302, decided.get_data(as_text=True)[:2000]
    session.expire_all()
    final = session.get(MysteryVisit, released.id)
    assert final.state == VisitState.FINAL and final.dispute.outcome == "adjusted"
    assert final.score < 100


def _released_from_accepted(setup) -> MysteryVisit:
    session, visit, shopper = setup["session"], setup["visit"], setup["shopper"]
    now = utcnow()
    local = now.astimezone(zone(setup["store"].timezone)).replace(tzinfo=None)
    start = (local - timedelta(days=1)).replace(hour=15, minute=0)
    save_facts(
        session,
        visit,
        VisitFacts(start, start + timedelta(minutes=30), setup["staff"].id, "", "TX-1"),
        actor=Actor.of_user(shopper),
        now=now,
    )
    save_answers(
        session,
        visit,
        complete_answers(checklist_of(visit)),
        actor=Actor.of_user(shopper),
        now=now,
        part="all",
    )
    save_photo(
        session,
        visit,
        clean_photo(receipt_png(), max_bytes=10**6),
        folder=setup["photos"],
        actor=Actor.of_user(shopper),
        now=now,
    )
    submit_report(session, setup["settings"], visit, actor=Actor.of_user(shopper), now=now)
    start_review(session, visit, actor=Actor.of_user(setup["reviewer"]), now=now)
    release_report(
        session, setup["settings"], visit, actor=Actor.of_user(setup["reviewer"]), now=now
    )
    session.flush()
    return visit


def test_scheduling_through_the_page_enforces_rotation(client, login_as, setup):
    login_as(setup["reviewer"])
    today = date.today()
    data = {
        "store": "SH-01",
        "shopper": str(setup["shopper"].id),
        "checklist": "retail-standard",
        "window_start": today.isoformat(),
        "window_end": (today + timedelta(days=3)).isoformat(),
        "daypart": "morning",
        "fee": "80",
    }
    refused = post_form(client, "/mystery/schedule", data, headers=EN)
    assert refused.status_code == 400 and "within 60 days" in refused.get_data(as_text=True)
    data["store"] = "SH-02"
    done = post_form(client, "/mystery/schedule", data, headers=EN)
    assert done.status_code == 302
    setup["session"].expire_all()
    latest = setup["session"].query(MysteryVisit).order_by(MysteryVisit.id.desc()).first()
    assert latest.store.code == "SH-02" and latest.fee_cents == 8000


def test_a_shopper_cannot_schedule_or_review(client, login_as, setup):
    login_as(setup["shopper"])
    assert client.get("/mystery/schedule").status_code == 403
    response = _act(client, setup["visit"].id, "review")
    assert response.status_code == 403


def test_the_reviewer_starts_the_review_and_releases_through_the_pages(client, login_as, setup):
    session, visit, shopper = setup["session"], setup["visit"], setup["shopper"]
    now = utcnow()
    accept_visit(session, visit, actor=Actor.of_user(shopper), now=now)
    local = now.astimezone(zone(setup["store"].timezone)).replace(tzinfo=None)
    start = (local - timedelta(days=1)).replace(hour=15, minute=0)
    facts = VisitFacts(start, start + timedelta(minutes=30), setup["staff"].id, "", "TX-2")
    save_facts(session, visit, facts, actor=Actor.of_user(shopper), now=now)
    answers = complete_answers(checklist_of(visit))
    save_answers(session, visit, answers, actor=Actor.of_user(shopper), now=now, part="all")
    photo = clean_photo(receipt_png(), max_bytes=10**6)
    save_photo(session, visit, photo, folder=setup["photos"], actor=Actor.of_user(shopper), now=now)
    submit_report(session, setup["settings"], visit, actor=Actor.of_user(shopper), now=now)
    session.flush()
    login_as(setup["reviewer"])
    page = client.get(f"/mystery/visits/{visit.id}", headers=EN).get_data(as_text=True)
    assert "陈晨" in page  # reviewers see who the shopper was
    assert _act(client, visit.id, "review").status_code == 302
    in_review = client.get(f"/mystery/visits/{visit.id}", headers=EN).get_data(as_text=True)
    assert 'id="qa-checklist"' in in_review and "backed by a factual comment" in in_review
    assert _act(client, visit.id, "release", {"note": ""}).status_code == 302
    session.expire_all()
    released = session.get(MysteryVisit, visit.id)
    assert released.state == VisitState.RELEASED and released.observations


def _noise_jpeg(side: int) -> bytes:
    # Random pixels barely compress: a JPEG of a predictable, phone-photo-like size.
    import random

    from PIL import Image

    pixels = random.Random(side).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, format="JPEG", quality=95)
    return out.getvalue()


def _upload(client, visit_id: int, data: bytes):
    # The body is encoded in memory: the test client would spool a large one to a temporary
    # file that it never closes when the app refuses the body unread.
    url = f"/mystery/visits/{visit_id}/report/proof"
    token = csrf_token_from(client.get(url, headers=EN).get_data(as_text=True))
    photo = FileStorage(io.BytesIO(data), "receipt.jpg", content_type="image/jpeg")
    boundary, body = encode_multipart({"csrf_token": token, "photo": photo})
    return client.post(
        url, data=body, headers=EN, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_a_phone_sized_photo_of_1_6_mb_is_accepted(client, login_as, setup):
    visit = setup["visit"]
    login_as(setup["shopper"])
    assert _act(client, visit.id, "accept").status_code == 302
    photo = _noise_jpeg(1250)
    assert 1_600_000 <= len(photo) < setup["settings"].photo_max_bytes
    saved = _upload(client, visit.id, photo)
    assert saved.status_code == 302
    setup["session"].expire_all()
    assert setup["session"].get(MysteryVisit, visit.id).photo_file


def test_an_over_limit_photo_gets_a_field_message_on_the_report_page(client, login_as, setup):
    visit = setup["visit"]
    login_as(setup["shopper"])
    assert _act(client, visit.id, "accept").status_code == 302
    limit = setup["settings"].photo_max_bytes
    refused = _upload(client, visit.id, b"\xff\xd8" + b"\0" * (limit + 100 * 1024))
    body = refused.get_data(as_text=True)
    assert refused.status_code == 413
    assert 'id="photo-errors"' in body and "The photo is too large (at most 5 MB)." in body
    assert "Photo of the receipt" in body  # the report page, not a bare error page


def test_an_over_limit_photo_for_someone_elses_visit_is_still_a_404(
    client, login_as, setup, make_user
):
    login_as(make_user(Role.MYSTERY))
    limit = setup["settings"].photo_max_bytes
    refused = _upload_raw(client, setup["visit"].id, b"\0" * (limit + 100 * 1024))
    assert refused.status_code == 404


def _upload_raw(client, visit_id: int, data: bytes):
    photo = FileStorage(io.BytesIO(data), "receipt.jpg", content_type="image/jpeg")
    boundary, body = encode_multipart({"csrf_token": "x", "photo": photo})
    return client.post(
        f"/mystery/visits/{visit_id}/report/proof",
        data=body,
        headers=EN,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
