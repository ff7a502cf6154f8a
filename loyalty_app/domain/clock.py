"""Time helpers. Every stored datetime is timezone-aware UTC (SQLModel's UTCDateTime enforces
it); services accept ``now`` so tests can move the clock."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current time, aware, in UTC."""
    return datetime.now(UTC)
