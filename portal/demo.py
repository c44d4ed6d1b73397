"""The demo chain: a fictional retail chain with months of receipts and survey answers.

Owns everything ``flask demo`` loads: 17 stores in four regions, their staff, one login
per role, and receipts with responses drawn from a small latent-satisfaction model, so
that every page has something true to show: stores that differ, a store whose recent
trend is worse, a few clearly weaker and a few excellent staff, peak-hour checkout waits,
unanswered receipts for the response-rate funnel, detractors who left contact details,
and the follow-up cases those unhappy answers opened, in every state from open (a few of
them overdue) to closed after the return visit.

The people and organisation go through the ordinary operations (``create_store``,
``import_staff``, ``create_user``) so that they are validated and audited like real
ones. Receipts, responses, cases and their timelines are far too many for one ORM object
each: they are made here as rows and written with bulk Core inserts. The mystery-shopping
programme of the same months (`portal.mystery.demo`: four shoppers, visits in every
state, disputes, receipt photos) goes through the mystery operations instead, visit by
visit. Like every operation, `build_demo` only adds and flushes; the caller commits.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from portal import ROOT
from portal.admin.operations import create_store, import_staff
from portal.audit import CLI, Actor, record_audit
from portal.auth.operations import create_user
from portal.awards.demo import AwardsDemo, build_awards_demo
from portal.calendar import local_day, local_hour
from portal.cases.notify import SYSTEM, notify_assignee
from portal.cases.operations import (
    DETRACTOR_MAX,
    FOLLOW_UP_DAYS,
    case_trigger,
    default_assignee,
)
from portal.config import Settings
from portal.db import Base
from portal.errors import Conflict
from portal.models import (
    AuditEntry,
    Case,
    CaseEvent,
    CaseState,
    FollowUp,
    Receipt,
    Response,
    ResponseContact,
    ReturnVisit,
    Role,
    Staff,
    Store,
    User,
)
from portal.models.receipts import RATING_KEYS
from portal.mystery.demo import MysteryDemoSummary, build_mystery_demo
from portal.rollups import (
    rebuild_rollups,
)
from portal.versions import publish_survey_version
from surveys.answers import LOW_SATISFACTION
from surveys.codes import new_short_code
from surveys.definitions import SurveyDefinition
from surveys.loader import receipt_survey
from surveys.tokens import new_token_id

#: Every demo login uses this password (long enough for MIN_PASSWORD_LENGTH).
DEMO_PASSWORD = "demo-password"
DEMO_ADMIN_EMAIL = "admin@demo.example"
#: ``receipts.source`` of every receipt made here, so demo rows can be told apart.
DEMO_SOURCE = "demo"
TIMEZONE = "Asia/Shanghai"

_CHUNK = 5_000
_OPENING_HOUR = 9
_CLOSING_HOUR = 22
# Receipts per hour of the day (9:00-21:59): a lunchtime and a larger evening peak.
_HOUR_WEIGHTS = (0.5, 0.7, 0.9, 1.3, 1.2, 0.8, 0.7, 0.8, 1.0, 1.4, 1.5, 1.2, 0.7)
_PEAK_HOURS = frozenset({12, 13, 18, 19})
# Monday .. Sunday.
_WEEKDAY_WEIGHTS = (0.9, 0.9, 0.95, 1.0, 1.1, 1.4, 1.35)
# The recent drift of a store (worse or better) builds up over this many last days.
_TREND_DAYS = 35
# Mean delay between purchase and answer under _draw_delay (about 7.4 h); answers that
# would fall after `now` are not given yet, and the receipt count makes up for them.
_MEAN_DELAY = timedelta(hours=7.4)

# Latent satisfaction y ~ store + staff + trend + N(0, 1) is cut into answers. The cuts
# put a store of quality 0.3 near NPS +25 and one of 0.7 near +55 (staff effects move
# each store a few points).
_NPS_CUTS = (-2.6, -2.2, -1.9, -1.6, -1.3, -1.0, -0.55, -0.05, 0.35, 0.95)
_CSAT_CUTS = (-2.0, -1.2, -0.5, 0.45)
_RATING_CUTS = (-1.9, -1.1, -0.35, 0.55)

_POSITION_WEIGHTS = {"收银员": 1.0, "导购": 0.35, "主管": 0.25, "店长": 0.08}


class DemoExists(Conflict):
    code = "demo_exists"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: str
    email: str
    password: str
    #: What the login is for, shown next to it (e.g. "manages SH-001, SH-002").
    note: str


@dataclass(frozen=True, slots=True)
class DemoSummary:
    stores: int
    staff: int
    receipts: int
    responses: int
    #: Follow-up cases opened by the unhappy responses.
    cases: int
    days: int
    logins: tuple[DemoLogin, ...]
    #: The mystery-shopping programme: visits by state, shoppers, receipt photos.
    mystery: MysteryDemoSummary
    #: The service-star award cycles: one month final, the last one in HR review.
    awards: AwardsDemo


@dataclass(frozen=True, slots=True)
class _StoreProfile:
    code: str
    name: str
    region: str
    #: Relative number of receipts per day.
    traffic: float
    #: Latent service level; what mostly moves the store's NPS.
    quality: float
    #: Share of receipts whose shopper answers.
    answer_rate: float
    #: Share of answers given in English.
    english: float
    availability: float
    cleanliness: float
    #: Latent change reached by `now`, built up over the last _TREND_DAYS days.
    trend: float


@dataclass(frozen=True, slots=True)
class _StaffProfile:
    store_code: str
    code: str
    name: str
    position: str
    #: Latent effect on the shopper's satisfaction (friendliness and knowledge more so).
    effect: float
    #: Multiplies the answer rate: cashiers who mention the survey get more answers.
    prompting: float
    #: When a former employee left; their receipts stop there.
    left_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Cashier:
    """A staff member as the receipt generator needs them, with the database id."""

    id: int
    profile: _StaffProfile


# Four regions, 17 stores. GZ-002 slides over the last weeks; CQ-001 recovers.
_STORES = (
    _StoreProfile("SH-001", "上海徐汇店", "华东", 1.3, 0.55, 0.42, 0.22, 0.1, 0.2, 0.0),
    _StoreProfile("SH-002", "上海静安店", "华东", 1.2, 0.65, 0.44, 0.25, 0.2, 0.3, 0.0),
    _StoreProfile("SH-003", "上海浦东店", "华东", 1.1, 0.40, 0.40, 0.20, 0.0, 0.0, 0.0),
    _StoreProfile("HZ-001", "杭州西湖店", "华东", 1.0, 0.60, 0.43, 0.15, 0.1, 0.2, 0.0),
    _StoreProfile("HZ-002", "杭州滨江店", "华东", 0.8, 0.45, 0.38, 0.10, 0.0, 0.1, 0.0),
    _StoreProfile("SU-001", "苏州园区店", "华东", 0.8, 0.50, 0.41, 0.10, 0.1, 0.1, 0.0),
    _StoreProfile("BJ-001", "北京朝阳店", "华北", 1.3, 0.45, 0.40, 0.20, 0.0, 0.0, 0.0),
    _StoreProfile("BJ-002", "北京海淀店", "华北", 1.1, 0.35, 0.37, 0.15, -0.2, 0.0, 0.0),
    _StoreProfile("BJ-003", "北京西城店", "华北", 0.9, 0.50, 0.41, 0.12, 0.1, 0.1, 0.0),
    _StoreProfile("TJ-001", "天津和平店", "华北", 0.8, 0.30, 0.36, 0.05, -0.1, -0.2, 0.0),
    _StoreProfile("GZ-001", "广州天河店", "华南", 1.2, 0.55, 0.42, 0.15, 0.1, 0.1, 0.0),
    _StoreProfile("GZ-002", "广州越秀店", "华南", 0.9, 0.50, 0.39, 0.08, 0.0, -0.1, -0.8),
    _StoreProfile("SZ-001", "深圳南山店", "华南", 1.2, 0.70, 0.46, 0.20, 0.2, 0.3, 0.0),
    _StoreProfile("SZ-002", "深圳福田店", "华南", 1.0, 0.40, 0.40, 0.18, 0.0, 0.0, 0.0),
    _StoreProfile("CD-001", "成都锦江店", "西南", 1.0, 0.50, 0.41, 0.06, 0.0, 0.1, 0.0),
    _StoreProfile("CD-002", "成都高新店", "西南", 0.8, 0.32, 0.35, 0.06, -0.3, -0.2, 0.0),
    _StoreProfile("CQ-001", "重庆解放碑店", "西南", 0.9, 0.30, 0.38, 0.05, -0.1, -0.1, 0.4),
)

# (store, n-th cashier): the staff whose effect is set rather than drawn.
_WEAK_CASHIERS = frozenset({("BJ-002", 1), ("SZ-002", 0), ("CD-002", 2)})
_EXCELLENT_CASHIERS = frozenset({("SH-002", 0), ("HZ-001", 3)})

_MANAGER_STORES = ("SH-001", "SH-002")
_MANAGER2_STORES = ("GZ-002",)

_SURNAMES = (
    "王王李李张张刘刘陈陈杨杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "于蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN_ONE = (
    "伟芳敏静丽强磊军洋勇艳杰娟涛明超霞平刚婷雪慧鑫宇浩晨佳琳颖凯鹏辉丹倩帅蕾"
    "欣瑶璐萍斌俊峰晶红华玲亮健飞"
)
_GIVEN_TWO = (
    "秀英",
    "桂英",
    "秀兰",
    "建华",
    "志强",
    "晓明",
    "海燕",
    "春梅",
    "子涵",
    "欣怡",
    "梓轩",
    "思雨",
    "雨桐",
    "浩然",
    "一诺",
    "俊杰",
    "晓东",
    "丽娟",
    "文静",
    "佳怡",
    "嘉豪",
    "天佑",
    "雅婷",
    "志伟",
    "明辉",
    "国华",
    "建军",
    "婉清",
    "诗涵",
    "宇航",
)

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


def demo_logins() -> tuple[DemoLogin, ...]:
    """The demo's sign-ins, one per role (both store managers included)."""
    return (
        DemoLogin(
            Role.ADMIN.value, DEMO_ADMIN_EMAIL, DEMO_PASSWORD, "all stores, staff, users, API keys"
        ),
        DemoLogin(
            Role.MANAGER.value,
            "manager@demo.example",
            DEMO_PASSWORD,
            f"manages {', '.join(_MANAGER_STORES)}",
        ),
        DemoLogin(
            Role.MANAGER.value,
            "manager2@demo.example",
            DEMO_PASSWORD,
            f"manages {', '.join(_MANAGER2_STORES)}",
        ),
        DemoLogin(
            Role.MYSTERY.value,
            "mystery@demo.example",
            DEMO_PASSWORD,
            "mystery shopper: visit assignments and reports (also mystery2-4@)",
        ),
        DemoLogin(
            Role.REVIEWER.value,
            "reviewer@demo.example",
            DEMO_PASSWORD,
            "reviews mystery-shop reports before release",
        ),
        DemoLogin(
            Role.HR.value,
            "hr@demo.example",
            DEMO_PASSWORD,
            "staff rankings and service-star awards",
        ),
        DemoLogin(
            Role.HR.value,
            "hr2@demo.example",
            DEMO_PASSWORD,
            "second HR reviewer: answers appeals against hr@'s decisions",
        ),
    )


