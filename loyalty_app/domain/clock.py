"""Time helpers. All stored datetimes are naive UTC; services accept ``now`` for tests."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Current time as naive UTC (what every table stores)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
