"""Navigators: one class per role, holding every selector that role's tests need
(SecureDrop's ``tests/functional/app_navigators``). Tests speak in shopper actions;
when a template changes, only this file does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait


def wait_through_navigation(driver: Any, timeout: float = 10) -> WebDriverWait[Any]:
    """A wait that survives a page being replaced.

    While a page is being replaced, ChromeDriver may answer a question about the old
    document with a generic error ("Node with given id does not belong to the document")
    instead of "stale element": ask again until the new page is there."""
    return WebDriverWait(driver, timeout, ignored_exceptions=(WebDriverException,))


class ShopperNavigator:
    """A shopper on a phone: opens the link from the receipt, answers, sends."""

    TIMEOUT = 10

    HTML = (By.TAG_NAME, "html")
    HEADING = (By.CSS_SELECTOR, "main h1")
    SURVEY_FORM = (By.CSS_SELECTOR, "form.survey")
    SUBMIT = (By.CSS_SELECTOR, "form.survey button[type=submit]")
    PROBLEM_TICK = (By.ID, "problem")
    PROBLEM_BLOCK = (By.CSS_SELECTOR, "form.survey .problem-block")
    COMMENT = (By.ID, "comment")
    FORM_ALERT = (By.CSS_SELECTOR, "main .flash-error[role=alert]")
    VALIDATION_CODE = (By.ID, "validation-code")
    # Thank-you and already-answered pages are both notice cards; only the first has a code.
    NOTICE = (By.CSS_SELECTOR, "main section.card.notice")
    THANKS = (By.CSS_SELECTOR, "main section.card.notice.thanks")
    # Any page a shopper can land on after opening a link or sending the form.
    LANDED = (By.CSS_SELECTOR, "form.survey, main section.card.notice")

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    # -- waiting and finding ---------------------------------------------------------------

    def _wait(self) -> WebDriverWait[Any]:
        return WebDriverWait(self.driver, self.TIMEOUT)

    def _wait_through_navigation(self) -> WebDriverWait[Any]:
        return wait_through_navigation(self.driver, self.TIMEOUT)

    def _find(self, locator: tuple[str, str]) -> WebElement:
        element: WebElement = self.driver.find_element(*locator)
        return element

    def _radio(self, name: str, value: object) -> WebElement:
        return self._find((By.CSS_SELECTOR, f'input[type=radio][name="{name}"][value="{value}"]'))

    def _landed(self) -> WebElement:
        landed: WebElement = self._wait_through_navigation().until(
            ec.presence_of_element_located(self.LANDED)
        )
        return landed

    def _navigated_from(self, old_page: WebElement) -> None:
        self._wait_through_navigation().until(ec.staleness_of(old_page))
        self._landed()

    # -- actions ------------------------------------------------------------------------------

    def open_receipt(self, url: str) -> None:
        """Open a survey link as scanned from a receipt (or the page it leads to)."""
        self.driver.get(url)
        self._landed()

    def reload(self) -> None:
        old = self._find(self.HTML)
        self.driver.refresh()
        self._navigated_from(old)

    def back(self) -> None:
        old = self._find(self.HTML)
        self.driver.back()
        self._navigated_from(old)

    def choose(self, name: str, value: object) -> None:
        """Tap an option. Scale inputs are transparent and laid over their number, so
        tap the visible label, as a thumb does."""
        radio = self._radio(name, value)
        label = self._find((By.CSS_SELECTOR, f'label[for="{radio.get_attribute("id")}"]'))
        label.click()
        self._wait().until(lambda _: radio.is_selected())

    def tick_problem(self) -> None:
        tick = self._find(self.PROBLEM_TICK)
        if not tick.is_selected():
            self._find((By.CSS_SELECTOR, 'label[for="problem"]')).click()
        self._wait().until(lambda _: tick.is_selected())

    def write_comment(self, text: str) -> None:
        box = self._find(self.COMMENT)
        box.clear()
        box.send_keys(text)

    def answer(
        self,
        nps: int | None = None,
        csat: int | None = None,
        ratings: Mapping[str, int] | None = None,
        problem: bool = False,
        problem_category: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Fill in the survey; ``None`` leaves a question as it is."""
        if nps is not None:
            self.choose("nps", nps)
        if csat is not None:
            self.choose("csat", csat)
        for key, value in (ratings or {}).items():
            self.choose(key, value)
        if problem:
            self.tick_problem()
        if problem_category is not None:
            self._wait().until(ec.visibility_of_element_located(self.PROBLEM_BLOCK))
            self.choose("problem_category", problem_category)
        if comment is not None:
            self.write_comment(comment)

    def submit(self) -> None:
        """Press Send and wait for the next page."""
        old = self._find(self.HTML)
        self._find(self.SUBMIT).click()
        self._navigated_from(old)

    # -- what the shopper sees -----------------------------------------------------------------

    def page_text(self) -> str:
        return str(self._find((By.TAG_NAME, "body")).text)

    def heading(self) -> str:
        return str(self._find(self.HEADING).text)

    def html_lang(self) -> str:
        return str(self._find(self.HTML).get_attribute("lang"))

    def title(self) -> str:
        return str(self.driver.title)

    def on_survey(self) -> bool:
        return bool(self.driver.find_elements(*self.SURVEY_FORM))

    def on_thanks(self) -> bool:
        return bool(self.driver.find_elements(*self.THANKS))

    def on_already_answered(self) -> bool:
        return (
            bool(self.driver.find_elements(*self.NOTICE))
            and not self.on_thanks()
            and not self.on_survey()
        )

    def validation_code(self) -> str:
        element = self._wait().until(ec.visibility_of_element_located(self.VALIDATION_CODE))
        return str(element.text).strip()

    def selected(self, name: str) -> str | None:
        """The value of the checked option of ``name``, or ``None``."""
        checked = self.driver.find_elements(By.CSS_SELECTOR, f'input[name="{name}"]:checked')
        return checked[0].get_attribute("value") if checked else None

    def problem_block_displayed(self) -> bool:
        return bool(self._find(self.PROBLEM_BLOCK).is_displayed())

    def form_alert(self) -> str | None:
        alerts = self.driver.find_elements(*self.FORM_ALERT)
        return alerts[0].text if alerts else None

    def field_errors(self, name: str) -> list[str]:
        """The visible error messages shown inside a question's own field."""
        errors = self.driver.find_elements(By.CSS_SELECTOR, f"#{name}-field #{name}-errors li")
        return [str(e.text) for e in errors if e.is_displayed()]

    def field_has_error(self, name: str) -> bool:
        classes = self._find((By.ID, f"{name}-field")).get_attribute("class") or ""
        return "has-error" in classes.split()

    def described_by(self, name: str) -> set[str]:
        """The ``aria-describedby`` of each option of ``name`` (what a screen reader reads)."""
        inputs = self.driver.find_elements(By.CSS_SELECTOR, f'input[name="{name}"]')
        return {str(i.get_attribute("aria-describedby")) for i in inputs}

    def widths(self) -> tuple[int, int]:
        """``(scrollWidth, clientWidth)`` of the document: more scroll than client means
        the page scrolls sideways."""
        scroll, client = self.driver.execute_script(
            "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];"
        )
        return int(scroll), int(client)

    def overflowing_elements(self) -> list[str]:
        """Elements whose right edge lies past the viewport, for a readable failure."""
        found: list[str] = self.driver.execute_script(
            """
            const width = document.documentElement.clientWidth, out = [];
            for (const e of document.body.querySelectorAll('*')) {
              const r = e.getBoundingClientRect();
              if (r.width && r.right > width + 0.5)
                out.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}` +
                         `.${[...e.classList].join('.')} right=${Math.round(r.right)}`);
            }
            return out.slice(0, 10);
            """
        )
        return found


