"""A large synthetic chain for benchmarks: stores, staff, receipts and responses, fast.

Run as ``.venv/bin/python bench/dataset.py --out /tmp/bench-1m.sqlite3 [--responses N]``,
or import `build_dataset` / `reuse_or_build` (``bench/dashboard_bench.py`` does).

`build_dataset` makes a fresh database migrated with `portal.schema.upgrade_database` and
fills it in one transaction:

- ``stores`` stores in six regions (time zone Asia/Shanghai), ``staff_per_store`` staff
  each (a manager, supervisors, floor staff, cashiers);
- about 1.3 receipts per response over the last ``days`` store-local days (ending now),
  by weekday and opening hour, 3 % of them batch cards without a cashier; exactly
  ``responses`` of them answered, chosen by a per-store answer rate;
- responses drawn from a latent satisfaction (store quality + staff effect + noise, a few
  stores drifting over the last five weeks) cut into NPS, CSAT and the five ratings, with
  problem categories and comments (zh_CN and en) as unhappy and happy shoppers leave them;
- ``local_day`` and ``local_hour`` filled as the portal fills them;
- the daily rollup rebuilt once with `portal.rollups.rebuild_rollups`;
- one admin user (`portal.auth.operations.create_user`) and a personal API token
  (`portal.api_tokens.operations.create_api_token`);
- with ``custom_questions`` (``--custom-questions``) only: version 2 of the default survey
  with three custom questions answered on every response, their ``response_answers`` and
  ``question_daily_counts`` (`bench/custom_questions.py`; off by default, which it leaves
  as fast as before).

Random draws are vectorised with numpy, and nothing goes through the ORM but the admin,
the token and the survey version. Stores and staff are Core ``insert()`` executemanys;
receipts and responses one ``executemany`` per 20 000 rows on the session's connection,
with explicit ids (no id is read back) and values converted in bulk to what the column
types would send (see `_Writer`: three times faster than Core's per-value processing).
On SQLite the build runs with ``synchronous=OFF``, WAL and foreign keys checked once at
the end (``PRAGMA foreign_key_check``) rather than per row. ``token_id``, ``short_code``
and ``transaction_id`` are cheap sequential strings (unique, within their columns'
lengths). The same seed gives the same rows except for their times, which end at the
moment of the build. 1M responses take about 100 s on a 2-core machine (a third of it
the rollup rebuild). PostgreSQL URLs work too (an empty database; sequences are moved
past the explicit ids).

`reuse_or_build` keeps a built SQLite file and a JSON sidecar (``PATH.json``: the
parameters, the admin login and the API token's secret) and reuses them when both exist.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from custom_questions import add_custom_answers  # bench/ is on sys.path as for the scripts
from sqlalchemy import Connection, Table, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal.api_tokens.operations import create_api_token
from portal.audit import CLI
from portal.auth.operations import create_user
from portal.db import make_engine
from portal.models import Receipt, Response, Role, Staff, Store
from portal.rollups import rebuild_rollups
from portal.schema import upgrade_database
from portal.versions import publish_survey_version
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
_RATING_COLUMNS = tuple(c for c in Response.__table__.columns.keys() if c.startswith("rating_"))
_CATEGORIES = receipt_survey().question("problem_category").choice_keys()
# product_quality, service_attitude, checkout_wait, returns_exchange, delivery, price, other
_CATEGORY_WEIGHTS = (0.28, 0.18, 0.20, 0.10, 0.06, 0.12, 0.06)
assert len(_CATEGORY_WEIGHTS) == len(_CATEGORIES), "one weight per problem category"
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


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    url: str
    stores: int
    staff: int
    receipts: int
    responses: int
    comments: int
    rollup_rows: int
    days: int
    seed: int
    #: Store-local days covered, ISO dates.
    first_day: str
    last_day: str
    #: When the build ended (UTC, ISO) and how long it took.
    built_at: str
    build_seconds: float
    #: The store with the most responses, and that count.
    busiest_store: str
    busiest_store_responses: int
    admin_email: str
    admin_password: str
    #: The personal API token's secret (a benchmark's throwaway credential).
    api_token: str
    #: True when `reuse_or_build` found the file instead of building it.
    reused: bool = False
    #: Built with ``custom_questions``: the custom answer rows written (0 without).
    custom_questions: bool = False
    answer_rows: int = 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- drawing the rows ---------------------------------------------------------------------


@dataclass(slots=True)
class _Chain:
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


def _plan_chain(rng: np.random.Generator, stores: int, staff_per_store: int) -> _Chain:
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
    return _Chain(
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
class _Receipts:
    store: np.ndarray  # store index 0..stores-1
    staff: np.ndarray  # staff slot within the store, -1 for batch cards
    issued: np.ndarray  # UTC epoch seconds, ascending
    total_cents: np.ndarray
    answered: np.ndarray  # bool


@dataclass(slots=True)
class _Responses:
    receipt: np.ndarray  # receipt index, ordered by submission time
    submitted: np.ndarray  # UTC epoch seconds
    nps: np.ndarray
    csat: np.ndarray
    ratings: np.ndarray  # responses x 5, 0 = not answered
    category: np.ndarray  # index into _CATEGORIES, -1 = no problem
    english: np.ndarray  # bool
    comment: list[str | None]
    redeemed: np.ndarray  # UTC epoch seconds, -1 = not redeemed


def _draw_receipts(
    rng: np.random.Generator, chain: _Chain, count: int, answers: int, days: int, now: int
) -> _Receipts:
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
    return _Receipts(store, staff, issued, total_cents, answered)


def _hour_p() -> np.ndarray:
    weights = np.array(_HOUR_WEIGHTS)
    return weights / weights.sum()


def _draw_responses(
    rng: np.random.Generator, chain: _Chain, receipts: _Receipts, now: int
) -> _Responses:
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
    category = np.where(problem, rng.choice(len(_CATEGORIES), n, p=weights / weights.sum()), -1)
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
    return _Responses(
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


# --- writing them ---------------------------------------------------------------------------


class _Writer:
    """Column-wise chunks of rows, executed as one driver ``executemany`` per chunk.

    The INSERT is the table's own columns; values are converted in bulk (numpy) to what
    the portal's column types would send: on SQLite, text in SQLAlchemy's storage format
    (``2026-11-22 08:15:00.000000`` for UTC datetimes, ``2026-11-22`` for dates), elsewhere
    aware datetimes and dates. This skips SQLAlchemy's per-value bind processing, which
    took most of the time; `_check_round_trip` reads rows back through the ORM.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.marker = "?" if self.sqlite else "%s"

    def timestamps(self, seconds: np.ndarray) -> list[Any]:
        """UTC epoch seconds to column values; negative seconds become NULL."""
        missing = seconds < 0
        stamps = seconds.astype("datetime64[s]")
        if self.sqlite:
            values: list[Any] = [
                v.replace("T", " ") for v in np.datetime_as_string(stamps, unit="us").tolist()
            ]
        else:
            values = [v.replace(tzinfo=UTC) for v in stamps.astype("datetime64[us]").tolist()]
        if missing.any():
            for i in np.flatnonzero(missing).tolist():
                values[i] = None
        return values

    def local_days(self, seconds: np.ndarray) -> list[Any]:
        days = ((seconds + UTC_OFFSET) // 86400).astype("datetime64[D]")
        return np.datetime_as_string(days).tolist() if self.sqlite else days.tolist()

    def insert(self, table: Table, columns: dict[str, Sequence[Any]]) -> None:
        names = list(columns)
        missing = set(table.columns.keys()) - set(names)
        if missing:
            raise ValueError(f"{table.name}: no values for {sorted(missing)}")
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join([self.marker] * len(names))})"
        )
        rows = list(zip(*columns.values(), strict=True))
        self.session.connection().exec_driver_sql(sql, rows)


