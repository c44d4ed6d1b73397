"""Settings read from the environment."""

from pathlib import Path

from flask import request

from portal import create_app
from portal.config import DEFAULT_INSTANCE_PATH, Settings
from portal.db import make_engine
from portal.mystery.photos import FORM_OVERHEAD_BYTES


def test_receipt_photos_default_to_the_instance_folder(tmp_path):
    instance = tmp_path / "instance"
    assert Settings.from_env({"PORTAL_INSTANCE_PATH": str(instance)}).photo_folder == (
        instance / "mystery-photos"
    )
    assert Settings().photo_folder == DEFAULT_INSTANCE_PATH / "mystery-photos"


def test_portal_photo_dir_moves_the_receipt_photos(tmp_path):
    settings = Settings.from_env(
        {"PORTAL_INSTANCE_PATH": str(tmp_path / "instance"), "PORTAL_PHOTO_DIR": "/srv/photos"}
    )
    assert settings.photo_folder == Path("/srv/photos")


def test_portal_photo_max_mb_sets_the_photo_limit_and_the_upload_body_limit(tmp_path):
    env = {"PORTAL_INSTANCE_PATH": str(tmp_path), "PORTAL_PHOTO_MAX_MB": "8"}
    settings = Settings.from_env(env)
    assert settings.photo_max_bytes == 8 * 1024 * 1024
    assert Settings.from_env({"PORTAL_INSTANCE_PATH": str(tmp_path)}).photo_max_bytes == (
        5 * 1024 * 1024
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app(settings, bind=engine)
    with app.test_request_context("/mystery/visits/1/report/proof"):
        app.preprocess_request()
        assert request.max_content_length == 8 * 1024 * 1024 + FORM_OVERHEAD_BYTES
    with app.test_request_context("/login"):
        app.preprocess_request()
        assert request.max_content_length == 1024 * 1024
    engine.dispose()


def test_retention_settings_have_safe_defaults_and_are_checked(tmp_path):
    import pytest

    from portal.config import SettingsError

    base = {"PORTAL_INSTANCE_PATH": str(tmp_path)}
    settings = Settings.from_env(base)
    assert (settings.contact_retention_days, settings.comment_retention_days) == (90, 730)
    custom = Settings.from_env(
        base | {"PORTAL_CONTACT_RETENTION_DAYS": "30", "PORTAL_COMMENT_RETENTION_DAYS": "365"}
    )
    assert (custom.contact_retention_days, custom.comment_retention_days) == (30, 365)
    for bad in ("0", "-1", "ninety", "99999"):
        with pytest.raises(SettingsError, match="PORTAL_CONTACT_RETENTION_DAYS"):
            Settings.from_env(base | {"PORTAL_CONTACT_RETENTION_DAYS": bad})