class ManagerNavigator:
    """A store manager at a desk: signs in and reads the store page."""

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def sign_in(self, email: str, password: str) -> None:
        self.driver.get(f"{self.base_url}/login?lang=en")
        self.driver.find_element(By.ID, "email").send_keys(email)
        self.driver.find_element(By.ID, "password").send_keys(password)
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()
        wait = wait_through_navigation(self.driver)
        wait.until(ec.staleness_of(old))
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "main")))

    def open_store(self, code: str) -> None:
        self.driver.get(f"{self.base_url}/stores/{code}?days=30")
        wait_through_navigation(self.driver).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, ".metric-value"))
        )

    def headline_values(self) -> list[str]:
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".metric-value")]

    def loaded_charts(self) -> list[int]:
        """Natural widths of the chart images once they have loaded (0 = broken)."""
        charts = self.driver.find_elements(By.CSS_SELECTOR, "img.chart")
        WebDriverWait(self.driver, 15).until(
            lambda d: all(d.execute_script("return arguments[0].complete", c) for c in charts)
        )
        return [
            int(self.driver.execute_script("return arguments[0].naturalWidth", c)) for c in charts
        ]


class CaseNavigator:
    """A store manager working through cases: the list, one case, its action forms."""

    TIMEOUT = 10

    ROWS = (By.CSS_SELECTOR, "#cases li[id^=case-]")
    STATE = (By.ID, "case-state")
    TIMELINE = (By.CSS_SELECTOR, "#timeline li.event")
    PROBLEM = (By.ID, "case-problem")

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def _wait(self) -> WebDriverWait[Any]:
        return wait_through_navigation(self.driver, self.TIMEOUT)

    def open_list(self, query: str = "") -> None:
        self.driver.get(f"{self.base_url}/cases{query}")
        self._wait().until(ec.presence_of_element_located((By.ID, "cases")))

    def rows(self) -> list[tuple[str, bool]]:
        """``(row id, overdue badge shown)`` for each row of the list, in order."""
        return [
            (
                str(row.get_attribute("id")),
                bool(row.find_elements(By.CSS_SELECTOR, ".badge-overdue")),
            )
            for row in self.driver.find_elements(*self.ROWS)
        ]

    def open_case_from_list(self, row_id: str) -> None:
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.CSS_SELECTOR, f"#{row_id} a").click()
        self._wait().until(ec.staleness_of(old))
        self._wait().until(ec.presence_of_element_located(self.STATE))

    def state(self) -> str:
        return str(self.driver.find_element(*self.STATE).text)

    def overdue_badge(self) -> bool:
        return bool(self.driver.find_elements(By.CSS_SELECTOR, "h1 .badge-overdue"))

    def _choose(self, name: str, value: str) -> None:
        radio = self.driver.find_element(
            By.CSS_SELECTOR, f'input[type=radio][name="{name}"][value="{value}"]'
        )
        self.driver.find_element(
            By.CSS_SELECTOR, f'label[for="{radio.get_attribute("id")}"]'
        ).click()
        self._wait().until(lambda _: radio.is_selected())

    def _write(self, field_id: str, text: str) -> None:
        box = self.driver.find_element(By.ID, field_id)
        box.clear()
        box.send_keys(text)

    def _send(self, action: str) -> None:
        """Press the action's button and wait for the case page to come back."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        button = self.driver.find_element(By.CSS_SELECTOR, f"#action-{action} button[type=submit]")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        self._wait().until(ec.staleness_of(old))
        self._wait().until(ec.presence_of_element_located(self.STATE))

    def log_contact(self, note: str) -> None:
        self._write("contact-note", note)
        self._send("contact")

    def resolve(self, resolution: str, note: str) -> None:
        self._choose("resolve-resolution", resolution)
        self._write("resolve-note", note)
        self._send("resolve")

    def close(self, return_visit: str, note: str = "") -> None:
        self._choose("close-return_visit", return_visit)
        if note:
            self._write("close-note", note)
        self._send("close")

    def timeline(self) -> list[str]:
        """The timeline's lines, oldest first: the 'what' line of each event."""
        return [
            str(item.find_element(By.CSS_SELECTOR, "p:not(.meta)").text)
            for item in self.driver.find_elements(*self.TIMELINE)
        ]

    def problem(self) -> str | None:
        found = self.driver.find_elements(*self.PROBLEM)
        return str(found[0].text) if found else None

    def widths(self) -> tuple[int, int]:
        scroll, client = self.driver.execute_script(
            "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];"
        )
        return int(scroll), int(client)

    def save_full_page(self, path: Any, width: int, height: int) -> None:
        """A screenshot of the whole page at phone width (the screen grown to the page)."""

        def screen(tall: int) -> None:
            self.driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": tall, "deviceScaleFactor": 1, "mobile": True},
            )

        tall = self.driver.execute_script("return document.documentElement.scrollHeight")
        screen(max(int(tall), height))
        try:
            self.driver.execute_script("window.scrollTo(0, 0);")
            path.write_bytes(self.driver.get_screenshot_as_png())
        finally:
            screen(height)


