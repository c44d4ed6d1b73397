"""Navigators for people at an office screen: the administrator in the admin console, anyone
at the account pages (sign in, forgot password, a mailed link), the store manager at their
home page. As in `navigators.py`, every selector lives here; tests speak in actions.

Pages are reached the way a person reaches them: by clicking a link or a button. Links are
found by where they lead (their ``href``), not by their words, so one navigator serves both
languages and the tests assert the words a person reads.

Every action that loads a page waits for a *new document* (a mark set on the old one is
gone) and then for an element of the expected page, with a message that says which page
did not come; nothing waits for time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

Locator = tuple[str, str]

MAIN_HEADING = (By.CSS_SELECTOR, "main h1")
HEADER = "header.topbar"
#: A form's own error lines, and a refusal of the whole form.
FIELD_ERRORS = (By.CSS_SELECTOR, "main ul.errors li")
FLASHES = (By.CSS_SELECTOR, "main p.flash")


class DeskNavigator:
    """What every page offers: open an address, click through, type, choose, sign in
    and out, and read what the page says."""

    TIMEOUT = 15

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    # -- waiting ------------------------------------------------------------------------------

    def _wait(self, timeout: float | None = None) -> WebDriverWait[Any]:
        # While a page is replaced ChromeDriver may answer about the old document with a
        # generic error: ask again until the new one is there (see navigators.py).
        return WebDriverWait(
            self.driver, timeout or self.TIMEOUT, ignored_exceptions=(WebDriverException,)
        )

    def _mark_page(self) -> None:
        self.driver.execute_script("window.journeyOldPage = true;")

    def _until(self, condition: Callable[[Any], Any], explain: Callable[[], str]) -> Any:
        """Wait for ``condition``; on timeout, fail with ``explain()``, said about the page
        as it is then (not as it was when the wait began)."""
        try:
            return self._wait().until(condition)
        except TimeoutException:
            raise AssertionError(f"after {self.TIMEOUT} s: {explain()}") from None

    def _landed(self, what: str, landed: Locator, text: str | None = None) -> None:
        """Wait for a new document, then for ``landed`` (holding ``text``, if given)."""
        self._until(
            lambda d: d.execute_script(
                "return document.readyState === 'complete' && !window.journeyOldPage"
            ),
            lambda: f"no new page came for {what} (still {self.driver.current_url})",
        )
        condition: Callable[[Any], Any] = (
            ec.presence_of_element_located(landed)
            if text is None
            else ec.text_to_be_present_in_element(landed, text)
        )
        self._until(
            condition,
            lambda: (
                f"{what}: landed on {self.driver.current_url} without {landed[1]!r}"
                + (f" saying {text!r}" if text else "")
                + f"; the page says:\n{self.page_text()[:800]}"
            ),
        )

    # -- acting -------------------------------------------------------------------------------

    def open(self, url: str, landed: Locator = MAIN_HEADING, text: str | None = None) -> None:
        """Type an address (or open a link from a mail) in the address bar."""
        self._mark_page()
        self.driver.get(url if "://" in url else self.base_url + url)
        self._landed(f"opening {url}", landed, text)

    def click(
        self, element: WebElement, landed: Locator = MAIN_HEADING, text: str | None = None
    ) -> None:
        """Click a link or a button that loads a page; wait for that page."""
        what = element.text.strip() or element.get_attribute("href") or element.tag_name
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        self._mark_page()
        element.click()
        self._landed(f"clicking {what!r}", landed, text)

    def link(self, path: str, within: str = "main") -> WebElement:
        """The link in ``within`` that leads to ``path``."""
        found: WebElement = self._until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, f'{within} a[href="{path}"]')),
            lambda: f"no link to {path} in {within} on {self.driver.current_url}",
        )
        return found

    def follow(
        self,
        path: str,
        within: str = "main",
        landed: Locator = MAIN_HEADING,
        text: str | None = None,
    ) -> None:
        self.click(self.link(path, within), landed, text)

    def type_into(self, field_id: str, text: str) -> None:
        box = self.driver.find_element(By.ID, field_id)
        box.clear()
        box.send_keys(text)

    def choose(self, select_id: str, visible_text: str) -> None:
        """Pick the option whose words contain ``visible_text`` in a drop-down list."""
        select = Select(self.driver.find_element(By.ID, select_id))
        option = next(
            (o for o in select.options if visible_text in o.text),
            None,
        )
        assert option is not None, (
            f"no option {visible_text!r} in #{select_id}: {[o.text for o in select.options]}"
        )
        option.click()
        self._until(lambda _: option.is_selected(), lambda: f"{visible_text!r} was not chosen")

    def submit(self, form: str, landed: Locator = MAIN_HEADING, text: str | None = None) -> None:
        """Press the main button of the form matched by the CSS selector ``form``."""
        button = self.driver.find_element(By.CSS_SELECTOR, f"{form} button[type=submit]")
        self.click(button, landed, text)

    # -- accounts -----------------------------------------------------------------------------

    def sign_in(self, email: str, password: str, landed: Locator = MAIN_HEADING) -> None:
        """From the sign-in page: type the e-mail and password and press "Sign in"."""
        self.open("/login", (By.ID, "email"))
        self.type_into("email", email)
        self.type_into("password", password)
        self.submit("main form", landed)

    def sign_out(self) -> None:
        button = self.driver.find_element(
            By.CSS_SELECTOR, f'{HEADER} form[action="/logout"] button[type=submit]'
        )
        self.click(button, (By.ID, "password"))

    # -- reading ------------------------------------------------------------------------------

    def page_text(self) -> str:
        try:
            return str(self.driver.find_element(By.TAG_NAME, "body").text)
        except WebDriverException:
            return "(no page)"

    def heading(self) -> str:
        return str(self.driver.find_element(*MAIN_HEADING).text)

    def text_of(self, css: str) -> str:
        return str(self.driver.find_element(By.CSS_SELECTOR, css).text)

    def path(self) -> str:
        return str(urlsplit(self.driver.current_url).path)

    def flashes(self) -> list[str]:
        return [str(e.text) for e in self.driver.find_elements(*FLASHES)]

    def errors(self) -> list[str]:
        return [str(e.text) for e in self.driver.find_elements(*FIELD_ERRORS)]

    def html_lang(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "html").get_attribute("lang"))


class AdminNavigator(DeskNavigator):
    """The administrator in the admin console."""

    CONSOLE_NAV = "nav.console-nav"

    def open_console(self) -> None:
        """ "Admin console" in the header."""
        self.follow("/admin/", within=HEADER, landed=(By.ID, "check-keys"))

    def section(self, path: str, landed: Locator = MAIN_HEADING) -> None:
        """A section of the console's own menu (stores, regions, users...)."""
        self.follow(path, within=self.CONSOLE_NAV, landed=landed)

    # -- regions, stores, staff ------------------------------------------------------------------

    def add_region(self, name: str) -> None:
        self.section("/admin/regions", (By.ID, "region-form"))
        self.type_into("name", name)
        self.submit("#region-form", (By.ID, "regions"), name)

    def add_store(self, code: str, name: str, region: str, address: str, store_format: str) -> None:
        """Stores → "Add a store": fill the form; lands on the new store's staff list."""
        self.section("/admin/stores", (By.ID, "stores"))
        self.click(self.driver.find_element(By.ID, "new-store"), (By.ID, "store-form"))
        self.type_into("code", code)
        self.type_into("name", name)
        self.choose("region", region)
        self.type_into("address", address)
        self.choose("format", store_format)
        self.submit("#store-form", (By.ID, "staff-form"))

    def add_staff(self, code: str, name: str, position: str) -> None:
        """On a store's staff list: "Add a staff member"."""
        self.type_into("staff_code", code)
        self.type_into("name", name)
        self.type_into("position", position)
        self.submit("#staff-form", (By.ID, f"staff-{code}"))

    def staff_rows(self) -> dict[str, str]:
        """Staff code → the row's words, on a store's staff list."""
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#staff tbody tr[id^=staff-]")
        return {str(r.get_attribute("id")).removeprefix("staff-"): str(r.text) for r in rows}

    def preview_import(self, file: Path) -> None:
        """From a staff list: the import link, choose the file, "Preview"."""
        self.follow("/admin/staff/import", landed=(By.ID, "upload-form"))
        self.driver.find_element(By.ID, "file").send_keys(str(file))
        self.submit("#upload-form", (By.ID, "summary"))

    def import_outcomes(self) -> dict[int, str]:
        """Line of the file → the outcome shown for it (new, changed, unchanged, error)."""
        outcomes = {}
        for row in self.driver.find_elements(By.CSS_SELECTOR, "#rows tbody tr[id^=line-]"):
            line = int(str(row.get_attribute("id")).removeprefix("line-"))
            classes = str(row.get_attribute("class"))
            outcomes[line] = classes.removeprefix("outcome-")
        return outcomes

    def apply_import(self) -> None:
        self.click(self.driver.find_element(By.ID, "apply"), (By.ID, "stores"))

    def store_row(self, code: str) -> str:
        return self.text_of(f"#store-{code}")

    # -- users ----------------------------------------------------------------------------------

    def invite_manager(
        self, email: str, name: str, role: str, store_code: str, language: str
    ) -> None:
        """Users → "Invite a user": a store manager of one store; lands on their page."""
        self.section("/admin/users", (By.ID, "invite-user"))
        self.click(self.driver.find_element(By.ID, "invite-user"), (By.ID, "invite-form"))
        self.type_into("email", email)
        self.type_into("name", name)
        self.choose("role", role)
        self.choose("stores", store_code)
        self.choose("locale", language)
        self.submit("#invite-form", (By.ID, "user-status"))

    def open_user(self, email: str) -> None:
        """ "Users" in the header → search for the e-mail → click the name."""
        self.follow("/admin/users", within=HEADER, landed=(By.ID, "user-filters"))
        self.type_into("q", email)
        self.submit("#user-filters", (By.ID, "users"), email)
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#users tbody tr[id^=user-]")
        row = next(r for r in rows if email in r.text)
        self.click(row.find_element(By.CSS_SELECTOR, "a"), (By.ID, "user-status"))

    def switch_off(self) -> None:
        """On a user's page: "Switch off this user"."""
        self.click(self.driver.find_element(By.ID, "switch-off"), (By.ID, "switch-on"))

    def mailed_link(self, to: str, kind: str) -> str:
        """Header → "Outbox": the newest mail to ``to``; the link of ``kind`` in it
        ("invitation" or "reset-password")."""
        self.follow("/outbox", within=HEADER, landed=(By.ID, "outbox"))
        for message in self.driver.find_elements(By.CSS_SELECTOR, "#outbox li.response"):
            if to in message.text:  # newest first
                return mailed_link(str(message.text), kind)
        raise AssertionError(f"no mail to {to} in the outbox:\n{self.page_text()[:800]}")

    # -- POS keys -------------------------------------------------------------------------------

    def checklist_item(self, name: str) -> str:
        """On the console home: the words of checklist item ``name`` (staff, keys, quiet,
        mail, users)."""
        return self.text_of(f"#check-{name}")

    def create_key_from_checklist(self, store_code: str, label: str) -> str:
        """On the console home: the store under "no POS key" → label → "Create key";
        the key as the page shows it, once."""
        self.follow(
            f"/admin/stores/{store_code}/keys", within="#check-keys", landed=(By.ID, "label")
        )
        self.type_into("label", label)
        self.submit("main form", (By.ID, "secret"))
        return self.text_of("#secret").strip()


