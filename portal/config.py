"""Typed settings for the portal, read once from the environment (or a `.env` file).

`Settings.from_env` is the only place that looks at environment variables; everything else
receives a frozen `Settings`, or asks `current_settings()` for the running application's.
Invalid settings fail at start-up, never at the first request.
"""

from __future__ import annotations

import os
import re
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from math import log2
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

LOCALES = ("zh_CN", "en")
#: The instance folder when ``PORTAL_INSTANCE_PATH`` is not set: ``instance/`` beside the code.
DEFAULT_INSTANCE_PATH = Path(__file__).resolve().parent.parent / "instance"


#: How the error message tells an operator to make a good secret key.
SECRET_KEY_RECIPE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
#: Shortest secret key production accepts: 32 characters of a random alphabet.
MIN_SECRET_LENGTH = 32
#: Words of the secrets that appear in docs, examples and tests ("changeme", "secret", the
#: test default "test-secret-key-not-for-production"): an attacker tries these first, so a
#: key containing one is refused. Lower-case, and five letters or more, so that a random
#: key hits one by chance about once in a million ("dev" would refuse one in 800).
KNOWN_SECRETS = (
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "password",
    "development",
    "not-for-production",
    "example",
    "default",
    "portal",
    "flask",
    "12345",
    "qwerty",
)
#: Estimated entropy (bits, from character frequencies) below which a key is refused:
#: ``token_hex(16)`` scores about 115, ``token_urlsafe(32)`` about 200, a repeated word less.
MIN_SECRET_BITS = 80


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
    #: Minutes after a receipt's expiry in which a survey page opened before it may still
    #: be sent (the shopper was typing when the receipt expired); 0 turns the grace off.
    expiry_grace_minutes: int = 15
    default_locale: str = "zh_CN"
    env: str = "development"
    #: Where throttling counts live: empty means the database (shared by every worker and
    #: server); a ``limits`` storage URL such as ``redis://host:6379`` uses that instead.
    ratelimit_storage_url: str = ""
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
    #: Host names served in production (``Host`` header); empty means the base URL's host.
    allowed_hosts: tuple[str, ...] = ()
    #: Reverse proxies in front of the portal whose ``X-Forwarded-*`` headers are trusted.
    trusted_proxies: int = 0
    #: Days a shopper's contact details are kept (the survey promises 90); ``purge`` deletes
    #: older ones.
    contact_retention_days: int = 90
    #: Days shoppers' comments (and case texts quoting them) are kept; ``purge`` deletes
    #: older ones, keeping the scores and every figure.
    comment_retention_days: int = 730
    #: Ballot stuffing (`portal.ballot.rules`; 0 turns a rule or part off). Burst: more
    #: than this many answers for one store or staff member from one device (address and
    #: browser), or from one network (IPv4 /24, IPv6 /48), within the burst window.
    ballot_burst_device: int = 3
    ballot_burst_network: int = 15
    ballot_burst_minutes: int = 10
    #: Too fast: sent less than this many seconds after the receipt's code was made.
    ballot_fast_seconds: int = 20
    #: Identical pattern: the same scores, choices and comment as this many other answers
    #: for one store or staff member within the pattern window.
    ballot_pattern_copies: int = 5
    ballot_pattern_minutes: int = 10
    #: Days an invitation link (which sets a new user's first password) stays valid.
    invitation_days: int = 7
    #: Minutes a password-reset link stays valid: short, as it reaches an existing account.
    reset_minutes: int = 60
    #: Counter tablets (`portal.kiosk`): more than this many answers of one tablet within
    #: the window (by the time the tablet says they were given) are refused at sync.
    kiosk_max_answers: int = 30
    kiosk_window_minutes: int = 10
    #: Answers from one counter tablet within the ballot burst window beyond which they are
    #: held for review (the tablet's burst limit; a phone's is ``ballot_burst_device``).
    kiosk_burst: int = 12
    #: Share (%) of keyed-in paper cards drawn for a second person's check.
    paper_check_percent: int = 10

    #: Who sends text messages: ``outbox`` (nothing leaves; the text message page shows
    #: them) or ``twilio`` (its HTTP API, with the four settings below).
    sms_provider: str = "outbox"
    twilio_account_sid: str = ""
    twilio_auth_token: str = field(default="", repr=False)
    #: The sending number (E.164) or, starting ``MG``, a messaging service sid.
    twilio_from: str = ""
    #: Twilio's API origin; tests point it at a local stand-in.
    twilio_api_base: str = "https://api.twilio.com"
    #: Text messages to one number in 24 hours, beyond which more are not sent (0: no limit).
    sms_per_number_per_day: int = 3
    #: Tries of a message the provider could not take (network, 429, 5xx) before it fails.
    sms_max_attempts: int = 5
    #: How log lines are written: ``text`` (one readable line) or ``json`` (one JSON object
    #: per line, for a log collector); both carry the request id (`portal.logs`).
    log_format: str = "text"
    #: Where a staff file waits between its import preview and Apply (a day at most);
    #: ``None`` means ``<instance>/staff-imports``. Several app servers need one they share.
    upload_dir: str | None = None

    #: Where jobs queue (`portal.jobs`): ``sqlite`` (a huey SQLite file in the instance
    #: folder, for one machine), ``redis://host:port/N`` (Redis, for several servers) or
    #: ``immediate`` (a job runs as it is queued: tests).
    job_queue: str = "sqlite"
    #: Who runs the jobs: ``in-process`` (threads beside each serving app process, the
    #: default with ``sqlite``) or ``separate`` (``flask --app portal worker`` processes,
    #: the default with Redis).
    job_worker: str = "in-process"
    #: Worker threads per consumer (in-process or ``worker``).
    job_threads: int = 2
    #: Tries of a job before it is shown as failed, and the wait before the first retry
    #: (doubled at each further one).
    job_max_attempts: int = 3
    job_retry_seconds: int = 30
    #: Days a finished job and its result file are kept; ``purge`` deletes older ones.
    job_retention_days: int = 7
    #: The queue's name in its store (two portals may share one Redis under two names).
    job_queue_name: str = "portal"
    #: A responses export of more rows than this is prepared as a job, not streamed.
    export_job_rows: int = 50_000

    def with_instance(self, path: str) -> Settings:
        return replace(self, instance_path=path)

    @property
    def photo_folder(self) -> Path:
        """Where receipt photos are kept: outside ``static/``, so never served as files."""
        if self.photo_dir:
            return Path(self.photo_dir)
        return Path(self.instance_path or DEFAULT_INSTANCE_PATH) / "mystery-photos"

    @property
    def upload_folder(self) -> Path:
        """Where a staff import file waits for Apply, which any app server may answer."""
        if self.upload_dir:
            return Path(self.upload_dir)
        return Path(self.instance_path or DEFAULT_INSTANCE_PATH) / "staff-imports"

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def secure_transport(self) -> bool:
        """Served over HTTPS only: HSTS, ``Secure`` and ``__Host-`` cookies apply."""
        return self.production or self.base_url.startswith("https://")

    @property
    def served_hosts(self) -> tuple[str, ...]:
        """The host names requests may name; the base URL's host unless configured."""
        return self.allowed_hosts or (urlsplit(self.base_url).hostname or "",)

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
                raise SettingsError(
                    "PORTAL_SECRET_KEY is required when PORTAL_ENV=production; "
                    f"make one with: {SECRET_KEY_RECIPE}"
                )
            secret = _development_secret(env_vars.get("PORTAL_INSTANCE_PATH"))
        elif env == "production":
            check_production_secret(secret, env_vars.get("PORTAL_INSTANCE_PATH"))
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
            allowed_hosts=_hosts(env_vars.get("PORTAL_ALLOWED_HOSTS", "")),
            trusted_proxies=_whole(env_vars, "PORTAL_TRUSTED_PROXIES", 0, 0, 5),
            contact_retention_days=_whole(env_vars, "PORTAL_CONTACT_RETENTION_DAYS", 90, 1, 3650),
            comment_retention_days=_whole(env_vars, "PORTAL_COMMENT_RETENTION_DAYS", 730, 1, 3650),
            invitation_days=_whole(env_vars, "PORTAL_INVITATION_DAYS", 7, 1, 30),
            reset_minutes=_whole(env_vars, "PORTAL_RESET_MINUTES", 60, 5, 24 * 60),
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
            expiry_grace_minutes=_whole(env_vars, "PORTAL_EXPIRY_GRACE_MINUTES", 15, 0, 120),
            default_locale=locale,
            env=env,
            ratelimit_storage_url=env_vars.get("PORTAL_RATELIMIT_STORAGE_URL", ""),
            instance_path=env_vars.get("PORTAL_INSTANCE_PATH") or None,
            photo_dir=env_vars.get("PORTAL_PHOTO_DIR") or None,
            photo_max_bytes=_whole(env_vars, "PORTAL_PHOTO_MAX_MB", 5, 1, 50) * 1024 * 1024,
            ballot_burst_device=_whole(env_vars, "PORTAL_BALLOT_BURST_DEVICE", 3, 0, 1000),
            ballot_burst_network=_whole(env_vars, "PORTAL_BALLOT_BURST_NETWORK", 15, 0, 10000),
            ballot_burst_minutes=_whole(env_vars, "PORTAL_BALLOT_BURST_MINUTES", 10, 1, 1440),
            ballot_fast_seconds=_whole(env_vars, "PORTAL_BALLOT_FAST_SECONDS", 20, 0, 3600),
            ballot_pattern_copies=_whole(env_vars, "PORTAL_BALLOT_PATTERN_COPIES", 5, 0, 1000),
            ballot_pattern_minutes=_whole(env_vars, "PORTAL_BALLOT_PATTERN_MINUTES", 10, 1, 1440),
            kiosk_max_answers=_whole(env_vars, "PORTAL_KIOSK_MAX_ANSWERS", 30, 1, 10000),
            kiosk_window_minutes=_whole(env_vars, "PORTAL_KIOSK_WINDOW_MINUTES", 10, 1, 1440),
            kiosk_burst=_whole(env_vars, "PORTAL_KIOSK_BURST", 12, 0, 10000),
            paper_check_percent=_whole(env_vars, "PORTAL_PAPER_CHECK_PERCENT", 10, 0, 100),
            **_sms_settings(env_vars, production=env == "production"),
            log_format=_log_format(env_vars.get("PORTAL_LOG_FORMAT", "text")),
            upload_dir=env_vars.get("PORTAL_UPLOAD_DIR") or None,
            **_job_settings(env_vars),
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