class MysteryNavigator:
    """Mystery shopping on a phone: the shopper's assignment and report pages, the
    reviewer's and the store manager's actions on the visit page."""

    TIMEOUT = 10
    STATE = (By.ID, "visit-state")

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def _wait(self) -> WebDriverWait[Any]:
        return wait_through_navigation(self.driver, self.TIMEOUT)

    def sign_in_as(self, email: str, password: str) -> None:
        """A different person on the same phone: start with no cookies."""
        self.driver.delete_all_cookies()
        ManagerNavigator(self.driver, self.base_url).sign_in(email, password)

    def _submit(self, button: WebElement) -> None:
        # A mark on the old document: the new one, once loaded, does not carry it.
        self.driver.execute_script("window.portalOldPage = true;")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        # On the long review page ChromeDriver's emulated tap sometimes lands nowhere (no
        # error, no navigation); a DOM click submits the same form with the same fields.
        self.driver.execute_script("arguments[0].click();", button)
        self._wait().until(
            lambda d: d.execute_script(
                "return document.readyState === 'complete' && !window.portalOldPage"
            )
        )

    def _set(self, field_id: str, value: str) -> None:
        """Date and time inputs take their value as the browser would after picking."""
        box = self.driver.find_element(By.ID, field_id)
        self.driver.execute_script(
            "arguments[0].value = arguments[1];arguments[0].dispatchEvent(new Event('change'));",
            box,
            value,
        )

    def _choose(self, name: str, value: str) -> None:
        radio = self.driver.find_element(
            By.CSS_SELECTOR, f'input[type=radio][name="{name}"][value="{value}"]'
        )
        label = self.driver.find_element(
            By.CSS_SELECTOR, f'label[for="{radio.get_attribute("id")}"]'
        )
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", label)
        self.driver.execute_script("arguments[0].click();", label)  # see _submit
        self._wait().until(lambda _: radio.is_selected())

    def _write(self, field_id: str, text: str) -> None:
        box = self.driver.find_element(By.ID, field_id)
        box.clear()
        box.send_keys(text)

    # -- the reviewer schedules ---------------------------------------------------------------

    def schedule(self, store: str, shopper_email: str, start: str, end: str, daypart: str) -> int:
        self.driver.get(f"{self.base_url}/mystery/schedule?lang=en")
        Select(self.driver.find_element(By.ID, "store")).select_by_value(store)
        shopper = Select(self.driver.find_element(By.ID, "shopper"))
        shopper.select_by_visible_text(
            next(o.text for o in shopper.options if shopper_email in o.text)
        )
        self._set("window_start", start)
        self._set("window_end", end)
        self._choose("daypart", daypart)
        self._submit(self.driver.find_element(By.CSS_SELECTOR, "form button[type=submit].primary"))
        return int(self.driver.current_url.rstrip("/").rsplit("/", 1)[-1])

    # -- the visit page -------------------------------------------------------------------------

    def open_visit(self, visit_id: int) -> None:
        self.driver.get(f"{self.base_url}/mystery/visits/{visit_id}")
        self._wait().until(ec.presence_of_element_located(self.STATE))

    def state(self) -> str:
        return str(self.driver.find_element(*self.STATE).text)

    def act(self, action: str, **fields: str) -> None:
        """Fill an action form on the visit page (text by field name, choices as
        ``outcome=adjusted``) and send it."""
        form = self.driver.find_element(By.ID, f"action-{action}")
        for name, value in fields.items():
            field = f"{action}-{name}"
            element = form.find_element(By.CSS_SELECTOR, f'[name="{field}"]')
            if element.get_attribute("type") == "radio":
                self._choose(field, value)
            elif element.tag_name == "select":
                Select(element).select_by_value(value)
            else:
                element.clear()
                element.send_keys(value)
        self._submit(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    def problem(self) -> str | None:
        found = self.driver.find_elements(By.ID, "visit-problem")
        return found[0].text if found else None

    def score(self) -> float:
        text = self.driver.find_element(By.CSS_SELECTOR, "#visit-score strong").text
        return float(text)

    def page_text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    # -- the shopper's report -------------------------------------------------------------------

    def report_step(self, visit_id: int, step: str) -> None:
        self.driver.get(f"{self.base_url}/mystery/visits/{visit_id}/report/{step}")
        self._wait().until(ec.presence_of_element_located((By.TAG_NAME, "form")))

    def fill_facts(self, started: str, ended: str, served_by: str, transaction_id: str) -> None:
        self._set("started_at", started)
        self._set("ended_at", ended)
        Select(self.driver.find_element(By.ID, "served_by")).select_by_visible_text(served_by)
        self._write("transaction_id", transaction_id)
        self.save_and_continue()

    def fill_section_well(self, narrative: str) -> None:
        """Answer every item of the section page the good way, and write the narrative."""
        for block in self.driver.find_elements(By.CSS_SELECTOR, ".checklist-item"):
            radios = block.find_elements(By.CSS_SELECTOR, "input[type=radio]")
            if radios:
                values = [r.get_attribute("value") for r in radios]
                choice = "yes" if "yes" in values else "4"
                self._choose(str(radios[0].get_attribute("name")), choice)
                continue
            boxes = block.find_elements(By.CSS_SELECTOR, "input[inputmode=numeric]")
            if boxes:
                boxes[0].clear()
                boxes[0].send_keys("20")
        narrative_box = self.driver.find_element(By.CSS_SELECTOR, "textarea[name^=narrative-]")
        narrative_box.clear()
        narrative_box.send_keys(narrative)
        self.save_and_continue()

    def attach_photo(self, path: str) -> None:
        self.driver.find_element(By.ID, "photo").send_keys(path)
        self.save_and_continue()

    def save_and_continue(self) -> None:
        self._submit(self.driver.find_element(By.CSS_SELECTOR, "form button[type=submit].primary"))

    def field_errors(self) -> list[str]:
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, "ul.errors li")]