_LOGIN_NAMES = {
    "admin@demo.example": "系统管理员",
    "manager@demo.example": "陈静",
    "manager2@demo.example": "黄志强",
    "mystery@demo.example": "神秘顾客 刘洋",
    "reviewer@demo.example": "质检 孙丽",
    "hr@demo.example": "人事 周敏",
    "hr2@demo.example": "人事 吴刚",
}


def demo_exists(session: Session) -> bool:
    """Whether the demo was loaded (its admin login exists)."""
    return session.scalar(select(User.id).where(User.email == DEMO_ADMIN_EMAIL)) is not None


def build_demo(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    seed: int = 2026,
    days: int = 120,
    responses: int = 45_000,
    progress: Callable[[int], None] | None = None,
    photo_folder: Path | None = None,
) -> DemoSummary:
    """Add the demo chain: stores, staff, logins, and ``days`` days of receipts up to
    ``now`` of which about 40 % were answered, giving about ``responses`` responses, and
    the mystery-shopping programme of the same months (`portal.mystery.demo`).

    The same seed gives the same chain and answers (only token ids and short codes are
    drawn from the system's secure randomness). ``progress`` receives increments that
    sum to 100. Receipt photos of the mystery visits are written to ``photo_folder``, by
    default the ``mystery-photos`` folder of the instance folder the application uses
    with these settings. Adds and flushes; the caller commits (the photo files are
    written at once).

    Raises
    ------
    DemoExists
        The demo admin login already exists.
    ValueError
        ``now`` is naive, or ``days``/``responses`` are not positive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if days < 1 or responses < 1:
        raise ValueError("days and responses must be positive")
    if demo_exists(session):
        raise DemoExists(f"The demo already exists ({DEMO_ADMIN_EMAIL}).")
    now = now.astimezone(UTC).replace(microsecond=0)
    rng = random.Random(seed)
    # Shares of the bar follow measured shares of the time: drawing the rows, then
    # inserting the receipts, take most of it.
    report = _Progress(progress)
    # The chain existed before the period shown, so its records predate every receipt.
    founded = now - timedelta(days=days + 60)

    stores = {
        p.code: create_store(
            session,
            code=p.code,
            name=p.name,
            region=p.region,
            timezone=TIMEZONE,
            actor=CLI,
            now=founded,
        )
        for p in _STORES
    }
    plans = _plan_staff(rng, now - timedelta(days=days), now)
    import_staff(session, _staff_csv(plans), actor=CLI, now=founded)
    staff_ids = {
        (code, staff_code): staff_id
        for code, staff_code, staff_id in session.execute(
            select(Store.code, Staff.code, Staff.id).join(Store, Staff.store_id == Store.id)
        )
    }
    for login in demo_logins():
        create_user(
            session,
            email=login.email,
            role=login.role,
            password=DEMO_PASSWORD,
            name=_LOGIN_NAMES[login.email],
            actor=CLI,
            now=now,
            stores=[stores[code] for code in _login_stores(login.email)],
        )
    definition = receipt_survey()
    version = publish_survey_version(session, definition, now - timedelta(days=days + 1))
    session.flush()
    report.reach(5)

    generator = _Generator(
        rng=rng,
        settings=settings,
        definition=definition,
        version_id=version.id,
        now=now,
        days=days,
        responses=responses,
    )
    for index, profile in enumerate(_STORES):
        cashiers = [
            _Cashier(staff_ids[(profile.code, plan.code)], plan)
            for plan in plans
            if plan.store_code == profile.code
        ]
        generator.add_store(stores[profile.code].id, profile, cashiers)
        report.reach(5 + 45 * (index + 1) / len(_STORES))

    receipt_rows = sorted(generator.receipts, key=lambda row: row["issued_at"])
    _insert(session, Receipt, receipt_rows, report, start=50, width=34)
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
    for token_id, row in generator.responses:
        row["receipt_id"] = receipt_ids[token_id]
        response_rows.append(row)
    response_rows.sort(key=lambda row: row["submitted_at"])
    _insert(session, Response, response_rows, report, start=84, width=9)

    # The ids of the responses that open a case (contacts are only left on those).
    response_ids = dict(
        session.execute(
            select(Response.receipt_id, Response.id)
            .join(Receipt, Receipt.id == Response.receipt_id)
            .where(
                Receipt.source == DEMO_SOURCE,
                or_(
                    Response.nps <= DETRACTOR_MAX,
                    Response.csat <= LOW_SATISFACTION,
                    Response.problem_reported.is_(True),
                ),
            )
        )
        .tuples()
        .all()
    )
    contact_rows = [
        {**contact, "response_id": response_ids[receipt_ids[token_id]]}
        for token_id, contact in generator.contacts
    ]
    _insert(session, ResponseContact, contact_rows, report, start=93, width=1)
    cases = _CaseGenerator(
        rng=random.Random(f"{seed}:cases"),
        verdicts=random.Random(f"{seed}:verdicts"),
        settings=settings,
        now=now,
        managers={
            store.id: manager
            for store in stores.values()
            if (manager := default_assignee(session, store.id)) is not None
        },
        admin=_user(session, DEMO_ADMIN_EMAIL),
    )
    contacts = {row["response_id"]: row for row in contact_rows}
    for row in response_rows:
        response_id = response_ids.get(row["receipt_id"])
        if response_id is not None:
            cases.add(row, response_id, contacts.get(response_id))
    cases.write(session, report, start=94, width=3)
    mystery = build_mystery_demo(
        session,
        settings,
        now=now,
        days=days,
        seed=seed,
        password=DEMO_PASSWORD,
        admin=_user(session, DEMO_ADMIN_EMAIL),
        reviewer=_user(session, "reviewer@demo.example"),
        manager=_user(session, "manager@demo.example"),
        quality={p.code: p.quality for p in _STORES},
        staff_effect={staff_ids[(plan.store_code, plan.code)]: plan.effect for plan in plans},
        photo_folder=photo_folder or _default_photo_folder(settings),
        progress=lambda share: report.reach(97 + 2.5 * share),
    )
    # Bulk inserts bypass the per-response rollup upserts: count everything in one go.
    rebuild_rollups(session, [store.id for store in stores.values()])
    # The award cycles rank staff from the rollups and mystery observations just written.
    awards = build_awards_demo(
        session,
        now=now,
        hr=_user(session, "hr@demo.example"),
        hr2=_user(session, "hr2@demo.example"),
        manager=_user(session, "manager@demo.example"),
    )
    record_audit(
        session,
        CLI,
        "demo.build",
        "demo",
        DEMO_SOURCE,
        now,
        seed=seed,
        days=days,
        receipts=len(receipt_rows),
        responses=len(response_rows),
        cases=len(cases.cases),
        mystery_visits=mystery.visits,
        award_nominations=awards.nominations,
    )
    session.flush()
    report.reach(100)
    return DemoSummary(
        stores=len(stores),
        staff=len(plans),
        receipts=len(receipt_rows),
        responses=len(response_rows),
        cases=len(cases.cases),
        days=days,
        logins=demo_logins(),
        mystery=mystery,
        awards=awards,
    )


def _default_photo_folder(settings: Settings) -> Path:
    """Where the mystery pages look for receipt photos (`portal.mystery.views.photo_folder`)
    when the application runs with ``settings``: its instance folder, as `create_app`
    chooses it."""
    return Path(settings.instance_path or ROOT / "instance") / "mystery-photos"


def _user(session: Session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def _login_stores(email: str) -> tuple[str, ...]:
    if email == "manager@demo.example":
        return _MANAGER_STORES
    if email == "manager2@demo.example":
        return _MANAGER2_STORES
    return ()


class _Progress:
    """Turns "this far through the work" into whole-percent increments summing to 100."""

    __slots__ = ("_callback", "_reported")

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self._callback = callback
        self._reported = 0

    def reach(self, percent: float) -> None:
        target = min(100, int(percent))
        if target > self._reported:
            if self._callback is not None:
                self._callback(target - self._reported)
            self._reported = target


def _insert(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    report: _Progress,
    *,
    start: float,
    width: float,
) -> None:
    # A Core insert of the table, not the ORM bulk insert: the ORM leaves out None values
    # of columns with defaults, splitting rows into runs of different keys, which on
    # PostgreSQL became one statement per few rows. Core makes one executemany per chunk,
    # and the UTCDateTime columns still convert the aware datetimes for the backend.
    table = Base.metadata.tables[model.__tablename__]
    for offset in range(0, len(rows), _CHUNK):
        session.execute(insert(table), rows[offset : offset + _CHUNK])
        report.reach(start + width * min(len(rows), offset + _CHUNK) / len(rows))
    report.reach(start + width)


# --- the organisation --------------------------------------------------------------------


def _plan_staff(rng: random.Random, start: datetime, now: datetime) -> list[_StaffProfile]:
    """10-14 staff per store: a manager, supervisors, floor staff and cashiers."""
    plans: list[_StaffProfile] = []
    names: set[str] = set()
    serial = 0
    period = (now - start).total_seconds()
    for profile in _STORES:
        size = rng.randint(10, 14)
        supervisors = 2 if size >= 13 else 1
        positions = ["店长"] + ["主管"] * supervisors + ["导购"] * 3
        positions += ["收银员"] * (size - len(positions))
        # About one store in three has a cashier who left during the period.
        leaver = rng.randrange(3, size) if rng.random() < 0.35 else None
        cashier_index = 0
        for index, position in enumerate(positions):
            serial += 1
            effect = rng.gauss(0.0, 0.18)
            prompting = min(1.3, max(0.7, rng.gauss(1.0, 0.12)))
            left_at = None
            if position == "收银员":
                key = (profile.code, cashier_index)
                cashier_index += 1
                if key in _WEAK_CASHIERS:
                    effect, prompting = -0.8, 0.85
                elif key in _EXCELLENT_CASHIERS:
                    effect, prompting = 0.55, 1.15
                elif index == leaver:
                    left_at = start + timedelta(seconds=period * rng.uniform(0.2, 0.8))
            plans.append(
                _StaffProfile(
                    store_code=profile.code,
                    code=f"S{serial:04d}",
                    name=_draw_name(rng, names),
                    position=position,
                    effect=effect,
                    prompting=prompting,
                    left_at=left_at,
                )
            )
    return plans


def _draw_name(rng: random.Random, taken: set[str]) -> str:
    # Unique across the chain, so that a ranking or a comment names one person.
    while True:
        given = rng.choice(_GIVEN_TWO) if rng.random() < 0.45 else rng.choice(_GIVEN_ONE)
        name = rng.choice(_SURNAMES) + given
        if name not in taken:
            taken.add(name)
            return name


def _staff_csv(plans: Iterable[_StaffProfile]) -> str:
    """The staff as the CSV an admin would import (the same path, the same checks)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["store_code", "staff_code", "name", "position", "active"])
    for plan in plans:
        writer.writerow(
            [
                plan.store_code,
                plan.code,
                plan.name,
                plan.position,
                "no" if plan.left_at is not None else "yes",
            ]
        )
    return out.getvalue()


