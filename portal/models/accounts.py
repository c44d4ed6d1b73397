"""People who sign in, and the credentials machines use: POS API keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String, Table, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, intpk, utcnow
from portal.models.org import Store


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    MYSTERY = "mystery"
    REVIEWER = "reviewer"
    HR = "hr"
    #: The customer-experience team: writes, publishes and targets surveys, sets branding.
    CX = "cx"


user_stores = Table(
    "user_stores",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[intpk]
    #: Stored lower-cased so that sign-in is case-insensitive and unique.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    #: One of `Role`; stored as its string value.
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    #: The user's page and mail language (``zh_CN`` or ``en``); ``None`` follows the browser.
    locale: Mapped[str | None] = mapped_column(String(10))
    #: A region whose stores a manager sees (read-only in the admin console), beside the
    #: stores listed one by one.
    region: Mapped[str | None] = mapped_column(String(100))
    #: Stamped into the session cookie at sign-in and compared on every request: bumping it
    #: (sign-out, password change, "sign out everywhere", deactivation) voids every copy of
    #: every cookie issued before, on every device.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    #: For managers: the stores they may see. Other roles see by role, not by store.
    stores: Mapped[list[Store]] = relationship(secondary=user_stores, order_by=Store.code)

    # Flask-Login protocol, written out rather than inheriting UserMixin's guesses.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class ApiKey(Base):
    """A POS key for one store; only its SHA-256 is kept, so a leaked table leaks no key."""

    __tablename__ = "api_keys"

    id: Mapped[intpk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    #: The key's first characters, shown in lists so that a key can be recognised.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    #: When and from which address the till last used the key, so an admin can see a till
    #: that stopped sending or a key used from somewhere unexpected.
    last_used_at: Mapped[datetime | None]
    last_used_ip: Mapped[str | None] = mapped_column(String(45))

    store: Mapped[Store] = relationship()


class ApiToken(Base):
    """A personal read token for the metrics API; it sees what its user may see."""

    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