class AwardNavigator:
    """HR at the service-star pages: opens a month, decides nominations, publishes, and
    opens a certificate."""

    TIMEOUT = 10
    STATE = (By.ID, "cycle-state")
    NOMINATIONS = (By.CSS_SELECTOR, "#nominations li.nomination")
    PROBLEM = (By.ID, "award-problem")

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def _wait(self) -> WebDriverWait[Any]:
        return wait_through_navigation(self.driver, self.TIMEOUT)

    def _press(self, button: WebElement, landed: tuple[str, str]) -> None:
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        self._wait().until(ec.staleness_of(old))
        self._wait().until(ec.presence_of_element_located(landed))

    def open_list(self) -> None:
        self.driver.get(f"{self.base_url}/awards")
        self._wait().until(ec.presence_of_element_located((By.CSS_SELECTOR, "main h1")))

    def open_month(self, month: str) -> None:
        """Choose ``month`` (YYYY-MM) in the list's "open a month" form and send it."""
        from selenium.webdriver.support.ui import Select

        Select(self.driver.find_element(By.ID, "month")).select_by_value(month)
        button = self.driver.find_element(By.CSS_SELECTOR, "#action-open button[type=submit]")
        self._press(button, self.STATE)

    def state(self) -> str:
        return str(self.driver.find_element(*self.STATE).text)

    def nominations(self) -> list[tuple[int, str, str]]:
        """``(nomination id, staff code, state shown)`` for each nomination, in order."""
        found = []
        for item in self.driver.find_elements(*self.NOMINATIONS):
            nomination_id = int(str(item.get_attribute("id")).removeprefix("nomination-"))
            state = item.find_element(By.CSS_SELECTOR, ".nomination-state").text
            found.append((nomination_id, str(item.get_attribute("data-staff")), str(state)))
        return found

    def approve(self, nomination_id: int, reason: str = "") -> None:
        if reason:
            self._write(f"approve-{nomination_id}-reason", reason)
        self._send(f"action-approve-{nomination_id}")

    def reject(self, nomination_id: int, reason: str) -> None:
        self._write(f"reject-{nomination_id}-reason", reason)
        self._send(f"action-reject-{nomination_id}")

    def publish(self) -> None:
        self._send("action-publish")

    def _write(self, field_id: str, text: str) -> None:
        box = self.driver.find_element(By.ID, field_id)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
        box.clear()
        box.send_keys(text)

    def _send(self, section_id: str) -> None:
        button = self.driver.find_element(By.CSS_SELECTOR, f"#{section_id} button[type=submit]")
        self._press(button, self.STATE)

    def problem(self) -> str | None:
        found = self.driver.find_elements(*self.PROBLEM)
        return str(found[0].text) if found else None

    def open_certificate(self, nomination_id: int) -> None:
        link = self.driver.find_element(
            By.CSS_SELECTOR, f"#nomination-{nomination_id} a.certificate-link"
        )
        self._press(link, (By.ID, "certificate"))

    def certificate(self) -> dict[str, dict[str, str]]:
        """Each side of the certificate by its language: title, name, store, issued."""
        sides: dict[str, dict[str, str]] = {}
        for side in self.driver.find_elements(By.CSS_SELECTOR, "#certificate .certificate-side"):
            sides[str(side.get_attribute("lang"))] = {
                part: str(side.find_element(By.CSS_SELECTOR, f".certificate-{part}").text)
                for part in ("title", "name", "store", "issued")
            }
        return sides

    def printed_navigation_hidden(self) -> bool:
        """Whether the print stylesheet hides the top bar (emulated print media)."""
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        try:
            topbar = self.driver.find_element(By.CSS_SELECTOR, "header.topbar")
            return not topbar.is_displayed()
        finally:
            self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


