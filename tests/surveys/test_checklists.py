"""Mystery-shop checklists (surveys.checklists): the library files, validation at load,
form parsing, completeness, JSON storage, drafts and scoring of the reference fixture
(reference/mystery-and-awards.md §1.2-1.3)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.mystery import subset_score
from portal.mystery.scoring import score_answers, scoring_input
from surveys.checklists import (
    CHECKLIST_LIBRARY,
    NA,
    Attribution,
    ChecklistAnswers,
    Critical,
    ItemAnswer,
    ItemKind,
    answers_from_json,
    answers_to_json,
    checklist_from_content,
    checklist_library,
    completeness_errors,
    earned_fraction,
    field_names,
    get_checklist,
    load_checklist,
    merge_answers,
    parse_answers,
)
from surveys.loader import DefinitionError

# The reference table (§1.2): item -> (points, na_allowed, critical).
REFERENCE_ITEMS = {
    "A1": (2, False, "none"), "A2": (1, False, "none"), "A3": (2, False, "none"),
    "A4": (3, False, "visit"), "A5": (1, True, "none"),
    "B1": (2, False, "none"), "B2": (1, False, "none"), "B3": (1, False, "none"),
    "C1": (1, True, "none"), "C2": (2, False, "none"), "C3": (1, False, "none"),
    "D1": (3, False, "none"), "D2": (2, False, "none"), "D3": (1, False, "none"),
    "D4": (1, True, "none"),
    "E1": (2, False, "none"), "E2": (1, False, "none"), "E3": (3, False, "section"),
    "E4": (1, False, "none"), "E5": (1, False, "none"), "E6": (1, False, "none"),
    "E7": (2, True, "visit"),
    "F1": (1, False, "none"), "F2": (1, False, "none"), "F3": (1, True, "none"),
}  # fmt: skip
REFERENCE_SECTIONS = [
    ("environment", 15, Attribution.NONE),
    ("greeting", 15, Attribution.OBSERVED_STAFF),
    ("needs", 15, Attribution.OBSERVED_STAFF),
    ("product", 20, Attribution.OBSERVED_STAFF),
    ("checkout", 25, Attribution.CASHIER),
    ("farewell", 10, Attribution.OBSERVED_STAFF),
]
# The worked fixture (§1.3); the timed items as seconds under their standards.
FIXTURE = {
    "A1": "yes", "A2": "no", "A3": "yes", "A4": "yes", "A5": NA,
    "B1": 12, "B2": "no", "B3": "yes",
    "C1": NA, "C2": "yes", "C3": "no",
    "D1": "yes", "D2": "yes", "D3": "no", "D4": "yes",
    "E1": 120, "E2": "yes", "E3": "yes", "E4": "no", "E5": "yes", "E6": "yes", "E7": NA,
    "F1": "yes", "F2": "no", "F3": NA,
    "F_feeling": 4,
}  # fmt: skip
COMMENT = "The staff member walked past without a word at 14:02."
NARRATIVE = "Entered at 14:00; the aisle was tidy and two staff members were restocking."


def retail():
    return get_checklist("retail-standard")


def fixture_answers(**changes: str | int | None) -> ChecklistAnswers:
    values = FIXTURE | changes
    items = {
        key: ItemAnswer(value, COMMENT if value in ("no", NA) else "")
        for key, value in values.items()
    }
    narratives = {section.key: NARRATIVE for section in retail().sections}
    return ChecklistAnswers(items=items, narratives=narratives)


def fixture_form() -> dict[str, str]:
    form = {f"item-{key}": str(value) for key, value in FIXTURE.items()}
    form |= {f"comment-{k}": COMMENT for k, v in FIXTURE.items() if v in ("no", NA)}
    form |= {f"narrative-{s.key}": NARRATIVE for s in retail().sections}
    return form


def raw_retail():
    path = CHECKLIST_LIBRARY / "retail-standard.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write(tmp_path: Path, data, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# --- the library ------------------------------------------------------------------------


def test_the_library_holds_both_checklists_sorted_and_cached():
    library = checklist_library()
    assert [d.key for d in library] == ["retail-standard", "return-complaint"]
    assert checklist_library() is library
    with pytest.raises(KeyError):
        get_checklist("no-such-checklist")


def test_retail_standard_is_the_reference_table():
    d = retail()

    assert (d.key, d.version, d.min_minutes, d.max_minutes) == ("retail-standard", 1, 5, 90)
    assert [(s.key, s.weight, s.attribution) for s in d.sections] == REFERENCE_SECTIONS
    assert all(s.narrative_min_chars == 40 for s in d.sections)
    scored = {i.key: (i.points, i.na_allowed, i.critical.value) for i in d.items if i.scored}
    assert scored == REFERENCE_ITEMS
    assert [i.key for i in d.section("checkout").items][0] == "E1"
    b1, e1 = d.item("B1"), d.item("E1")
    assert (b1.kind, b1.standard_seconds) == (ItemKind.TIME, 30)
    assert (e1.kind, e1.standard_seconds) == (ItemKind.TIME, 300)
    context = {i.key: i.kind for i in d.items if not i.scored}
    assert context == {"A_note": ItemKind.TEXT, "F_feeling": ItemKind.RATING}
    assert d.section_of("F_feeling").key == "farewell"
    assert d.section_of("A_note").key == "environment"
    assert all(i.definition is not None for i in d.items if i.scored)


def test_return_complaint_fits_its_brief():
    d = get_checklist("return-complaint")

    assert (d.version, d.min_minutes, d.max_minutes) == (1, 5, 60)
    assert sum(s.weight for s in d.sections) == 100
    assert 15 <= len(d.items) <= 25
    criticals = {i.key: i.critical for i in d.items if i.critical is not Critical.NONE}
    assert Critical.SECTION in criticals.values()
    assert Critical.VISIT in criticals.values()
    assert d.item("E1").critical is Critical.VISIT  # amount refunded correctly
    assert d.item("C4").critical is Critical.VISIT  # no rude or blaming behaviour
    assert any(i.kind is ItemKind.TIME for i in d.section("resolution").items)
    assert d.section("refund").attribution is Attribution.CASHIER


@pytest.mark.parametrize("key", ["retail-standard", "return-complaint"])
def test_every_text_is_in_both_languages(key):
    d = get_checklist(key)
    texts = [d.title, d.scenario, *(s.title for s in d.sections)]
    texts += [i.text for i in d.items] + [i.definition for i in d.items if i.definition]
    assert all(t.zh_CN.strip() and t.en.strip() for t in texts)


def test_definition_is_immutable():
    d = retail()
    with pytest.raises(AttributeError):
        d.sections[0].weight = 50  # type: ignore[misc]
    assert isinstance(d.sections, tuple) and isinstance(d.sections[0].items, tuple)


# --- scoring the reference fixture ------------------------------------------------------


def test_the_reference_fixture_scores_78_74():
    visit = score_answers(retail(), fixture_answers())

    assert visit.reported == pytest.approx(78.74, abs=0.005)
    assert visit.points_only == pytest.approx(81.82, abs=0.005)
    assert visit.section("environment").score == pytest.approx(87.5)
    staff = [s.key for s in retail().sections if s.attribution is not Attribution.NONE]
    assert subset_score(visit, staff) == pytest.approx(77.19, abs=0.005)
    assert subset_score(visit, ["checkout"]) == pytest.approx(88.89, abs=0.005)


def test_the_fixture_parsed_from_a_form_scores_the_same():
    answers, errors = parse_answers(retail(), fixture_form())
    assert errors == {}
    assert completeness_errors(retail(), answers) == {}
    assert score_answers(retail(), answers).reported == pytest.approx(78.74, abs=0.005)


OVER_STANDARD = (15 * 87.5 + 15 * 25 + 15 * 200 / 3 + 20 * 600 / 7 + 25 * 600 / 9 + 10 * 50) / 100


@pytest.mark.parametrize(
    ("changes", "reported", "auto_fail"),
    [
        ({"E3": "no"}, 56.52, False),
        ({"A4": "no"}, 0.0, True),
        # Times are judged against the standard: 30 s is still in time, 31 s is not.
        ({"B1": 30}, 78.74, False),
        # B: 1/4 = 25, E: 6/9 = 66.67, the rest as in the fixture.
        ({"B1": 31, "E1": 301}, OVER_STANDARD, False),
    ],
)
def test_fixture_variants(changes, reported, auto_fail):
    visit = score_answers(retail(), fixture_answers(**changes))
    assert visit.reported == pytest.approx(reported, abs=0.005)
    assert visit.auto_fail is auto_fail
    if auto_fail:
        assert visit.score_before_autofail == pytest.approx(65.62, abs=0.005)


def test_a_wholly_na_section_through_a_checklist_that_allows_it(tmp_path):
    # The reference's "C1, C2, C3 all N/A" variant; the library checklist rightly refuses
    # N/A on C2 and C3, so this copy allows it.
    data = raw_retail()
    for key in ("C2", "C3"):
        item(data, key)["na_allowed"] = True
    relaxed = load_checklist(write(tmp_path, data))
    visit = score_answers(relaxed, fixture_answers(C1=NA, C2=NA, C3=NA))

    assert visit.section("needs").score is None
    assert visit.reported == pytest.approx(80.87, abs=0.005)
    with pytest.raises(ValueError, match="C2"):
        score_answers(retail(), fixture_answers(C1=NA, C2=NA, C3=NA))


def test_scoring_input_leaves_out_ratings_and_text_and_maps_answers():
    sections = scoring_input(retail(), fixture_answers())

    keys = [item.key for section in sections for item in section.items]
    assert "F_feeling" not in keys and "A_note" not in keys
    assert len(keys) == 25
    environment = sections[0]
    assert (environment.key, environment.weight) == ("environment", 15.0)
    fractions = {i.key: i.earned_fraction for s in sections for i in s.items}
    assert (fractions["A1"], fractions["A2"], fractions["A5"]) == (1.0, 0.0, None)
    assert fractions["B1"] == 1.0 and fractions["E1"] == 1.0
    critical = {i.key: i.critical for s in sections for i in s.items}
    assert (critical["A4"], critical["E3"], critical["E1"]) == ("visit", "section", "none")


@pytest.mark.parametrize(
    "changes",
    [{"B2": None}, {"B2": NA}, {"B2": "maybe"}, {"E1": -1}, {"E1": "120"}, {"A1": True}],
)
def test_scoring_an_incomplete_or_invalid_report_raises(changes):
    with pytest.raises(ValueError):
        scoring_input(retail(), fixture_answers(**changes))


def test_scoring_does_not_need_comments_narratives_or_context():
    answers = fixture_answers(F_feeling=None)
    bare = ChecklistAnswers(
        items={k: ItemAnswer(a.value) for k, a in answers.items.items()}, narratives={}
    )
    assert completeness_errors(retail(), bare) != {}
    assert score_answers(retail(), bare).reported == pytest.approx(78.74, abs=0.005)


def test_earned_fraction_follows_the_checklist_rules():
    definition = retail()
    a1, a5, e1 = definition.item("A1"), definition.item("A5"), definition.item("E1")
    assert earned_fraction(definition, a1, "yes") == 1.0
    assert earned_fraction(definition, a1, "no") == 0.0
    assert earned_fraction(definition, a5, NA) is None
    assert e1.kind is ItemKind.TIME and e1.standard_seconds is not None
    assert earned_fraction(definition, e1, e1.standard_seconds) == 1.0
    assert earned_fraction(definition, e1, e1.standard_seconds + 1) == 0.0
    with pytest.raises(ValueError, match="not scored"):
        earned_fraction(definition, definition.item("F_feeling"), 4)
    with pytest.raises(ValueError, match="not answered"):
        earned_fraction(definition, a1, None)


# --- validation at load -----------------------------------------------------------------


def section(data, key):
    return next(s for s in data["sections"] if s["key"] == key)


def item(data, key):
    return next(i for s in data["sections"] for i in s["items"] if i["key"] == key)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: section(d, "greeting")["items"].append(copy.deepcopy(item(d, "A1"))),
         "item key A1 is not unique"),
        (lambda d: d["sections"].append(copy.deepcopy(section(d, "farewell"))),
         "section key farewell is not unique"),
        (lambda d: section(d, "farewell").update(weight=0), "section farewell: weight must be"),
        (lambda d: section(d, "farewell").update(weight=-10), "section farewell: weight must be"),
        (lambda d: section(d, "farewell").update(weight=11), "sum to 100, got 101"),
        (lambda d: section(d, "farewell").update(weight=10.0), "weight must be a whole number"),
        (lambda d: item(d, "A2").update(points=-1), "item A2: points must be at least 1"),
        (lambda d: item(d, "A2").update(points=0), "item A2: points must be at least 1"),
        (lambda d: item(d, "B1").update(points=0), "item B1: points must be at least 1"),
        (lambda d: item(d, "F_feeling").update(points=1), "item F_feeling: rating items"),
        (lambda d: item(d, "F_feeling").update(points=-1), "item F_feeling: points"),
        (lambda d: item(d, "B1").pop("standard_seconds"), "item B1: standard_seconds"),
        (lambda d: item(d, "B1").update(standard_seconds=0), "item B1: standard_seconds"),
        (lambda d: item(d, "A1").update(standard_seconds=30), "item A1: only time items"),
        (lambda d: item(d, "F_feeling").update(critical="visit"), "item F_feeling: only check"),
        (lambda d: item(d, "A_note").update(critical="section"), "item A_note: only check"),
        (lambda d: item(d, "A1").update(critical="store"), "item A1: critical must be one of"),
        (lambda d: item(d, "A1").update(kind="slider"), "item A1: kind must be one of"),
        (lambda d: item(d, "A1").update(na_allowed="yes"), "item A1: na_allowed"),
        (lambda d: item(d, "A1").update(na_alowed=True), "item A1: unknown field"),
        (lambda d: item(d, "A1")["text"].pop("zh_CN"), "item A1: text must give"),
        (lambda d: item(d, "A1")["definition"].update(en=""), "item A1: definition must give"),
        (lambda d: item(d, "A1")["text"].update({"zh-CN": "x"}), "item A1: text: unknown lang"),
        (lambda d: section(d, "needs")["title"].pop("en"), "section needs: title must give"),
        (lambda d: d["scenario"].pop("en"), "checklist retail-standard: scenario"),
        (lambda d: section(d, "needs").update(narrative_min_chars=-1), "narrative_min_chars"),
        (lambda d: section(d, "needs").update(attribution="manager"), "section needs: attrib"),
        (lambda d: section(d, "needs").pop("attribution"), "section needs: attribution"),
        (lambda d: section(d, "needs").update(items=[]), "section needs: items must be"),
        (lambda d: section(d, "farewell").update(items=[item(d, "F_feeling")]),
         "section farewell: a section needs at least one check or time item"),
        (lambda d: d.update(min_minutes=90), "min_minutes must be less than max_minutes"),
        (lambda d: d.update(min_minutes=0), "min_minutes must be at least 1"),
        (lambda d: d.update(version=0), "version must be at least 1"),
        (lambda d: d.update(sections=[]), "sections must be a non-empty list"),
        (lambda d: d.update(key="retail standard"), "key must be"),
        (lambda d: d.update(wave=3), "unknown field"),
        (lambda d: item(d, "A1").update(key="A 1"), "key must be"),
    ],
)  # fmt: skip
def test_each_rule_is_checked_at_load(tmp_path, mutate, message):
    data = raw_retail()
    mutate(data)
    with pytest.raises(DefinitionError, match=message) as caught:
        load_checklist(write(tmp_path, data))
    assert str(caught.value).startswith("bad.yaml: ")


@pytest.mark.parametrize("text", ["- just\n- a list\n", "key: [unclosed\n", ""])
def test_a_file_that_is_not_a_checklist_mapping_fails(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match="bad.yaml"):
        load_checklist(path)


def test_a_valid_copy_loads_from_anywhere(tmp_path):
    d = load_checklist(write(tmp_path, raw_retail(), "copy.yaml"))
    assert d == retail()


# --- digest -----------------------------------------------------------------------------


def test_digest_ignores_layout_and_comments(tmp_path):
    # safe_dump reorders keys and drops the comments: still the same content.
    assert load_checklist(write(tmp_path, raw_retail())).digest == retail().digest
    assert retail().content_hash == retail().digest
    assert json.loads(retail().content) == raw_retail()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: item(d, "A1")["text"].update(en=item(d, "A1")["text"]["en"] + "."),
        lambda d: item(d, "E3")["definition"].update(zh_CN="收银价格与价签一致。"),
        lambda d: section(d, "greeting")["title"].update(en="Welcome"),
        lambda d: d["scenario"].update(zh_CN=d["scenario"]["zh_CN"] + "！"),
        lambda d: d["title"].update(en="Retail visit"),
        lambda d: item(d, "E1").update(standard_seconds=240),
        lambda d: d.update(version=2),
    ],
)
def test_digest_changes_when_anything_changes(tmp_path, mutate):
    data = raw_retail()
    mutate(data)
    assert load_checklist(write(tmp_path, data)).digest != retail().digest


# --- forms ------------------------------------------------------------------------------


def test_field_names_follow_the_form_order():
    names = field_names(retail(), sections=["farewell"])
    assert names == (
        "item-F1", "comment-F1", "item-F2", "comment-F2", "item-F3", "comment-F3",
        "item-F_feeling", "comment-F_feeling", "narrative-farewell",
    )  # fmt: skip
    assert len(field_names(retail())) == 2 * 27 + 6
    with pytest.raises(ValueError, match="no sections"):
        field_names(retail(), sections=["lobby"])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("item-A1", "maybe", "Choose yes or no."),
        ("item-A5", "perhaps", "Choose yes, no or not applicable."),
        ("item-A1", "na", "Not applicable is not allowed for this item."),
        ("item-F_feeling", "7", "Choose a rating from 1 to 5."),
        ("item-F_feeling", "0", "Choose a rating from 1 to 5."),
        ("item-F_feeling", "great", "Choose a rating from 1 to 5."),
        ("item-F_feeling", "na", "Not applicable is not allowed for this item."),
        ("item-E1", "-5", "Enter whole seconds"),
        ("item-E1", "4.5", "Enter whole seconds"),
        ("item-E1", "4:75", "Enter whole seconds"),
        ("item-E1", "٣٠", "Enter whole seconds"),  # Arabic-Indic digits
        ("item-E1", "5401", "Longer than a whole visit may last (90 minutes)."),
        ("comment-A2", "x" * 2001, "At most 2000 characters."),
        ("narrative-greeting", "x" * 5001, "At most 5000 characters."),
    ],
)
def test_parse_reports_bad_values_and_drops_them(field, value, message):
    form = fixture_form() | {field: value}
    answers, errors = parse_answers(retail(), form)

    assert set(errors) == {field}
    assert errors[field].startswith(message)
    if field.startswith("item-"):
        assert answers.value(field.removeprefix("item-")) is None


def test_parse_normalises_what_shoppers_type():
    form = {
        "item-A1": " YES ",
        "item-A5": "N/A",
        "item-E1": "4:30",
        "item-B1": "012",
        "item-F_feeling": "5",
        "item-A_note": "  Door mat curled at the corner.\r\nSecond line.  ",
        "comment-A5": "No restroom for customers\r\n",
    }
    answers, errors = parse_answers(retail(), form)

    assert errors == {}
    assert answers.value("A1") == "yes"
    assert answers.value("A5") == NA
    assert answers.items["A5"].comment == "No restroom for customers"
    assert answers.value("E1") == 270
    assert answers.value("B1") == 12
    assert answers.value("F_feeling") == 5
    assert answers.value("A_note") == "Door mat curled at the corner.\nSecond line."


def test_parse_reads_only_the_chosen_sections_and_keeps_blank_entries():
    answers, errors = parse_answers(retail(), fixture_form(), sections={"greeting"})

    assert errors == {}
    assert set(answers.items) == {"B1", "B2", "B3"}
    assert set(answers.narratives) == {"greeting"}
    blank, _ = parse_answers(retail(), {}, sections=["greeting"])
    assert dict(blank.items) == {k: ItemAnswer(None) for k in ("B1", "B2", "B3")}
    assert dict(blank.narratives) == {"greeting": ""}
    with pytest.raises(ValueError):
        parse_answers(retail(), {}, sections=["lobby"])


@settings(max_examples=100)
@given(
    st.dictionaries(
        st.sampled_from(field_names(get_checklist("retail-standard")) + ("junk",)),
        st.text(max_size=30) | st.sampled_from(["yes", "no", "na", "3", "4:30", "-1"]),
    )
)
def test_parse_never_raises_on_user_input(form):
    answers, errors = parse_answers(retail(), form)
    assert all(isinstance(message, str) and message for message in errors.values())
    assert set(answers.items) == {i.key for i in retail().items}
    completeness_errors(retail(), answers)  # nor does checking it


# --- completeness -----------------------------------------------------------------------


def test_the_complete_fixture_can_be_submitted():
    assert completeness_errors(retail(), fixture_answers()) == {}


def test_what_blocks_submission():
    answers = fixture_answers()
    items = dict(answers.items)
    items["A2"] = ItemAnswer("no", "Dirty.")  # comment too short
    items["C1"] = ItemAnswer(NA, "")  # N/A without a reason
    items["A1"] = ItemAnswer(NA, COMMENT)  # N/A not allowed
    items["E1"] = ItemAnswer(301, "")  # over the standard: a "no", needs a comment
    del items["B3"]  # unanswered
    items["F_feeling"] = ItemAnswer(None)  # ratings must be answered too
    # A_note (text) is not answered at all: text may stay empty.
    narratives = dict(answers.narratives) | {"needs": "Short.", "farewell": "  " + "x" * 39}
    errors = completeness_errors(retail(), ChecklistAnswers(items=items, narratives=narratives))

    assert errors == {
        "item-A1": "Not applicable is not allowed for this item.",
        "comment-A2": "Say what happened (at least 20 characters) to back up the no.",
        "item-B3": "Answer this item.",
        "comment-C1": "Say what happened (at least 20 characters) to back up the not applicable.",
        "narrative-needs": "Describe this part of the visit in at least 40 characters.",
        "comment-E1": "Say what happened (at least 20 characters) to back up the no.",
        "item-F_feeling": "Answer this item.",
        "narrative-farewell": "Describe this part of the visit in at least 40 characters.",
    }
    assert list(errors)[:3] == ["item-A1", "comment-A2", "item-B3"]  # form order


def test_a_comment_of_exactly_twenty_characters_is_enough():
    answers = fixture_answers()
    items = dict(answers.items) | {"A2": ItemAnswer("no", "  " + "x" * 20 + "  ")}
    assert completeness_errors(retail(), ChecklistAnswers(items, answers.narratives)) == {}
    items["A2"] = ItemAnswer("no", "x" * 19)
    assert "comment-A2" in completeness_errors(retail(), ChecklistAnswers(items, {}))


def test_answers_to_unknown_items_are_ignored():
    answers = fixture_answers()
    extra = ChecklistAnswers(dict(answers.items) | {"Z9": ItemAnswer("maybe")}, answers.narratives)
    assert completeness_errors(retail(), extra) == {}
    assert score_answers(retail(), extra).reported == pytest.approx(78.74, abs=0.005)


# --- JSON and drafts --------------------------------------------------------------------


def test_json_round_trip():
    answers = fixture_answers(A_note="门口地垫卷边。")
    data = answers_to_json(answers)
    restored = answers_from_json(json.loads(json.dumps(data, ensure_ascii=False)))

    assert restored == answers
    assert data["items"]["B1"] == {"value": 12, "comment": ""}
    assert data["items"]["A2"] == {"value": "no", "comment": COMMENT}
    assert answers_from_json({}) == ChecklistAnswers({}, {})


@pytest.mark.parametrize(
    "data",
    [
        {"items": []},
        {"items": {"A1": "yes"}},
        {"items": {"A1": {"value": 1.5}}},
        {"items": {"A1": {"value": True}}},
        {"items": {"A1": {"value": "yes", "comment": 3}}},
        {"narratives": {"greeting": None}},
    ],
)
def test_malformed_stored_answers_raise(data):
    with pytest.raises(ValueError):
        answers_from_json(data)


def test_a_draft_saved_section_by_section():
    form = fixture_form()
    first, _ = parse_answers(retail(), form, sections=["environment", "greeting"])
    second, _ = parse_answers(retail(), form, sections=["checkout"])
    draft = merge_answers(first, second)

    assert set(draft.narratives) == {"environment", "greeting", "checkout"}
    assert draft.value("A2") == "no" and draft.value("E1") == 120
    assert draft.items["A2"].comment == COMMENT

    # Coming back to the greeting page and clearing B2 clears it in the draft.
    again, _ = parse_answers(
        retail(), form | {"item-B2": "", "item-B1": "25"}, sections=["greeting"]
    )
    draft = merge_answers(draft, again)
    assert draft.value("B2") is None
    assert draft.value("B1") == 25
    assert draft.value("E1") == 120  # other sections untouched

    whole = merge_answers(draft, parse_answers(retail(), form)[0])
    assert completeness_errors(retail(), whole) == {}


def test_answers_are_frozen_copies():
    items = {"A1": ItemAnswer("yes")}
    answers = ChecklistAnswers(items=items, narratives={})
    items["A1"] = ItemAnswer("no")
    assert answers.value("A1") == "yes"
    with pytest.raises(TypeError):
        answers.items["A1"] = ItemAnswer("no")  # type: ignore[index]
    with pytest.raises(AttributeError):
        answers.items = {}  # type: ignore[misc]


def test_a_published_version_is_rebuilt_from_its_stored_content():
    stored = json.loads(retail().content)  # as a JSON column gives it back
    assert checklist_from_content(stored) == retail()
    assert checklist_from_content(retail().content).digest == retail().digest
    with pytest.raises(DefinitionError):
        checklist_from_content("{not json")
    with pytest.raises(DefinitionError):
        checklist_from_content({"key": "x"})
