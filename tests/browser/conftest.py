"""Browser-test fixtures (SecureDrop's ``tests/functional/conftest.py``, trimmed).

The portal runs the way it runs in production, in a spawned gunicorn on an unused port,
over its own SQLite file set up with the real ``flask --app portal`` commands. The shopper
is a headless Chromium that looks like a phone: 390 x 844 CSS pixels, pixel ratio 2,
touch, a phone user agent, and an Accept-Language of its own. Staff at a desk (the
administrator, a store manager in the back office) get an office-sized Chromium;
``open_browser`` starts as many of either as a journey needs (a second person, a fresh
session).

``scripts/screenshots`` reuses :func:`running_portal` and :func:`phone_browser`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLASK = Path(sys.executable).parent / "flask"

SECRET_KEY = "browser-tests-secret-key-not-for-production"
STORE_CODE = "BR-001"
STAFF_CODE = "S001"
MANAGER_EMAIL = "manager@browser.test"
MANAGER_PASSWORD = "browser-manager-pw"
ADMIN_EMAIL = "admin@browser.test"
ADMIN_PASSWORD = "browser-admin-pw"
STARTUP_SECONDS = 20

PHONE_WIDTH, PHONE_HEIGHT = 390, 844
DESK_WIDTH, DESK_HEIGHT = 1280, 900
PHONE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
)
#: What the phone's Accept-Language says, per page language.
ACCEPT_LANGUAGE = {"zh-CN": "zh-CN,zh", "en": "en-US,en"}


# -- the portal in its own process ------------------------------------------------------


@dataclass(frozen=True)
class LivePortal:
    base_url: str
    api_key: str
    secret_key: str
    log: Path
    #: The portal's environment (PORTAL_* settings): a test can run a command against it.
    env: dict[str, str] = field(default_factory=dict)

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output, to explain a 500."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def issue_receipt(self, transaction_id: str, staff_code: str = STAFF_CODE) -> dict[str, Any]:
        """Do what a till does: ``POST /api/v1/receipts``; returns the JSON answer."""
        request = urllib.request.Request(
            f"{self.base_url}/api/v1/receipts",
            data=json.dumps({"transaction_id": transaction_id, "staff_code": staff_code}).encode(),
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body: dict[str, Any] = json.load(response)
        except urllib.error.HTTPError as error:
            raise AssertionError(
                f"POST /api/v1/receipts answered {error.code}: {error.read()[:500]!r}\n"
                f"server log:\n{self.log_tail()}"
            ) from None
        return body


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _portal_env(instance: Path, base_url: str) -> dict[str, str]:
    # Start from a clean slate of PORTAL_* variables: the developer's (or CI's) settings,
    # PORTAL_TEST_DATABASE_URL included, must not leak in. Always a SQLite file: the
    # browser tests are about pages, and the database suites cover PostgreSQL.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    env.update(
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_DATABASE_URL=f"sqlite:///{instance / 'portal.sqlite3'}",
        PORTAL_SECRET_KEY=SECRET_KEY,
        PORTAL_BASE_URL=base_url,
        PORTAL_ENV="development",
        # Not the usual zh_CN: then a page in Chinese proves the phone's Accept-Language
        # was read, not merely the default applied.
        PORTAL_DEFAULT_LOCALE="en",
        PORTAL_RATELIMIT_STORAGE_URL="memory://",
        FLASK_SKIP_DOTENV="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def flask_command(env: dict[str, str], *args: str, timeout: float = 60) -> str:
    """Run ``flask --app portal ARGS`` against the live portal's instance; its output."""
    result = subprocess.run(
        [str(FLASK), "--app", "portal", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def _gunicorn_version() -> tuple[int, ...]:
    import gunicorn

    return tuple(gunicorn.version_info)


def _wait_until_serving(server: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/r", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the app is up
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the portal did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


#: What every script run with `run_in_portal` starts with: the portal's own database.
_SCRIPT_HEADER = """
from portal.config import Settings
from portal.db import make_engine

settings = Settings.from_env()
engine = make_engine(settings.database_url)
"""


def run_in_portal(portal: LivePortal, script: str) -> str:
    """Run a Python ``script`` in the live portal's environment (its own SQLite file,
    which the test process cannot reach); ``engine`` is bound to that database. Returns
    what the script printed."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT_HEADER + script],
        cwd=ROOT,
        env=portal.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


#: The start of a script run with `run_in_app`: the app, for operations that translate
#: their messages or read the settings.
_APP_HEADER = """
from portal import create_app
from portal.commands import transaction
from portal.config import current_settings
from portal.db import utcnow

app = create_app()
"""


def run_in_app(portal: LivePortal, script: str) -> str:
    """Run ``script`` with the portal's operations, as a command does: inside the app
    context, with ``session`` in one transaction committed at the end (and ``now``,
    ``settings``). Seeding with the app's own operations keeps a journey's data as real
    as the pages' own. Returns what the script printed."""
    body = "\n".join("        " + line for line in script.strip().splitlines())
    wrapped = (
        _APP_HEADER
        + "with app.app_context():\n"
        + "    settings, now = current_settings(), utcnow()\n"
        + "    with transaction() as session:\n"
        + body
        + "\n"
    )
    return run_in_portal(portal, wrapped)


def set_up_store(
    env: dict[str, str],
    store: tuple[str, str],
    staff: tuple[str, str, str],
    manager: tuple[str, str] | None = None,
) -> str:
    """Through the CLI: a store (code, name) in region 华东 with one staff member (code,
    name, position) and, if given, its manager (e-mail, password); the store's new POS key."""
    flask_command(env, "create-store", *store, "--region", "华东")
    flask_command(env, "create-staff", store[0], staff[0], staff[1], "--position", staff[2])
    api_key = flask_command(env, "create-api-key", store[0]).strip().splitlines()[-1].strip()
    if manager is not None:
        email, password = manager
        role = ("--role", "manager", "--store", store[0], "--password", password)
        flask_command(env, "create-user", email, *role)
    return api_key


def stale_catalogs() -> list[str]:
    """Translation catalogs whose compiled ``.mo`` is missing or older than the ``.po``:
    the server would show their pages in English under ``lang="zh-CN"``."""
    stale = []
    for po in sorted((ROOT / "portal" / "translations").glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(str(po.relative_to(ROOT)))
    return stale


def set_up_browser_store(env: dict[str, str]) -> str:
    """The browser tests' data: one store, its cashier and its manager; the POS key."""
    return set_up_store(
        env,
        (STORE_CODE, "浏览器测试店"),
        (STAFF_CODE, "李娜", "收银员"),
        (MANAGER_EMAIL, MANAGER_PASSWORD),
    )


@contextmanager
def running_portal(
    instance: Path, set_up: Callable[[dict[str, str]], str] = set_up_browser_store
) -> Iterator[LivePortal]:
    """Put the data of ``set_up`` in ``instance`` (it is given the portal's environment
    and returns a POS key) and serve the portal."""
    stale = stale_catalogs()
    if stale:
        raise RuntimeError(
            f"compile the translations first (.venv/bin/pybabel compile -d "
            f"portal/translations, or scripts/setup): {', '.join(stale)}"
        )
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _portal_env(instance, base_url)
    flask_command(env, "init-db")

    log = instance / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    # gthread: Chromium opens spare (pre)connections that would hold the one thread of a
    # sync worker until its timeout.
    command += ["--threads", "4"]
    if _gunicorn_version() >= (27,):
        # Gunicorn 27 opens a control socket at one fixed path under $HOME by default,
        # shared with every other server on the machine; a throwaway one needs none.
        command += ["--no-control-socket"]
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [*command, "portal:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        # The server only needs the schema: let it boot while the data goes in.
        api_key = set_up(env)
        _wait_until_serving(server, base_url, log)
        yield LivePortal(
            base_url=base_url, api_key=api_key, secret_key=SECRET_KEY, log=log, env=env
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# -- a phone-sized Chromium -----------------------------------------------------------------


def chromium_missing() -> str | None:
    """Why browser tests cannot run here, or ``None``."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is not installed (Debian packages chromium and chromium-driver)"
    return None


def _chromium_options(lang: str, profile: Path, width: int, height: int) -> Any:
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        f"--lang={lang}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": ACCEPT_LANGUAGE[lang]})
    return options


def _start(options: Any) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # An explicit driver path (and binary_location above) keeps Selenium Manager, which
    # would try to download drivers and browsers, out of the picture.
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(20)
    return driver


def phone_browser(
    lang: str, profile: Path, pixel_ratio: float = 2.0, width: int = PHONE_WIDTH
) -> Any:
    """Start a headless Chromium that presents itself as a phone speaking ``lang``,
    ``width`` CSS pixels wide (360 for the narrowest phones still common)."""
    options = _chromium_options(lang, profile, width, PHONE_HEIGHT)
    options.add_experimental_option(
        "mobileEmulation",
        {
            "deviceMetrics": {
                "width": width,
                "height": PHONE_HEIGHT,
                "pixelRatio": pixel_ratio,
                "mobile": True,
                "touch": True,
            },
            "userAgent": PHONE_USER_AGENT,
        },
    )
    return _start(options)


def desk_browser(lang: str, profile: Path) -> Any:
    """Start a headless Chromium the size of an office screen, speaking ``lang``: the
    administrator's and the store manager's back-office browser."""
    return _start(_chromium_options(lang, profile, DESK_WIDTH, DESK_HEIGHT))


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _needs_chromium() -> None:
    reason = chromium_missing()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def live_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    with running_portal(tmp_path_factory.mktemp("portal")) as portal:
        yield portal


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh phone browser (no cookies) in zh-CN, or in the language given with
    ``@pytest.mark.parametrize("browser", ["en"], indirect=True)``."""
    lang = getattr(request, "param", "zh-CN")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        driver = phone_browser(lang, Path(profile))
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def open_browser() -> Iterator[Callable[..., Any]]:
    """Start browsers as a journey needs them: ``open_browser("desk")`` for an office
    screen, ``open_browser("phone")`` for a phone, each a separate Chromium with no
    cookies (a fresh session, a second person), in zh-CN unless ``lang="en"``. All are
    closed at the end of the test."""
    drivers: list[Any] = []
    with ExitStack() as profiles:

        def start(kind: str = "desk", lang: str = "zh-CN") -> Any:
            profile = Path(profiles.enter_context(tempfile.TemporaryDirectory(prefix="chromium-")))
            driver = (phone_browser if kind == "phone" else desk_browser)(lang, profile)
            drivers.append(driver)
            return driver

        try:
            yield start
        finally:
            for driver in drivers:
                driver.quit()


@pytest.fixture(scope="session")
def console_admin(live_portal: LivePortal) -> tuple[str, str]:
    """An administrator of the live portal: ``(e-mail, password)``."""
    flask_command(
        live_portal.env,
        "create-user",
        ADMIN_EMAIL,
        "--role",
        "admin",
        "--password",
        ADMIN_PASSWORD,
        "--name",
        "总部管理员",
    )
    return ADMIN_EMAIL, ADMIN_PASSWORD