# --- receipts and answers ----------------------------------------------------------------


class _Generator:
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
        self.definition = definition
        self.version_id = version_id
        self.now = now
        self.lifetime = timedelta(days=settings.token_days)
        self.zone = ZoneInfo(TIMEZONE)
        today = now.astimezone(self.zone).date()
        self.dates = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
        self.trend_start = now - timedelta(days=min(days, _TREND_DAYS))
        self.receipts: list[dict[str, Any]] = []
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.contacts: list[tuple[str, dict[str, Any]]] = []
        self.short_codes: set[str] = set()
        # Receipts needed so that about `responses` get answered: divide by the mean
        # answer rate and by the share of answers that would only come after `now`.
        traffic = sum(p.traffic for p in _STORES)
        answer_rate = sum(p.traffic * p.answer_rate for p in _STORES) / traffic
        late = min(0.5, _MEAN_DELAY / timedelta(days=days))
        total = responses / answer_rate / (1 - late)
        day_weights = [self._day_weight(day) for day in self.dates]
        self.per_unit = total / traffic / sum(day_weights)
        self.day_weights = day_weights

    def _day_weight(self, day: date) -> float:
        weight = _WEEKDAY_WEIGHTS[day.weekday()]
        opening = datetime.combine(day, time(0), tzinfo=self.zone)
        hours = [
            w
            for hour, w in zip(range(_OPENING_HOUR, _CLOSING_HOUR), _HOUR_WEIGHTS, strict=True)
            if opening + timedelta(hours=hour) < self.now
        ]
        # Today is cut at `now`.
        return weight * sum(hours) / sum(_HOUR_WEIGHTS)

    def add_store(self, store_id: int, profile: _StoreProfile, staff: list[_Cashier]) -> None:
        rng = self.rng
        weights = [_POSITION_WEIGHTS[c.profile.position] for c in staff]
        cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]
        hours = range(_OPENING_HOUR, _CLOSING_HOUR)
        hour_cumulative = [sum(_HOUR_WEIGHTS[: i + 1]) for i in range(len(_HOUR_WEIGHTS))]
        for day, day_weight in zip(self.dates, self.day_weights, strict=True):
            expected = self.per_unit * profile.traffic * day_weight
            if expected <= 0:
                continue
            count = max(0, round(rng.gauss(expected, math.sqrt(expected))))
            midnight = datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)
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
        profile: _StoreProfile,
        cashier: _Cashier,
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
                "local_day": local_day(issued, TIMEZONE),
                "local_hour": local_hour(issued, TIMEZONE),
                "expires_at": expires,
                # Basket totals in fen: log-normal around 80 yuan.
                "total_cents": int(math.exp(rng.gauss(math.log(8000), 0.8))),
                "source": DEMO_SOURCE,
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
        profile: _StoreProfile,
        cashier: _Cashier,
        issued: datetime,
        submitted: datetime,
    ) -> None:
        rng = self.rng
        staff = cashier.profile
        local = issued.astimezone(self.zone)
        peak = local.hour in _PEAK_HOURS or local.weekday() >= 5
        drift = 0.0
        if profile.trend and issued > self.trend_start:
            drift = profile.trend * (issued - self.trend_start) / (self.now - self.trend_start)
        y = profile.quality + staff.effect + drift + rng.gauss(0.0, 1.0)
        nps = bisect.bisect(_NPS_CUTS, y)
        csat = 1 + bisect.bisect(_CSAT_CUTS, y + rng.gauss(0.0, 0.5))
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
                    "local_day": local_day(submitted, TIMEZONE),
                    "locale": locale,
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
        if nps <= 6 and rng.random() < (0.2 if category else 0.06):
            self.contacts.append((token_id, self._contact(locale, submitted)))

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
        self, nps: int, category: str | None, staff: _StaffProfile, locale: str
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