def _chunks(count: int) -> Iterator[tuple[int, int]]:
    for start in range(0, count, CHUNK):
        yield start, min(count, start + CHUNK)


def _progress(label: str, done: int, total: int, started: float) -> None:
    if done == total or done % (CHUNK * 10) == 0:
        log(f"  {label}: {done:>9,} / {total:,}  ({time.perf_counter() - started:5.1f} s)")


def _nullable_ids(values: np.ndarray) -> list[int | None]:
    return [None if v < 0 else v for v in values.tolist()]


def _insert_receipts(
    writer: _Writer,
    receipts: _Receipts,
    answered_at: np.ndarray,
    staff_per_store: int,
    version_id: int,
) -> None:
    table = Receipt.__table__
    total, started = len(receipts.issued), time.perf_counter()
    staff_ids = np.where(
        receipts.staff >= 0, receipts.store * staff_per_store + receipts.staff + 1, -1
    )
    for a, b in _chunks(total):
        issued = receipts.issued[a:b]
        issued_at = writer.timestamps(issued)
        writer.insert(
            table,
            {
                "id": range(a + 1, b + 1),
                "token_id": [f"b{i:015d}" for i in range(a, b)],
                "short_code": [f"c{i:015d}" for i in range(a, b)],
                "store_id": (receipts.store[a:b] + 1).tolist(),
                "staff_id": _nullable_ids(staff_ids[a:b]),
                "transaction_id": [f"T{i:011d}" for i in range(a, b)],
                "issued_at": issued_at,
                "local_day": writer.local_days(issued),
                "local_hour": ((issued + UTC_OFFSET) // 3600 % 24).tolist(),
                "expires_at": writer.timestamps(issued + TOKEN_DAYS * 86400),
                "total_cents": receipts.total_cents[a:b].tolist(),
                "source": [SOURCE] * (b - a),
                "survey_version_id": [version_id] * (b - a),
                "created_at": issued_at,
                "answered_at": writer.timestamps(answered_at[a:b]),
            },
        )
        _progress("receipts", b, total, started)


def _insert_responses(
    writer: _Writer,
    responses: _Responses,
    receipts: _Receipts,
    version_id: int,
    staff_per_store: int,
) -> None:
    table = Response.__table__
    total, started = len(responses.receipt), time.perf_counter()
    store = receipts.store[responses.receipt]
    staff = receipts.staff[responses.receipt]
    staff_ids = np.where(staff >= 0, store * staff_per_store + staff + 1, -1)
    categories = [None, *_CATEGORIES]  # index + 1: -1 (no problem) becomes None
    for a, b in _chunks(total):
        submitted = responses.submitted[a:b]
        columns: dict[str, Sequence[Any]] = {
            "id": range(a + 1, b + 1),
            "receipt_id": (responses.receipt[a:b] + 1).tolist(),
            "survey_version_id": [version_id] * (b - a),
            "store_id": (store[a:b] + 1).tolist(),
            "staff_id": _nullable_ids(staff_ids[a:b]),
            "submitted_at": writer.timestamps(submitted),
            "local_day": writer.local_days(submitted),
            "locale": ["en" if e else "zh_CN" for e in responses.english[a:b].tolist()],
            "nps": responses.nps[a:b].tolist(),
            "csat": responses.csat[a:b].tolist(),
            "problem_reported": (responses.category[a:b] >= 0).tolist(),
            "problem_category": [categories[c + 1] for c in responses.category[a:b].tolist()],
            "comment": responses.comment[a:b],
            "redeemed_at": writer.timestamps(responses.redeemed[a:b]),
            "redeemed_by_user_id": [None] * (b - a),
            # One answer in eight through the typed code, as in the demo.
            "channel": ["code" if i % 8 == 0 else "receipt" for i in range(a, b)],
            "kiosk_id": [None] * (b - a),
            "client_id": [None] * (b - a),
            "entered_by_user_id": [None] * (b - a),
        }
        for column, key in enumerate(_RATING_COLUMNS):
            columns[key] = [v or None for v in responses.ratings[a:b, column].tolist()]
        writer.insert(table, columns)
        _progress("responses", b, total, started)


def _check_round_trip(session: Session, receipts: _Receipts, responses: _Responses) -> None:
    """Read the first and last rows back through the ORM: same times, days and ids."""
    for i in (0, len(receipts.issued) - 1):
        row = session.get(Receipt, i + 1)
        expected = datetime.fromtimestamp(int(receipts.issued[i]), UTC)
        local = expected + timedelta(seconds=UTC_OFFSET)
        if row is None or row.issued_at != expected:
            raise RuntimeError(f"receipt {i + 1} did not read back as written")
        if (row.local_day, row.local_hour) != (local.date(), local.hour):
            raise RuntimeError(f"receipt {i + 1}: wrong local day or hour")
    for i in (0, len(responses.receipt) - 1):
        answer = session.get(Response, i + 1)
        expected = datetime.fromtimestamp(int(responses.submitted[i]), UTC)
        if answer is None or answer.submitted_at != expected:
            raise RuntimeError(f"response {i + 1} did not read back as written")
        if answer.receipt_id != int(responses.receipt[i]) + 1 or answer.nps != int(
            responses.nps[i]
        ):
            raise RuntimeError(f"response {i + 1}: wrong receipt or score")
    session.expunge_all()


def _staff_name(serial: int) -> str:
    # Unique across the chain while serial < len(_SURNAMES) * len(_GIVEN) ** 2.
    given = _GIVEN[serial % len(_GIVEN)] + _GIVEN[serial // len(_GIVEN) % len(_GIVEN)]
    surname = _SURNAMES[serial // len(_GIVEN) ** 2 % len(_SURNAMES)]
    return surname + given


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def build_dataset(
    url: str,
    *,
    responses: int = 1_000_000,
    stores: int = 200,
    staff_per_store: int = 20,
    days: int = 365,
    seed: int = 1,
    custom_questions: bool = False,
) -> DatasetInfo:
    """Create and fill a fresh database at ``url`` (a SQLite file must not exist yet; any
    other database must be empty). Progress goes to stderr. ``custom_questions`` adds the
    three custom questions answered on every response (`bench/custom_questions.py`)."""
    if responses < 1 or stores < 1 or staff_per_store < 1 or days < 7:
        raise ValueError("need responses >= 1, stores >= 1, staff_per_store >= 1, days >= 7")
    path = _sqlite_path(url)
    if path is not None and path.exists():
        raise FileExistsError(f"{path} exists; build_dataset makes a fresh database")
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        upgrade_database(engine)
        with engine.connect() as conn:
            info = _fill(
                conn, url, responses, stores, staff_per_store, days, seed, started, custom_questions
            )
            if engine.dialect.name == "sqlite":
                conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    log(f"built in {info.build_seconds:.1f} s")
    return info


def _fill(
    conn: Connection,
    url: str,
    responses: int,
    stores: int,
    staff_per_store: int,
    days: int,
    seed: int,
    started: float,
    custom_questions: bool = False,
) -> DatasetInfo:
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        raw = conn.connection.driver_connection
        # For the build only (these are per connection, and this one is closed after it):
        # no fsync, a large page cache, and foreign keys checked once at the end rather
        # than per row (which doubled the insert time). SQLite ignores the foreign_keys
        # pragma inside a transaction, so it is set before the first statement.
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("PRAGMA cache_size=-1000000")
        raw.execute("PRAGMA temp_store=MEMORY")
        raw.execute("PRAGMA foreign_keys=OFF")
    session = Session(bind=conn)
    if session.scalar(select(func.count()).select_from(Store)):
        raise RuntimeError(f"{url} already has stores; build_dataset needs an empty database")
    rng = np.random.default_rng(seed)
    now_dt = datetime.now(UTC).replace(microsecond=0)
    now = int(now_dt.timestamp())
    receipt_count = max(responses, round(responses * RECEIPTS_PER_RESPONSE))

    log(f"drawing {receipt_count:,} receipts and {responses:,} responses (numpy) ...")
    chain = _plan_chain(rng, stores, staff_per_store)
    receipts = _draw_receipts(rng, chain, receipt_count, responses, days, now)
    answers = _draw_responses(rng, chain, receipts, now)
    log(f"  drawn ({time.perf_counter() - started:.1f} s)")

    created = now_dt - timedelta(days=days + 1)
    session.execute(
        insert(Store.__table__),
        [
            {
                "id": i + 1,
                "code": chain.codes[i],
                "name": chain.names[i],
                "region": chain.regions[i],
                "timezone": TIMEZONE,
                "created_at": created,
            }
            for i in range(stores)
        ],
    )
    session.execute(
        insert(Staff.__table__),
        [
            {
                "id": s * staff_per_store + j + 1,
                "store_id": s + 1,
                "code": f"S{j + 1:03d}",
                "name": _staff_name(s * staff_per_store + j),
                "position": chain.positions[j],
                "active": True,
                "created_at": created,
            }
            for s in range(stores)
            for j in range(staff_per_store)
        ],
    )
    version = publish_survey_version(session, receipt_survey(), created)
    admin = create_user(
        session,
        email=ADMIN_EMAIL,
        role=Role.ADMIN.value,
        password=ADMIN_PASSWORD,
        name="Bench admin",
        actor=CLI,
        now=now_dt,
    )
    token = create_api_token(session, admin, actor=CLI, now=now_dt, label="dashboard bench")
    session.flush()

    writer = _Writer(session)
    answered_at = np.full(receipt_count, -1, dtype=np.int64)
    answered_at[answers.receipt] = answers.submitted
    _insert_receipts(writer, receipts, answered_at, staff_per_store, version.id)
    _insert_responses(writer, answers, receipts, version.id, staff_per_store)
    _check_round_trip(session, receipts, answers)
    answer_rows = 0
    if custom_questions:
        log("answering three custom questions on every response ...")
        answer_rows = add_custom_answers(
            session, writer.insert, seed=seed, published_at=created, log=log
        )
    if sqlite:
        check_started = time.perf_counter()
        broken = session.execute(text("PRAGMA foreign_key_check")).all()
        if broken:
            raise RuntimeError(f"the data set breaks foreign keys: {broken[:5]}")
        log(f"  foreign keys checked ({time.perf_counter() - check_started:.1f} s)")
    if conn.dialect.name == "postgresql":
        # Explicit ids leave the sequences behind; the app's next insert must not collide.
        for table in ("stores", "staff", "receipts", "responses"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
    log("rebuilding the daily rollup ...")
    rollup_started = time.perf_counter()
    rollup_rows = rebuild_rollups(session)
    log(f"  {rollup_rows:,} rollup rows ({time.perf_counter() - rollup_started:.1f} s)")
    log("committing ...")
    session.commit()
    session.close()

    per_store = np.bincount(receipts.store[answers.receipt], minlength=stores)
    busiest = int(per_store.argmax())
    today = (now + UTC_OFFSET) // 86400
    epoch = date(1970, 1, 1)
    return DatasetInfo(
        url=url,
        stores=stores,
        staff=stores * staff_per_store,
        receipts=receipt_count,
        responses=responses,
        comments=sum(c is not None for c in answers.comment),
        rollup_rows=rollup_rows,
        days=days,
        seed=seed,
        first_day=(epoch + timedelta(days=today - days + 1)).isoformat(),
        last_day=(epoch + timedelta(days=today)).isoformat(),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 1),
        busiest_store=chain.codes[busiest],
        busiest_store_responses=int(per_store[busiest]),
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        api_token=token.secret,
        custom_questions=custom_questions,
        answer_rows=answer_rows,
    )


def add_custom_questions(url: str, *, seed: int = 1) -> int:
    """Answer the three custom questions of `bench/custom_questions.py` on every response
    of the data set at ``url`` (built without them), in one transaction; the answer rows."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            created = session.scalar(select(func.min(Store.created_at)))
            rows = add_custom_answers(
                session, _Writer(session).insert, seed=seed, published_at=created, log=log
            )
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return rows


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def reuse_or_build(path: Path, **params: Any) -> DatasetInfo:
    """The data set in the SQLite file ``path``: reused when it and its JSON sidecar exist,
    else built (into a temporary name, renamed when complete, so that an interrupted build
    is never reused). ``params`` are `build_dataset`'s keyword arguments."""
    path = path.resolve()
    meta = sidecar(path)
    if path.exists() and meta.exists():
        info = DatasetInfo(**{**json.loads(meta.read_text()), "reused": True})
        wanted = {k: v for k, v in params.items() if getattr(info, k, v) != v}
        if wanted:
            log(f"note: reusing {path} built with different parameters than asked: {wanted}")
        log(f"reusing {path} ({info.responses:,} responses, built {info.built_at})")
        return info
    if path.exists():
        raise SystemExit(f"{path} exists but {meta.name} does not: remove it or pick another path")
    partial = path.with_name(path.name + ".building")
    for leftover in _sqlite_files(partial):
        leftover.unlink()
    info = build_dataset(f"sqlite:///{partial}", **params)
    os.replace(partial, path)
    info = DatasetInfo(**{**asdict(info), "url": f"sqlite:///{path}"})
    meta.write_text(json.dumps(asdict(info), ensure_ascii=False, indent=2))
    return info


def check_size_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a ``--repeat`` or ``--responses`` outside what the benchmarks support."""
    if not 1 <= args.repeat <= 50:
        parser.error("--repeat must be between 1 and 50")
    if not 1_000 <= args.responses <= 5_000_000:
        parser.error("--responses must be between 1000 and 5000000")


@contextmanager
def dataset_for(args: argparse.Namespace, prefix: str) -> Iterator[tuple[DatasetInfo, Path]]:
    """The data set a benchmark measures (``--reuse`` if given, else one built from
    ``--responses``, ``--stores`` and ``--seed``) and a scratch folder, removed afterwards
    with the data set it may hold."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        params = {"responses": args.responses, "stores": args.stores, "seed": args.seed}
        if args.reuse:
            yield reuse_or_build(args.reuse, **params), tmp
        else:
            yield build_dataset(f"sqlite:///{tmp / 'bench.sqlite3'}", **params), tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _sqlite_files(path: Path) -> list[Path]:
    candidates = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return [p for p in candidates if p.exists()]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="SQLite file to build or reuse")
    parser.add_argument(
        "--responses", type=int, default=1_000_000, help="responses in the data set, 1000-5000000"
    )
    parser.add_argument("--stores", type=int, default=200, help="stores in the data set")
    parser.add_argument("--staff-per-store", type=int, default=20, help="staff in each store")
    parser.add_argument(
        "--days", type=int, default=365, help="store-local days of data, ending now"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--custom-questions",
        action="store_true",
        help="also answer three custom questions on every response",
    )
    args = parser.parse_args(argv)
    info = reuse_or_build(
        args.out,
        responses=args.responses,
        stores=args.stores,
        staff_per_store=args.staff_per_store,
        days=args.days,
        seed=args.seed,
        custom_questions=args.custom_questions,
    )
    for key, value in asdict(info).items():
        if key not in ("admin_password", "api_token"):
            print(f"{key:<24} {value}")


if __name__ == "__main__":
    main()
