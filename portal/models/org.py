"""The chain's organisation: stores and their staff."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, intpk, utcnow


class StoreFormat(StrEnum):
    """What kind of shop a store is; the empty string means not said."""

    SUPERMARKET = "supermarket"
    CONVENIENCE = "convenience"
    DEPARTMENT_STORE = "department_store"


class Region(Base):
    """An entry of the chain's list of regions. Stores name their region by this name, so
    renaming a region renames it on its stores in the same transaction."""

    __tablename__ = "regions"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[intpk]
    #: Short code used by the POS, the CLI and the metrics API (e.g. ``SH-001``).
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100), default="", server_default="")
    #: IANA time zone; day boundaries in reports are the store's local days.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    #: One of `StoreFormat`, or "" when not said.
    format: Mapped[str] = mapped_column(String(20), default="", server_default="")
    #: A closed store issues no receipts; its history stays. ``None`` while open.
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[list[Staff]] = relationship(back_populates="store", order_by="Staff.code")


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("store_id", "code"),)

    id: Mapped[intpk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"), index=True)
    #: The code printed on receipts and sent by the till; unique within a store.
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(100), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    store: Mapped[Store] = relationship(back_populates="staff")