# --- follow-up cases ---------------------------------------------------------------------

# Hours from opening to the first contact (log-normal, median 7 h: about one case in ten
# misses the 24-hour deadline) and from the contact to the resolution (median 18 h).
_CONTACT_HOURS = (math.log(7.0), 0.9)
_RESOLVE_HOURS = (math.log(18.0), 0.8)
# Hours from the follow-up question to the customer's answer (median 8 h).
_ANSWER_HOURS = (math.log(8.0), 1.0)
_SUBSTANTIATED = 0.5
# Days from the resolution to the manager's return visit (call or visit in the store).
_RETURN_VISIT_DAYS = (1.0, 5.0)
# Share of the cases opened 1-3 days ago that nobody has picked up: the overdue ones.
_NEGLECTED = 0.25
# Share of the cases of stores without a manager that the admin takes on.
_ADMIN_TAKES = 0.5
# Share of resolved cases with contact details that get the follow-up question, and of
# those, the share the customer answers.
_FOLLOW_UP_SENT = 0.7
_FOLLOW_UP_ANSWERED = 0.65
# Weights of the follow-up scores 1..5: about two in three customers say "solved".
_FOLLOW_UP_SCORES = (0.08, 0.1, 0.17, 0.3, 0.35)
# The overdue job runs hourly: a late case is noticed within the hour after its deadline.
_NOTICE_MINUTES = 60
# Only the last days' notices are still in the outbox (older ones went out long ago).
_OUTBOX_DAYS = 2