def check_production_secret(secret: str, instance_path: str | None = None) -> None:
    """Refuse a secret key that an attacker could guess, so no one can forge a session.

    Flask signs the session cookie with this key: whoever knows it can sign in as anyone.
    Refused: short keys, keys containing a well-known word (``changeme``, ``secret``, the
    test and development defaults), keys of few distinct characters or a repeated pattern,
    and the development key kept in the instance folder.

    Raises
    ------
    SettingsError
        The key is weak; the message says why and how to make a good one.
    """
    reason = _weakness(secret)
    if reason is None and secret == _existing_development_secret(instance_path):
        reason = "it is the development key from the instance folder"
    if reason is not None:
        raise SettingsError(
            f"PORTAL_SECRET_KEY is too weak for production: {reason}. "
            f"Make a new one with: {SECRET_KEY_RECIPE}"
        )


def _weakness(secret: str) -> str | None:
    if len(secret) < MIN_SECRET_LENGTH:
        return f"it has fewer than {MIN_SECRET_LENGTH} characters"
    lowered = secret.lower()
    known = next((word for word in KNOWN_SECRETS if word in lowered), None)
    if known is not None:
        return f"it contains the well-known word {known!r}"
    # A key made of one short piece repeated ("abcabcabc...") is as weak as the piece.
    for period in range(1, len(secret) // 2 + 1):
        if secret == (secret[:period] * (len(secret) // period + 1))[: len(secret)]:
            return "it repeats a short pattern"
    counts = Counter(secret)
    if len(counts) < 10:
        return "it uses fewer than 10 distinct characters"
    bits = -sum(n * log2(n / len(secret)) for n in counts.values())
    if bits < MIN_SECRET_BITS:
        return "it is not random enough"
    if _longest_run(secret) >= 8:
        return "it contains a long run of consecutive characters"
    return None


def _longest_run(text: str) -> int:
    """Longest stretch of ascending or descending neighbours ("abcdefgh", "98765432")."""
    best = run = 1
    step = 0
    for a, b in zip(text, text[1:], strict=False):
        diff = ord(b) - ord(a)
        if diff in (1, -1) and diff == step:
            run += 1
        else:
            run, step = (2, diff) if diff in (1, -1) else (1, 0)
        best = max(best, run)
    return best


def _hosts(text: str) -> tuple[str, ...]:
    """``feedback.example.com, .example.com`` -> host names (a leading dot: subdomains too)."""
    hosts = tuple(h.strip().lower() for h in text.split(",") if h.strip())
    for host in hosts:
        if "/" in host or ":" in host.lstrip("[") or " " in host:
            raise SettingsError(
                "PORTAL_ALLOWED_HOSTS must be host names separated by commas, "
                "e.g. 'feedback.example.com,.example.com'"
            )
    return hosts


def _grade_bands(text: str) -> tuple[float, float, float]:
    """``90,80,70`` -> gold, silver and standard thresholds, strictly decreasing."""
    try:
        gold, silver, standard = (float(part) for part in text.split(","))
    except ValueError:
        raise SettingsError("PORTAL_GRADE_BANDS must look like '90,80,70'") from None
    if not 100 >= gold > silver > standard >= 0:
        raise SettingsError("PORTAL_GRADE_BANDS must be decreasing numbers within 0..100")
    return gold, silver, standard


SMS_PROVIDERS = ("outbox", "twilio")


def _sms_settings(env_vars: Mapping[str, str], *, production: bool) -> dict[str, Any]:
    """The text message settings; ``twilio`` needs its account, token and sender."""
    provider = env_vars.get("PORTAL_SMS_PROVIDER", "outbox").strip().lower() or "outbox"
    if provider not in SMS_PROVIDERS:
        raise SettingsError("PORTAL_SMS_PROVIDER must be 'outbox' or 'twilio'")
    sid = env_vars.get("PORTAL_TWILIO_ACCOUNT_SID", "").strip()
    token = env_vars.get("PORTAL_TWILIO_AUTH_TOKEN", "").strip()
    sender = env_vars.get("PORTAL_TWILIO_FROM", "").strip()
    api_base = env_vars.get("PORTAL_TWILIO_API_BASE", "https://api.twilio.com").strip()
    api_base = api_base.rstrip("/")
    if provider == "twilio":
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
            raise SettingsError("PORTAL_TWILIO_ACCOUNT_SID must be the account sid (AC + 32 hex)")
        if not token:
            raise SettingsError(
                "PORTAL_TWILIO_AUTH_TOKEN is required with PORTAL_SMS_PROVIDER=twilio"
            )
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}|MG[0-9a-fA-F]{32}", sender):
            raise SettingsError(
                "PORTAL_TWILIO_FROM must be the sending number (+E.164) or a messaging "
                "service sid (MG + 32 hex)"
            )
    scheme = "https://" if production else ("https://", "http://")
    if not api_base.startswith(scheme) or urlsplit(api_base).path not in ("", "/"):
        raise SettingsError(
            "PORTAL_TWILIO_API_BASE must be an origin such as https://api.twilio.com"
            + (" (HTTPS in production)" if production else "")
        )
    return {
        "sms_provider": provider,
        "twilio_account_sid": sid,
        "twilio_auth_token": token,
        "twilio_from": sender,
        "twilio_api_base": api_base,
        "sms_per_number_per_day": _whole(env_vars, "PORTAL_SMS_PER_NUMBER_PER_DAY", 3, 0, 100),
        "sms_max_attempts": _whole(env_vars, "PORTAL_SMS_MAX_ATTEMPTS", 5, 1, 20),
    }


JOB_WORKERS = ("in-process", "separate")


def _job_settings(env_vars: Mapping[str, str]) -> dict[str, Any]:
    """The job queue's settings: ``PORTAL_JOB_QUEUE`` names the engine, and the worker
    defaults to threads in the app for SQLite, separate processes for Redis."""
    queue = env_vars.get("PORTAL_JOB_QUEUE", "sqlite").strip() or "sqlite"
    if queue not in ("sqlite", "immediate") and not queue.startswith(("redis://", "rediss://")):
        raise SettingsError(
            "PORTAL_JOB_QUEUE must be 'sqlite', 'immediate' or a Redis URL "
            "such as redis://127.0.0.1:6379/0"
        )
    default_worker = "separate" if queue.startswith("redis") else "in-process"
    worker = env_vars.get("PORTAL_JOB_WORKER", default_worker).strip() or default_worker
    if worker not in JOB_WORKERS:
        raise SettingsError("PORTAL_JOB_WORKER must be 'in-process' or 'separate'")
    name = env_vars.get("PORTAL_JOB_QUEUE_NAME", "portal").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,60}", name):
        raise SettingsError("PORTAL_JOB_QUEUE_NAME must be letters, digits, '.', '_' or '-'")
    return {
        "job_queue": queue,
        "job_worker": worker,
        "job_queue_name": name,
        "job_threads": _whole(env_vars, "PORTAL_JOB_THREADS", 2, 1, 32),
        "job_max_attempts": _whole(env_vars, "PORTAL_JOB_MAX_ATTEMPTS", 3, 1, 20),
        "job_retry_seconds": _whole(env_vars, "PORTAL_JOB_RETRY_SECONDS", 30, 0, 86400),
        "job_retention_days": _whole(env_vars, "PORTAL_JOB_RETENTION_DAYS", 7, 1, 3650),
        "export_job_rows": _whole(env_vars, "PORTAL_EXPORT_JOB_ROWS", 50_000, 1, 10**9),
    }


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


LOG_FORMATS = ("text", "json")


def _log_format(text: str) -> str:
    value = text.strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise SettingsError("PORTAL_LOG_FORMAT must be 'text' or 'json'")
    return value


def _development_secret(instance_path: str | None) -> str:
    """Keep one random development secret per instance folder.

    A fixed default would make every development install sign tokens with the same key;
    a fresh one per process would invalidate printed demo receipts on every restart, and
    sign-ins made by one worker would be refused by the next.
    """
    folder = Path(instance_path or DEFAULT_INSTANCE_PATH)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dev-secret-key"
    if not path.exists():
        # Several workers start at once: each writes a candidate aside and links it into
        # place, which fails if the file is there already; every worker then reads the one
        # that won (a plain write would let two workers keep different keys).
        candidate = folder / f".dev-secret-key.{os.getpid()}.{secrets.token_hex(4)}"
        candidate.write_text(secrets.token_urlsafe(32))
        candidate.chmod(0o600)
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink(missing_ok=True)
    return path.read_text().strip()


def _existing_development_secret(instance_path: str | None) -> str | None:
    path = Path(instance_path or DEFAULT_INSTANCE_PATH) / "dev-secret-key"
    return path.read_text().strip() if path.is_file() else None
