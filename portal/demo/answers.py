"""The demo's customers: months of receipts and the survey answers some of them gave, drawn
from a small latent-satisfaction model so that every page has something true to show
(stores that differ, a store whose recent trend is worse, a few clearly weaker and a few
excellent staff, peak-hour checkout waits, unanswered receipts for the response-rate
funnel, detractors who left contact details). Receipts and responses are far too many for
one ORM object each: they are drawn here as rows and written with bulk Core inserts, and
the rollups are rebuilt once afterwards.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.calendar import DEFAULT_ZONE, local_day, local_hour, local_midnight, local_today, zone
from portal.cases.operations import DETRACTOR_MAX
from portal.config import Settings
from portal.demo.bulk import Progress, insert_rows
from portal.demo.chain import STORES, Cashier, Chain, StaffProfile, StoreProfile
from portal.models import Channel, Receipt, Response, ResponseContact
from portal.models.receipts import RATING_KEYS
from portal.versions import publish_survey_version
from surveys.codes import new_short_code
from surveys.definitions import SurveyDefinition
from surveys.loader import receipt_survey
from surveys.tokens import new_token_id

# How often each position serves at the till, relative to a cashier.
_POSITION_WEIGHTS = {"收银员": 1.0, "导购": 0.35, "主管": 0.25, "店长": 0.08}
#: ``receipts.source`` of every receipt made here, so demo rows can be told apart.
DEMO_SOURCE = "demo"
#: The stores' opening hours: receipts are printed from 9:00 to 21:59.
OPENING_HOUR = 9
CLOSING_HOUR = 22
# Receipts per hour of the day (9:00-21:59): a lunchtime and a larger evening peak.
_HOUR_WEIGHTS = (0.5, 0.7, 0.9, 1.3, 1.2, 0.8, 0.7, 0.8, 1.0, 1.4, 1.5, 1.2, 0.7)
_PEAK_HOURS = frozenset({12, 13, 18, 19})
# Monday .. Sunday.
_WEEKDAY_WEIGHTS = (0.9, 0.9, 0.95, 1.0, 1.1, 1.4, 1.35)
# The recent drift of a store (worse or better) builds up over this many last days.
_TREND_DAYS = 35
#: The share of answers reached by typing the receipt's code, drawn from its own stream.
_TYPED_CODE_SHARE = 0.12
_CHANNEL_SEED = 13
# Mean delay between purchase and answer under _draw_delay (about 7.4 h); answers that
# would fall after `now` are not given yet, and the receipt count makes up for them.
_MEAN_DELAY = timedelta(hours=7.4)

# Latent satisfaction y ~ store + staff + trend + N(0, 1) is cut into answers. The cuts
# put a store of quality 0.3 near NPS +25 and one of 0.7 near +55 (staff effects move
# each store a few points).
_NPS_CUTS = (-2.6, -2.2, -1.9, -1.6, -1.3, -1.0, -0.55, -0.05, 0.35, 0.95)
_CSAT_CUTS = (-2.0, -1.2, -0.5, 0.45)
_RATING_CUTS = (-1.9, -1.1, -0.35, 0.55)


# How often each problem category is picked; the keys are the survey's own choices.
_CATEGORY_WEIGHTS = {
    "product_quality": 0.28,
    "service_attitude": 0.18,
    "checkout_wait": 0.20,
    "returns_exchange": 0.10,
    "delivery": 0.06,
    "price": 0.12,
    "other": 0.06,
}
# The problem a shopper picks usually matches the service rating they marked lowest.
_CATEGORY_OF_RATING = {
    "rating_friendliness": "service_attitude",
    "rating_speed": "checkout_wait",
    "rating_availability": "other",
    "rating_cleanliness": "other",
    "rating_knowledge": "service_attitude",
}

_COMPLAINTS_ZH = {
    "product_quality": (
        "买回家的酸奶已经过期了，希望加强临期商品检查。",
        "水果不新鲜，有好几个已经坏了。",
        "商品包装破损，质量不太放心。",
    ),
    "service_attitude": (
        "收银员态度冷淡，问问题也爱答不理。",
        "店员很不耐烦，服务态度需要改进。",
        "找不到商品问了两个店员都说不知道，体验很差。",
    ),
    "checkout_wait": (
        "排队结账等了二十多分钟，只开了两个收银台。",
        "高峰期收银台太少，等太久了。",
        "自助收银机坏了一半，排队很长。",
    ),
    "returns_exchange": (
        "退货流程太麻烦，来回跑了两次。",
        "换货一定要原包装，事先也没人说明。",
    ),
    "delivery": (
        "送货上门晚了三个小时，也没人通知。",
        "配送的商品少了一件，联系客服很久才回复。",
    ),
    "price": (
        "价签和结账价格不一致，多收了钱。",
        "促销价没有生效，要求退差价很麻烦。",
    ),
    "other": (
        "货架上经常缺货，想买的东西总是没有。",
        "地面有点脏，购物车也不太干净。",
        "停车场指示不清楚，找了很久。",
    ),
}
_COMPLAINTS_EN = {
    "product_quality": (
        "The milk I bought was already past its date.",
        "The fruit was not fresh, several pieces were bad.",
    ),
    "service_attitude": (
        "The cashier was rude and ignored my question.",
        "Staff seemed annoyed when I asked for help.",
    ),
    "checkout_wait": (
        "Waited over 20 minutes at the checkout, only two tills open.",
        "Far too few tills open at the busy time.",
    ),
    "returns_exchange": ("Returning an item took far too long.",),
    "delivery": ("Delivery came three hours late with no notice.",),
    "price": ("The shelf price and the price at the till were different.",),
    "other": (
        "Half of what I wanted was out of stock.",
        "The floor was dirty near the fresh food section.",
    ),
}
_DISAPPOINTED_ZH = ("体验一般，希望改进。", "这次购物不太满意。", "和以前比差了不少。")
_DISAPPOINTED_EN = ("Not a good visit this time.", "Disappointing compared to before.")
_PASSIVE_ZH = (
    "整体还可以，就是人有点多。",
    "东西挺全的，结账速度可以再快一点。",
    "还行，价格稍微有点贵。",
    "环境不错，希望多开几个收银台。",
)
_PASSIVE_EN = (
    "Fine overall, a bit crowded.",
    "Good selection, checkout could be faster.",
    "OK, a little pricey.",
)
_PRAISE_STAFF_ZH = (
    "收银员{name}非常热情，结账又快又准，点赞！",
    "{name}耐心帮我找到了想要的商品，服务很专业。",
    "店员{name}很有礼貌，还提醒我用优惠券，谢谢！",
    "感谢{name}的热情服务，下次还来。",
)
_PRAISE_STAFF_EN = (
    "The cashier ({code}) was really friendly and quick. Thank you!",
    "Staff member {code} went out of the way to help me find what I needed.",
)
_PRAISE_ZH = (
    "门店干净整洁，购物体验很好。",
    "商品齐全，服务周到，下次还来。",
    "结账很快，店员都很友好。",
    "新鲜食品品质很好，推荐！",
)
_PRAISE_EN = (
    "Clean store and friendly staff, will come back.",
    "Great service, everyone was helpful.",
    "Quick checkout and good fresh food.",
)
_PHONE_PREFIXES = ("138", "139", "136", "135", "150", "158", "186", "188")
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


class _Answers:
    """Draws receipts, responses and contacts as rows for bulk inserts.

    Rows are plain dicts because that is what an executemany takes; they never leave
    this module.
    """

    def __init__(
        self,
        *,
        rng: random.Random,
        settings: Settings,
        definition: SurveyDefinition,
        version_id: int,
        now: datetime,
        days: int,
        responses: int,
    ) -> None:
        self.rng = rng
        # Its own fixed stream: drawing the channel changes no other draw of the demo.
        self.channel_rng = random.Random(_CHANNEL_SEED)
        self.definition = definition
        self.version_id = version_id
        self.now = now
        self.lifetime = timedelta(days=settings.token_days)
        today = local_today(DEFAULT_ZONE, now)
        self.dates = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
        self.trend_start = now - timedelta(days=min(days, _TREND_DAYS))
        self.receipts: list[dict[str, Any]] = []
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.contacts: list[tuple[str, dict[str, Any]]] = []
        self.short_codes: set[str] = set()
        # Receipts needed so that about `responses` get answered: divide by the mean
        # answer rate and by the share of answers that would only come after `now`.
        traffic = sum(p.traffic for p in STORES)
        answer_rate = sum(p.traffic * p.answer_rate for p in STORES) / traffic
        late = min(0.5, _MEAN_DELAY / timedelta(days=days))
        total = responses / answer_rate / (1 - late)
        day_weights = [self._day_weight(day) for day in self.dates]
        self.per_unit = total / traffic / sum(day_weights)
        self.day_weights = day_weights

    def _day_weight(self, day: date) -> float:
        weight = _WEEKDAY_WEIGHTS[day.weekday()]
        opening = local_midnight(day)
        hours = [
            w
            for hour, w in zip(range(OPENING_HOUR, CLOSING_HOUR), _HOUR_WEIGHTS, strict=True)
            if opening + timedelta(hours=hour) < self.now
        ]
        # Today is cut at `now`.
        return weight * sum(hours) / sum(_HOUR_WEIGHTS)

    def add_store(self, store_id: int, profile: StoreProfile, staff: list[Cashier]) -> None:
        rng = self.rng
        weights = [_POSITION_WEIGHTS[c.profile.position] for c in staff]
        cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]
        hours = range(OPENING_HOUR, CLOSING_HOUR)
        hour_cumulative = [sum(_HOUR_WEIGHTS[: i + 1]) for i in range(len(_HOUR_WEIGHTS))]
        for day, day_weight in zip(self.dates, self.day_weights, strict=True):
            expected = self.per_unit * profile.traffic * day_weight
            if expected <= 0:
                continue
            count = max(0, round(rng.gauss(expected, math.sqrt(expected))))
            midnight = local_midnight(day).astimezone(UTC)
            times: list[datetime] = []
            while len(times) < count:
                hour = rng.choices(hours, cum_weights=hour_cumulative)[0]
                issued = midnight + timedelta(seconds=hour * 3600 + rng.randrange(3600))
                if issued <= self.now:
                    times.append(issued)
            times.sort()
            for seq, issued in enumerate(times, start=1):
                cashier = rng.choices(staff, cum_weights=cumulative)[0]
                while cashier.profile.left_at is not None and issued >= cashier.profile.left_at:
                    cashier = rng.choices(staff, cum_weights=cumulative)[0]
                self._add_receipt(
                    store_id, profile, cashier, issued, f"{profile.code}-{day:%Y%m%d}-{seq:05d}"
                )

    def _add_receipt(
        self,
        store_id: int,
        profile: StoreProfile,
        cashier: Cashier,
        issued: datetime,
        transaction_id: str,
    ) -> None:
        rng = self.rng
        token_id = new_token_id()
        expires = issued + self.lifetime
        answered_at = None
        if rng.random() < profile.answer_rate * cashier.profile.prompting:
            submitted = issued + min(_draw_delay(rng), self.lifetime - timedelta(minutes=1))
            if submitted <= self.now:
                answered_at = submitted
                self._add_response(token_id, store_id, profile, cashier, issued, submitted)
        self.receipts.append(
            {
                "token_id": token_id,
                "short_code": self._short_code(),
                "store_id": store_id,
                "staff_id": cashier.id,
                "transaction_id": transaction_id,
                "issued_at": issued,
                "local_day": local_day(issued, DEFAULT_ZONE),
                "local_hour": local_hour(issued, DEFAULT_ZONE),
                "expires_at": expires,
                # Basket totals in fen: log-normal around 80 yuan.
                "total_cents": int(math.exp(rng.gauss(math.log(8000), 0.8))),
                "source": DEMO_SOURCE,
                "survey_version_id": self.version_id,
                "created_at": issued,
                "answered_at": answered_at,
            }
        )

    def _short_code(self) -> str:
        while True:
            code = new_short_code()
            if code not in self.short_codes:
                self.short_codes.add(code)
                return code

    def _add_response(
        self,
        token_id: str,
        store_id: int,
        profile: StoreProfile,
        cashier: Cashier,
        issued: datetime,
        submitted: datetime,
    ) -> None:
        rng = self.rng
        staff = cashier.profile
        local = issued.astimezone(zone())
        peak = local.hour in _PEAK_HOURS or local.weekday() >= 5
        drift = 0.0
        if profile.trend and issued > self.trend_start:
            drift = profile.trend * (issued - self.trend_start) / (self.now - self.trend_start)
        y = profile.quality + staff.effect + drift + rng.gauss(0.0, 1.0)
        nps, csat = draw_scores(rng, y)
        # Each rating follows the overall mood plus what it is about; a shopper who
        # skips the optional ratings usually skips them all.
        knows_products = 0.2 if staff.position != "收银员" else 0.0
        aspects = (
            0.7 * staff.effect,
            0.3 * staff.effect - (0.45 if peak else 0.0),
            profile.availability,
            profile.cleanliness,
            0.5 * staff.effect + knows_products,
        )
        answers_ratings = rng.random() < 0.85
        ratings: dict[str, int | None] = {}
        for key, aspect in zip(RATING_KEYS, aspects, strict=True):
            answered = answers_ratings and rng.random() < 0.84
            value = 0.8 * y + aspect + rng.gauss(0.0, 0.6)
            ratings[key] = 1 + bisect.bisect(_RATING_CUTS, value) if answered else None

        category = self._problem(nps, csat, ratings)
        locale = "en" if rng.random() < profile.english else "zh_CN"
        comment = self._comment(nps, category, staff, locale)
        redeemed_at = None
        if rng.random() < 0.07:
            redeemed = submitted + timedelta(minutes=rng.uniform(5, 3 * 24 * 60))
            redeemed_at = redeemed.replace(microsecond=0) if redeemed <= self.now else None
        self.responses.append(
            (
                token_id,
                {
                    "receipt_id": None,
                    "survey_version_id": self.version_id,
                    "store_id": store_id,
                    "staff_id": cashier.id,
                    "submitted_at": submitted,
                    "local_day": local_day(submitted, DEFAULT_ZONE),
                    "locale": locale,
                    "channel": self._channel(),
                    "nps": nps,
                    "csat": csat,
                    **ratings,
                    "problem_reported": category is not None,
                    "problem_category": category,
                    "comment": comment,
                    "redeemed_at": redeemed_at,
                    "redeemed_by_user_id": None,
                },
            )
        )
        # Only unhappy shoppers leave details, and only some of them.
        if nps <= DETRACTOR_MAX and rng.random() < (0.2 if category else 0.06):
            self.contacts.append((token_id, self._contact(locale, submitted)))

    def _channel(self) -> str:
        # About one shopper in eight types the code under the QR instead of scanning it.
        return Channel.CODE if self.channel_rng.random() < _TYPED_CODE_SHARE else Channel.RECEIPT

    def _problem(self, nps: int, csat: int, ratings: dict[str, int | None]) -> str | None:
        rng = self.rng
        if nps <= 3:
            chance = 0.8
        elif nps <= 6:
            chance = 0.5
        elif nps <= 8:
            chance = 0.1
        else:
            chance = 0.02
        # The survey asks for a category when satisfaction is 1-2.
        if csat > 2 and rng.random() >= chance:
            return None
        rated = [(value, key) for key, value in ratings.items() if value is not None]
        if rated and rng.random() < 0.7:
            lowest_value, lowest_key = min(rated)
            if lowest_value <= 2:
                return _CATEGORY_OF_RATING[lowest_key]
        return rng.choices(list(_CATEGORY_WEIGHTS), weights=list(_CATEGORY_WEIGHTS.values()))[0]

    def _comment(
        self, nps: int, category: str | None, staff: StaffProfile, locale: str
    ) -> str | None:
        rng = self.rng
        english = locale == "en"
        if nps <= 6:
            if rng.random() >= 0.55:
                return None
            if category is None:
                return rng.choice(_DISAPPOINTED_EN if english else _DISAPPOINTED_ZH)
            return rng.choice((_COMPLAINTS_EN if english else _COMPLAINTS_ZH)[category])
        if nps <= 8 or category is not None:
            if rng.random() >= 0.2:
                return None
            if category is not None and rng.random() < 0.5:
                return rng.choice((_COMPLAINTS_EN if english else _COMPLAINTS_ZH)[category])
            return rng.choice(_PASSIVE_EN if english else _PASSIVE_ZH)
        if rng.random() >= 0.22:
            return None
        # Praise that names the person is what HR reads when choosing a service star.
        if rng.random() < 0.4 + max(0.0, staff.effect):
            template = rng.choice(_PRAISE_STAFF_EN if english else _PRAISE_STAFF_ZH)
            return template.format(name=staff.name, code=staff.code)
        return rng.choice(_PRAISE_EN if english else _PRAISE_ZH)

    def _contact(self, locale: str, submitted: datetime) -> dict[str, Any]:
        rng = self.rng
        phone = email = None
        if locale == "en" or rng.random() < 0.15:
            email = f"shopper{rng.randrange(10_000, 99_999)}@{rng.choice(_EMAIL_DOMAINS)}"
        if email is None or rng.random() < 0.3:
            phone = rng.choice(_PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        return {
            "response_id": None,
            "phone": phone,
            "email": email,
            "consent_text": self.definition.consent.get(locale),
            "consented_at": submitted,
        }


def draw_scores(rng: random.Random, mood: float) -> tuple[int, int]:
    """Likelihood to recommend (0-10) and satisfaction (1-5) of a shopper whose experience
    was ``mood`` (store quality + staff effect + noise, about N(0, 1) for an average store)."""
    nps = bisect.bisect(_NPS_CUTS, mood)
    csat = 1 + bisect.bisect(_CSAT_CUTS, mood + rng.gauss(0.0, 0.5))
    return nps, csat


def _draw_delay(rng: random.Random) -> timedelta:
    """Time from purchase to answer: many scan on the way out, some that evening, a few
    the next day; never less than three minutes, never more than two days."""
    u = rng.random()
    if u < 0.45:
        minutes = rng.uniform(3, 60)
    elif u < 0.8:
        minutes = rng.uniform(60, 8 * 60)
    else:
        minutes = rng.uniform(8 * 60, 48 * 60)
    return timedelta(seconds=round(minutes * 60))


@dataclass(frozen=True, slots=True)
class AnswerCounts:
    receipts: int
    responses: int


def add_answers(
    session: Session,
    settings: Settings,
    chain: Chain,
    *,
    rng: random.Random,
    now: datetime,
    days: int,
    responses: int,
    report: Progress,
) -> AnswerCounts:
    """Publish the receipt survey, then draw and insert ``days`` days of receipts up to
    ``now``, the responses (about ``responses`` of them) and the contacts left with them.
    Moves the progress bar to 23 %."""
    definition = receipt_survey()
    version = publish_survey_version(session, definition, now - timedelta(days=days + 1))
    session.flush()
    report.reach(4)
    answers = _Answers(
        rng=rng,
        settings=settings,
        definition=definition,
        version_id=version.id,
        now=now,
        days=days,
        responses=responses,
    )
    for index, profile in enumerate(STORES):
        answers.add_store(chain.stores[profile.code].id, profile, chain.cashiers(profile.code))
        report.reach(4 + 9 * (index + 1) / len(STORES))
    receipt_rows = sorted(answers.receipts, key=lambda row: row["issued_at"])
    insert_rows(session, Receipt, receipt_rows, report, start=13, width=7)
    # Responses need the receipts' ids; the token id is the natural key to match them.
    receipt_ids = dict(
        session.execute(
            select(Receipt.token_id, Receipt.id).where(
                Receipt.source == DEMO_SOURCE, Receipt.answered_at.is_not(None)
            )
        )
        .tuples()
        .all()
    )
    response_rows = []
    for token_id, row in answers.responses:
        row["receipt_id"] = receipt_ids[token_id]
        response_rows.append(row)
    response_rows.sort(key=lambda row: row["submitted_at"])
    insert_rows(session, Response, response_rows, report, start=20, width=2)
    # Only detractors leave contact details: their responses' ids are all that is needed.
    response_ids = dict(
        session.execute(
            select(Response.receipt_id, Response.id)
            .join(Receipt, Receipt.id == Response.receipt_id)
            .where(Receipt.source == DEMO_SOURCE, Response.nps <= DETRACTOR_MAX)
        )
        .tuples()
        .all()
    )
    contact_rows = [
        {**contact, "response_id": response_ids[receipt_ids[token_id]]}
        for token_id, contact in answers.contacts
    ]
    insert_rows(session, ResponseContact, contact_rows, report, start=22, width=1)
    return AnswerCounts(receipts=len(receipt_rows), responses=len(response_rows))
