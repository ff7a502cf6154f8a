"""Merchant analytics: every chart function on a small hand-made program, exact numbers, on
SQLite and PostgreSQL (``db_engine``), and who may see them.

The merchant is in Europe/Bucharest (UTC+3 in summer, UTC+2 from 2026-10-25 01:00 UTC), so rows
near local midnight on both sides of the daylight-saving change check the time-zone buckets:
- Cleo's 80 points at 2026-10-24 21:30 UTC are local 2026-10-25 00:30 (summer time);
- Ben's 50 points at 2026-11-22 22:30 UTC are local 2026-11-23 00:30 (winter time);
- Cleo's 30 points at 2026-10-24 20:30 UTC are local 2026-10-24 23:30, outside the 30-day window.
``NOW`` is Monday 2026-11-23 12:00 UTC: the daily window starts at local 2026-10-25 00:00, the
weekly one on Monday 2026-09-07, the monthly one on 2025-12-01.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from loyalty_app.db import write_session
from loyalty_app.domain.errors import LoyaltyError, NotAllowed
from loyalty_app.models import (
    Account,
    Challenge,
    ChallengeProgress,
    LedgerEntry,
    MemberActivity,
    MemberBalance,
    Merchant,
    Quest,
    Referral,
    ReferralCode,
    Reward,
    RewardRating,
    Role,
    Voucher,
)
from loyalty_app.services.insight import analytics
from loyalty_app.services.platform.permissions import Actor

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def at(y, mo, d, h=10, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


@pytest.fixture
def shop(db_engine):
    """The hand-made program (see the module doc for the time-zone cases)."""
    keys = iter(range(1, 1000))
    with write_session(db_engine) as s:
        cafe = Merchant(slug="cafe", name="Cafe", short_name="Cafe", timezone="Europe/Bucharest")
        books = Merchant(slug="books", name="Books", short_name="Books")
        s.add(cafe)
        s.add(books)
        s.flush()
        m = cafe.id

        def account(first, created, role=Role.MEMBER, merchant=m, deleted=None):
            n = next(keys)
            a = Account(
                merchant_id=merchant,
                role=role,
                email=f"{first.lower()}@x.test",
                password_hash="x",
                first_name=first,
                last_name="Stone",
                member_number=f"M{n:04d}",
                created_at=created,
                deleted_at=deleted,
            )
            s.add(a)
            s.flush()
            return a.id

        ids = {
            "ana": account("Ana", at(2026, 6, 1)),
            "ben": account("Ben", at(2026, 6, 15)),
            "cleo": account("Cleo", at(2026, 8, 10)),
            "dan": account("Dan", at(2026, 11, 20)),
            "eve": account("Eve", at(2026, 3, 1)),
            "fay": account("Fay", at(2026, 11, 22, 23, 30)),  # local 2026-11-23 01:30
            "gus": account("Gus", at(2026, 11, 1, 9), deleted=at(2026, 11, 5)),
        }
        ids["staff"] = account("Sam", at(2026, 1, 1), role=Role.STAFF)
        ids["admin"] = account("Boss", at(2026, 1, 1), role=Role.ADMIN)
        ids["books_admin"] = account("Bk", at(2026, 1, 1), role=Role.ADMIN, merchant=books.id)
        ids["books_member"] = account("Bm", at(2026, 11, 20), merchant=books.id)

        def entry(who, when, kind, points, *, merchant=m, earned=0, spent=0, expired=0, donated=0):
            n = next(keys)
            s.add(
                LedgerEntry(
                    merchant_id=merchant,
                    account_id=ids[who],
                    kind=kind,
                    points=points,
                    available_delta=points,
                    earned_delta=earned,
                    spent_delta=spent,
                    expired_delta=expired,
                    donated_delta=donated,
                    reason="test",
                    idempotency_key=f"e{n}",
                    request_hash="h",
                    created_at=when,
                )
            )

        def activity(who, when, action, local_day, points=0, merchant=m):
            n = next(keys)
            s.add(
                MemberActivity(
                    merchant_id=merchant,
                    account_id=ids[who],
                    action=action,
                    at=when,
                    local_day=local_day,
                    idempotency_key=f"a{n}",
                    points=points,
                )
            )

        # Ledger (and the rewarded actions that go with some entries).
        entry("ana", at(2026, 7, 6), "earn", 10, earned=10)
        activity("ana", at(2026, 7, 6), "purchase", date(2026, 7, 6), 10)
        entry("ana", at(2026, 9, 4), "earn", 10, earned=10)
        activity("ben", at(2026, 8, 19), "write_review", date(2026, 8, 19))  # activity without points
        entry("cleo", at(2026, 10, 24, 20, 30), "earn", 30, earned=30)
        activity("cleo", at(2026, 10, 24, 20, 30), "purchase", date(2026, 10, 24), 30)
        entry("cleo", at(2026, 10, 24, 21, 30), "earn", 80, earned=80)
        activity("cleo", at(2026, 10, 24, 21, 30), "check_in", date(2026, 10, 25), 80)
        entry("eve", at(2026, 11, 10, 3), "expire", -20, expired=20)
        entry("ben", at(2026, 11, 15), "earn", 24, earned=24)
        activity("ben", at(2026, 11, 15), "purchase", date(2026, 11, 15), 24)
        entry("ben", at(2026, 11, 16), "reversal", -24, earned=-24)
        entry("ana", at(2026, 11, 20), "earn", 100, earned=100)
        activity("ana", at(2026, 11, 20), "purchase", date(2026, 11, 20), 100)
        entry("ana", at(2026, 11, 21), "redeem", -40, spent=40)
        entry("ben", at(2026, 11, 22, 22, 30), "earn", 50, earned=50)
        activity("ben", at(2026, 11, 22, 22, 30), "purchase", date(2026, 11, 23), 50)
        entry("ben", at(2026, 11, 23, 9), "donate", -10, donated=10)
        entry("ana", at(2026, 11, 24, 13), "earn", 500, earned=500)  # after NOW: never counted
        activity("ana", at(2026, 11, 24, 13), "purchase", date(2026, 11, 24), 500)
        entry("books_member", at(2026, 11, 20), "earn", 999, merchant=books.id, earned=999)
        activity("books_member", at(2026, 11, 20), "purchase", date(2026, 11, 20), 999, merchant=books.id)

        for who, available, pending, lifetime in (
            ("ana", 80, 0, 120),
            ("ben", 40, 0, 75),
            ("cleo", 110, 0, 110),
            ("dan", 0, 15, 15),
            ("eve", 0, 0, 300),
            ("fay", 0, 0, 0),
        ):
            s.add(
                MemberBalance(account_id=ids[who], merchant_id=m, available=available, pending=pending, lifetime_earned=lifetime)
            )
        s.add(MemberBalance(account_id=ids["books_member"], merchant_id=books.id, available=999, lifetime_earned=999))

        coffee = Reward(merchant_id=m, key="coffee", name="Coffee", kind="free_product", cost_points=40)
        cake = Reward(merchant_id=m, key="cake", name="Cake", kind="free_product", cost_points=60)
        tea = Reward(merchant_id=m, key="tea", name="Tea", kind="free_product", cost_points=30)
        novel = Reward(merchant_id=books.id, key="novel", name="Novel", kind="free_product", cost_points=30)
        for r in (coffee, cake, tea, novel):
            s.add(r)
        s.flush()
        for who, reward, when, status, merchant in (
            ("ana", coffee, at(2026, 11, 21), "used", m),
            ("ben", cake, at(2026, 11, 18), "issued", m),
            ("cleo", coffee, at(2026, 11, 1), "issued", m),
            ("eve", cake, at(2026, 11, 19), "cancelled", m),
            ("ana", coffee, at(2026, 9, 1), "used", m),
            ("books_member", novel, at(2026, 11, 20), "issued", books.id),
        ):
            n = next(keys)
            s.add(
                Voucher(
                    merchant_id=merchant,
                    account_id=ids[who],
                    reward_id=reward.id,
                    code=f"V{n}",
                    status=status,
                    issued_at=when,
                    expires_at=when + timedelta(days=30),
                    idempotency_key=f"v{n}",
                )
            )
        for who, reward, stars, hidden, merchant in (
            ("ana", coffee, 5, None, m),
            ("ben", coffee, 4, None, m),
            ("cleo", cake, 3, None, m),
            ("dan", tea, 2, at(2026, 11, 21), m),
            ("books_member", novel, 1, None, books.id),
        ):
            s.add(RewardRating(merchant_id=merchant, account_id=ids[who], reward_id=reward.id, stars=stars, hidden_at=hidden))

        s.add(Quest(merchant_id=m, key="double", name="Double week", starts_at=at(2026, 11, 16, 0), ends_at=at(2026, 11, 23, 0)))
        s.add(Quest(merchant_id=m, key="summer", name="Summer", starts_at=at(2026, 7, 1, 0), ends_at=at(2026, 7, 8, 0)))
        visit3 = Challenge(merchant_id=m, key="visit3", name="Visit 3 times", action="visit", target=3, recurrence="monthly")
        checkins = Challenge(merchant_id=m, key="checkins", name="Check in 5 times", action="check_in", target=5)
        s.add(visit3)
        s.add(checkins)
        s.flush()
        for who, challenge, period, count, done in (
            ("ana", visit3, "2026-11", 3, at(2026, 11, 20)),
            ("ben", visit3, "2026-11", 2, None),
            ("cleo", visit3, "2026-10", 3, at(2026, 10, 24, 21, 30)),
            ("cleo", visit3, "2026-11", 0, None),
            ("dan", checkins, "once", 0, None),
        ):
            s.add(
                ChallengeProgress(
                    merchant_id=m,
                    account_id=ids[who],
                    challenge_id=challenge.id,
                    period_key=period,
                    count=count,
                    completed_at=done,
                )
            )

        s.add(ReferralCode(merchant_id=m, account_id=ids["ana"], code="ANA1"))
        s.add(ReferralCode(merchant_id=m, account_id=ids["ben"], code="BEN1"))
        s.add(ReferralCode(merchant_id=books.id, account_id=ids["books_member"], code="BM1"))
        s.add(
            Referral(
                merchant_id=m,
                referrer_id=ids["ben"],
                referee_id=ids["cleo"],
                registered_at=at(2026, 8, 10),
                referrer_rewarded_at=at(2026, 10, 24, 20, 30),
            )
        )
        s.add(Referral(merchant_id=m, referrer_id=ids["ana"], referee_id=ids["dan"], registered_at=at(2026, 11, 20)))
        ids.update(cafe=m, books=books.id, coffee=coffee.id, cake=cake.id, double=None)
    return {
        "engine": db_engine,
        "ids": ids,
        "admin": Actor(ids["admin"], ids["cafe"], Role.ADMIN),
        "books_admin": Actor(ids["books_admin"], ids["books"], Role.ADMIN),
        "member": Actor(ids["ana"], ids["cafe"], Role.MEMBER),
        "staff": Actor(ids["staff"], ids["cafe"], Role.STAFF),
    }


def _run(shop, fn, period="day", **kw):
    return fn(shop["engine"], shop["admin"], period=period, now=NOW, **kw)


def _nonzero(buckets) -> dict[str, int]:
    return {b.start.isoformat(): b.value for b in buckets if b.value}


# ------------------------------------------------------------------ windows and time zones


def test_windows_are_local_periods():
    assert analytics.bucket_starts("day", NOW, "Europe/Bucharest")[0] == date(2026, 10, 25)
    assert analytics.bucket_starts("day", NOW, "Europe/Bucharest")[-1] == date(2026, 11, 23)
    weeks = analytics.bucket_starts("week", NOW, "Europe/Bucharest")
    assert (len(weeks), weeks[0], weeks[-1]) == (12, date(2026, 9, 7), date(2026, 11, 23))
    months = analytics.bucket_starts("month", NOW, "Europe/Bucharest")
    assert (len(months), months[0], months[-1]) == (12, date(2025, 12, 1), date(2026, 11, 1))
    # 01:30 local on the 23rd is still the 22nd in UTC: the window follows the merchant's day.
    assert analytics.bucket_starts("day", at(2026, 11, 22, 23, 30), "Europe/Bucharest")[-1] == date(2026, 11, 23)
    assert analytics.local_midnight_utc(date(2026, 10, 25), "Europe/Bucharest") == at(2026, 10, 24, 21, 0)


def test_offset_segments_follow_daylight_saving():
    segments = analytics.utc_offset_segments("Europe/Bucharest", at(2026, 1, 1), at(2026, 12, 31))
    assert segments == [(at(2026, 1, 1), 120), (at(2026, 3, 29, 1, 0), 180), (at(2026, 10, 25, 1, 0), 120)]
    assert analytics.utc_offset_segments("UTC", at(2026, 1, 1), at(2026, 12, 31)) == [(at(2026, 1, 1), 0)]


# ------------------------------------------------------------------ charts, exact numbers


def test_enrolments(shop):
    assert _nonzero(_run(shop, analytics.enrolments, "day")) == {"2026-11-01": 1, "2026-11-20": 1, "2026-11-23": 1}
    assert len(_run(shop, analytics.enrolments, "day")) == 30
    assert _nonzero(_run(shop, analytics.enrolments, "week")) == {"2026-10-26": 1, "2026-11-16": 1, "2026-11-23": 1}
    assert _nonzero(_run(shop, analytics.enrolments, "month")) == {
        "2026-03-01": 1,
        "2026-06-01": 2,
        "2026-08-01": 1,
        "2026-11-01": 3,
    }


def test_active_members(shop):
    day = _run(shop, analytics.active_members, "day")
    assert (day.active_30d, day.members) == (3, 6)
    assert _nonzero(day.series) == {"2026-10-25": 1, "2026-11-15": 1, "2026-11-20": 1, "2026-11-21": 1, "2026-11-23": 1}
    week = _run(shop, analytics.active_members, "week")
    assert _nonzero(week.series) == {"2026-10-19": 1, "2026-11-09": 1, "2026-11-16": 1, "2026-11-23": 1}
    month = _run(shop, analytics.active_members, "month")
    assert _nonzero(month.series) == {"2026-07-01": 1, "2026-08-01": 1, "2026-09-01": 1, "2026-10-01": 1, "2026-11-01": 2}


def test_cohort_retention(shop):
    rows = {r.cohort.isoformat(): r for r in _run(shop, analytics.cohort_retention, "month")}
    assert list(rows)[0] == "2025-12-01" and len(rows) == 12
    assert {k: r.members for k, r in rows.items() if r.members} == {
        "2026-03-01": 1,
        "2026-06-01": 2,
        "2026-08-01": 1,
        "2026-11-01": 3,
    }
    assert rows["2026-03-01"].retention == {30: 0.0, 60: 0.0, 90: 0.0}
    assert rows["2026-06-01"].retention == {30: 0.5, 60: 0.5, 90: 0.5}
    assert rows["2026-06-01"].eligible == {30: 2, 60: 2, 90: 2}
    assert rows["2026-08-01"].retention == {30: 0.0, 60: 1.0, 90: None}
    assert rows["2026-11-01"].retention == {30: None, 60: None, 90: None}
    assert rows["2026-01-01"].members == 0 and rows["2026-01-01"].retention == {30: None, 60: None, 90: None}
    # Cohorts are months whatever the period switch says.
    assert _run(shop, analytics.cohort_retention, "day") == list(rows.values())


def test_points_flow(shop):
    def flows(period):
        return {
            f.start.isoformat(): (f.issued, f.redeemed, f.expired, f.donated)
            for f in _run(shop, analytics.points_flow, period)
            if (f.issued, f.redeemed, f.expired, f.donated) != (0, 0, 0, 0)
        }

    assert flows("day") == {
        "2026-10-25": (80, 0, 0, 0),
        "2026-11-10": (0, 0, 20, 0),
        "2026-11-15": (24, 0, 0, 0),
        "2026-11-16": (-24, 0, 0, 0),
        "2026-11-20": (100, 0, 0, 0),
        "2026-11-21": (0, 40, 0, 0),
        "2026-11-23": (50, 0, 0, 10),
    }
    assert flows("week") == {
        "2026-10-19": (110, 0, 0, 0),
        "2026-11-09": (24, 0, 20, 0),
        "2026-11-16": (76, 40, 0, 0),
        "2026-11-23": (50, 0, 0, 10),
    }
    assert flows("month") == {
        "2026-07-01": (10, 0, 0, 0),
        "2026-09-01": (10, 0, 0, 0),
        "2026-10-01": (110, 0, 0, 0),
        "2026-11-01": (150, 40, 20, 10),
    }


def test_redemption_rate_and_liability(shop):
    assert _run(shop, analytics.redemption_rate, "day") == analytics.RedemptionRate(230, 40, 0.1739)
    assert _run(shop, analytics.redemption_rate, "week") == analytics.RedemptionRate(260, 40, 0.1538)
    assert _run(shop, analytics.redemption_rate, "month") == analytics.RedemptionRate(280, 40, 0.1429)
    owed = _run(shop, analytics.liability)
    assert (owed.available, owed.pending, owed.points, owed.value_cents, owed.currency) == (230, 15, 245, None, "EUR")
    empty = analytics.redemption_rate(shop["engine"], shop["books_admin"], period="day", now=at(2026, 12, 31))
    assert empty == analytics.RedemptionRate(0, 0, None)


def test_top_rewards_and_ratings(shop):
    ids = shop["ids"]
    by_count = _run(shop, analytics.top_rewards_by_redemptions, "day")
    assert by_count == [analytics.RewardCount(ids["coffee"], "Coffee", 2), analytics.RewardCount(ids["cake"], "Cake", 1)]
    assert _run(shop, analytics.top_rewards_by_redemptions, "week") == by_count
    assert [(r.name, r.redemptions) for r in _run(shop, analytics.top_rewards_by_redemptions, "month")] == [
        ("Coffee", 3),
        ("Cake", 1),
    ]
    assert _run(shop, analytics.top_rewards_by_redemptions, "month", limit=1)[0].name == "Coffee"
    rated = _run(shop, analytics.top_rewards_by_rating, "day")
    assert rated == [
        analytics.RewardRatingRow(ids["coffee"], "Coffee", 4.5, 2),
        analytics.RewardRatingRow(ids["cake"], "Cake", 3.0, 1),
    ]
    assert [r.name for r in _run(shop, analytics.top_rewards_by_rating, "day", min_ratings=2)] == ["Coffee"]
    assert _run(shop, analytics.rating_distribution) == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}


def test_quest_uplift(shop):
    (double,) = _run(shop, analytics.quest_uplift, "day")
    assert (double.name, double.participants) == ("Double week", 2)
    # Before: Ben's one visit and 24 points in 4 weeks, for 2 participants; during: 2 visits, 126 points in 1 week.
    assert (double.visits_before, double.visits_during, double.points_before, double.points_during) == (0.125, 1.0, 3.0, 63.0)
    assert (double.visits_uplift, double.points_uplift) == (7.0, 20.0)
    assert [q.name for q in _run(shop, analytics.quest_uplift, "week")] == ["Double week"]
    double_m, summer = _run(shop, analytics.quest_uplift, "month")
    assert double_m == double
    assert (summer.name, summer.participants, summer.visits_before, summer.visits_during, summer.points_during) == (
        "Summer",
        1,
        0.0,
        1.0,
        10.0,
    )
    assert summer.visits_uplift is None and summer.points_uplift is None


def test_challenge_uplift(shop):
    day = _run(shop, analytics.challenge_uplift, "day")
    assert [(c.name, c.completers, c.non_completers, c.visits_completers, c.visits_non_completers) for c in day] == [
        ("Visit 3 times", 2, 1, 1.0, 2.0),
        ("Check in 5 times", 0, 1, 0.0, 0.0),
    ]
    month = _run(shop, analytics.challenge_uplift, "month")
    assert [(c.completers, c.non_completers, c.visits_completers, c.visits_non_completers) for c in month] == [
        (2, 1, 2.0, 2.0),
        (0, 1, 0.0, 0.0),
    ]


def test_referral_funnel(shop):
    funnel = _run(shop, analytics.referral_funnel)
    assert [(step.key, step.count) for step in funnel] == [("codes", 2), ("joined", 2), ("purchased", 1), ("rewarded", 1)]


def test_rfm_segments_and_at_risk_list(shop):
    rfm = _run(shop, analytics.rfm_segments)
    assert rfm.scored == 6
    assert rfm.segments == {"champions": 1, "loyal": 2, "new": 2, "at_risk": 1, "hibernating": 0, "others": 0}
    assert rfm.at_risk == [analytics.AtRiskMember(shop["ids"]["eve"], "Eve Stone", "M0005", None, 300)]
    assert _run(shop, analytics.rfm_segments, at_risk_limit=0).at_risk == []
    # Quintiles of one member say nothing: the books program shows "not enough data".
    books = analytics.rfm_segments(shop["engine"], shop["books_admin"], now=NOW)
    assert books.scored == 0 and books.at_risk == [] and set(books.segments.values()) == {0}


def test_dashboard_gathers_every_chart(shop):
    board = analytics.dashboard(shop["engine"], shop["admin"], period="week", now=NOW)
    assert board.period == "week" and len(board.buckets) == 12
    assert board.redemption == analytics.RedemptionRate(260, 40, 0.1538)
    assert board.active.active_30d == 3 and board.liability.points == 245 and board.rfm.segments["at_risk"] == 1
    assert board.ratings == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert [s.count for s in board.funnel] == [2, 2, 1, 1]

    # A new program: zeros everywhere (the page shows its empty states), nothing raises.
    with write_session(shop["engine"]) as s:
        fresh = Merchant(slug="fresh", name="Fresh", short_name="Fresh")
        s.add(fresh)
        s.flush()
        boss = Account(merchant_id=fresh.id, role=Role.ADMIN, email="b@x.test", password_hash="x", member_number="F1")
        s.add(boss)
        s.flush()
        actor = Actor(boss.id, fresh.id, Role.ADMIN)
    for period in analytics.PERIODS:
        empty = analytics.dashboard(shop["engine"], actor, period=period, now=NOW)
        assert not _nonzero(empty.enrolments) and not _nonzero(empty.active.series) and empty.active.active_30d == 0
        assert all((f.issued, f.redeemed, f.expired, f.donated) == (0, 0, 0, 0) for f in empty.flows)
        assert (
            empty.redemption.rate is None and empty.liability.points == 0 and empty.top_redeemed == [] and empty.top_rated == []
        )
        assert empty.quests == [] and empty.challenges == [] and [s.count for s in empty.funnel] == [0, 0, 0, 0]
        assert empty.rfm.scored == 0 and all(r.members == 0 for r in empty.cohorts)


# ------------------------------------------------------------------ who may see it


@pytest.mark.parametrize("who", ["member", "staff", "books_admin", "anonymous"])
def test_only_the_merchants_admins_see_analytics(shop, who):
    actor = None if who == "anonymous" else shop[who]
    for _name, fn in analytics.CHARTS:
        with pytest.raises(NotAllowed):
            fn(shop["engine"], actor, period="day", now=NOW, merchant_id=shop["ids"]["cafe"])
    with pytest.raises(NotAllowed):
        analytics.dashboard(shop["engine"], actor, period="day", now=NOW, merchant_id=shop["ids"]["cafe"])


def test_an_admin_cannot_name_another_merchant(shop):
    with pytest.raises(NotAllowed):
        analytics.enrolments(shop["engine"], shop["admin"], now=NOW, merchant_id=shop["ids"]["books"])


def test_unknown_period_is_refused(shop):
    with pytest.raises(LoyaltyError) as err:
        analytics.points_flow(shop["engine"], shop["admin"], period="year", now=NOW)
    assert err.value.code == "bad_period"


def test_the_page_view_formats_the_dashboard(shop):
    from loyalty_app.pages.admin_analytics import build_view

    view = build_view(analytics.dashboard(shop["engine"], shop["admin"], period="week", now=NOW), "en")
    assert (view["kpi_active"], view["kpi_members"], view["kpi_rate"], view["kpi_liability"]) == ("3", "6", "15.4%", "245")
    assert view["kpi_liability_value"] == "" and view["members_n"] == 6
    assert len(view["enrolments"]) == 12 and view["enrolments"][-1] == {"label": "23 Nov", "value": 1}
    assert view["flows"][-1] == {"label": "23 Nov", "issued": 50, "redeemed": 0, "expired": 0, "donated": 10}
    assert [c["label"] for c in view["cohorts"]] == ["Mar 2026", "Jun 2026", "Aug 2026", "Nov 2026"]
    assert view["cohorts"][2]["d60"] == 100.0 and view["cohorts"][2]["d90"] is None and view["cohorts"][2]["d90_text"] == "—"
    assert view["has_quests"] and view["quests"][0]["visits_uplift"] == "700%"
    assert [f["text"] for f in view["funnel"]] == ["2", "2", "1", "1"]
    assert view["at_risk"] == [{"name": "Eve Stone", "number": "M0005", "last_visit": "Never", "points": "300"}]
    assert view["ratings"][4] == {"label": "5★", "stars": "5", "value": 1}
    spanish = build_view(analytics.dashboard(shop["engine"], shop["admin"], period="month", now=NOW), "es")
    assert spanish["kpi_rate"] == "14,3\xa0%" and spanish["flows"][-1]["label"].startswith("nov")
