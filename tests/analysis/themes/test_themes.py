"""The comment classifier: negation, segmentation, empty text, and its floors on the
hand-labelled comments."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analysis.themes import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    THEME_KEYS,
    Classification,
    ThemeHit,
    classify,
)
from analysis.themes.evaluation import evaluate, parse_labelled
from analysis.themes.segment import normalise, segments, stem, tokens
from analysis.themes.taxonomy import load_taxonomy, parse_taxonomy

LABELLED = Path(__file__).with_name("labelled_comments.yaml")
#: Floors: every theme with at least MIN_EXAMPLES labelled examples, and the micro F1.
THEME_F1_FLOOR = 0.7
MIN_EXAMPLES = 10
MICRO_F1_FLOOR = 0.8
SENTIMENT_FLOOR = 0.65


def themes_of(text: str) -> dict[str, str]:
    return {hit.theme: hit.sentiment for hit in classify(text).themes}


@pytest.mark.parametrize(
    ("text", "theme", "sentiment"),
    [
        ("服务态度不好", "staff_attitude", NEGATIVE),
        ("服务态度很好", "staff_attitude", POSITIVE),
        ("没有排队", "queue", POSITIVE),
        ("不用排队", "queue", POSITIVE),
        ("排队排了半个小时", "queue", NEGATIVE),
        ("价格不贵", "price", POSITIVE),
        ("太贵了", "price", NEGATIVE),
        ("店里不太干净", "cleanliness", NEGATIVE),
        ("not helpful", "staff_attitude", NEGATIVE),
        ("The staff were not friendly", "staff_attitude", NEGATIVE),
        ("no queue at all", "queue", POSITIVE),
        ("The queue was very long", "queue", NEGATIVE),
        ("Cashier wasn't rude at all", "staff_attitude", POSITIVE),
    ],
)
def test_negation_flips_the_judged_theme(text, theme, sentiment):
    assert themes_of(text).get(theme) == sentiment


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [("不太满意", NEGATIVE), ("很满意", POSITIVE), ("不是很好", NEGATIVE), ("not bad", POSITIVE)],
)
def test_negation_in_the_comment_sentiment(text, sentiment):
    assert classify(text).sentiment == sentiment


def test_a_clause_after_but_is_judged_apart():
    assert themes_of("价格便宜，但是排队太久") == {"price": POSITIVE, "queue": NEGATIVE}
    assert themes_of("staff were friendly but the queue was slow") == {
        "staff_attitude": POSITIVE,
        "queue": NEGATIVE,
    }


def test_intensifiers_outweigh_a_cue_of_their_own():
    # 排队 alone is bad news; 排队很快 is a quick queue.
    assert themes_of("排队") == {"queue": NEGATIVE}
    assert themes_of("排队很快") == {"queue": POSITIVE}


@pytest.mark.parametrize(
    ("text", "theme", "sentiment"),
    [
        ("地面很脏", "cleanliness", NEGATIVE),  # jieba's 很脏: an intensifier and a judge
        ("结账很快", "checkout", POSITIVE),
        ("没有人打招呼", "greeting", NEGATIVE),
        ("退款到现在还没到账", "returns", NEGATIVE),
        ("退货流程太复杂", "returns", NEGATIVE),
        ("Parking was a nightmare", "parking", NEGATIVE),
    ],
)
def test_two_character_words_and_plain_complaints_are_read(text, theme, sentiment):
    assert ThemeHit(theme, sentiment) in classify(text).themes


def test_a_pair_is_split_only_when_it_is_a_modifier_and_a_judge():
    # 只好 ("had to") holds 好 but says nothing good.
    assert classify("我只好自己找") == Classification((), NEUTRAL)


def test_each_theme_at_most_once():
    result = classify("排队排了很久，又排队结账，队伍好长")
    keys = [hit.theme for hit in result.themes]
    assert keys.count("queue") == 1


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_has_no_themes_and_is_neutral(text):
    assert classify(text).themes == ()
    assert classify(text).sentiment == NEUTRAL


@pytest.mark.parametrize("word", ["收银员", "排队", "会员卡", "积分", "停车场", "退货", "缺货"])
def test_retail_words_segment_as_one_word(word):
    assert word in tokens(f"今天{word}怎么样")


def test_the_global_jieba_is_left_alone():
    import jieba

    assert "没人理" in tokens("没人理我")
    assert "没人理" not in jieba.lcut("没人理我", HMM=False)


def test_english_is_lowercased_and_stemmed():
    assert tokens(normalise("The Queues were LONG")) == ["the", "queue", "were", "long"]
    assert stem("waiting") == stem("wait") and stem("cashiers") == "cashier"
    assert normalise("didn't") == "did not"


def test_clauses_split_on_punctuation_of_both_scripts():
    assert segments("排队太久，收银员很好！Good.") == ["排队太久", "收银员很好", "good"]


def test_the_taxonomy_has_the_nineteen_themes_in_three_groups():
    taxonomy = load_taxonomy()
    assert len(THEME_KEYS) == 19
    groups = {theme.group for theme in taxonomy.themes}
    assert groups == {"servqual", "touchpoint", "topic"}
    assert all(any(not c.text.isascii() for c in t.cues) for t in taxonomy.themes)
    assert all(any(c.text.isascii() for c in t.cues) for t in taxonomy.themes)


def test_a_malformed_taxonomy_is_refused():
    with pytest.raises(ValueError, match="version"):
        parse_taxonomy({"themes": {}})
    with pytest.raises(ValueError, match="no en cues"):
        parse_taxonomy({"version": 1, "themes": {"q": {"group": "topic", "zh": ["排队"]}}})


@pytest.fixture(scope="module")
def evaluation():
    labelled = parse_labelled(yaml.safe_load(LABELLED.read_text("utf-8")), THEME_KEYS)
    assert len(labelled) >= 400
    return evaluate(labelled, classify, THEME_KEYS)


def test_every_theme_meets_its_f1_floor(evaluation):
    below = {
        s.theme: round(s.f1 or 0.0, 2)
        for s in evaluation.themes
        if s.support >= MIN_EXAMPLES and (s.f1 or 0.0) < THEME_F1_FLOOR
    }
    assert below == {}


def test_micro_f1_and_sentiment_meet_their_floors(evaluation):
    assert evaluation.micro_f1 is not None and evaluation.micro_f1 >= MICRO_F1_FLOOR
    assert evaluation.sentiment_accuracy is not None
    assert evaluation.sentiment_accuracy >= SENTIMENT_FLOOR
    assert evaluation.theme_sentiment_accuracy is not None
    assert evaluation.theme_sentiment_accuracy >= SENTIMENT_FLOOR


def test_every_theme_has_labelled_examples(evaluation):
    assert all(s.support >= MIN_EXAMPLES for s in evaluation.themes)
