"""Typed settings for the portal, read once from the environment (or a `.env` file).

`Settings.from_env` is the only place that looks at environment variables; everything else
receives a frozen `Settings`, or asks `current_settings()` for the running application's.
Invalid settings fail at start-up, never at the first request.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from flask import current_app

LOCALES = ("zh_CN", "en")
#: The instance folder when ``PORTAL_INSTANCE_PATH`` is not set: ``instance/`` beside the code.
DEFAULT_INSTANCE_PATH = Path(__file__).resolve().parent.parent / "instance"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    #: SQLAlchemy URL; ``None`` means SQLite under the instance folder.
    database_url: str | None = None
    secret_key: str = field(default="", repr=False)
    #: Public origin used in survey links and QR codes, without a trailing slash.
    base_url: str = "http://127.0.0.1:5000"
    token_days: int = 30
    default_locale: str = "zh_CN"
    env: str = "development"
    #: Flask-Limiter storage; memory is per process, production should use a shared store.
    ratelimit_storage_url: str = "memory://"
    ratelimit_enabled: bool = True
    #: Largest request body the API accepts before answering 413.
    api_max_body_bytes: int = 16 * 1024
    instance_path: str | None = None
    #: Folder of the mystery shoppers' receipt photos; ``None`` means ``<instance>/mystery-photos``.
    photo_dir: str | None = None
    testing: bool = False
    #: Hours to the first response of a case, by problem category; others get the default.
    case_deadline_hours: tuple[tuple[str, int], ...] = ()
    case_default_hours: int = 24
    #: ``smtp://user:password@host:587`` (``smtps://`` for TLS on connect); without it,
    #: mail stays in the outbox table and page.
    smtp_url: str | None = field(default=None, repr=False)
    mail_from: str = "feedback@localhost"
    #: Days that must separate two visits of one mystery shopper to one store (rotation).
    mystery_lockout_days: int = 60
    #: Days after release in which a store manager may dispute a mystery report.
    dispute_days: int = 7
    #: Largest receipt photo a mystery shopper may upload; the upload route's request body
    #: limit derives from it (``portal.mystery.photos.upload_body_limit``).
    photo_max_bytes: int = 5 * 1024 * 1024
    #: Mystery grade bands: gold, silver, standard (a score below the last is below standard).
    grade_bands: tuple[float, float, float] = (90.0, 80.0, 70.0)

    def with_instance(self, path: str) -> Settings:
        return replace(self, instance_path=path)

    @property
    def photo_folder(self) -> Path:
        """Where receipt photos are kept: outside ``static/``, so never served as files."""
        if self.photo_dir:
            return Path(self.photo_dir)
        return Path(self.instance_path or DEFAULT_INSTANCE_PATH) / "mystery-photos"

    def deadline_hours(self, category: str | None) -> int:
        """Hours allowed until the first response for a case of ``category``."""
        return dict(self.case_deadline_hours).get(category or "", self.case_default_hours)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``PORTAL_*`` variables, validating each one."""
        env_vars = os.environ if environ is None else environ
        env = env_vars.get("PORTAL_ENV", "development")
        if env not in ("development", "production"):
            raise SettingsError("PORTAL_ENV must be 'development' or 'production'")
        secret = env_vars.get("PORTAL_SECRET_KEY", "")
        if not secret:
            if env == "production":
                raise SettingsError("PORTAL_SECRET_KEY is required when PORTAL_ENV=production")
            secret = _development_secret(env_vars.get("PORTAL_INSTANCE_PATH"))
        try:
            token_days = int(env_vars.get("PORTAL_TOKEN_DAYS", "30"))
        except ValueError:
            raise SettingsError("PORTAL_TOKEN_DAYS must be a whole number of days") from None
        if not 1 <= token_days <= 366:
            raise SettingsError("PORTAL_TOKEN_DAYS must be between 1 and 366")
        locale = env_vars.get("PORTAL_DEFAULT_LOCALE", "zh_CN").replace("-", "_")
        if locale not in LOCALES:
            raise SettingsError("PORTAL_DEFAULT_LOCALE must be 'zh_CN' or 'en'")
        base_url = env_vars.get("PORTAL_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise SettingsError("PORTAL_BASE_URL must start with http:// or https://")
        mail_from = env_vars.get("PORTAL_MAIL_FROM", "feedback@localhost")
        if len(mail_from.splitlines()) > 1 or mail_from != mail_from.strip():
            raise SettingsError("PORTAL_MAIL_FROM must be one address on one line")
        deadlines = _deadlines(env_vars.get("PORTAL_CASE_DEADLINES", ""))
        try:
            default_hours = int(env_vars.get("PORTAL_CASE_DEFAULT_HOURS", "24"))
        except ValueError:
            raise SettingsError("PORTAL_CASE_DEFAULT_HOURS must be a whole number") from None
        if not 1 <= default_hours <= 24 * 14:
            raise SettingsError("PORTAL_CASE_DEFAULT_HOURS must be between 1 and 336")
        return cls(
            mystery_lockout_days=_whole(env_vars, "PORTAL_MYSTERY_LOCKOUT_DAYS", 60, 0, 366),
            dispute_days=_whole(env_vars, "PORTAL_DISPUTE_DAYS", 7, 1, 60),
            grade_bands=_grade_bands(env_vars.get("PORTAL_GRADE_BANDS", "90,80,70")),
            case_deadline_hours=deadlines,
            case_default_hours=default_hours,
            smtp_url=env_vars.get("PORTAL_SMTP_URL") or None,
            mail_from=mail_from,
            database_url=env_vars.get("PORTAL_DATABASE_URL") or None,
            secret_key=secret,
            base_url=base_url,
            token_days=token_days,
            default_locale=locale,
            env=env,
            ratelimit_storage_url=env_vars.get("PORTAL_RATELIMIT_STORAGE_URL", "memory://"),
            instance_path=env_vars.get("PORTAL_INSTANCE_PATH") or None,
            photo_dir=env_vars.get("PORTAL_PHOTO_DIR") or None,
            photo_max_bytes=_whole(env_vars, "PORTAL_PHOTO_MAX_MB", 5, 1, 50) * 1024 * 1024,
        )


def current_settings() -> Settings:
    """The settings the running application was created with (`create_app` keeps them)."""
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    return settings


def _whole(env_vars: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env_vars.get(name, str(default))
    if not text.strip().isdigit() or not low <= int(text) <= high:
        raise SettingsError(f"{name} must be a whole number between {low} and {high}")
    return int(text)


def _grade_bands(text: str) -> tuple[float, float, float]:
    """``90,80,70`` -> gold, silver and standard thresholds, strictly decreasing."""
    try:
        gold, silver, standard = (float(part) for part in text.split(","))
    except ValueError:
        raise SettingsError("PORTAL_GRADE_BANDS must look like '90,80,70'") from None
    if not 100 >= gold > silver > standard >= 0:
        raise SettingsError("PORTAL_GRADE_BANDS must be decreasing numbers within 0..100")
    return gold, silver, standard


def _deadlines(text: str) -> tuple[tuple[str, int], ...]:
    """``service_attitude=12,delivery=48`` -> ((category, hours), ...)."""
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, hours = item.partition("=")
        if not key.strip().replace("_", "").isalpha() or not hours.strip().isdigit():
            raise SettingsError(
                "PORTAL_CASE_DEADLINES must look like 'service_attitude=12,delivery=48'"
            )
        if not 1 <= int(hours) <= 24 * 14:
            raise SettingsError("PORTAL_CASE_DEADLINES hours must be between 1 and 336")
        pairs.append((key.strip(), int(hours)))
    return tuple(pairs)


def _development_secret(instance_path: str | None) -> str:
    """Keep one random development secret per instance folder.

    A fixed default would make every development install sign tokens with the same key;
    a fresh one per process would invalidate printed demo receipts on every restart.
    """
    folder = Path(instance_path or DEFAULT_INSTANCE_PATH)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()
