"""The branding page: names, a logo made safe (real PNG and JPEG made here with Pillow;
hostile files refused), the colour's contrast check, refusals that write nothing,
concurrent saves, CSRF and roles."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import threading
import zlib

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.audit import Actor
from portal.branding import BRANDING_ID, shopper_branding
from portal.db import utcnow, writer
from portal.models import AuditEntry, Branding, Role
from portal.survey_editor.branding_operations import (
    BrandingChange,
    BrandingChanged,
    branding_token,
    save_branding,
)
from portal.survey_editor.logo import LOGO_EDGE, MAX_LOGO_BYTES, InvalidLogo, clean_logo
from tests.portal.survey_editor.concurrency import wait_for_a_lock_wait
from tests.portal.survey_editor.published import hidden_fields

EN = {"Accept-Language": "en"}
URL = "/surveys/branding"


@pytest.fixture
def cx(make_user):
    return make_user(Role.CX)


def png(size=(1000, 500), colour="#1a5fb4", mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format="PNG", **save)
    return out.getvalue()


def jpeg(image: Image.Image, **save) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, **save)
    return out.getvalue()


def send(client, files=None, **fields):
    """The branding form as the page shows it (hidden fields and current values), with
    ``fields`` and ``files`` ({name: (bytes, filename)}) changed."""
    html = client.get(URL, headers=EN).get_data(as_text=True)
    return post_multipart(client, {**hidden_fields(html), **current_values(html), **fields}, files)


def post_multipart(client, fields, files=None):
    """POST the form as a browser would, the body encoded in memory (the test client would
    spool a large body to a temporary file that it never closes)."""
    values: dict = dict(fields)
    for name, (content, filename) in (files or {}).items():
        values[name] = FileStorage(io.BytesIO(content), filename=filename)
    boundary, body = encode_multipart(values)
    return client.post(
        URL, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=EN
    )


def current_values(html: str) -> dict[str, str]:
    values = {}
    for name in ("chain_name_zh", "chain_name_en", "primary_colour"):
        match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        assert match, name
        value = re.search(r'value="([^"]*)"', match.group(0))
        values[name] = value.group(1) if value else ""
    return values


def stored(session: Session) -> Branding | None:
    session.expire_all()
    return session.get(Branding, BRANDING_ID)


def audits(session: Session) -> int:
    return session.scalar(select(func.count()).where(AuditEntry.action == "branding.updated"))


def test_names_logo_and_colour_are_saved_and_shown_in_the_preview(client, login_as, cx, db_session):
    login_as(cx)
    response = send(
        client,
        files={"logo": (png(), "logo.png")},
        chain_name_zh="好又多超市",
        chain_name_en="Haoyouduo Markets",
        primary_colour="#1A5FB4",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    row = stored(db_session)
    assert (row.chain_name_zh, row.chain_name_en, row.primary_colour) == (
        "好又多超市",
        "Haoyouduo Markets",
        "#1a5fb4",
    )
    assert row.logo_sha256 == hashlib.sha256(row.logo_png).hexdigest()
    assert row.updated_by_user_id == cx.id
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "branding.updated")
    ).one()
    assert entry.details["branding_changed"] == ["chain_name", "logo", "colour"]
    assert shopper_branding(db_session).chain_name("zh_CN") == "好又多超市"
    html = client.get(URL, headers=EN).get_data(as_text=True)
    preview = html[html.index('id="preview"') :]
    assert 'src="data:image/png;base64,' in preview
    assert "Haoyouduo Markets" in preview
    assert 'class="brand-preview brand-1a5fb4"' in preview
    assert 'href="/surveys/branding/colour-1a5fb4.css"' in html


def test_the_logo_is_shrunk_and_re_encoded_without_metadata(client, login_as, cx, db_session):
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone@example.com")
    login_as(cx)
    assert send(client, files={"logo": (png(pnginfo=info), "logo.png")}).status_code == 302
    with Image.open(io.BytesIO(stored(db_session).logo_png)) as logo:
        assert logo.format == "PNG"
        assert logo.size == (LOGO_EDGE, LOGO_EDGE // 2)
        assert "Author" not in logo.info and not getattr(logo, "text", {})


def test_a_jpeg_logo_is_stored_as_png(client, login_as, cx, db_session):
    login_as(cx)
    data = jpeg(Image.new("RGB", (300, 200), "#c00000"))
    assert send(client, files={"logo": (data, "photo.jpg")}).status_code == 302
    with Image.open(io.BytesIO(stored(db_session).logo_png)) as logo:
        assert (logo.format, logo.size) == ("PNG", (300, 200))


def test_a_transparent_png_keeps_its_transparency():
    logo = clean_logo(png(size=(40, 40), colour=(0, 0, 0, 0), mode="RGBA"))
    with Image.open(io.BytesIO(logo.png)) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0


def test_an_exif_rotated_jpeg_comes_out_the_right_way_up(client, login_as, cx, db_session):
    # 40 x 20, red left half, blue right half, tagged "rotate 90 degrees clockwise to show".
    image = Image.new("RGB", (40, 20), "blue")
    image.paste("red", (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    login_as(cx)
    response = send(client, files={"logo": (jpeg(image, exif=exif.tobytes()), "logo.jpg")})
    assert response.status_code == 302
    with Image.open(io.BytesIO(stored(db_session).logo_png)) as logo:
        assert logo.size == (20, 40)
        assert not logo.getexif()
        # Turned clockwise: the left half (red) is now on top.
        red, _, blue = logo.convert("RGB").getpixel((10, 5))
        assert red > 200 and blue < 60
        red, _, blue = logo.convert("RGB").getpixel((10, 35))
        assert blue > 200 and red < 60


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, format="GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (gif(), "must be a PNG or JPEG image"),
        (b"just some text, not a picture\n" * 10, "could not be read as an image"),
        (png()[:200], "could not be read as an image"),  # truncated
    ],
    ids=["gif named png", "text named png", "truncated png"],
)
def test_files_that_are_not_png_or_jpeg_are_refused_whatever_their_name(
    client, login_as, cx, db_session, content, message
):
    login_as(cx)
    # A good colour in the same save: a refused logo writes neither.
    response = send(client, files={"logo": (content, "logo.png")}, primary_colour="#1a5fb4")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    logo_field = html[html.index('id="logo-field"') :]
    assert message in logo_field[: logo_field.index("</div>")]
    assert stored(db_session) is None
    assert audits(db_session) == 0


def bomb_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` one-bit pixels, with one tiny row of
    data: small on disk, enormous once decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "content",
    [
        # 25 million real pixels that compress to a few kilobytes: more than a logo may
        # have, fewer than Pillow's own guard notices.
        png(size=(5000, 5000), colour=0, mode="1"),
        # A header claiming ten billion pixels.
        bomb_header(100_000, 100_000),
    ],
    ids=["25 megapixels", "forged header"],
)
def test_decompression_bombs_are_refused_before_decoding(client, login_as, cx, db_session, content):
    assert len(content) < 100_000
    login_as(cx)
    response = send(client, files={"logo": (content, "logo.png")})
    assert response.status_code == 400
    assert "too many pixels" in response.get_data(as_text=True)
    assert stored(db_session) is None


def test_the_pixel_guard_holds_when_pillows_own_is_switched_off(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(InvalidLogo, match="too many pixels"):
        clean_logo(png(size=(5000, 5000), colour=0, mode="1"))


def test_a_logo_over_2_mb_is_refused_with_a_message(client, login_as, cx, db_session):
    login_as(cx)
    # Just over the limit: the request is read, the file refused by its size.
    just_over = b"\x89PNG\r\n\x1a\n" + b"\x00" * (MAX_LOGO_BYTES - 7)
    response = send(client, files={"logo": (just_over, "big.png")}, chain_name_en="Big")
    assert response.status_code == 413
    assert "too large (at most 2 MB)" in response.get_data(as_text=True)
    # Far over: the request itself is refused before the form is read, still on the page.
    far_over = b"\x00" * (3 * MAX_LOGO_BYTES)
    response = send(client, files={"logo": (far_over, "huge.png")}, chain_name_en="Huge")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert 'id="logo-field"' in html and "too large (at most 2 MB)" in html
    assert stored(db_session) is None


def test_other_pages_keep_the_small_request_limit(client, login_as, cx):
    login_as(cx)
    html = client.get("/surveys/receipt/versions/1").get_data(as_text=True)
    response = client.post(
        "/surveys/receipt/versions/1/copy",
        data={**hidden_fields(html), "padding": "x" * (2 * 1024 * 1024)},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("colour", "saved"),
    [("#767676", "#767676"), ("#1A5FB4", "#1a5fb4"), ("", None)],
)
def test_colours_that_reach_aa_against_white_are_saved(
    client, login_as, cx, db_session, colour, saved
):
    login_as(cx)
    send(client, primary_colour="#000000")
    assert send(client, primary_colour=colour).status_code == 302
    assert stored(db_session).primary_colour == saved


def test_a_light_colour_is_refused_with_its_ratio_and_a_darker_shade_that_passes(
    client, login_as, cx, db_session
):
    login_as(cx)
    response = send(client, primary_colour="#777777", chain_name_en="Grey Markets")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    field = html[html.index('id="primary_colour-field"') :]
    field = field[: field.index("</div>")]
    assert "#777777 reaches only 4.48:1 against white" in field
    assert "The nearest darker shade that passes is #767676." in field
    assert 'href="/surveys/branding/colour-767676.css"' in html  # the suggestion, shown
    assert stored(db_session) is None  # the name was not saved either


def test_a_colour_not_written_as_six_hex_digits_is_refused(client, login_as, cx, db_session):
    login_as(cx)
    for colour in ("red", "#abc", "#12345g"):
        response = send(client, primary_colour=colour)
        assert response.status_code == 400
        assert "six hexadecimal digits" in response.get_data(as_text=True)
    assert stored(db_session) is None


def test_a_name_over_100_characters_is_refused(client, login_as, cx, db_session):
    login_as(cx)
    response = send(client, chain_name_zh="店" * 101)
    assert response.status_code == 400
    assert "At most 100 characters." in response.get_data(as_text=True)
    assert stored(db_session) is None


def test_the_logo_can_be_removed_but_not_replaced_and_removed_at_once(
    client, login_as, cx, db_session
):
    login_as(cx)
    assert send(client, files={"logo": (png(), "logo.png")}).status_code == 302
    both = send(client, files={"logo": (png(colour="red"), "new.png")}, remove_logo="y")
    assert both.status_code == 400
    assert "not both" in both.get_data(as_text=True)
    assert stored(db_session).logo_sha256 is not None
    assert send(client, remove_logo="y").status_code == 302
    row = stored(db_session)
    assert row.logo_png is None and row.logo_sha256 is None
    assert audits(db_session) == 2


def test_saving_what_is_already_there_writes_nothing(client, login_as, cx, db_session):
    login_as(cx)
    send(client, chain_name_en="Same")
    first = stored(db_session).updated_at
    response = send(client)
    assert response.status_code == 302
    assert stored(db_session).updated_at == first
    assert audits(db_session) == 1


def test_a_save_from_a_stale_page_is_refused_and_keeps_the_other_change(
    client, login_as, cx, db_session, make_user
):
    login_as(cx)
    stale = client.get(URL, headers=EN).get_data(as_text=True)
    # A colleague saves a colour after the page was shown.
    save_branding(
        db_session,
        BrandingChange("", "", None, False, "#1a5fb4"),
        seen=branding_token(None),
        actor=Actor.of_user(make_user(Role.ADMIN)),
        now=utcnow(),
    )
    db_session.flush()
    response = post_multipart(
        client, {**hidden_fields(stale), **current_values(stale), "chain_name_en": "Mine"}
    )
    assert response.status_code == 409
    assert "Someone else changed the branding" in response.get_data(as_text=True)
    row = stored(db_session)
    assert (row.chain_name_en, row.primary_colour) == ("", "#1a5fb4")
    # The page shown again carries the current fingerprint: sending it again is a choice
    # made knowing the other change, and applies.
    page = response.get_data(as_text=True)
    assert 'class="brand-preview brand-1a5fb4"' in page
    again = post_multipart(client, {**hidden_fields(page), **current_values(page)})
    assert again.status_code == 302
    assert stored(db_session).chain_name_en == "Mine"


def test_two_first_saves_at_once_give_one_row_and_no_server_error(fresh_engine):
    """Two owners save the branding for the first time at the same moment: the database
    settles it (one row); the later save sees the earlier one and is refused, not a 500."""
    writes = writer(fresh_engine)
    outcomes: list[str] = []
    inserted, gate = threading.Event(), threading.Event()

    def save(name: str, hold: bool) -> None:
        change = BrandingChange("", name, None, False, None)
        with Session(writes) as session:
            try:
                with session.begin():
                    save_branding(
                        session, change, seen=branding_token(None), actor=Actor("cli"),
                        now=utcnow(),
                    )  # fmt: skip
                    if hold:
                        # Keep the new row uncommitted while the other save starts.
                        inserted.set()
                        gate.wait(timeout=30)
                outcomes.append(f"saved {name}")
            except BrandingChanged:
                outcomes.append(f"refused {name}")

    first = threading.Thread(target=save, args=("First", True))
    first.start()
    assert inserted.wait(timeout=30)
    second = threading.Thread(target=save, args=("Second", False))
    second.start()
    wait_for_a_lock_wait(fresh_engine)
    gate.set()
    first.join()
    second.join()
    assert sorted(outcomes) == ["refused Second", "saved First"]
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(Branding)) == 1
        assert session.get(Branding, BRANDING_ID).chain_name_en == "First"


def test_the_branding_form_needs_a_csrf_token(client, login_as, cx, db_session):
    login_as(cx)
    response = client.post(URL, data={"chain_name_en": "No token"}, headers=EN)
    assert response.status_code == 400
    assert stored(db_session) is None


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HR, Role.REVIEWER, Role.MYSTERY])
def test_only_survey_owners_open_the_branding_page(client, login_as, make_user, make_store, role):
    login_as(make_user(role, stores=[make_store()] if role == Role.MANAGER else None))
    assert client.get(URL).status_code == 403
    assert client.get("/surveys/branding/colour-1a5fb4.css").status_code == 403


def test_admins_may_set_the_branding(client, login_as, make_user, db_session):
    login_as(make_user(Role.ADMIN))
    assert send(client, chain_name_en="By an admin").status_code == 302
    assert stored(db_session).chain_name_en == "By an admin"


def test_the_preview_stylesheet_paints_one_valid_colour(client, login_as, cx):
    login_as(cx)
    response = client.get("/surveys/branding/colour-1A5FB4.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert ".brand-1a5fb4 { --accent: #1a5fb4; }" in response.get_data(as_text=True)
    for bad in ("colour-zzzzzz.css", "colour-1a5fb.css", "colour-1a5fb4;x.css"):
        assert client.get(f"/surveys/branding/{bad}").status_code == 404
