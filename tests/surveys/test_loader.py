"""Survey definitions: the built-in receipt survey, and what makes a file invalid."""

from __future__ import annotations

import copy

import pytest
import yaml

from surveys.definitions import QuestionKind
from surveys.loader import LIBRARY, DefinitionError, parse_definition, receipt_survey


def raw():
    return yaml.safe_load((LIBRARY / "receipt.yaml").read_text(encoding="utf-8"))


def test_the_receipt_survey_asks_what_the_issue_lists():
    survey = receipt_survey()
    kinds = {q.key: q.kind for q in survey.questions}
    assert kinds["nps"] is QuestionKind.SCALE
    nps = survey.question("nps")
    assert (nps.minimum, nps.maximum, nps.required) == (0, 10, True)
    csat = survey.question("csat")
    assert (csat.minimum, csat.maximum, csat.required) == (1, 5, True)
    ratings = [q for q in survey.questions if q.group == "service"]
    assert len(ratings) == 5 and not any(q.required for q in ratings)
    assert survey.question("problem_category").choice_keys() == (
        "product_quality",
        "service_attitude",
        "checkout_wait",
        "returns_exchange",
        "delivery",
        "price",
        "other",
    )
    assert survey.question("comment").max_length == 2000
    assert all(q.text.zh_CN and q.text.en for q in survey.questions)


def test_the_content_hash_changes_with_any_wording_and_only_then():
    same = parse_definition(raw())
    assert same.content_hash == receipt_survey().content_hash
    changed = raw()
    changed["questions"][0]["text"]["en"] += "!"
    assert parse_definition(changed).content_hash != same.content_hash


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["title"].pop("zh_CN"), "title"),
        (lambda d: d["questions"][0].update(kind="slider"), "unknown kind"),
        (lambda d: d["questions"][0].update(min=10, max=0), "min < max"),
        (lambda d: d["questions"].append(copy.deepcopy(d["questions"][0])), "unique"),
        (lambda d: d["questions"][2].update(group="nowhere"), "unknown group"),
        (lambda d: d["questions"][-2].pop("max_length"), "max_length"),
        (lambda d: d.update(questions=[]), "non-empty list"),
    ],
)
def test_invalid_definitions_fail_when_loaded(mutate, message):
    data = raw()
    mutate(data)
    with pytest.raises(DefinitionError, match=message):
        parse_definition(data)
