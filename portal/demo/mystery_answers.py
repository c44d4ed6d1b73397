"""What a demo mystery shopper writes about a visit: each scored item is "yes" with a chance
set by the item's difficulty, the store's latent quality (the one the customer answers
follow, so mystery and customer scores tell one story), the staff member credited with the
section and the visit's luck, and a lenient shopper lets most shortcomings pass; every "no"
and N/A comes with a comment and every section with a narrative in the words of those
comments, so the reports pass the checklists' own completeness rules. Also the few edits a
report goes through: the thinner first filing of a returned report, the reviewer's note,
and the item a dispute or a correction is about.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from portal.calendar import zone
from portal.demo.mystery_plan import ADJUSTED, DISPUTE_OPEN, UPHELD, Slot, known
from portal.demo.mystery_texts import (
    DISPUTABLE,
    NA_COMMENTS,
    NA_RATES,
    NOTES,
    NOTHING_ELSE,
    RETAIL,
    RETAIL_LOGITS,
    RETAIL_NARRATIVE,
    RETAIL_NO,
    RETURNS_LOGITS,
    RETURNS_NARRATIVE,
    RETURNS_NO,
    THIN_COMMENTS,
    THIN_NARRATIVES,
)
from surveys.checklists import (
    NA,
    NO,
    YES,
    Attribution,
    ChecklistAnswers,
    ChecklistDefinition,
    ChecklistItem,
    ChecklistSection,
    Critical,
    ItemAnswer,
    ItemKind,
)


class AnswerWriter:
    """Writes the shopper's answers, from the stores' quality and the staff's effects."""

    def __init__(
        self,
        rng: random.Random,
        *,
        quality: Mapping[str, float],
        staff_effect: Mapping[int, float],
    ) -> None:
        self.rng = rng
        self.quality = quality
        self.staff_effect = staff_effect

    def answers(self, slot: Slot) -> ChecklistAnswers:
        """The shopper's answers: each scored item "yes" with a chance set by the item's
        difficulty, the store's quality, the person credited with the section and the
        visit's luck; every "no" and N/A with a comment; a narrative for every section."""
        rng = self.rng
        checklist = slot.checklist
        retail = checklist.key == RETAIL
        base = RETAIL_LOGITS if retail else RETURNS_LOGITS
        quality = self.quality.get(slot.store.code, 0.45)
        luck = rng.gauss(0.0, 0.35)
        served = self.staff_effect.get(slot.served_by.id, 0.0) if slot.served_by else 0.0
        cashier = served
        if slot.receipt is not None:
            cashier = self.staff_effect.get(slot.receipt.staff_id, 0.0)
        effects = {Attribution.NONE: 0.0, Attribution.OBSERVED_STAFF: served}
        effects[Attribution.CASHIER] = cashier
        forced = self._forced_no(slot)
        context = self._context(slot)
        items: dict[str, ItemAnswer] = {}
        for section in checklist.sections:
            for item in section.items:
                if not item.scored:
                    continue
                na = self._not_applicable(slot, item)
                if na is not None:
                    items[item.key] = ItemAnswer(NA, na)
                    continue
                if item.critical is not Critical.NONE:
                    failed = item.key in forced
                elif item.key in forced:
                    failed = True
                else:
                    logit = base[item.key] + 3.0 * (quality - 0.45) + luck
                    failed = rng.random() >= _sigmoid(logit + 1.6 * effects[section.attribution])
                    # The lenient shopper lets most shortcomings pass.
                    failed = failed and rng.random() >= slot.shopper.leniency
                items[item.key] = self._answer(checklist, item, failed, context)
        feeling = _feeling(checklist, items, rng)
        narratives: dict[str, str] = {}
        for section in checklist.sections:
            for item in section.items:
                if item.kind is ItemKind.RATING:
                    items[item.key] = ItemAnswer(feeling)
                elif item.kind is ItemKind.TEXT:
                    items[item.key] = ItemAnswer(rng.choice(NOTES) if rng.random() < 0.3 else None)
            narratives[section.key] = self._narrative(slot, section, items, context)
        return ChecklistAnswers(items=items, narratives=narratives)

    def _forced_no(self, slot: Slot) -> set[str]:
        """Items that must be "no": the critical failure, and an item for a dispute or a
        correction to be about."""
        forced: set[str] = set()
        if slot.critical_fail is not None:
            wanted = Critical(slot.critical_fail)
            forced.add(
                next(
                    i.key for i in slot.checklist.items if i.critical is wanted and not i.na_allowed
                )
            )
        if slot.fate in (UPHELD, ADJUSTED, DISPUTE_OPEN) or slot.corrected:
            forced.add(self.rng.choice(DISPUTABLE[slot.checklist.key]))
        return forced

    def _not_applicable(self, slot: Slot, item: ChecklistItem) -> str | None:
        """The comment of an N/A answer, or None when the item applies."""
        if not item.na_allowed:
            return None
        key = f"{slot.checklist.key}:{item.key}"
        if key == f"{RETAIL}:A5":
            # Some stores have no restroom or fitting room for customers.
            applies = _stable(slot.store.code) % 4 != 0
        elif key == f"{RETAIL}:E7":
            applies = slot.age_check
        else:
            applies = self.rng.random() >= NA_RATES[key]
        return None if applies else self.rng.choice(NA_COMMENTS[key])

    def _answer(
        self,
        checklist: ChecklistDefinition,
        item: ChecklistItem,
        failed: bool,
        context: dict[str, Any],
    ) -> ItemAnswer:
        rng = self.rng
        table = RETAIL_NO if checklist.key == RETAIL else RETURNS_NO
        comments = table.get(item.key, ())
        if item.kind is ItemKind.TIME:
            standard = item.standard_seconds or 60
            factor = rng.uniform(1.15, 2.6) if failed else rng.uniform(0.2, 0.95)
            seconds = round(standard * factor)
            context.update({f"{k}_{item.key}": v for k, v in _durations(seconds).items()})
            if not failed:
                return ItemAnswer(seconds)
            return ItemAnswer(
                seconds, rng.choice(comments).format(**_durations(seconds), **context)
            )
        if not failed:
            return ItemAnswer(YES)
        return ItemAnswer(NO, rng.choice(comments).format(**context))

    def _context(self, slot: Slot) -> dict[str, Any]:
        """What the comments and narratives of one visit may mention."""
        rng = self.rng
        started = known(slot.started).astimezone(zone(slot.store.timezone))
        if slot.served_by is not None:
            name = slot.served_by.name
            staff = rng.choice((f"工牌为“{name}”的店员", f"店员{name}", name))
        else:
            staff = rng.choice(("一位女店员", "一位男店员", "一位年轻店员", "一位戴眼镜的店员"))
        return {
            "time": f"{started:%H:%M}",
            "product": slot.product,
            "staff": staff,
            "queue": rng.randint(1, 4),
            "tills": rng.randint(2, 4),
            "price": f"{rng.randint(12, 39)}.90",
            "shelf": f"{rng.randint(5, 11)}.90",
        }

    def _narrative(
        self,
        slot: Slot,
        section: ChecklistSection,
        items: Mapping[str, ItemAnswer],
        context: dict[str, Any],
    ) -> str:
        """The section as the shopper tells it: what happened, the shortcomings in the
        words of their comments, or else a few things that went right."""
        rng = self.rng
        pools = RETAIL_NARRATIVE if slot.checklist.key == RETAIL else RETURNS_NARRATIVE
        openers, observations, closers = pools[section.key]
        passed = {item.key for item in section.items if _passed(item, items.get(item.key))}
        vouched = [
            text
            for keys, text in observations
            if not keys or all(key in passed for key in keys.split(","))
        ]
        misses = [
            answer.comment
            for item in section.items
            if item.scored
            and not _passed(item, answer := items[item.key])
            and answer.comment
            and answer.value != NA
        ]
        sentences = [rng.choice(openers)]
        if misses:
            sentences.append(rng.choice(("不足之处：", "需要改进的是：", "")) + misses[0])
            if len(misses) > 1:
                sentences.append("另外，" + misses[1])
        else:
            sentences.extend(rng.sample(vouched, k=min(2, len(vouched))))
        sentences.append(rng.choice(closers))
        text = "".join(sentences).format(**context)
        for extra in [*rng.sample(vouched, k=len(vouched)), *closers, NOTHING_ELSE]:
            if len(text) >= section.narrative_min_chars:
                break
            if extra not in sentences:
                text += extra.format(**context)
        return text

    def disputed_item(self, slot: Slot) -> str:
        """The "no" a dispute or a correction is about (`_forced_no` made one)."""
        answers = known(slot.answers)
        return next(key for key in DISPUTABLE[slot.checklist.key] if answers.value(key) == NO)

    def fixed_item(self, slot: Slot) -> str:
        """The item whose comment the reviewer wants completed, or with no "no" answer,
        an item of the section whose narrative was too short."""
        answers = known(slot.answers)
        for item in slot.checklist.items:
            if item.kind is ItemKind.CHECK and answers.value(item.key) == NO:
                if item.critical is Critical.NONE:
                    return item.key
        return slot.checklist.sections[-2].items[0].key

    def first_filing(self, slot: Slot, answers: ChecklistAnswers) -> ChecklistAnswers:
        """A report the reviewer returns was thinner when first filed: the comment of an
        item (or a section's narrative) said too little, until the fix."""
        key = self.fixed_item(slot)
        if answers.value(key) == NO:
            items = {**answers.items, key: ItemAnswer(NO, self.rng.choice(THIN_COMMENTS))}
            return ChecklistAnswers(items=items, narratives=answers.narratives)
        section = slot.checklist.section_of(key)
        narratives = {**answers.narratives, section.key: self.rng.choice(THIN_NARRATIVES)}
        return ChecklistAnswers(items=answers.items, narratives=narratives)

    def return_note(self, slot: Slot) -> str:
        key = self.fixed_item(slot)
        if known(slot.answers).value(key) == NO:
            text = slot.checklist.item(key).text.zh_CN
            return (
                f"{key}（{text}）的说明太笼统，请写明具体情况：时间、店员的原话或动作，"
                "以便门店核实。"
            )
        title = slot.checklist.section_of(key).title.zh_CN
        return (
            f"“{title}”部分的叙述过于简略，请按时间顺序补充经过："
            "店员说了什么、做了什么、用了多长时间。"
        )


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _stable(text: str) -> int:
    """A small number fixed by ``text`` (not ``hash``, which changes between runs)."""
    return sum(ord(c) * (i + 1) for i, c in enumerate(text))


def _durations(seconds: int) -> dict[str, int]:
    return {"seconds": seconds, "minutes": seconds // 60, "rest": seconds % 60}


def _passed(item: ChecklistItem, answer: ItemAnswer | None) -> bool:
    """Whether a scored item earned its points (a "yes", or a time within the standard)."""
    if answer is None:
        return False
    if item.kind is ItemKind.TIME:
        standard = item.standard_seconds or 0
        return isinstance(answer.value, int) and answer.value <= standard
    return answer.value == YES


def _feeling(
    checklist: ChecklistDefinition, items: Mapping[str, ItemAnswer], rng: random.Random
) -> int:
    """The unscored 1-5 overall feeling, in line with what went right."""
    earned = possible = 0
    for item in checklist.items:
        answer = items.get(item.key)
        if not item.scored or answer is None or answer.value == NA:
            continue
        possible += item.points
        earned += item.points if _passed(item, answer) else 0
    share = earned / possible if possible else 0.8
    feeling = 5 if share >= 0.92 else 4 if share >= 0.78 else 3 if share >= 0.6 else 2
    if rng.random() < 0.2:
        feeling += rng.choice((-1, 1))
    return min(5, max(1, feeling))
