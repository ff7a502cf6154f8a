"""Run a whole write transaction, retrying it when the database asks us to.

PostgreSQL aborts one side of a deadlock (SQLSTATE 40P01) or of a serialization failure (40001);
SQLite may answer "database is locked" when its busy timeout runs out. In each case nothing was
committed, so running the *whole* transaction again is safe and correct: the ledger's
idempotency keys make a retried request that did commit elsewhere a harmless replay.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import exc as sa_errors
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from loyalty_app.db import get_engine, write_session

T = TypeVar("T")
log = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
_SQLITE_RETRYABLE_MESSAGES = ("database is locked", "database table is locked", "database is busy")


def _sqlstate(exc: BaseException) -> str | None:
    """SQLSTATE of a DBAPI error (psycopg 3 exposes ``sqlstate``; psycopg 2 ``pgcode``)."""
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def is_retryable(exc: BaseException) -> bool:
    """True for errors after which the whole transaction may simply be run again."""
    if not isinstance(exc, DBAPIError):
        return False
    if _sqlstate(exc) in RETRYABLE_SQLSTATES:
        return True
    message = str(getattr(exc, "orig", exc)).lower()
    return any(text in message for text in _SQLITE_RETRYABLE_MESSAGES)


def backoff_delay(attempt: int, *, base_delay: float, max_delay: float) -> float:
    """Exponential backoff with full jitter, so colliding transactions do not collide again."""
    return random.uniform(0, min(max_delay, base_delay * (2**attempt)))


def run_in_transaction(
    engine: Engine | None,
    fn: Callable[[Session], T],
    *,
    attempts: int = 5,
    base_delay: float = 0.02,
    max_delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn(session)`` inside one write transaction on ``engine`` (None: the app's engine)
    and commit; retry the whole transaction on retryable errors.

    ``fn`` must be safe to run again (no side effects outside the session). Non-retryable
    errors (LoyaltyError, integrity errors...) propagate at once after a rollback. After
    ``attempts`` tries the last retryable error propagates.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    engine = engine or get_engine()
    for attempt in range(attempts):
        try:
            with write_session(engine) as session:
                return fn(session)
        except DBAPIError as exc:
            if not is_retryable(exc) or attempt == attempts - 1:
                raise
            delay = backoff_delay(attempt, base_delay=base_delay, max_delay=max_delay)
            log.info("retrying transaction after %s (attempt %d, %.3fs)", _sqlstate(exc) or exc.orig, attempt + 1, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


# What a failed event handler tells the person (state/forms.py): the database or Redis being
# unreachable, or the database refusing a typed value, each gets its own "nothing was changed".


def is_unstorable(err: BaseException) -> bool:
    """True when the database refused a value itself (``DataError``), not the request's meaning."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, sa_errors.DataError) or type(err).__name__ == "DataError":
            return True
        err = err.__cause__ or err.__context__
    return False


def is_unavailable(err: BaseException) -> bool:
    """True when ``err`` (or what caused it) says the database or Redis is unreachable, not
    that the request was wrong."""
    from redis import exceptions as redis_errors

    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, sa_errors.DBAPIError) and err.connection_invalidated:
            return True
        if isinstance(
            err,
            (
                sa_errors.OperationalError,
                sa_errors.InterfaceError,
                sa_errors.TimeoutError,
                redis_errors.ConnectionError,
                redis_errors.TimeoutError,
            ),
        ):
            return True
        err = err.__cause__ or err.__context__
    return False
