"""Racing two transactions for real: knowing when one waits for the other's lock."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, text


def wait_for_a_lock_wait(engine: Engine) -> None:
    """On PostgreSQL, return once some transaction waits for a lock (the race is on);
    SQLite's waiting writer cannot be observed, and its outcome is the same."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        for _ in range(1000):
            if conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar():
                return
            threading.Event().wait(0.01)
    raise AssertionError("the second save never waited for the first")
