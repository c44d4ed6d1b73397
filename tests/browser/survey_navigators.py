"""Navigators for the survey pages: the survey owner (the CX team) at the editor, the
preview, publishing and targeting; a shopper answering a receipt's survey on a phone; a
reader of the custom-question results on a store page. As in `desk_navigators.py`, every
selector lives here, links are found by where they lead, and every action that loads a
page waits for a new document and then for an element of the expected page."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec

from tests.browser.desk_navigators import HEADER, DeskNavigator, Locator

DRAFT_QUESTIONS = (By.ID, "questions")
QUESTION_FORM = (By.ID, "question-form")
RULES = (By.ID, "rules")
RULE_FORM = (By.ID, "rule-form")
PREVIEW_FRAMES = (By.CSS_SELECTOR, ".preview-languages iframe")
SURVEY_FORM = (By.CSS_SELECTOR, "form.survey")
THANKS = (By.CSS_SELECTOR, "main section.card.notice.thanks")
CUSTOM_QUESTIONS = (By.ID, "custom-questions")


@dataclass(frozen=True, slots=True)
class Choice:
    """A choice of a choice question, as the editor's row takes it."""

    key: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A "show only when" rule on an earlier answer, by the words the form shows."""

    #: The earlier question, by (part of) its text in the page's language.
    subject: str
    #: The comparison in words ("is at most").
    op: str
    number: int


def _survey_question(key: str) -> Locator:
    return (By.ID, f"question-{key}")


def _option_label(name: str, value: object) -> Locator:
    """The label of an option (radio or tick box) on the shopper's form: what a thumb taps
    (scale inputs are transparent and laid over their number)."""
    return (By.CSS_SELECTOR, f'label.option:has(input[name="{name}"][value="{value}"])')


def _option_input(name: str, value: object) -> Locator:
    return (By.CSS_SELECTOR, f'input[name="{name}"][value="{value}"]')


class SurveyForm(DeskNavigator):
    """Answering a survey form: the shopper's page, or one language of the preview."""

    def tap(self, name: str, value: object) -> None:
        """Tap an option's label; wait until its input is checked."""
        label = self.driver.find_element(*_option_label(name, value))
        box = self.driver.find_element(*_option_input(name, value))
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", label)
        label.click()
        self._until(lambda _: box.is_selected(), lambda: f"{name}={value} was not chosen")

    def question_shown(self, key: str) -> bool:
        found = self.driver.find_elements(*_survey_question(key))
        return bool(found) and bool(found[0].is_displayed())

    def asks(self, key: str) -> bool:
        """Whether the form has the question at all (shown or not)."""
        return bool(self.driver.find_elements(*_survey_question(key)))

    def wait_shown(self, key: str) -> None:
        self._until(
            ec.visibility_of_element_located(_survey_question(key)),
            lambda: f"question {key} did not appear on {self.driver.current_url}",
        )

    def wait_hidden(self, key: str) -> None:
        self._until(
            ec.invisibility_of_element_located(_survey_question(key)),
            lambda: f"question {key} stayed on {self.driver.current_url}",
        )

    def question_text(self, key: str) -> str:
        return str(self.driver.find_element(*_survey_question(key)).text)

    def inner_width(self) -> int:
        """The width the page is laid out in (CSS pixels): a phone's, or the frame's."""
        return int(self.driver.execute_script("return window.innerWidth"))