# What a store does about each kind of problem; the values are Resolution members.
_RESOLUTIONS = {
    "product_quality": ("refund", "exchange"),
    "service_attitude": ("apology", "voucher"),
    "checkout_wait": ("apology", "voucher", "explanation"),
    "returns_exchange": ("exchange", "refund", "explanation"),
    "delivery": ("apology", "voucher", "refund"),
    "price": ("refund", "explanation"),
    "other": ("apology", "explanation", "repair", "other"),
}
_RESOLUTION_NOTES = {
    "refund": "已为顾客办理退款。",
    "exchange": "已为顾客更换商品。",
    "apology": "已向顾客致歉，顾客表示理解。",
    "repair": "已安排维修。",
    "explanation": "已向顾客说明原因和改进措施。",
    "voucher": "已致歉并赠送 20 元优惠券。",
    "other": "已与顾客沟通并处理。",
}
_CONTACT_NOTES = (
    "已电话联系顾客，了解了详细情况。",
    "已联系顾客，约定了处理方式。",
    "顾客未接电话，已发短信，顾客随后回电。",
)
_NO_CONTACT_NOTES = (
    "顾客未留联系方式，已与当班员工核实情况。",
    "已查看监控并与相关员工沟通。",
)
_RETURN_VISIT_NOTES = {
    "satisfied": "回访：顾客对处理结果满意。",
    "unsatisfied": "回访：顾客仍不太满意，已记录意见。",
    "unreachable": "回访未能联系上顾客。",
}
# Outcomes of the return visit (satisfied, unsatisfied, unreachable), with and without
# contact details: without them the store only hears back if the customer returns.
_RETURN_VISITS = tuple(ReturnVisit)
_RETURN_VISIT_WEIGHTS = {True: (0.6, 0.25, 0.15), False: (0.4, 0.15, 0.45)}
_SHOPPER = Actor(label="shopper")
_CUSTOMER = Actor(label="customer")


