"""How long a survey takes to answer: a simple additive model, read from a draft
document (`estimate_seconds`).

- **Reading**: every text a shopper may read (the title and intro once, each group heading
  once, each question's text and help, its scale's end labels, its choices' texts) at
  `READING_RATE` characters per second in its language: 6.5 for Chinese (390 characters
  a minute, inside the 300-700 usually reported for native silent reading; reading aloud is
  about 255, Trauzettel-Klosinski & Dietz 2012) and 20 for English (about 210 words a
  minute of 5.7 characters with the space, a little under the 238 words a minute of adult
  silent reading, Brysbaert 2019: a phone, a shop, divided attention). The survey is timed
  in each language and the slower one is kept.
- **Answering**: `ANSWER_SECONDS` per question by kind (a tap takes 1.5-3 s, a scale with
  more points a little longer; typing a short text 10 s, a long one 30 s, opting in to be
  contacted 30 s). Optional free-text and contact questions count `OPTIONAL_TYPING_SHARE`
  of that, the share of shoppers who typically fill them in; reading them counts fully.
- **Conditional questions** (``show_if``) are counted as if shown: the estimate is the
  longest path, and says how many seconds of it only some shoppers see.

Above `TARGET_SECONDS` (60 s) the checks (`surveys.checks`) warn; a warning does not block
publishing. The built-in receipt survey comes to about 70 s, mostly
reading: its eleven questions are at the limit of a one-minute survey.

References
----------
S. Trauzettel-Klosinski, K. Dietz, "Standardized assessment of reading performance: the new
International Reading Speed Texts IReST", Invest. Ophthalmol. Vis. Sci. 53 (2012) 5452-61.
M. Brysbaert, "How many words do we read per minute? A review and meta-analysis of reading
rate", J. Mem. Lang. 109 (2019) 104047.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from surveys.definitions import QuestionKind

LANGUAGES = ("zh_CN", "en")


@dataclass(frozen=True, slots=True)
class Estimate:
    """How long the survey takes to answer, in whole seconds."""

    #: The longest path (every conditional question shown), in the slower language.
    seconds: int
    #: The part of ``seconds`` spent on questions shown only under a condition.
    conditional_seconds: int
    conditional_questions: int
    #: ``(language, seconds)`` for each language.
    by_language: tuple[tuple[str, int], ...]


#: Characters read per second in each language.
READING_RATE = {"zh_CN": 6.5, "en": 20.0}
#: Seconds to answer once read, by kind (scales: plus `SCALE_SECONDS_PER_POINT` a point).
ANSWER_SECONDS = {
    QuestionKind.SCALE: 1.5,
    QuestionKind.BOOLEAN: 1.5,
    QuestionKind.CHOICE: 2.0,
    QuestionKind.MULTIPLE: 3.0,
    QuestionKind.SHORT_TEXT: 10.0,
    QuestionKind.TEXT: 30.0,
    QuestionKind.CONTACT: 30.0,
}
SCALE_SECONDS_PER_POINT = 0.15
#: Share of shoppers who type into an optional text or contact question.
OPTIONAL_TYPING_SHARE = 0.2
#: Above this estimate the survey is flagged as long.
TARGET_SECONDS = 60


NO_TIME = Estimate(0, 0, 0, tuple((language, 0) for language in LANGUAGES))


def estimate_seconds(document: Any) -> Estimate:
    """How long a shopper takes to answer the survey (the model of the module docstring).

    Parameters
    ----------
    document : Any
        A draft document; parts too malformed to read are left out of the estimate.

    Returns
    -------
    Estimate
        Whole seconds, rounded up, in the slower language; conditional questions counted
        as shown.
    """
    if not isinstance(document, dict):
        return NO_TIME
    questions = [q for q in _list(document.get("questions")) if isinstance(q, dict)]
    headings = {
        g["key"]: g.get("text")
        for g in _list(document.get("groups"))
        if isinstance(g, dict) and isinstance(g.get("key"), str)
    }
    totals: list[tuple[str, float, float]] = []
    for language in LANGUAGES:
        rate = READING_RATE[language]
        total = _chars(document.get("title"), language) + _chars(document.get("intro"), language)
        seconds = total / rate
        conditional = 0.0
        read_headings: set[str] = set()
        for question in questions:
            spent = _question_seconds(question, language)
            group = question.get("group")
            if isinstance(group, str) and group not in read_headings:
                read_headings.add(group)
                spent += _chars(headings.get(group), language) / rate
            seconds += spent
            if question.get("show_if") is not None:
                conditional += spent
        totals.append((language, seconds, conditional))
    slowest = max(totals, key=lambda item: item[1])
    return Estimate(
        seconds=_whole(slowest[1]),
        conditional_seconds=_whole(slowest[2]),
        conditional_questions=sum(1 for q in questions if q.get("show_if") is not None),
        by_language=tuple((language, _whole(seconds)) for language, seconds, _ in totals),
    )


def _question_seconds(question: dict[str, Any], language: str) -> float:
    """Reading and answering one question in ``language``."""
    texts = [question.get(field) for field in ("text", "help", "low_label", "high_label")]
    texts += [c.get("text") for c in _list(question.get("choices")) if isinstance(c, dict)]
    reading = sum(_chars(text, language) for text in texts) / READING_RATE[language]
    kind = kind_of(question.get("kind"))
    if kind is None:
        return reading
    answering = ANSWER_SECONDS[kind]
    if kind is QuestionKind.SCALE:
        low, high = question.get("min"), question.get("max")
        if type(low) is int and type(high) is int and low < high:
            answering += SCALE_SECONDS_PER_POINT * (high - low + 1)
    if kind in (
        QuestionKind.SHORT_TEXT,
        QuestionKind.TEXT,
        QuestionKind.CONTACT,
    ) and not question.get("required"):
        answering *= OPTIONAL_TYPING_SHARE
    return reading + answering


def _chars(text: Any, language: str) -> int:
    """The characters of one language of a text (blanks collapsed); 0 when absent."""
    if not isinstance(text, dict):
        return 0
    value = text.get(language)
    return len(" ".join(value.split())) if isinstance(value, str) else 0


def kind_of(raw: Any) -> QuestionKind | None:
    """The question kind ``raw`` names; ``None`` for anything else."""
    try:
        return QuestionKind(str(raw))
    except ValueError:
        return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _whole(seconds: float) -> int:
    return int(-(-seconds // 1))