class ManagerHome(DeskNavigator):
    """A store manager at their to-do home page."""

    def go_home(self) -> None:
        self.follow("/home", within=HEADER, landed=(By.ID, "overdue-cases"))

    def overdue_case_ids(self) -> list[int]:
        items = self.driver.find_elements(By.CSS_SELECTOR, "#overdue-cases li[id^=overdue-case-]")
        return [int(str(i.get_attribute("id")).removeprefix("overdue-case-")) for i in items]

    def open_case_ids(self) -> list[int]:
        items = self.driver.find_elements(By.CSS_SELECTOR, "#open-cases li[id^=open-case-]")
        return [int(str(i.get_attribute("id")).removeprefix("open-case-")) for i in items]

    def first_case_on_page(self) -> int:
        """The case the page lists first, whichever section it is in."""
        first = self.driver.find_element(
            By.CSS_SELECTOR, "#overdue-cases li[id*=case-], #open-cases li[id*=case-]"
        )
        return int(str(first.get_attribute("id")).rsplit("-", 1)[1])

    def open_case(self, case_id: int) -> None:
        self.follow(f"/cases/{case_id}", landed=(By.ID, "case-state"))

    def open_store_dashboard(self, code: str) -> None:
        """ "Today in your stores": the store's name opens its dashboard."""
        self.follow(f"/stores/{code}", within=f"#today-{code}", landed=(By.ID, "comments"))

    def comments(self) -> list[str]:
        return [
            str(e.text) for e in self.driver.find_elements(By.CSS_SELECTOR, "#comments li.response")
        ]


_LINK = {
    "invitation": re.compile(r"https?://\S+/invitation/[0-9a-z]+-[0-9a-z]+-[A-Za-z0-9_\-]{43}"),
    "reset-password": re.compile(
        r"https?://\S+/reset-password/[0-9a-z]+-[0-9a-z]+-[A-Za-z0-9_\-]{43}"
    ),
}


def mailed_link(body: str, kind: str) -> str:
    """The ``kind`` link ("invitation" or "reset-password") in a mail's text."""
    found = _LINK[kind].search(body)
    assert found, f"no {kind} link in the mail:\n{body}"
    return found.group(0)