class _CaseGenerator:
    """Draws the cases the unhappy responses open, with their timelines, as rows.

    Each case's life is planned from its opening (first contact, resolution, follow-up
    question, return visit) and cut at `now`, so its state follows from its age: the last
    day's cases are open, the last days' in progress, last week's resolved and waiting for
    the return visit, older ones closed. Some cases of the last three days were never
    picked up: those are open past their deadline.
    """

    def __init__(
        self,
        *,
        rng: random.Random,
        verdicts: random.Random,
        settings: Settings,
        now: datetime,
        managers: dict[int, User],
        admin: User,
    ) -> None:
        self.rng = rng
        # Its own stream, so that judging complaints leaves every other draw as it was.
        self.verdicts = verdicts
        self.settings = settings
        self.now = now
        self.managers = managers
        self.admin = admin
        self.cases: list[dict[str, Any]] = []
        #: Per case (same index), its events in time order; case ids come after insert.
        self.events: list[list[dict[str, Any]]] = []
        self.follow_ups: list[tuple[int, dict[str, Any]]] = []
        #: (case index, notice kind, when) of the mails still in the outbox.
        self.notices: list[tuple[int, str, datetime]] = []

    def add(
        self, response: dict[str, Any], response_id: int, contact: dict[str, Any] | None
    ) -> None:
        trigger = case_trigger(response["nps"], response["csat"], response["problem_reported"])
        if not trigger:
            return
        rng, now = self.rng, self.now
        opened: datetime = response["submitted_at"]
        category: str | None = response["problem_category"]
        due = opened + timedelta(hours=self.settings.deadline_hours(category))
        assignee = self.managers.get(response["store_id"])
        contact_at: datetime | None = opened + _hours(rng, _CONTACT_HOURS, 96)
        if timedelta(days=1) <= now - opened <= timedelta(days=3) and rng.random() < _NEGLECTED:
            contact_at = None
        taken_at = None
        if assignee is None and contact_at is not None and rng.random() < _ADMIN_TAKES:
            assignee = self.admin
            taken_at = max(opened, contact_at - timedelta(minutes=rng.randint(5, 60)))
        row: dict[str, Any] = {
            "store_id": response["store_id"],
            "staff_id": response["staff_id"],
            "response_id": response_id,
            "source": "survey",
            "reasons": ",".join(trigger.reasons),
            "category": category,
            "summary": response["comment"] or "",
            "state": CaseState.OPEN.value,
            # The admin takes a case on later; at opening it is the store manager's or nobody's.
            "assignee_id": None if assignee is None or taken_at is not None else assignee.id,
            "contact_name": None,
            "contact_phone": None if contact is None else contact["phone"],
            "contact_email": None if contact is None else contact["email"],
            "opened_at": opened,
            "first_response_due_at": due,
            "first_contact_at": None,
            "resolved_at": None,
            "resolution": None,
            "resolution_note": None,
            "substantiated": False,
            "closed_at": None,
            "return_visit": None,
            "overdue_notified_at": None,
            "version": 1,
        }
        index = len(self.cases)
        self.cases.append(row)
        events: list[dict[str, Any]] = []
        self.events.append(events)
        _case_event(
            events,
            opened,
            _SHOPPER,
            "opened",
            to_state=CaseState.OPEN,
            reasons=list(trigger.reasons),
        )
        if row["assignee_id"] is not None and now - opened <= timedelta(days=_OUTBOX_DAYS):
            self.notices.append((index, "new", opened))
        notice = due + timedelta(minutes=rng.randint(1, _NOTICE_MINUTES))
        late = contact_at is None or contact_at > notice
        if late and notice <= now:
            row["overdue_notified_at"] = notice
            row["version"] += 1
            _case_event(events, notice, SYSTEM, "overdue_notified")
            if (contact_at is None or contact_at > now) and row["assignee_id"] is not None:
                self.notices.append((index, "overdue", notice))
        if contact_at is None or contact_at > now:
            return
        actor = SYSTEM if assignee is None else Actor.of_user(assignee)
        if taken_at is not None and assignee is not None:
            row["assignee_id"] = assignee.id
            row["version"] += 1
            _case_event(events, taken_at, actor, "assigned", assignee=assignee.email)
        self._progress(row, events, actor, contact_at, has_contact=contact is not None)
        # Events of one case may tie (an answer closes the case at the same instant) but
        # never run backwards: the stable sort keeps the planned order of ties.
        events.sort(key=lambda event: event["at"])

    def _progress(
        self,
        row: dict[str, Any],
        events: list[dict[str, Any]],
        actor: Actor,
        contact_at: datetime,
        *,
        has_contact: bool,
    ) -> None:
        """First contact, then (as far as `now` allows) resolution and return visit."""
        rng, now = self.rng, self.now
        note = rng.choice(_CONTACT_NOTES if has_contact else _NO_CONTACT_NOTES)
        _move_case(row, events, contact_at, actor, "contacted", CaseState.IN_PROGRESS, note)
        row["first_contact_at"] = contact_at
        resolved_at = contact_at + _hours(rng, _RESOLVE_HOURS, 240)
        if resolved_at > now:
            return
        resolution = rng.choice(_RESOLUTIONS[row["category"] or "other"])
        note = _RESOLUTION_NOTES[resolution]
        # About half the attitude complaints against a named cashier turn out justified:
        # they count against that person in the staff ranking.
        substantiated = (
            row["staff_id"] is not None
            and row["category"] == "service_attitude"
            and self.verdicts.random() < _SUBSTANTIATED
        )
        _move_case(
            row,
            events,
            resolved_at,
            actor,
            "resolved",
            CaseState.RESOLVED,
            note,
            resolution=resolution,
            substantiated=substantiated,
        )
        row.update(
            resolved_at=resolved_at,
            resolution=resolution,
            resolution_note=note,
            substantiated=substantiated,
        )
        visit = resolved_at + timedelta(days=rng.uniform(*_RETURN_VISIT_DAYS))
        if has_contact and rng.random() < _FOLLOW_UP_SENT:
            sent = resolved_at + timedelta(minutes=rng.randint(30, 6 * 60))
            if sent > now:
                return
            answered = self._send_follow_up(row, events, actor, sent)
            if answered is not None:
                return
            # No answer: the manager calls back once the question has had a few days.
            visit = max(visit, sent + timedelta(days=3))
        if visit > now:
            return
        weights = _RETURN_VISIT_WEIGHTS[has_contact]
        outcome = rng.choices(_RETURN_VISITS, weights=weights)[0].value
        _close_case(row, events, visit, actor, outcome, _RETURN_VISIT_NOTES[outcome])

    def _send_follow_up(
        self, row: dict[str, Any], events: list[dict[str, Any]], actor: Actor, sent: datetime
    ) -> datetime | None:
        """The recovery question and, if it came by `now`, the answer that closes the case.
        Returns when it was answered."""
        rng = self.rng
        expires = (sent + timedelta(days=FOLLOW_UP_DAYS)).replace(microsecond=0)
        follow_up: dict[str, Any] = {
            "case_id": None,
            "token_id": new_token_id(),
            "created_at": sent,
            "expires_at": expires,
            "answered_at": None,
            "score": None,
        }
        self.follow_ups.append((len(self.cases) - 1, follow_up))
        _case_event(events, sent, actor, "follow_up_sent", by_email=bool(row["contact_email"]))
        if rng.random() >= _FOLLOW_UP_ANSWERED:
            return None
        answered = sent + _hours(rng, _ANSWER_HOURS, 24 * FOLLOW_UP_DAYS - 1)
        if answered > self.now:
            return None
        score = rng.choices(range(1, 6), weights=_FOLLOW_UP_SCORES)[0]
        follow_up.update(answered_at=answered, score=score)
        _case_event(events, answered, _CUSTOMER, "follow_up_answered", score=score)
        outcome = ReturnVisit.SATISFIED if score >= 4 else ReturnVisit.UNSATISFIED
        _close_case(row, events, answered, _CUSTOMER, outcome.value, "")
        return answered

    def write(self, session: Session, report: _Progress, *, start: float, width: float) -> None:
        """Insert the cases, then their events, audit entries, follow-ups and the few mails
        still in the outbox."""
        step = width / 4
        _insert(session, Case, self.cases, report, start=start, width=step)
        case_ids = dict(
            session.execute(select(Case.response_id, Case.id).where(Case.response_id.is_not(None)))
            .tuples()
            .all()
        )
        ids = [case_ids[row["response_id"]] for row in self.cases]
        event_rows = []
        audit_rows = []
        for case_id, events in zip(ids, self.events, strict=True):
            for event in events:
                event["case_id"] = case_id
                event_rows.append(event)
                if event["kind"] != "overdue_notified":  # the notice job writes no audit
                    audit_rows.append(_case_audit(case_id, event))
        _insert(session, CaseEvent, event_rows, report, start=start + step, width=step)
        _insert(session, AuditEntry, audit_rows, report, start=start + 2 * step, width=step)
        follow_up_rows = [{**row, "case_id": ids[index]} for index, row in self.follow_ups]
        _insert(session, FollowUp, follow_up_rows, report, start=start + 3 * step, width=step)
        # The mails go through the notification code itself, so they read like real ones.
        noticed = {
            case.id: case
            for case in session.scalars(
                select(Case).where(Case.id.in_({ids[index] for index, _k, _a in self.notices}))
            )
        }
        for index, kind, at in self.notices:
            notify_assignee(session, self.settings, noticed[ids[index]], kind=kind, now=at)