class PhoneLayout:
    """Where things land on a narrow phone screen, measured in the page (CSS pixels): the
    site header, the survey's scales, the mystery report's step bar, sideways scrolling."""

    TIMEOUT = 10
    BRAND = (By.CSS_SELECTOR, "header.topbar .brand")
    STEP_BAR = (By.ID, "report-step-bar")

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, path: str, ready: tuple[str, str] = (By.TAG_NAME, "main")) -> None:
        self.driver.get(f"{self.base_url}{path}")
        wait_through_navigation(self.driver, self.TIMEOUT).until(
            lambda d: (
                d.execute_script("return document.readyState") == "complete"
                and d.find_elements(*ready)
            )
        )

    def inner_width(self) -> int:
        return int(self.driver.execute_script("return window.innerWidth"))

    def sideways_scroll(self) -> tuple[int, int]:
        """``(document scrollWidth, innerWidth)``: the first larger means the page
        scrolls sideways."""
        scroll, inner = self.driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth];"
        )
        return int(scroll), int(inner)

    def overflowing(self) -> list[str]:
        """Elements whose right edge lies past the viewport, for a readable failure."""
        return ShopperNavigator(self.driver, self.base_url).overflowing_elements()

    def brand_lines(self) -> float:
        """The brand's height in lines of its own text (1.0 when it does not wrap)."""
        lines: float = self.driver.execute_script(
            "const e = arguments[0], s = getComputedStyle(e);"
            "return e.getBoundingClientRect().height / parseFloat(s.lineHeight);",
            self.driver.find_element(*self.BRAND),
        )
        return lines

    def scale_boxes(self, name: str) -> list[dict[str, Any]]:
        """Each option of a scale (its label, the tap target): text, left, right, top,
        width, height; and whether its radio is a real, enabled input of the form."""
        boxes: list[dict[str, Any]] = self.driver.execute_script(
            """
            return [...document.querySelectorAll(`#${arguments[0]}-field label.option`)].map(l => {
              const r = l.getBoundingClientRect(), i = l.querySelector('input');
              return {text: l.textContent.trim(), left: r.left, right: r.right, top: r.top,
                      width: r.width, height: r.height,
                      radio: !!i && i.type === 'radio' && !i.disabled && i.form !== null};
            });
            """,
            name,
        )
        return boxes

    def scale_ends(self, name: str) -> list[str]:
        """The words at the two ends of a scale, as shown."""
        ends = self.driver.find_elements(By.CSS_SELECTOR, f"#{name}-field .ends span")
        return [str(e.text) for e in ends if e.is_displayed()]

    def step_bar(self) -> list[dict[str, Any]]:
        """Each step of the report's step bar: its name, mark, whether done and current
        (aria-current), and its right edge."""
        steps: list[dict[str, Any]] = self.driver.execute_script(
            """
            return [...arguments[0].querySelectorAll('li.step')].map(li => {
              const a = li.querySelector('a'), r = li.getBoundingClientRect();
              return {name: li.querySelector('.step-name').innerText.trim(),
                      mark: li.querySelector('.step-mark').innerText.trim(),
                      done: li.classList.contains('done'),
                      current: a.getAttribute('aria-current') === 'page',
                      visible: r.width > 0 && r.height > 0, right: r.right};
            });
            """,
            self.driver.find_element(*self.STEP_BAR),
        )
        return steps

    def resources(self) -> list[tuple[str, str, int]]:
        """What the page loaded besides itself: (type, URL, decoded bytes); the page's own
        bytes come first as ``("document", URL, n)``."""
        found: list[list[Any]] = self.driver.execute_script(
            """
            const nav = performance.getEntriesByType('navigation')[0];
            return [['document', nav.name, nav.decodedBodySize],
                    ...performance.getEntriesByType('resource').map(
                        r => [r.initiatorType, r.name, r.decodedBodySize])];
            """
        )
        return [(str(kind), str(url), int(size)) for kind, url, size in found]
