"""Answer validation rules (surveys.answers), independent of any web form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.answers import AnswerError, Answers, validate_answers
from surveys.loader import receipt_survey

SURVEY = receipt_survey()


def check(**raw):
    return validate_answers(SURVEY, raw)


def test_the_minimal_answer_is_likelihood_and_satisfaction():
    assert check(nps="0", csat="1") == Answers(
        nps=0,
        csat=1,
        ratings={},
        problem_reported=False,
        problem_category=None,
        comment=None,
        contact=None,
    )


def test_all_errors_are_reported_at_once():
    assert check(nps="", csat="9", rating_speed="0", problem="y") == [
        AnswerError("nps", "required"),
        AnswerError("csat", "out_of_range"),
        AnswerError("rating_speed", "out_of_range"),
        AnswerError("problem_category", "category_required"),
    ]


@pytest.mark.parametrize("value", ["-1", "11", "9.5", "nine", " 10x"])
def test_likelihood_must_be_a_whole_number_from_0_to_10(value):
    result = check(nps=value, csat="3")
    assert isinstance(result, list) and result[0].question_key == "nps"


def test_ratings_are_optional_and_kept_when_given():
    result = check(nps="8", csat="4", rating_cleanliness="5", rating_knowledge="2")
    assert result.ratings == {"rating_cleanliness": 5, "rating_knowledge": 2}


#: What Python's int() would read as a number but no answer button ever sends.
LENIENT_NUMBERS = ["1_0", "１０", "१०", "٣", " 5", "5 ", "5\n", "+5", "0x5", "5.0", "1e1", "٥"]


@pytest.mark.parametrize("value", LENIENT_NUMBERS)
def test_scales_read_only_ascii_digits(value):
    assert check(nps=value, csat="3") == [AnswerError("nps", "not_a_number")]
    assert check(nps="8", csat="3", rating_speed=value) == [
        AnswerError("rating_speed", "not_a_number")
    ]


@pytest.mark.parametrize("comment", ["a\x00b", "a\ud800b", "\udfff"])
def test_a_comment_with_nul_or_an_unpaired_surrogate_is_refused(comment):
    assert check(nps="8", csat="4", comment=comment) == [AnswerError("comment", "invalid_text")]


def test_a_comment_may_hold_line_breaks_and_right_to_left_text():
    assert check(nps="8", csat="4", comment="שלום\n\u202egood").comment == "שלום\n\u202egood"


@pytest.mark.parametrize("email", ["a@b.com\r\nBcc: x@y.com", "a\x00@b.com", "a\x07@b.com"])
def test_contact_details_are_single_line(email):
    result = check(nps="8", csat="4", contact_consent="y", contact_email=email)
    assert isinstance(result, list) and AnswerError("contact_email", "invalid_text") in result


def test_comment_limit_counts_characters_not_bytes_and_crlf_as_one():
    assert isinstance(check(nps="8", csat="4", comment="好" * 2000), Answers)
    assert isinstance(check(nps="8", csat="4", comment="a\r\n" * 666 + "ab"), Answers)
    assert check(nps="8", csat="4", comment="好" * 2001) == [AnswerError("comment", "too_long")]


def test_a_blank_comment_is_no_comment():
    assert check(nps="8", csat="4", comment="   \n ").comment is None


def test_contact_is_kept_only_with_consent():
    assert (
        check(
            nps="2", csat="1", problem_category="price", contact_consent="y", contact_email="a@b.cn"
        ).contact.email
        == "a@b.cn"
    )
    assert check(nps="2", csat="1", contact_email="a@b.cn") == [
        AnswerError("contact", "consent_required")
    ]
    assert check(nps="2", csat="1", contact_consent="y") == [
        AnswerError("contact", "contact_required")
    ]


#: Any text a shopper can type: NUL and unpaired surrogates are refused on purpose (see the
#: strict-input tests), everything else is accepted.
TYPED_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=2000,
)


@given(nps=st.integers(0, 10), csat=st.integers(1, 5), comment=TYPED_TEXT)
def test_any_in_range_answer_is_accepted(nps, csat, comment):
    result = check(nps=str(nps), csat=str(csat), comment=comment)
    assert isinstance(result, Answers)
    assert (result.nps, result.csat) == (nps, csat)
