"""The demo looks and behaves the same on any day it is loaded.

The browser tests, the screenshots and a merchant's first look all start from the demo data,
whose months of history are replayed up to the moment it is loaded. Anything in it that follows
the calendar (this week's and this month's challenge progress, a review written "this week")
made the suite pass on some days and fail on others. Here the demo is loaded at moments chosen
to break that: the first minutes of a month, the last minutes of an ISO week and a year, a
daylight-saving change in the merchants' time zones, a leap day, and today. What members see
must be identical.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import SQLModel, select

from loyalty_app.db import make_engine, read_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import Account, MemberBadge, Merchant, Segment
from loyalty_app.services import ledger
from loyalty_app.services.earning import segments as segment_service
from loyalty_app.services.earning.challenges import member_challenges
from loyalty_app.services.earning.tiers import current_tier, load_tiers
from loyalty_app.services.operations.demo import seed_demo_data

# UTC moments; the café is in Europe/Bucharest (UTC+2/+3), the bookshop in Europe/Madrid (UTC+1/+2).
AWKWARD_MOMENTS = {
    "first minutes of December in Bucharest, last hour of November in Madrid": datetime(2026, 11, 30, 22, 30, tzinfo=UTC),
    "Sunday night, end of an ISO week and of a year": datetime(2027, 1, 3, 21, 50, tzinfo=UTC),
    "the spring daylight-saving change": datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
    "a leap day, late evening": datetime(2028, 2, 29, 21, 0, tzinfo=UTC),
}


def _what_members_see(engine, now: datetime) -> dict:
    segment_service.clear_rfm_cache()
    seen: dict = {}
    with read_session(engine) as s:
        for merchant in s.exec(select(Merchant).order_by(Merchant.slug)).all():
            tz = merchant.timezone or "UTC"
            tiers = load_tiers(s, merchant.id)
            segments = list(s.exec(select(Segment).where(Segment.merchant_id == merchant.id).order_by(Segment.key)).all())
            counts = segment_service.member_count_by_segment(s, merchant.id, segments, now=now, tz=tz)
            seen[(merchant.slug, "segments")] = {seg.key: counts[seg.id] for seg in segments}
            members = s.exec(
                select(Account).where(Account.merchant_id == merchant.id, Account.role == "member").order_by(Account.email)
            ).all()
            for member in members:
                balance = ledger.get_balance(s, merchant_id=merchant.id, account_id=member.id)
                tier = current_tier(s, merchant.id, member.id, tiers)
                badges = sorted(s.exec(select(MemberBadge.badge_id).where(MemberBadge.account_id == member.id)).all())
                challenges = sorted(
                    (c.key, c.count, c.target, c.completed, c.ends_at is None and c.recurrence == "one_off")
                    for c in member_challenges(s, merchant_id=merchant.id, account_id=member.id, tz=tz, now=now)
                )
                seen[(merchant.slug, member.email)] = {
                    "tier": tier.key if tier else None,
                    "balance": (balance.available, balance.pending, balance.lifetime_earned),
                    "badges": len(badges),
                    "challenges": challenges,
                }
    return seen


def _seeded(tmp_path, name: str, now: datetime) -> dict:
    engine = make_engine(f"sqlite:///{tmp_path / name}.db")
    try:
        SQLModel.metadata.create_all(engine)
        seed_demo_data(engine, now=now)
        assert ledger.audit(engine).ok
        return _what_members_see(engine, now)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_the_demo_is_the_same_on_any_day(tmp_path):
    today = _seeded(tmp_path, "today", utcnow())

    # What the browser tests count on, stated once.
    for email in ("member@demo.test", "sofia@demo.test", "mihai@demo.test"):
        member = today[("cafe", email)]
        assert member["tier"] == "gold", email  # the segment test's "Ana P., Sofía G., Mihai I."
        progress = {key: (count, done) for key, count, _target, done, _one_off in member["challenges"]}
        # A purchase at the till never completes a challenge by accident of the calendar.
        assert progress["visit-3-month"] == (0, False) and progress["review-week"] == (0, False), email
        assert progress["surprise"] == (3, True)  # the surprise is unlocked, whatever the day

    for label, moment in AWKWARD_MOMENTS.items():
        assert _seeded(tmp_path, label.split(",")[0].replace(" ", "-"), moment) == today, label
