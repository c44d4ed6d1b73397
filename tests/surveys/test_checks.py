"""The checks of a survey draft: one test per problem, the time estimate and its warning,
and the property that a draft with no problems always parses."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.checks import ProblemCode, WarningCode, check_draft
from surveys.loader import LIBRARY, DefinitionError, parse_definition, read_yaml
from surveys.timing import TARGET_SECONDS, estimate_seconds


def text(zh: str = "中文", en: str = "English") -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


def survey() -> dict[str, Any]:
    """A small valid survey asking every kind, with conditions."""
    return {
        "key": "seasonal",
        "title": text("调查", "Survey"),
        "intro": text("你好", "Hello"),
        "thanks": text("谢谢", "Thanks"),
        "consent": text("同意", "I agree"),
        "groups": [{"key": "service", "text": text("服务", "Service")}],
        "questions": [
            {"key": "nps", "kind": "scale", "min": 0, "max": 10, "text": text()},
            {"key": "csat", "kind": "scale", "min": 1, "max": 5, "text": text()},
            {"key": "checkout", "kind": "boolean", "text": text(), "group": "service"},
            {
                "key": "paid_with",
                "kind": "choice",
                "text": text(),
                "choices": [{"key": "cash", "text": text()}, {"key": "card", "text": text()}],
                "other": True,
            },
            {
                "key": "used",
                "kind": "multiple",
                "text": text(),
                "choices": [{"key": "self_checkout", "text": text()}],
                "show_if": {
                    "any": [
                        {"question": "csat", "op": "le", "value": 2},
                        {"question": "checkout", "op": "eq", "value": True},
                        {"question": "paid_with", "op": "in", "values": ["card", "other"]},
                        {"store_format": ["convenience"]},
                    ]
                },
            },
            {"key": "why", "kind": "short_text", "max_length": 200, "text": text()},
        ],
    }


def codes(document: Any) -> set[ProblemCode]:
    return {problem.code for problem in check_draft(document).problems}


def problem(document: Any, code: ProblemCode) -> Any:
    found = [p for p in check_draft(document).problems if p.code is code]
    assert found, f"no {code} in {check_draft(document).problems}"
    return found[0]


def question(document: dict[str, Any], key: str) -> dict[str, Any]:
    return next(q for q in document["questions"] if q["key"] == key)


def test_a_valid_survey_and_the_receipt_survey_have_no_problems():
    assert check_draft(survey()).ok
    parse_definition(survey())
    receipt = check_draft(read_yaml(LIBRARY / "receipt.yaml"))
    assert receipt.ok and receipt.problems == ()


def test_every_problem_is_listed_at_once():
    document = survey()
    document["title"]["en"] = ""
    question(document, "why").pop("max_length")
    question(document, "paid_with")["choices"] = []
    assert {
        ProblemCode.MISSING_TRANSLATION,
        ProblemCode.MISSING_MAX_LENGTH,
        ProblemCode.EMPTY_CHOICES,
    } <= codes(document)


def test_a_missing_translation_names_the_field_and_the_language():
    document = survey()
    question(document, "checkout")["text"]["zh_CN"] = "  "
    question(document, "paid_with")["choices"][1]["text"].pop("en")
    found = [
        (p.question, p.field, p.language, p.choice)
        for p in check_draft(document).problems
        if p.code is ProblemCode.MISSING_TRANSLATION
    ]
    assert found == [("checkout", "text", "zh_CN", None), ("paid_with", "choice", "en", "card")]


def test_a_missing_survey_text_lacks_both_languages():
    document = survey()
    del document["thanks"]
    found = [(p.field, p.language) for p in check_draft(document).problems]
    assert found == [("thanks", "zh_CN"), ("thanks", "en")]


def test_an_unknown_language_is_named():
    document = survey()
    document["intro"]["fr"] = "Bonjour"
    assert problem(document, ProblemCode.UNKNOWN_LANGUAGE).value == "fr"


def test_duplicate_question_keys():
    document = survey()
    document["questions"].append(copy.deepcopy(question(document, "why")))
    assert problem(document, ProblemCode.DUPLICATE_QUESTION_KEY).question == "why"


def test_duplicate_choice_keys():
    document = survey()
    question(document, "paid_with")["choices"].append({"key": "cash", "text": text()})
    found = problem(document, ProblemCode.DUPLICATE_CHOICE_KEY)
    assert (found.question, found.choice) == ("paid_with", "cash")


@pytest.mark.parametrize("key", ["Why", "2why", "why-not", "", "x" * 49])
def test_invalid_question_keys(key):
    document = survey()
    question(document, "why")["key"] = key
    assert ProblemCode.INVALID_QUESTION_KEY in codes(document)


def test_invalid_choice_keys():
    document = survey()
    question(document, "paid_with")["choices"][0]["key"] = "Cash!"
    assert problem(document, ProblemCode.INVALID_CHOICE_KEY).choice == "Cash!"


def test_a_condition_on_a_later_question():
    document = survey()
    rules = question(document, "checkout").setdefault("show_if", {"all": []})["all"]
    rules.append({"question": "why", "op": "in", "value": "x"})
    found = problem(document, ProblemCode.CONDITION_NOT_EARLIER)
    assert (found.question, found.target) == ("checkout", "why")


def test_a_condition_on_the_question_itself():
    document = survey()
    question(document, "used")["show_if"]["any"].append(
        {"question": "used", "op": "in", "values": ["self_checkout"]}
    )
    assert problem(document, ProblemCode.CONDITION_NOT_EARLIER).target == "used"


def test_a_condition_on_a_question_the_survey_does_not_ask():
    document = survey()
    question(document, "used")["show_if"]["any"][0]["question"] = "gone"
    assert problem(document, ProblemCode.CONDITION_UNKNOWN_QUESTION).target == "gone"


@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        ({"question": "why", "op": "eq", "value": 1}, "short_text"),
        ({"question": "csat", "op": "in", "values": ["a"]}, "scale"),
        ({"question": "checkout", "op": "le", "value": 1}, "boolean"),
        ({"question": "paid_with", "op": "ge", "value": 1}, "choice"),
    ],
)
def test_a_condition_on_a_kind_it_cannot_compare(rule, kind):
    document = survey()
    document["questions"].append(
        {"key": "late", "kind": "boolean", "text": text(), "show_if": {"all": [rule]}}
    )
    found = problem(document, ProblemCode.CONDITION_KIND)
    assert (found.question, found.target, found.value) == ("late", rule["question"], kind)


def test_a_condition_naming_a_missing_choice():
    document = survey()
    question(document, "used")["show_if"]["any"][2]["values"] = ["card", "cheque"]
    found = problem(document, ProblemCode.CONDITION_MISSING_CHOICE)
    assert (found.question, found.target, found.choice) == ("used", "paid_with", "cheque")


def test_other_is_a_choice_only_when_offered():
    document = survey()
    question(document, "paid_with")["other"] = False
    assert problem(document, ProblemCode.CONDITION_MISSING_CHOICE).choice == "other"


@pytest.mark.parametrize(
    "rule",
    [
        {"question": "csat", "op": "le", "value": 6},
        {"question": "csat", "op": "le", "value": True},
        {"question": "checkout", "op": "eq", "value": 1},
        {"question": "csat", "op": "le"},
        {"question": "csat", "op": "le", "value": "2"},
    ],
)
def test_a_condition_value_that_does_not_fit(rule):
    document = survey()
    question(document, "used")["show_if"]["any"][0] = rule
    assert problem(document, ProblemCode.CONDITION_VALUE).question == "used"


@pytest.mark.parametrize(
    "show_if",
    [
        {"all": []},
        {"some": [{"store_format": ["convenience"]}]},
        {"all": [{"store_format": []}]},
        {"all": [{"question": "csat", "op": "about", "value": 1}]},
        {"all": ["csat"]},
        [],
    ],
)
def test_a_condition_that_is_not_a_condition(show_if):
    document = survey()
    question(document, "used")["show_if"] = show_if
    assert problem(document, ProblemCode.CONDITION_INVALID).question == "used"


def test_an_empty_choice_list():
    document = survey()
    question(document, "used")["choices"] = []
    assert problem(document, ProblemCode.EMPTY_CHOICES).question == "used"


@pytest.mark.parametrize("max_length", [None, 0, -5, "200"])
def test_a_text_question_without_max_length(max_length):
    document = survey()
    question(document, "why")["max_length"] = max_length
    assert problem(document, ProblemCode.MISSING_MAX_LENGTH).question == "why"


def test_an_unknown_kind():
    document = survey()
    question(document, "why")["kind"] = "slider"
    assert problem(document, ProblemCode.UNKNOWN_KIND).value == "slider"


def test_a_scale_needs_whole_numbers_in_order():
    document = survey()
    document["questions"].append(
        {"key": "mood", "kind": "scale", "min": 5, "max": 1, "text": text()}
    )
    assert problem(document, ProblemCode.INVALID_SCALE).question == "mood"


def test_a_standard_question_keeps_its_shape():
    document = survey()
    question(document, "nps")["max"] = 5
    assert problem(document, ProblemCode.STANDARD_SHAPE).question == "nps"


@pytest.mark.parametrize("core", ["nps", "csat"])
def test_a_scoring_question_cannot_go(core):
    document = survey()
    document["questions"] = [q for q in document["questions"] if q["key"] != core]
    document["questions"][-1]["show_if"] = None
    assert problem(document, ProblemCode.MISSING_CORE).question == core


def test_other_offered_by_a_question_that_is_not_a_choice():
    document = survey()
    question(document, "why")["other"] = True
    assert problem(document, ProblemCode.MISPLACED_OTHER).question == "why"
    document = survey()
    question(document, "paid_with")["choices"].append({"key": "other", "text": text()})
    assert problem(document, ProblemCode.MISPLACED_OTHER).question == "paid_with"


def test_an_unknown_group():
    document = survey()
    question(document, "why")["group"] = "nowhere"
    assert problem(document, ProblemCode.UNKNOWN_GROUP).value == "nowhere"


def test_no_questions():
    document = survey()
    document["questions"] = []
    assert ProblemCode.NO_QUESTIONS in codes(document)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(groups=None),
        lambda d: d.update(key=""),
        lambda d: d["questions"].append("nps"),
        lambda d: d["questions"][3].update(choices=None),
        lambda d: d["questions"][3]["choices"].append(["x"]),
        lambda d: d.update(intro="hello"),
        lambda d: d.update(extra={1, 2}),
    ],
)
def test_a_malformed_part(mutate):
    document = survey()
    mutate(document)
    assert ProblemCode.MALFORMED in codes(document)


def test_a_document_that_is_not_a_mapping():
    assert codes(["nps"]) == {ProblemCode.MALFORMED}


# -- the estimate -----------------------------------------------------------------------------


def test_the_estimate_takes_the_slower_language_and_grows_with_reading():
    document = survey()
    short = estimate_seconds(document)
    question(document, "why")["text"]["en"] = "Why? " * 60
    longer = estimate_seconds(document)
    assert dict(longer.by_language)["en"] > dict(short.by_language)["en"]
    assert dict(longer.by_language)["zh_CN"] == dict(short.by_language)["zh_CN"]
    assert longer.seconds == max(dict(longer.by_language).values())


def test_conditional_questions_are_counted_and_said():
    estimate = estimate_seconds(survey())
    assert estimate.conditional_questions == 1
    assert 0 < estimate.conditional_seconds < estimate.seconds


def test_a_required_long_text_takes_longer_than_an_optional_one():
    document = survey()
    optional = estimate_seconds(document).seconds
    question(document, "why").update(kind="text", required=True, max_length=2000)
    assert estimate_seconds(document).seconds >= optional + 25


def test_a_survey_over_a_minute_is_warned_about_but_may_still_be_published():
    document = survey()
    assert check_draft(document).warnings == ()
    wording = text("您对本店的这一方面满意吗？", "How satisfied are you with this part of it?")
    for n in range(10):
        document["questions"].append(
            {"key": f"extra_{n}", "kind": "scale", "min": 1, "max": 5, "text": wording}
        )
    result = check_draft(document)
    (warning,) = result.warnings
    assert warning.code is WarningCode.LONG_SURVEY
    assert warning.seconds > TARGET_SECONDS == warning.limit
    assert result.ok


def test_a_broken_document_still_gets_an_estimate():
    document = survey()
    document["questions"].append("nonsense")
    document["groups"] = [{"key": ["x"]}]
    assert estimate_seconds(document).seconds > 0
    assert estimate_seconds(None).seconds == 0


# -- checks and parsing agree ------------------------------------------------------------------

KEYS = ["nps", "csat", "comment", "problem", "why", "paid_with", "used", "Bad", "", 7, None]
CHOICE_KEYS = ["cash", "card", "other", "Bad!", "", None]
VALUES = [0, 1, 2, 5, 10, 11, True, False, "cash", "card", "other", "x", 2.5, None]
texts = st.one_of(
    st.just(text()),
    st.just(text()),
    st.fixed_dictionaries({"zh_CN": st.sampled_from(["中", "", " ", 3])}),
    st.just({"zh_CN": "中", "en": "e", "fr": "f"}),
    st.sampled_from([None, "text", ["x"], {}]),
)
rules = st.one_of(
    st.fixed_dictionaries(
        {"store_format": st.one_of(st.lists(st.sampled_from(["convenience", 4]), max_size=2))}
    ),
    st.fixed_dictionaries(
        {
            "question": st.sampled_from(KEYS),
            "op": st.sampled_from(["le", "ge", "eq", "in", "near", None]),
        },
        optional={
            "value": st.sampled_from(VALUES),
            "values": st.one_of(st.lists(st.sampled_from(VALUES), max_size=3), st.none()),
        },
    ),
    st.sampled_from(["csat", None]),
)
conditions = st.one_of(
    st.none(),
    st.none(),
    st.dictionaries(
        st.sampled_from(["all", "any", "some"]), st.lists(rules, max_size=3), min_size=1
    ),
    st.just([]),
)
choices = st.lists(
    st.one_of(
        st.fixed_dictionaries({"key": st.sampled_from(CHOICE_KEYS), "text": texts}),
        st.just("cash"),
    ),
    max_size=3,
)
questions = st.fixed_dictionaries(
    {
        "key": st.sampled_from(KEYS),
        "kind": st.sampled_from(
            ["scale", "boolean", "choice", "multiple", "short_text", "text", "contact", "dial"]
        ),
        "text": texts,
    },
    optional={
        "min": st.sampled_from([0, 1, 5, True, None, "0"]),
        "max": st.sampled_from([5, 10, 1, None]),
        "choices": st.one_of(choices, st.none()),
        "other": st.booleans(),
        "max_length": st.sampled_from([200, 0, None, "200", True]),
        "group": st.sampled_from(["service", "nowhere", None, 3, ["service"]]),
        "help": texts,
        "low_label": texts,
        "show_if": conditions,
        "required": st.booleans(),
    },
)
documents = st.fixed_dictionaries(
    {
        "key": st.sampled_from(["seasonal", "", None]),
        "title": texts,
        "intro": texts,
        "thanks": texts,
        "consent": texts,
        "questions": st.one_of(st.lists(questions, max_size=7), st.none()),
    },
    optional={
        "groups": st.one_of(
            st.just([{"key": "service", "text": text()}]),
            st.lists(st.fixed_dictionaries({"key": st.sampled_from(["service", "", 3])})),
            st.none(),
        )
    },
)


def parses(document: Any) -> bool:
    try:
        parse_definition(document)
    except DefinitionError:
        return False
    return True


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_a_draft_the_checks_pass_always_parses(document):
    result = check_draft(document)
    if result.ok:
        assert parses(document), document


GOOD_TEXT = text()
some_texts = st.sampled_from([GOOD_TEXT] * 30 + [{"zh_CN": "中", "en": ""}, {"en": "e"}])


@st.composite
def custom_questions(draw: st.DrawFn, key: str) -> dict[str, Any]:
    """A custom question of a random kind, its parts mostly right."""
    kind = draw(st.sampled_from(["scale", "boolean", "choice", "multiple", "short_text", "text"]))
    found: dict[str, Any] = {"key": key, "kind": kind, "text": draw(some_texts)}
    if kind == "scale":
        low, high = draw(st.sampled_from([(1, 5), (0, 10), (1, 5), (1, 7), (5, 1)]))
        found.update(min=low, max=high)
    if kind in ("choice", "multiple"):
        keys = draw(st.lists(st.sampled_from(["a", "b", "c", "other"]), max_size=3, unique=True))
        if draw(st.integers(0, 5)) == 0:
            keys.append(draw(st.sampled_from(["a", "B"])))
        found["choices"] = [{"key": k, "text": draw(some_texts)} for k in keys]
        found["other"] = draw(st.booleans())
    if kind in ("short_text", "text"):
        found["max_length"] = draw(st.sampled_from([200, 2000, 200, 500, None]))
    if draw(st.booleans()):
        found["help"] = draw(some_texts)
    if draw(st.integers(0, 5)) == 0:
        found["group"] = draw(st.sampled_from(["service", "nowhere"]))
    return found


def fitting_rule(target: dict[str, Any]) -> dict[str, Any]:
    """A rule that fits the question it looks at (as far as that question is right)."""
    kind = target.get("kind")
    if kind == "scale":
        return {"question": target["key"], "op": "le", "value": target.get("min", 1)}
    if kind in ("choice", "multiple"):
        keys = [c["key"] for c in target.get("choices", [])] or ["a"]
        return {"question": target["key"], "op": "in", "values": keys[:1]}
    return {"question": target["key"], "op": "eq", "value": True}


@st.composite
def answer_rules(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """Mostly a rule that fits an earlier question; sometimes any rule on any key."""
    if earlier and draw(st.integers(0, 3)):
        return fitting_rule(draw(st.sampled_from(earlier)))
    op = draw(st.sampled_from(["le", "ge", "eq", "in"]))
    value = draw(
        st.sampled_from([1, 2, 3, 9, 10, 11, True, False, "a", "b", "other"])
        if op != "in"
        else st.lists(st.sampled_from(["a", "b", "c", "other"]), min_size=1, max_size=2)
    )
    return {
        "question": draw(st.sampled_from(["nps", "csat", "q1", "q2", "gone"])),
        "op": op,
        **({"values": value} if isinstance(value, list) else {"value": value}),
    }


@st.composite
def near_valid_surveys(draw: st.DrawFn) -> dict[str, Any]:
    """A survey built of mostly right parts: the scoring questions somewhere, custom
    questions of every kind, conditions on earlier (sometimes later, or missing) questions."""
    document = survey()
    keys = draw(st.lists(st.sampled_from(["q1", "q2", "q3", "q4", "q5"]), max_size=5, unique=True))
    if draw(st.integers(0, 5)) == 0:
        keys.append(draw(st.sampled_from(["q1", "comment", "Bad"])))
    core = [copy.deepcopy(question(document, "nps")), copy.deepcopy(question(document, "csat"))]
    asked = draw(st.permutations(core + [draw(custom_questions(k)) for k in keys]))
    for position, item in enumerate(asked):
        # Now and then on a scoring question too, which is refused (always shown).
        core_ok = item["key"] not in ("nps", "csat") or draw(st.integers(0, 9)) == 0
        if position and core_ok and draw(st.integers(0, 2)) == 0:
            rules = draw(st.lists(answer_rules(asked[:position]), min_size=1, max_size=2))
            if draw(st.booleans()):
                rules.append({"store_format": ["convenience"]})
            item["show_if"] = {draw(st.sampled_from(["all", "any"])): rules}
    document["questions"] = asked
    return document


def test_the_generated_surveys_are_often_valid():
    # Otherwise the properties below would hold only vacuously.
    examples: list[bool] = []

    @settings(max_examples=300, database=None)
    @given(near_valid_surveys())
    def collect(document: dict[str, Any]) -> None:
        examples.append(check_draft(document).ok)

    collect()
    assert sum(examples) > len(examples) / 5


@settings(max_examples=800, deadline=None)
@given(near_valid_surveys())
def test_a_near_valid_draft_the_checks_pass_always_parses(document):
    assert check_draft(document).ok == parses(document), check_draft(document).problems


@settings(max_examples=600, deadline=None)
@given(documents | near_valid_surveys())
def test_the_checks_refuse_exactly_what_parsing_refuses(document):
    # Whatever parsing refuses (with its message, or by tripping over the shape), the
    # checks refuse too, and the other way round.
    try:
        parse_definition(document)
        parsed = True
    except Exception:
        parsed = False
    assert check_draft(document).ok == parsed, (document, check_draft(document).problems)


def test_a_scoring_question_is_always_shown():
    document = survey()
    question(document, "csat")["show_if"] = {"any": [{"store_format": ["convenience"]}]}
    assert codes(document) == {ProblemCode.CORE_CONDITION}
    with pytest.raises(DefinitionError, match="always shown"):
        parse_definition(document)


def test_a_standard_choice_question_offers_no_other():
    """The problem category's answer is a typed column: "other" text would be lost."""
    document = survey()
    document["questions"].append(
        {
            "key": "problem_category",
            "kind": "choice",
            "text": text(),
            "choices": [{"key": "price", "text": text()}],
            "other": True,
        }
    )
    assert ProblemCode.MISPLACED_OTHER in codes(document)
    with pytest.raises(DefinitionError, match="custom choice question only"):
        parse_definition(document)
