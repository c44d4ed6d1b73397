"""The demo chain's organisation: 17 stores in four regions, their staff, and one login per
role. Stores, staff and users go through the ordinary operations (``create_store``,
``import_staff``, ``create_user``) so that they are validated and audited like real ones;
the store and staff profiles kept here are the latent traits (traffic, service level,
each person's effect) that the customer answers and the mystery visits are drawn from.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.admin.operations import create_store, import_staff
from portal.audit import CLI
from portal.auth.operations import create_user
from portal.calendar import DEFAULT_ZONE
from portal.config import Settings
from portal.models import Role, Staff, Store, StoreFormat, User
from portal.receipts import IssuedReceipt, issue_receipt

#: Every demo login uses this password (long enough for MIN_PASSWORD_LENGTH).
DEMO_PASSWORD = "demo-password"
DEMO_ADMIN_EMAIL = "admin@demo.example"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: str
    email: str
    password: str
    #: What the login is for, shown next to it (e.g. "manages SH-001, SH-002").
    note: str


@dataclass(frozen=True, slots=True)
class StoreProfile:
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
class StaffProfile:
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
class Cashier:
    """A staff member as the receipt generator needs them, with the database id."""

    id: int
    profile: StaffProfile


# Four regions, 17 stores. GZ-002 slides over the last weeks; CQ-001 recovers.
STORES = (
    StoreProfile("SH-001", "上海徐汇店", "华东", 1.3, 0.55, 0.42, 0.22, 0.1, 0.2, 0.0),
    StoreProfile("SH-002", "上海静安店", "华东", 1.2, 0.65, 0.44, 0.25, 0.2, 0.3, 0.0),
    StoreProfile("SH-003", "上海浦东店", "华东", 1.1, 0.40, 0.40, 0.20, 0.0, 0.0, 0.0),
    StoreProfile("HZ-001", "杭州西湖店", "华东", 1.0, 0.60, 0.43, 0.15, 0.1, 0.2, 0.0),
    StoreProfile("HZ-002", "杭州滨江店", "华东", 0.8, 0.45, 0.38, 0.10, 0.0, 0.1, 0.0),
    StoreProfile("SU-001", "苏州园区店", "华东", 0.8, 0.50, 0.41, 0.10, 0.1, 0.1, 0.0),
    StoreProfile("BJ-001", "北京朝阳店", "华北", 1.3, 0.45, 0.40, 0.20, 0.0, 0.0, 0.0),
    StoreProfile("BJ-002", "北京海淀店", "华北", 1.1, 0.35, 0.37, 0.15, -0.2, 0.0, 0.0),
    StoreProfile("BJ-003", "北京西城店", "华北", 0.9, 0.50, 0.41, 0.12, 0.1, 0.1, 0.0),
    StoreProfile("TJ-001", "天津和平店", "华北", 0.8, 0.30, 0.36, 0.05, -0.1, -0.2, 0.0),
    StoreProfile("GZ-001", "广州天河店", "华南", 1.2, 0.55, 0.42, 0.15, 0.1, 0.1, 0.0),
    StoreProfile("GZ-002", "广州越秀店", "华南", 0.9, 0.50, 0.39, 0.08, 0.0, -0.1, -0.8),
    StoreProfile("SZ-001", "深圳南山店", "华南", 1.2, 0.70, 0.46, 0.20, 0.2, 0.3, 0.0),
    StoreProfile("SZ-002", "深圳福田店", "华南", 1.0, 0.40, 0.40, 0.18, 0.0, 0.0, 0.0),
    StoreProfile("CD-001", "成都锦江店", "西南", 1.0, 0.50, 0.41, 0.06, 0.0, 0.1, 0.0),
    StoreProfile("CD-002", "成都高新店", "西南", 0.8, 0.32, 0.35, 0.06, -0.3, -0.2, 0.0),
    StoreProfile("CQ-001", "重庆解放碑店", "西南", 0.9, 0.30, 0.38, 0.05, -0.1, -0.1, 0.4),
)

# Where each store is and what kind of shop: what a shopper's assignment and the console show.
_S, _C, _D = StoreFormat.SUPERMARKET, StoreFormat.CONVENIENCE, StoreFormat.DEPARTMENT_STORE
STORE_DETAILS: dict[str, tuple[str, StoreFormat]] = {
    "SH-001": ("上海市徐汇区漕溪北路 88 号", _S),
    "SH-002": ("上海市静安区南京西路 1266 号 B1", _D),
    "SH-003": ("上海市浦东新区张杨路 501 号", _S),
    "HZ-001": ("杭州市西湖区文三路 259 号", _S),
    "HZ-002": ("杭州市滨江区江南大道 3850 号", _C),
    "SU-001": ("苏州市工业园区星海街 200 号", _S),
    "BJ-001": ("北京市朝阳区建国路 93 号", _D),
    "BJ-002": ("北京市海淀区中关村大街 15 号", _S),
    "BJ-003": ("北京市西城区西单北大街 131 号", _C),
    "TJ-001": ("天津市和平区南京路 189 号", _S),
    "GZ-001": ("广州市天河区天河路 383 号", _D),
    "GZ-002": ("广州市越秀区北京路 238 号", _C),
    "SZ-001": ("深圳市南山区科技园南区 18 号", _S),
    "SZ-002": ("深圳市福田区福华三路 168 号", _S),
    "CD-001": ("成都市锦江区红星路三段 1 号", _D),
    "CD-002": ("成都市高新区天府大道北段 1700 号", _C),
    "CQ-001": ("重庆市渝中区民族路 166 号", _S),
}

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
            "staff rankings, service-star awards, trainings, monthly reviews",
        ),
        DemoLogin(
            Role.HR.value,
            "hr2@demo.example",
            DEMO_PASSWORD,
            "second HR reviewer: answers appeals against hr@'s decisions",
        ),
        DemoLogin(
            Role.CX.value,
            "cx@demo.example",
            DEMO_PASSWORD,
            "customer experience: surveys, branding, targets and alert rules",
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
    "cx@demo.example": "客户体验 郑蕾",
}


def issue_receipt_to_try(session: Session, settings: Settings, *, now: datetime) -> IssuedReceipt:
    """A fresh receipt of the demo manager's first store, as its till would print it now,
    so that a newcomer can answer the survey at once (every run issues a new one)."""
    store = session.scalars(select(Store).where(Store.code == _MANAGER_STORES[0])).one()
    cashier = session.scalars(
        select(Staff).where(Staff.store_id == store.id, Staff.active.is_(True)).order_by(Staff.id)
    ).first()
    return issue_receipt(
        session,
        settings,
        store=store,
        staff_code=None if cashier is None else cashier.code,
        transaction_id=f"TRY-{now:%Y%m%d%H%M%S%f}",
        issued_at=None,
        total_cents=None,
        now=now,
    )


def demo_exists(session: Session) -> bool:
    """Whether the demo was loaded (its admin login exists)."""
    return session.scalar(select(User.id).where(User.email == DEMO_ADMIN_EMAIL)) is not None


def find_user(session: Session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def _login_stores(email: str) -> tuple[str, ...]:
    if email == "manager@demo.example":
        return _MANAGER_STORES
    if email == "manager2@demo.example":
        return _MANAGER2_STORES
    return ()


def plan_staff(rng: random.Random, start: datetime, now: datetime) -> list[StaffProfile]:
    """10-14 staff per store: a manager, supervisors, floor staff and cashiers."""
    plans: list[StaffProfile] = []
    names: set[str] = set()
    serial = 0
    period = (now - start).total_seconds()
    for profile in STORES:
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
                StaffProfile(
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


def _staff_csv(plans: Iterable[StaffProfile]) -> str:
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


@dataclass(frozen=True, slots=True)
class Chain:
    """The organisation as the rest of the demo draws on it."""

    #: The stores by code.
    stores: dict[str, Store]
    plans: list[StaffProfile]
    #: Staff ids by (store code, staff code).
    staff_ids: dict[tuple[str, str], int]

    def cashiers(self, store_code: str) -> list[Cashier]:
        """The store's staff who may serve at the till, with their ids."""
        return [
            Cashier(self.staff_ids[(store_code, plan.code)], plan)
            for plan in self.plans
            if plan.store_code == store_code
        ]

    def staff_effect(self) -> dict[int, float]:
        """Each staff member's latent effect on a shopper, by staff id."""
        return {self.staff_ids[(p.store_code, p.code)]: p.effect for p in self.plans}


def create_chain(session: Session, rng: random.Random, *, now: datetime, days: int) -> Chain:
    """Create the stores, import their staff and add the demo logins; adds and flushes."""
    # The chain existed before the period shown, so its records predate every receipt.
    founded = now - timedelta(days=days + 60)
    stores = {
        p.code: create_store(
            session,
            code=p.code,
            name=p.name,
            region=p.region,
            timezone=DEFAULT_ZONE,
            address=STORE_DETAILS[p.code][0],
            format=STORE_DETAILS[p.code][1],
            actor=CLI,
            now=founded,
        )
        for p in STORES
    }
    plans = plan_staff(rng, now - timedelta(days=days), now)
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
    session.flush()
    return Chain(stores=stores, plans=plans, staff_ids=staff_ids)
