"""The counter tablet in a browser: enrolled with a code, answering shoppers, and the
network switched off and on from DevTools — for the page and for its service worker,
which is a DevTools target of its own (emulating the page alone would leave the worker's
own fetches, the page's offline copy among them, on the network).

As in the other navigators, every selector lives here and every wait is for a condition.
"""

from __future__ import annotations

import json
from typing import Any

from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

FORM = (By.CSS_SELECTOR, "form.kiosk-survey")
SEND = (By.CSS_SELECTOR, "form.kiosk-survey button[type=submit]")
THANKS = (By.ID, "kiosk-thanks")
NEXT = (By.ID, "kiosk-next")
BADGE = (By.ID, "kiosk-status")
ALERT = (By.ID, "kiosk-alert")


class TabletNavigator:
    TIMEOUT = 20

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url
        #: DevTools sessions attached to the page's service workers, by target id.
        self.worker_sessions: dict[str, str] = {}
        driver.set_script_timeout(self.TIMEOUT)

    def _wait(self) -> WebDriverWait[Any]:
        return WebDriverWait(self.driver, self.TIMEOUT, ignored_exceptions=(WebDriverException,))

    def _until(self, condition: Any, what: str) -> Any:
        try:
            return self._wait().until(condition)
        except TimeoutException:
            body = self.driver.find_element(By.TAG_NAME, "body").text[:600]
            raise AssertionError(
                f"after {self.TIMEOUT} s: {what}; the page says:\n{body}"
            ) from None

    def _new_page(self, what: str) -> None:
        self._until(
            lambda d: d.execute_script(
                "return document.readyState === 'complete' && !window.journeyOldPage"
            ),
            f"no new page came for {what}",
        )
        self._until(ec.presence_of_element_located(FORM), f"no survey after {what}")

    # -- enrolling and the offline copy ------------------------------------------------------

    def enrol(self, code: str) -> None:
        self.driver.get(self.base_url + "/kiosk/enrol")
        self._until(ec.presence_of_element_located((By.ID, "code")), "no enrolment form")
        self.driver.find_element(By.ID, "code").send_keys(code)
        self.driver.execute_script("window.journeyOldPage = true;")
        self.driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        self._new_page("enrolling")

    def wait_until_offline_ready(self) -> None:
        """Wait for the service worker to be active (its cache filled) and in control."""
        ready = self.driver.execute_async_script(
            """
            var done = arguments[arguments.length - 1];
            navigator.serviceWorker.ready.then(function () {
              if (navigator.serviceWorker.controller) { done(true); return; }
              navigator.serviceWorker.addEventListener("controllerchange", function () {
                done(true);
              });
            });
            """
        )
        assert ready is True

    # -- the network -------------------------------------------------------------------------

    def _workers(self) -> list[str]:
        targets = self.driver.execute_cdp_cmd("Target.getTargets", {})["targetInfos"]
        for target in targets:
            if (
                target["type"] == "service_worker"
                and target["targetId"] not in self.worker_sessions
            ):
                attached = self.driver.execute_cdp_cmd(
                    "Target.attachToTarget", {"targetId": target["targetId"], "flatten": False}
                )
                self.worker_sessions[target["targetId"]] = attached["sessionId"]
        assert self.worker_sessions, "the page has no service worker to take offline"
        return list(self.worker_sessions.values())

    def _network(self, offline: bool) -> None:
        conditions = {
            "offline": offline,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": -1,
        }
        commands = [("Network.enable", {}), ("Network.emulateNetworkConditions", conditions)]
        for method, params in commands:
            self.driver.execute_cdp_cmd(method, params)
        for session in self._workers():
            for n, (method, params) in enumerate(commands):
                message = json.dumps({"id": 9000 + n, "method": method, "params": params})
                self.driver.execute_cdp_cmd(
                    "Target.sendMessageToTarget", {"sessionId": session, "message": message}
                )

    def go_offline(self) -> None:
        self._network(offline=True)
        self._until(lambda d: d.execute_script("return navigator.onLine === false"), "still online")

    def go_online(self) -> None:
        self._network(offline=False)

    def server_reachable(self) -> bool:
        """Whether a request from the page reaches the portal (no cache on the way)."""
        reached: bool = self.driver.execute_async_script(
            """
            var done = arguments[arguments.length - 1];
            fetch("/kiosk/enrol", {cache: "no-store"}).then(
              function () { done(true); }, function () { done(false); });
            """
        )
        return reached

    # -- a shopper ---------------------------------------------------------------------------

    def choose(self, name: str, value: object) -> None:
        radio = self.driver.find_element(
            By.CSS_SELECTOR, f'form.kiosk-survey input[name="{name}"][value="{value}"]'
        )
        label = self.driver.find_element(
            By.CSS_SELECTOR, f'label[for="{radio.get_attribute("id")}"]'
        )
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", label)
        label.click()
        self._until(lambda _: radio.is_selected(), f"{name} {value} was not chosen")

    def type_code(self, code: str) -> None:
        box = self.driver.find_element(By.ID, "receipt_code")
        box.clear()
        box.send_keys(code)

    def send_refused(self) -> dict[str, str]:
        """Press Send for answers the page or the server refuses: the survey stays, with a
        message on each field at fault; returns field -> message."""
        self.driver.find_element(*SEND).click()
        self._until(ec.visibility_of_element_located(ALERT), "no refusal was shown")
        errors = {}
        for line in self.driver.find_elements(By.CSS_SELECTOR, "form.kiosk-survey .errors li"):
            box = line.find_element(By.XPATH, "ancestor::*[@id][1]")
            errors[str(box.get_attribute("id"))] = str(line.text)
        return errors

    def answer_and_send(self, nps: int, csat: int) -> None:
        self.choose("nps", nps)
        self.choose("csat", csat)
        self.send_and_start_over()

    def send_and_start_over(self) -> None:
        """Press Send, see the thank-you screen, tap "Next customer": the form starts over
        for the next shopper, empty."""
        self.driver.find_element(*SEND).click()
        self._until(ec.visibility_of_element_located(THANKS), "no thank-you screen")
        self.driver.find_element(*NEXT).click()
        self._until(ec.visibility_of_element_located(SEND), "the survey did not start over")
        self._until(
            lambda d: not d.find_elements(By.CSS_SELECTOR, "form.kiosk-survey input:checked"),
            "the next shopper's form is not empty",
        )

    def reload(self) -> None:
        """The tablet reloads the page (a restart, a power cut)."""
        self.driver.execute_script("window.journeyOldPage = true;")
        self.driver.refresh()
        self._new_page("reloading")

    # -- the badge ---------------------------------------------------------------------------

    def badge(self) -> str:
        return str(self.driver.find_element(*BADGE).text)

    def wait_for_badge(self, state: str, text: str = "") -> str:
        """Wait until the badge is in ``state`` (waiting, offline, sent) saying ``text``."""
        self._until(
            lambda d: (
                d.find_element(*BADGE).get_attribute("data-state") == state
                and text in d.find_element(*BADGE).text
            ),
            f"the badge never said {text!r} ({state}); it says {self.badge()!r}",
        )
        return self.badge()
