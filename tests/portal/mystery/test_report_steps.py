"""The step bar of the shopper's report: every page by name, a tick on each page with
nothing left on it that would stop the filing, the page being filled marked current, on
the report pages and on the visit page."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.audit import Actor
from portal.calendar import zone
from portal.db import utcnow
from portal.mystery.report import VisitFacts, finished_pages, save_answers, save_facts
from portal.mystery.scheduling import accept_visit
from portal.mystery.visits import checklist_of
from surveys.checklists import ChecklistAnswers
from tests.portal.mystery.test_mystery_pages import setup  # noqa: F401 - the fixture
from tests.portal.mystery.test_mystery_workflow import complete_answers

EN = {"Accept-Language": "en"}
_STEP = re.compile(
    r'<li class="step(?P<classes>[^"]*)" id="step-(?P<key>[^"]+)">\s*<a href="[^"]+"'
    r'(?P<current> aria-current="page")?>\s*<span class="step-mark" aria-hidden="true">'
    r"(?P<mark>[^<]*)</span>\s*<span class=\"step-name\">(?P<name>[^<]*)</span>\s*"
    r'<span class="visually-hidden">(?P<said>[^<]*)</span>'
)


def _facts_and_first_section(setup) -> None:  # noqa: F811 - the fixture's value
    """The facts saved, the first section complete, the second half-answered."""
    visit, session, shopper = setup["visit"], setup["session"], setup["shopper"]
    actor, now = Actor.of_user(shopper), utcnow()
    accept_visit(session, visit, actor=actor, now=now)
    started = now.astimezone(zone(setup["store"].timezone)).replace(tzinfo=None)
    started -= timedelta(hours=2)
    facts = VisitFacts(
        started_at=started,
        ended_at=started + timedelta(minutes=20),
        served_by_id=setup["staff"].id,
        served_by_description="",
        transaction_id="TX-1",
    )
    save_facts(session, visit, facts, actor=actor, now=now)
    definition = checklist_of(visit)
    full = complete_answers(definition)
    first, second = definition.sections[:2]
    for section, keys in ((first, section_keys(first)), (second, section_keys(second)[:1])):
        part = ChecklistAnswers(
            items={key: full.items[key] for key in keys},
            narratives={section.key: full.narratives[section.key]},
        )
        save_answers(session, visit, part, actor=actor, now=now, part=section.key)
    session.flush()


def section_keys(section) -> list[str]:
    return [item.key for item in section.items]


def steps_of(page: str) -> list[dict[str, str | bool]]:
    return [
        {
            "key": m["key"],
            "name": m["name"].strip(),
            "mark": m["mark"],
            "done": " done" in m["classes"],
            "current": m["current"] is not None,
            "said": m["said"],
        }
        for m in _STEP.finditer(page)
    ]


def test_finished_pages_are_those_with_nothing_left_to_fill(setup) -> None:  # noqa: F811
    visit = setup["visit"]
    assert finished_pages(visit) == frozenset()
    _facts_and_first_section(setup)
    first = checklist_of(visit).sections[0].key
    assert finished_pages(visit) == {"visit", first}


def test_the_step_bar_names_every_page_and_ticks_the_finished_ones(
    client,
    login_as,
    setup,  # noqa: F811
) -> None:
    _facts_and_first_section(setup)
    visit = setup["visit"]
    definition = checklist_of(visit)
    second = definition.sections[1]
    login_as(setup["shopper"])
    page = client.get(f"/mystery/visits/{visit.id}/report/{second.key}", headers=EN)
    assert page.status_code == 200
    steps = steps_of(page.get_data(as_text=True))
    names = ["The visit", *(s.title.en for s in definition.sections), "Receipt photo"]
    assert [s["name"] for s in steps] == names
    assert [s["done"] for s in steps] == [True, True] + [False] * (len(names) - 2)
    assert [s["mark"] for s in steps] == ["✓", "✓", *(str(n) for n in range(3, len(names) + 1))]
    assert [s["said"] for s in steps] == ["(done)"] * 2 + ["(to do)"] * (len(names) - 2)
    assert [s["key"] for s in steps if s["current"]] == [second.key]

    # The visit page lists the same pages, none of them current.
    visit_page = client.get(f"/mystery/visits/{visit.id}", headers=EN).get_data(as_text=True)
    listed = steps_of(visit_page)
    assert [(s["name"], s["done"]) for s in listed] == [(s["name"], s["done"]) for s in steps]
    assert not any(s["current"] for s in listed)


def test_the_step_bar_speaks_chinese(client, login_as, setup) -> None:  # noqa: F811
    _facts_and_first_section(setup)
    visit = setup["visit"]
    definition = checklist_of(visit)
    login_as(setup["shopper"])
    page = client.get(
        f"/mystery/visits/{visit.id}/report/visit", headers={"Accept-Language": "zh-CN"}
    ).get_data(as_text=True)
    steps = steps_of(page)
    names = ["访店信息", *(s.title.zh_CN for s in definition.sections), "小票照片"]
    assert [s["name"] for s in steps] == names
    assert steps[0]["said"] == "（已完成）" and steps[-1]["said"] == "（待填写）"
    assert steps[0]["current"]
