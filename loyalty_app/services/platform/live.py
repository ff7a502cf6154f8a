"""Which browser tabs a member has open, so a change made elsewhere (a credit at the till, a
badge) can be pushed to them. Kept in the database so every backend worker sees it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import LiveClient, Role
from loyalty_app.services.platform.permissions import Actor

MAX_TOKEN_LENGTH = 64
KEEP_FOR = timedelta(hours=24)


def register_client(engine: Engine, actor: Actor, client_token: str, *, now: datetime | None = None) -> bool:
    """Remember that this member has the app open in the tab ``client_token``.

    The token comes from the browser; it only decides where a member's *own* fresh data is
    pushed (the pushed tab re-reads it with its own session), so a forged token gains nothing."""
    token = (client_token or "").strip()
    if actor.role != Role.MEMBER or not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    now = now or utcnow()
    with write_session(engine) as s:
        row = s.get(LiveClient, token)
        if row is None:
            s.add(LiveClient(client_token=token, merchant_id=actor.merchant_id, account_id=actor.account_id, seen_at=now))
        else:
            row.merchant_id, row.account_id, row.seen_at = actor.merchant_id, actor.account_id, now
            s.add(row)
    return True


def member_clients(engine: Engine, *, merchant_id: int, account_id: int, now: datetime | None = None) -> list[str]:
    """Tabs the member opened in the last day, newest first."""
    cutoff = (now or utcnow()) - KEEP_FOR
    with read_session(engine) as s:
        rows = s.exec(
            select(LiveClient.client_token)
            .where(LiveClient.merchant_id == merchant_id, LiveClient.account_id == account_id, LiveClient.seen_at >= cutoff)
            .order_by(LiveClient.seen_at.desc())  # type: ignore[attr-defined]
            .limit(10)
        ).all()
    return list(rows)


def forget_client(engine: Engine, client_token: str) -> None:
    with write_session(engine) as s:
        s.exec(delete(LiveClient).where(LiveClient.client_token == client_token))  # type: ignore[call-overload]


def purge_stale(engine: Engine, *, now: datetime | None = None) -> int:
    """Drop tabs not seen for a day (run by the periodic jobs)."""
    cutoff = (now or utcnow()) - KEEP_FOR
    with write_session(engine) as s:
        result = s.exec(delete(LiveClient).where(LiveClient.seen_at < cutoff))  # type: ignore[call-overload]
        return result.rowcount or 0
