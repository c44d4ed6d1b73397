"""The checker the translation walk relies on: it must catch what it is for, and let the
world's own data and marked foreign text through."""

from __future__ import annotations

from tests.portal.translated.text import Checker, visible_texts

DATA = {"The cashier was very friendly and quick.", "徐汇店", "陈静"}


def offences(page: str, lang: str) -> list[str]:
    return Checker(DATA).offences(visible_texts(page, lang), lang)


def test_a_chinese_page_fails_on_english_words_and_keys() -> None:
    page = (
        '<html lang="zh-CN"><body><h1>Open cases</h1><p>状态：in_review</p>'
        '<input type="submit" value="Save"><p title="Overdue">逾期</p>'
        "<select><option>released</option></select></body></html>"
    )
    assert offences(page, "zh_CN") == ["Open cases", "in_review", "Save", "Overdue", "released"]


def test_a_chinese_page_lets_data_acronyms_code_and_the_switch_through() -> None:
    page = (
        '<html lang="zh-CN"><head><style>body{color:red}</style></head><body>'
        "<p>NPS 与 CSAT · POS 密钥 · <bdi>The cashier was very friendly…</bdi></p>"
        "<pre>curl -H 'Authorization: Bearer x' https://portal.test/api</pre>"
        '<code>verify-awards</code> <span lang="en">English</span>'
        "<p>下载 responses.csv 或 boss@sh.example</p><script>var x = 'hello world'</script>"
        "</body></html>"
    )
    assert offences(page, "zh_CN") == []


def test_an_english_page_fails_on_chinese_unless_it_is_data() -> None:
    page = (
        '<html lang="en"><body><p>Store <bdi>徐汇店</bdi>, manager 陈静</p>'
        '<p>逾期 cases</p><a lang="zh-CN" href="?lang=zh_CN">中文</a>'
        "<p>flagged_answers</p></body></html>"
    )
    assert offences(page, "en") == ["逾期", "flagged_answers"]
