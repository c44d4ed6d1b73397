"""``PORTAL_JOB_QUEUE`` chooses the engine; the worker follows it unless told otherwise."""

from __future__ import annotations

import pytest

from portal.config import Settings, SettingsError


def settings_of(**env: str) -> Settings:
    return Settings.from_env({"PORTAL_SECRET_KEY": "k" * 40, **env})


def test_the_default_is_the_sqlite_queue_run_in_process():
    settings = settings_of()
    assert (settings.job_queue, settings.job_worker) == ("sqlite", "in-process")
    assert settings.export_job_rows == 50_000


def test_a_redis_queue_runs_in_separate_workers_unless_told_otherwise():
    assert settings_of(PORTAL_JOB_QUEUE="redis://127.0.0.1:6379/0").job_worker == "separate"
    told = settings_of(PORTAL_JOB_QUEUE="redis://h:6379/1", PORTAL_JOB_WORKER="in-process")
    assert told.job_worker == "in-process"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORTAL_JOB_QUEUE", "rabbitmq://h"),
        ("PORTAL_JOB_WORKER", "cron"),
        ("PORTAL_JOB_MAX_ATTEMPTS", "0"),
        ("PORTAL_EXPORT_JOB_ROWS", "lots"),
        ("PORTAL_JOB_QUEUE_NAME", "a b"),
    ],
)
def test_a_bad_job_setting_stops_the_start_naming_it(name, value):
    with pytest.raises(SettingsError, match=name):
        settings_of(**{name: value})