def _hours(rng: random.Random, shape: tuple[float, float], cap: float) -> timedelta:
    """A log-normal number of hours (``shape``: mu, sigma of its log), at most ``cap``, in
    whole seconds like every demo time."""
    hours = min(rng.lognormvariate(*shape), cap)
    return timedelta(seconds=round(hours * 3600))


def _case_event(
    events: list[dict[str, Any]],
    at: datetime,
    actor: Actor,
    kind: str,
    *,
    note: str = "",
    from_state: str | None = None,
    to_state: str | None = None,
    **details: Any,
) -> None:
    events.append(
        {
            "case_id": None,
            "at": at,
            "actor_user_id": actor.user_id,
            "actor": actor.label,
            "kind": kind,
            "from_state": from_state,
            "to_state": to_state,
            "note": note,
            "details": details,
        }
    )


def _move_case(
    row: dict[str, Any],
    events: list[dict[str, Any]],
    at: datetime,
    actor: Actor,
    kind: str,
    to_state: str,
    note: str,
    **details: Any,
) -> None:
    """A state change as the operations record it: the event, the new state, the version."""
    _case_event(
        events,
        at,
        actor,
        kind,
        note=note,
        from_state=row["state"],
        to_state=to_state,
        **details,
    )
    row["state"] = str(to_state)
    row["version"] += 1


def _close_case(
    row: dict[str, Any],
    events: list[dict[str, Any]],
    at: datetime,
    actor: Actor,
    outcome: str,
    note: str,
) -> None:
    _move_case(row, events, at, actor, "closed", CaseState.CLOSED, note, return_visit=outcome)
    row.update(closed_at=at, return_visit=outcome)


def _case_audit(case_id: int, event: dict[str, Any]) -> dict[str, Any]:
    """The audit entry the operations write with an event (``case.open``, ``case.<kind>``)."""
    if event["kind"] == "opened":
        action, details = "case.open", {"source": "survey"}
    else:
        action = f"case.{event['kind']}"
        details = {"from_state": event["from_state"], "to_state": event["to_state"]}
        details.update(event["details"])
    return {
        "at": event["at"],
        "actor_user_id": event["actor_user_id"],
        "actor": event["actor"],
        "action": action,
        "subject_type": "case",
        "subject_id": str(case_id),
        "details": details,
    }
