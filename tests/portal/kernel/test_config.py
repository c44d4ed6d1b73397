"""Settings read from the environment."""

from pathlib import Path

from portal.config import DEFAULT_INSTANCE_PATH, Settings


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
