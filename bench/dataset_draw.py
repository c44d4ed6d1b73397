"""Drawing the synthetic chain of ``bench/dataset.py``: the stores, their staff, receipts
and responses as numpy arrays (no database here).

`plan_chain` draws the stores' and staff's traits, `draw_receipts` the receipts (by weekday
and opening hour, exactly ``answers`` of them answered), `draw_responses` the answers from a
latent satisfaction. `bench/dataset.py` writes them to SQLite (executemany) and
`bench/dataset_pg.py` to PostgreSQL (COPY).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from portal.models import Response
from surveys.loader import receipt_survey

TIMEZONE = "Asia/Shanghai"
#: Asia/Shanghai has kept UTC+8 without daylight saving since 1991.
UTC_OFFSET = 8 * 3600
SOURCE = "bench"
ADMIN_EMAIL = "bench-admin@bench.example"
ADMIN_PASSWORD = "bench-password-not-secret"
RECEIPTS_PER_RESPONSE = 1.3
CHUNK = 20_000
TOKEN_DAYS = 30
BATCH_CARD_SHARE = 0.03

_REGIONS = (
    ("华东", (("SH", "上海"), ("HZ", "杭州"), ("SU", "苏州"), ("NJ", "南京"))),
    ("华北", (("BJ", "北京"), ("TJ", "天津"), ("SJ", "石家庄"))),
    ("华南", (("GZ", "广州"), ("SZ", "深圳"), ("XM", "厦门"))),
    ("西南", (("CD", "成都"), ("CQ", "重庆"), ("KM", "昆明"))),
    ("华中", (("WH", "武汉"), ("CS", "长沙"))),
    ("西北", (("XA", "西安"), ("LZ", "兰州"))),
)
_OPENING_HOUR = 9
# Receipts per opening hour (9:00-21:59): a lunchtime and a larger evening peak.
_HOUR_WEIGHTS = (0.5, 0.7, 0.9, 1.3, 1.2, 0.8, 0.7, 0.8, 1.0, 1.4, 1.5, 1.2, 0.7)
_PEAK_HOURS = (12, 13, 18, 19)
_WEEKDAY_WEIGHTS = (0.9, 0.9, 0.95, 1.0, 1.1, 1.4, 1.35)  # Monday .. Sunday
_TREND_DAYS = 35
# Latent satisfaction cut into answers (as in portal/demo/answers.py): quality 0.3 gives an NPS
# near +25, quality 0.7 near +55.
_NPS_CUTS = (-2.6, -2.2, -1.9, -1.6, -1.3, -1.0, -0.55, -0.05, 0.35, 0.95)
_CSAT_CUTS = (-2.0, -1.2, -0.5, 0.45)
_RATING_CUTS = (-1.9, -1.1, -0.35, 0.55)
RATING_COLUMNS = tuple(c for c in Response.__table__.columns.keys() if c.startswith("rating_"))
CATEGORIES = receipt_survey().question("problem_category").choice_keys()
# product_quality, service_attitude, checkout_wait, returns_exchange, delivery, price, other
_CATEGORY_WEIGHTS = (0.28, 0.18, 0.20, 0.10, 0.06, 0.12, 0.06)
assert len(_CATEGORY_WEIGHTS) == len(CATEGORIES), "one weight per problem category"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"  # noqa: E501
_GIVEN = "伟芳敏静丽强磊军洋勇艳杰娟涛明超霞平刚婷雪慧鑫宇浩晨佳琳颖凯鹏辉丹倩帅蕾欣瑶璐萍斌俊峰晶红华玲亮健飞"  # noqa: E501
# (group, locale) -> comments; detractor comments name what went wrong.
_COMMENTS = {
    ("detractor", "zh_CN"): (
        "排队结账等了二十多分钟，只开了两个收银台。",
        "收银员态度冷淡，问问题也爱答不理。",
        "买回家的酸奶已经过期了，希望加强临期商品检查。",
        "价签和结账价格不一致，多收了钱。",
        "货架上经常缺货，想买的东西总是没有。",
        "退货流程太麻烦，来回跑了两次。",
    ),
    ("detractor", "en"): (
        "Waited over 20 minutes at the checkout, only two tills open.",
        "The cashier was rude and ignored my question.",
        "The milk I bought was already past its date.",
        "The shelf price and the till price were different.",
    ),
    ("passive", "zh_CN"): (
        "整体还可以，就是人有点多。",
        "东西不错，价格稍微贵了一点。",
        "还行，希望多开几个收银台。",
    ),
    ("passive", "en"): ("Fine overall, a bit crowded.", "Good products, slightly expensive."),
    ("promoter", "zh_CN"): (
        "店员很热情，帮我找到了想要的东西。",
        "结账很快，环境干净，下次还来。",
        "商品新鲜，服务周到，非常满意！",
        "收银员非常耐心，给个大大的赞。",
    ),
    ("promoter", "en"): (
        "Friendly staff and a very quick checkout.",
        "Clean store, fresh food, great service.",
    ),
}
_COMMENT_CHANCE = {"detractor": 0.55, "passive": 0.20, "promoter": 0.22}


# --- drawing the rows ---------------------------------------------------------------------


@dataclass(slots=True)
class Chain:
    codes: list[str]
    names: list[str]
    regions: list[str]
    traffic: np.ndarray
    quality: np.ndarray
    answer_rate: np.ndarray
    english: np.ndarray
    availability: np.ndarray
    cleanliness: np.ndarray
    trend: np.ndarray
    staff_effect: np.ndarray  # stores x staff_per_store
    staff_prompting: np.ndarray  # stores x staff_per_store
    positions: list[str]  # one per staff slot, the same in every store
    position_weight: np.ndarray


def plan_chain(rng: np.random.Generator, stores: int, staff_per_store: int) -> Chain:
    cities = [(region, code, city) for region, towns in _REGIONS for code, city in towns]
    serial: dict[str, int] = {}
    codes, names, regions = [], [], []
    for i in range(stores):
        region, prefix, city = cities[i % len(cities)]
        serial[prefix] = serial.get(prefix, 0) + 1
        codes.append(f"{prefix}-{serial[prefix]:03d}")
        names.append(f"{city}{serial[prefix]}号店")
        regions.append(region)
    supervisors = max(1, staff_per_store // 10)
    floor = max(0, staff_per_store // 5)
    positions = ["店长"] + ["主管"] * supervisors + ["导购"] * floor
    positions = (positions + ["收银员"] * staff_per_store)[:staff_per_store]
    weight = {"店长": 0.08, "主管": 0.25, "导购": 0.35, "收银员": 1.0}
    trend = np.zeros(stores)
    drifting = rng.choice(stores, size=max(1, stores // 20), replace=False)
    trend[drifting] = rng.choice((-0.8, -0.5, 0.4), size=len(drifting))
    effect = rng.normal(0.0, 0.18, (stores, staff_per_store))
    # One cashier in fifty is clearly weaker: what the staff funnel and ranking look for.
    effect[rng.random((stores, staff_per_store)) < 0.02] = -0.8
    return Chain(
        codes=codes,
        names=names,
        regions=regions,
        traffic=rng.lognormal(0.0, 0.4, stores),
        quality=np.clip(rng.normal(0.45, 0.15, stores), 0.0, 0.9),
        answer_rate=np.clip(rng.normal(0.6, 0.12, stores), 0.25, 0.95),
        english=rng.uniform(0.0, 0.2, stores),
        availability=rng.normal(0.0, 0.15, stores),
        cleanliness=rng.normal(0.05, 0.15, stores),
        trend=trend,
        staff_effect=effect,
        staff_prompting=np.clip(rng.normal(1.0, 0.12, (stores, staff_per_store)), 0.7, 1.3),
        positions=positions,
        position_weight=np.array([weight[p] for p in positions]),
    )


@dataclass(slots=True)
class Receipts:
    store: np.ndarray  # store index 0..stores-1
    staff: np.ndarray  # staff slot within the store, -1 for batch cards
    issued: np.ndarray  # UTC epoch seconds, ascending
    total_cents: np.ndarray
    answered: np.ndarray  # bool


@dataclass(slots=True)
class Responses:
    receipt: np.ndarray  # receipt index, ordered by submission time
    submitted: np.ndarray  # UTC epoch seconds
    nps: np.ndarray
    csat: np.ndarray
    ratings: np.ndarray  # responses x 5, 0 = not answered
    category: np.ndarray  # index into CATEGORIES, -1 = no problem
    english: np.ndarray  # bool
    comment: list[str | None]
    redeemed: np.ndarray  # UTC epoch seconds, -1 = not redeemed


def draw_receipts(
    rng: np.random.Generator, chain: Chain, count: int, answers: int, days: int, now: int
) -> Receipts:
    today = (now + UTC_OFFSET) // 86400  # store-local day number since 1970-01-01
    day_numbers = np.arange(today - days + 1, today + 1)
    # 1970-01-01 was a Thursday: weekday (Monday = 0) is (day + 3) % 7.
    day_weight = np.array(_WEEKDAY_WEIGHTS)[(day_numbers + 3) % 7]
    store = rng.choice(len(chain.codes), count, p=chain.traffic / chain.traffic.sum())
    day = rng.choice(day_numbers, count, p=day_weight / day_weight.sum())
    hour = _OPENING_HOUR + rng.choice(len(_HOUR_WEIGHTS), count, p=_hour_p())
    issued = day * 86400 + hour * 3600 + rng.integers(0, 3600, count) - UTC_OFFSET
    # Today is cut at `now`: later purchases move to the day before.
    issued = np.where(issued > now, issued - 86400, issued)
    staff = rng.choice(
        len(chain.positions), count, p=chain.position_weight / chain.position_weight.sum()
    )
    staff = np.where(rng.random(count) < BATCH_CARD_SHARE, -1, staff)
    order = np.argsort(issued, kind="stable")
    store, staff, issued = store[order], staff[order], issued[order]
    # Exactly `answers` answered receipts, weighted by the store's answer rate and the
    # cashier's prompting (Efraimidis-Spirakis: the largest u ** (1 / weight)).
    prompting = np.where(staff >= 0, chain.staff_prompting[store, np.maximum(staff, 0)], 1.0)
    weight = chain.answer_rate[store] * prompting
    keys = rng.random(count) ** (1.0 / weight)
    answered = np.zeros(count, dtype=bool)
    answered[np.argpartition(-keys, answers - 1)[:answers]] = True
    total_cents = np.exp(rng.normal(np.log(8000), 0.8, count)).astype(np.int64)
    return Receipts(store, staff, issued, total_cents, answered)


def _hour_p() -> np.ndarray:
    weights = np.array(_HOUR_WEIGHTS)
    return weights / weights.sum()


def draw_responses(
    rng: np.random.Generator, chain: Chain, receipts: Receipts, now: int
) -> Responses:
    index = np.flatnonzero(receipts.answered)
    n = len(index)
    issued = receipts.issued[index]
    store = receipts.store[index]
    staff = receipts.staff[index]
    # Purchase to answer: many scan on the way out, some that evening, a few next day.
    u = rng.random(n)
    minutes = np.where(
        u < 0.45,
        rng.uniform(3, 60, n),
        np.where(u < 0.8, rng.uniform(60, 480, n), rng.uniform(480, 2880, n)),
    )
    delay = np.round(minutes * 60).astype(np.int64)
    # Answers that would come after `now` come sooner instead: the count stays exact.
    late = issued + delay > now
    delay[late] = ((now - issued[late]) * rng.random(int(late.sum()))).astype(np.int64)
    submitted = issued + delay

    effect = np.where(staff >= 0, chain.staff_effect[store, np.maximum(staff, 0)], 0.0)
    trend_start = now - _TREND_DAYS * 86400
    drift = chain.trend[store] * np.clip((issued - trend_start) / (now - trend_start), 0.0, 1.0)
    y = chain.quality[store] + effect + drift + rng.normal(0.0, 1.0, n)
    nps = np.searchsorted(_NPS_CUTS, y, side="right")
    csat = 1 + np.searchsorted(_CSAT_CUTS, y + rng.normal(0.0, 0.5, n), side="right")

    local = issued + UTC_OFFSET
    local_hour = (local // 3600) % 24
    weekend = ((local // 86400 + 3) % 7) >= 5
    peak = np.isin(local_hour, _PEAK_HOURS) | weekend
    aspects = (
        0.7 * effect,
        0.3 * effect - 0.45 * peak,
        chain.availability[store],
        chain.cleanliness[store],
        0.5 * effect,
    )
    rates = rng.random(n) < 0.85
    ratings = np.zeros((n, len(aspects)), dtype=np.int64)
    for column, aspect in enumerate(aspects):
        value = 0.8 * y + aspect + rng.normal(0.0, 0.6, n)
        drawn = 1 + np.searchsorted(_RATING_CUTS, value, side="right")
        ratings[:, column] = np.where(rates & (rng.random(n) < 0.84), drawn, 0)

    chance = np.select([nps <= 3, nps <= 6, nps <= 8], [0.8, 0.5, 0.1], 0.02)
    problem = (csat <= 2) | (rng.random(n) < chance)
    weights = np.array(_CATEGORY_WEIGHTS)
    category = np.where(problem, rng.choice(len(CATEGORIES), n, p=weights / weights.sum()), -1)
    english = rng.random(n) < chain.english[store]
    group = np.where(nps <= 6, 0, np.where(nps <= 8, 1, 2))
    comment_u = rng.random(n)
    pick = rng.integers(0, 1 << 30, n)
    comments: list[str | None] = []
    groups = ("detractor", "passive", "promoter")
    for g, cu, p, en in zip(
        group.tolist(), comment_u.tolist(), pick.tolist(), english.tolist(), strict=True
    ):
        name = groups[g]
        if cu < _COMMENT_CHANCE[name]:
            pool = _COMMENTS[(name, "en" if en else "zh_CN")]
            comments.append(pool[p % len(pool)])
        else:
            comments.append(None)

    redeemed = submitted + rng.integers(300, 3 * 86400, n)
    redeemed = np.where((rng.random(n) < 0.07) & (redeemed <= now), redeemed, -1)

    order = np.argsort(submitted, kind="stable")
    return Responses(
        receipt=index[order],
        submitted=submitted[order],
        nps=nps[order],
        csat=csat[order],
        ratings=ratings[order],
        category=category[order],
        english=english[order],
        comment=[comments[i] for i in order.tolist()],
        redeemed=redeemed[order],
    )


def staff_name(serial: int) -> str:
    # Unique across the chain while serial < len(_SURNAMES) * len(_GIVEN) ** 2.
    given = _GIVEN[serial % len(_GIVEN)] + _GIVEN[serial // len(_GIVEN) % len(_GIVEN)]
    surname = _SURNAMES[serial // len(_GIVEN) ** 2 % len(_SURNAMES)]
    return surname + given
