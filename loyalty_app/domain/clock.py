"""Time helpers. Every stored datetime is timezone-aware UTC (SQLModel's UTCDateTime enforces
it); services accept ``now`` so tests can move the clock."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current time, aware, in UTC."""
    return datetime.now(UTC)


def within(at: datetime, start: datetime | None, end: datetime | None) -> bool:
    """Whether ``at`` falls in the half-open window [start, end); a missing bound is open."""
    return (start is None or at >= start) and (end is None or at < end)