class SurveyOwnerNavigator(SurveyForm):
    """The survey owner (CX team or an administrator)."""

    def open_surveys(self) -> None:
        """ "Surveys" in the header."""
        self.follow("/surveys", within=HEADER, landed=(By.ID, "new-survey"))

    def open_draft(self, key: str) -> None:
        """On the survey list: the survey's title opens its draft page."""
        self.follow(f"/surveys/{key}/draft", landed=(By.ID, "latest-version"))

    def create_survey(self, key: str, *, copy_of_default: bool = True) -> None:
        """On the survey list: "New survey", its key, where it starts; lands on its draft."""
        self.click(self.driver.find_element(By.ID, "new-survey"), (By.ID, "new-survey-form"))
        self.type_into("key", key)
        start = "copy" if copy_of_default else "minimal"
        self._tick_value("start", start)
        self.submit("#new-survey-form", DRAFT_QUESTIONS)

    def add_choice_question(
        self,
        key: str,
        text: tuple[str, str],
        choices: Sequence[Choice],
        *,
        kind: str,
        other: bool,
        rule: Rule,
    ) -> None:
        """On the draft page: "Add a question", fill the question form (``text`` in Chinese
        and English, ``kind`` by its words), "More rows" while the choices need them, then
        "Save the question"; lands on the draft with the question in its list."""
        self.click(self.driver.find_element(By.ID, "add-question"), QUESTION_FORM)
        self.type_into("key", key)
        self.choose("kind", kind)
        self.type_into("text_zh", text[0])
        self.type_into("text_en", text[1])
        while len(self.driver.find_elements(By.CSS_SELECTOR, "#choices .editor-row")) < len(
            choices
        ):
            more = self.driver.find_element(By.CSS_SELECTOR, 'button[name="more_rows"]')
            self.click(more, QUESTION_FORM)
        for row, choice in enumerate(choices):
            self.type_into(f"choices-{row}-key", choice.key)
            self.type_into(f"choices-{row}-text_zh", choice.zh)
            self.type_into(f"choices-{row}-text_en", choice.en)
        if other:
            self._tick(self.driver.find_element(By.ID, "other"))
        self.choose("rules-0-subject", rule.subject)
        self.choose("rules-0-op", rule.op)
        self.type_into("rules-0-number", str(rule.number))
        save = self.driver.find_element(By.CSS_SELECTOR, "#question-form button.primary")
        self.click(save, (By.ID, f"q-{key}"))

    def retitle(self, key: str, zh: str, en: str) -> None:
        """On the draft page: "Edit the survey texts", a new title in both languages, save."""
        self.follow(f"/surveys/{key}/draft/texts", within="#texts", landed=(By.ID, "title_zh"))
        self.type_into("title_zh", zh)
        self.type_into("title_en", en)
        self.submit("#texts-form", DRAFT_QUESTIONS)

    def draft_question(self, key: str) -> str:
        """The words of a question's card in the draft's list."""
        return self.text_of(f"#questions #q-{key}")

    def draft_question_keys(self) -> list[str]:
        cards = self.driver.find_elements(By.CSS_SELECTOR, "#questions li[id^=q-]")
        return [str(c.get_attribute("id")).removeprefix("q-") for c in cards]

    def checks(self) -> str:
        return self.text_of("#checks")

    # -- the preview ---------------------------------------------------------------------------

    def open_preview(self) -> None:
        """The draft page's "Preview on a phone"; waits for both languages' frames."""
        self.click(self.driver.find_element(By.ID, "preview-link"), PREVIEW_FRAMES)

    def preview_frame_width(self, lang: str) -> int:
        frame = self._frame(lang)
        return int(self.driver.execute_script("return arguments[0].clientWidth", frame))

    def _frame(self, lang: str) -> WebElement:
        frame: WebElement = self.driver.find_element(
            By.CSS_SELECTOR, f'.preview-languages iframe[lang="{lang}"]'
        )
        return frame

    @contextmanager
    def in_preview(self, lang: str) -> Iterator[SurveyForm]:
        """Inside the preview's frame of ``lang`` ("zh-CN" or "en"), once its survey form
        is there; back on the preview page afterwards."""
        self.driver.switch_to.frame(self._frame(lang))
        try:
            self._until(
                lambda d: (
                    d.execute_script("return document.readyState === 'complete'")
                    and d.find_elements(*SURVEY_FORM)
                ),
                lambda: f"the {lang} preview frame shows no survey:\n{self.page_text()[:800]}",
            )
            yield SurveyForm(self.driver, self.base_url)
        finally:
            self.driver.switch_to.default_content()

    # -- publishing and targeting ---------------------------------------------------------------

    def publish(self) -> None:
        """On the draft page: "Publish version N"; lands on the draft page again."""
        self.submit("#publish-form", (By.ID, "latest-version"))

    def latest_version(self) -> str:
        return self.text_of("#latest-version")

    def open_targeting(self) -> None:
        """The draft page's "Targeting" link."""
        self.follow("/surveys/targeting", within="main p.meta", landed=RULES)

    def target_format(self, survey: str, store_format: str) -> None:
        """On the rule list: "Add a rule" for the survey (by its words) at the stores of
        one format (by its words), with the survey's latest version; lands on the list."""
        self.click(self.driver.find_element(By.ID, "add-rule"), RULE_FORM)
        self.choose("survey", survey)
        self._tick_value("scope", "format")
        self.choose("store_format", store_format)
        self._tick_value("mode", "latest")
        self.submit("#rule-form", RULES)

    def rules(self) -> list[str]:
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#rules tbody tr[id^=rule-]")
        return [str(r.text) for r in rows]

    def _tick_value(self, name: str, value: str) -> None:
        self._tick(self.driver.find_element(*_option_input(name, value)))

    def _tick(self, box: WebElement) -> None:
        """Tick a radio button or a tick box by its label, as a person does."""
        if box.is_selected():
            return
        label = self.driver.find_element(By.CSS_SELECTOR, f'label[for="{box.get_attribute("id")}"]')
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", label)
        label.click()
        self._until(lambda _: box.is_selected(), lambda: f"{box.get_attribute('id')} not ticked")


class ReceiptShopper(SurveyForm):
    """A shopper who scanned a receipt's code with a phone."""

    def open_receipt(self, url: str) -> None:
        self.open(url, SURVEY_FORM)

    def tick(self, name: str, value: object) -> None:
        self.tap(name, value)

    def write(self, field_id: str, text: str) -> None:
        self.type_into(field_id, text)

    def send(self) -> None:
        """ "Send"; lands on the thank-you page."""
        self.submit("form.survey", THANKS)

    def validation_code(self) -> str:
        return self.text_of("#validation-code").strip()

    def store_name(self) -> str:
        return self.text_of("main .store-name")


@dataclass(frozen=True, slots=True)
class OptionCount:
    label: str
    count: int


class StoreResults(DeskNavigator):
    """Someone who reads a store's page: the custom-question results."""

    def open_store_from_home(self, code: str) -> None:
        """Home → "Today in your stores": the store's name opens its page."""
        self.follow("/home", within=HEADER, landed=(By.ID, f"today-{code}"))
        self.follow(f"/stores/{code}", within=f"#today-{code}", landed=CUSTOM_QUESTIONS)

    def custom_question(self, key: str) -> tuple[str, list[OptionCount]]:
        """A custom question's caption (its text and n) and its options with their counts."""
        table = f"#custom-questions #question-{key} table"
        caption = self.text_of(f"{table} caption")
        rows = self.driver.find_elements(By.CSS_SELECTOR, f"{table} tbody tr")
        counted = []
        for row in rows:
            cells = row.find_elements(By.TAG_NAME, "td")
            counted.append(OptionCount(str(cells[0].text), int(cells[1].text)))
        return caption, counted

    def custom_section(self) -> str:
        return self.text_of("#custom-questions")
