"""Pure domain rules: earning arithmetic, tiers, quests, badges, challenges, referrals,
donations, vouchers and catalogue. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from loyalty_app.domain import badges, catalog, challenges, donations, earning, quests, referrals, tiers, vouchers
from loyalty_app.domain.earning import Action, AppliedMultiplier, LimitPeriod, RuleSpec
from loyalty_app.domain.errors import LoyaltyError

UTC = UTC
BUC = "Europe/Bucharest"  # UTC+2 in winter, UTC+3 in summer


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- earning ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "rate", "rounding", "expected"),
    [
        (2400, 1, "floor", 24),
        (2499, 1, "floor", 24),
        (2450, 1, "round", 25),
        (2449, 1, "round", 24),
        (2401, 1, "ceil", 25),
        (2400, "1.5", "floor", 36),
        (999, "0.5", "round", 5),  # 4.995 -> 5
        (999, "0.5", "floor", 4),
        (1, 10, "ceil", 1),
    ],
)
def test_purchase_base_points_rounding(cents, rate, rounding, expected):
    assert earning.purchase_base_points(cents, rate, rounding) == expected


def test_purchase_amount_must_be_positive():
    with pytest.raises(LoyaltyError) as err:
        earning.purchase_base_points(0, 1, "floor")
    assert err.value.code == "invalid_amount"


def test_compute_earn_applies_tier_and_quests_with_floor():
    tier = AppliedMultiplier("Gold", 150, "tier", "gold")
    quest = AppliedMultiplier("Double weekend", 200, "quest", "wk")
    b = earning.compute_earn(7, tier_multiplier=tier, quest_multipliers=[quest], stacking="multiply", cap_pct=500)
    assert (b.base_points, b.tier_pct, b.quest_pct, b.total_pct, b.points, b.capped) == (7, 150, 200, 300, 21, False)
    assert earning.multipliers_text(b) == "×1.5 Gold, ×2 Double weekend"
    b = earning.compute_earn(7, tier_multiplier=tier, quest_multipliers=[], stacking="multiply", cap_pct=500)
    assert b.points == 10  # 10.5 rounded down


def test_rule_applies_window_tier_segment_store():
    rule = RuleSpec(
        key="r",
        action=Action.CHECK_IN,
        points=10,
        valid_from=at(2026, 1, 1),
        valid_until=at(2026, 2, 1),
        tier_keys=("gold",),
        segment_key="regulars",
        store_id=3,
    )
    ok = dict(at=at(2026, 1, 15), tier_key="gold", segments={"regulars"}, store_id=3)
    assert earning.rule_applies(rule, **ok)
    assert not earning.rule_applies(rule, **{**ok, "at": at(2025, 12, 31, 23, 59)})
    assert not earning.rule_applies(rule, **{**ok, "at": at(2026, 2, 1)})  # until is exclusive
    assert not earning.rule_applies(rule, **{**ok, "tier_key": "silver"})
    assert not earning.rule_applies(rule, **{**ok, "segments": set()})
    assert not earning.rule_applies(rule, **{**ok, "store_id": 4})


def test_best_rule_is_the_most_generous():
    a = RuleSpec(key="a", action=Action.CHECK_IN, points=5)
    b = RuleSpec(key="b", action=Action.CHECK_IN, points=15)
    assert earning.best_rule([a, b]) is b
    assert earning.best_rule([]) is None


@pytest.mark.parametrize(
    ("period", "day", "start"),
    [
        (LimitPeriod.DAY, date(2026, 11, 25), date(2026, 11, 25)),
        (LimitPeriod.WEEK, date(2026, 11, 25), date(2026, 11, 23)),  # Wednesday -> Monday
        (LimitPeriod.MONTH, date(2026, 11, 25), date(2026, 11, 1)),
        (LimitPeriod.YEAR, date(2026, 11, 25), date(2026, 1, 1)),
        (LimitPeriod.EVER, date(2026, 11, 25), date.min),
        (LimitPeriod.NONE, date(2026, 11, 25), None),
    ],
)
def test_period_start(period, day, start):
    assert earning.period_start(period, day) == start


def test_limit_day_uses_merchant_timezone():
    # 22:30 UTC on the 24th is already the 25th in Bucharest: a new day for the daily limit.
    assert earning.local_date(at(2026, 11, 24, 22, 30), BUC) == date(2026, 11, 25)
    assert earning.local_date(at(2026, 11, 24, 21, 59), BUC) == date(2026, 11, 24)


def test_check_limit():
    rule = RuleSpec(key="r", action=Action.CHECK_IN, points=5, limit_count=2, limit_period=LimitPeriod.DAY)
    earning.check_limit(rule, 1)
    with pytest.raises(LoyaltyError) as err:
        earning.check_limit(rule, 2)
    assert err.value.code == "limit_reached" and err.value.params == {"limit": 2}
    once = RuleSpec(key="o", action=Action.COMPLETE_PROFILE, points=5, limit_count=1, limit_period=LimitPeriod.EVER)
    with pytest.raises(LoyaltyError):
        earning.check_limit(once, 1)
    earning.check_limit(RuleSpec(key="u", action=Action.CHECK_IN, points=1), 10_000)


def test_segments():
    now = at(2026, 11, 20)
    facts = earning.MemberFacts(joined_at=now - timedelta(days=3), birthday=date(1990, 11, 2), last_visit_at=None)
    assert earning.member_segments(facts, now, BUC) == {"new_members", "birthday_month", "lapsed"}
    facts = earning.MemberFacts(joined_at=now - timedelta(days=300), last_visit_at=now - timedelta(days=2), visits=12)
    assert earning.member_segments(facts, now, BUC) == {"regulars"}


# --- tiers -----------------------------------------------------------------------------------

TIERS = [
    tiers.TierSpec("bronze", "Bronze", "#cd7f32", 0, 0),
    tiers.TierSpec("silver", "Silver", "#c0c0c0", 1, 500),
    tiers.TierSpec("gold", "Gold", "#d4af37", 2, 1500, {"purchase": 150, "refer_friend": 200}),
]
BRONZE, SILVER, GOLD = TIERS


def test_qualifying_tier_thresholds():
    assert tiers.qualifying_tier(TIERS, 0) is BRONZE
    assert tiers.qualifying_tier(TIERS, 499) is BRONZE
    assert tiers.qualifying_tier(TIERS, 500) is SILVER
    assert tiers.qualifying_tier(TIERS, 10_000) is GOLD
    assert GOLD.multiplier_for("refer_friend") == 200 and GOLD.multiplier_for("check_in") == 100


def test_rolling_window_is_365_days():
    now = at(2026, 11, 20, 12)
    assert tiers.qualification_windows("rolling_12m", now, BUC) == [(now - timedelta(days=365), now)]


def test_calendar_year_windows_start_at_merchant_midnight():
    now = at(2026, 3, 1)
    windows = tiers.qualification_windows("calendar_year", now, BUC)
    # 1 January 00:00 in Bucharest is 22:00 UTC on 31 December.
    assert windows == [(at(2024, 12, 31, 22), at(2025, 12, 31, 22)), (at(2025, 12, 31, 22), now)]
    assert tiers.keep_window("calendar_year", now, BUC) == (at(2025, 12, 31, 22), now)


def test_upgrade_on_earn_never_downgrades():
    assert tiers.upgrade_on_earn(BRONZE, GOLD) is GOLD
    assert tiers.upgrade_on_earn(GOLD, SILVER) is None
    assert tiers.upgrade_on_earn(None, BRONZE) is BRONZE
    assert tiers.upgrade_on_earn(SILVER, SILVER) is None


def test_evaluation_grace_then_downgrade():
    now = at(2026, 1, 10)
    first = tiers.evaluate(GOLD, SILVER, grace_until=None, now=now, grace_days=30)
    assert first.outcome is tiers.EvaluationOutcome.GRACE_STARTED and first.tier is GOLD
    assert first.grace_until == now + timedelta(days=30)
    during = tiers.evaluate(GOLD, SILVER, grace_until=first.grace_until, now=now + timedelta(days=29), grace_days=30)
    assert during.outcome is tiers.EvaluationOutcome.IN_GRACE and during.tier is GOLD
    after = tiers.evaluate(GOLD, SILVER, grace_until=first.grace_until, now=now + timedelta(days=30), grace_days=30)
    assert after.outcome is tiers.EvaluationOutcome.DOWNGRADE and after.tier is SILVER
    cleared = tiers.evaluate(GOLD, GOLD, grace_until=first.grace_until, now=now + timedelta(days=5), grace_days=30)
    assert cleared.outcome is tiers.EvaluationOutcome.GRACE_CLEARED and cleared.grace_until is None
    no_grace = tiers.evaluate(GOLD, BRONZE, grace_until=None, now=now, grace_days=0)
    assert no_grace.outcome is tiers.EvaluationOutcome.DOWNGRADE and no_grace.tier is BRONZE
    assert tiers.evaluate(SILVER, GOLD, grace_until=None, now=now, grace_days=30).tier is GOLD


def test_progress_to_next_and_to_keep():
    p = tiers.progress(TIERS, SILVER, qualifying_points=1000, keep_points=200)
    assert (p.next, p.points_to_next, p.pct_to_next, p.points_to_keep) == (GOLD, 500, 50, 300)
    top = tiers.progress(TIERS, GOLD, qualifying_points=2000, keep_points=2000)
    assert (top.next, top.points_to_next, top.pct_to_next, top.points_to_keep) == (None, 0, 100, 0)


# --- quests ----------------------------------------------------------------------------------


def _m(key, pct):
    return AppliedMultiplier(key, pct, "quest", key)


def test_quest_stacking_multiply_and_best():
    assert quests.combine_quests([_m("a", 200), _m("b", 150)], "multiply")[0] == 300
    pct, used = quests.combine_quests([_m("a", 200), _m("b", 150)], "best")
    assert pct == 200 and [u.key for u in used] == ["a"]
    assert quests.combine_quests([], "multiply") == (100, [])


def test_quest_total_capped_at_program_max():
    tier = AppliedMultiplier("Gold", 200, "tier", "gold")
    b = earning.compute_earn(
        10, tier_multiplier=tier, quest_multipliers=[_m("a", 200), _m("b", 200)], stacking="multiply", cap_pct=300
    )
    assert (b.total_pct, b.points, b.capped) == (300, 30, True)
    assert "max ×3" in earning.multipliers_text(b)
    best = earning.compute_earn(
        10, tier_multiplier=tier, quest_multipliers=[_m("a", 200), _m("b", 150)], stacking="best", cap_pct=1000
    )
    assert (best.total_pct, best.points) == (400, 40)


def test_quest_window_given_in_merchant_timezone():
    # "Saturday 00:00 to Monday 00:00" in Bucharest (UTC+2 in November).
    start = quests.local_to_utc(datetime(2026, 11, 28, 0, 0), BUC)
    end = quests.local_to_utc(datetime(2026, 11, 30, 0, 0), BUC)
    assert start == at(2026, 11, 27, 22) and end == at(2026, 11, 29, 22)
    q = quests.QuestSpec("wk", "Weekend", 200, start, end)
    assert not quests.quest_is_live(q, at(2026, 11, 27, 21, 59, 59))
    assert quests.quest_is_live(q, at(2026, 11, 27, 22))
    assert quests.quest_is_live(q, at(2026, 11, 29, 21, 59, 59))
    assert not quests.quest_is_live(q, at(2026, 11, 29, 22))


def test_local_to_utc_across_dst():
    # Summer time in Bucharest is UTC+3; the spring-forward gap 03:00-04:00 on 29 March 2026.
    assert quests.local_to_utc(datetime(2026, 7, 1, 12), BUC) == at(2026, 7, 1, 9)
    assert quests.local_to_utc(datetime(2026, 3, 29, 3, 30), BUC) == at(2026, 3, 29, 1, 30)
    # Autumn fold (04:00 -> 03:00 on 25 October 2026): the first 03:30 is 00:30 UTC.
    assert quests.local_to_utc(datetime(2026, 10, 25, 3, 30), BUC) == at(2026, 10, 25, 0, 30)


def test_quest_targeting():
    q = quests.QuestSpec("q", "Q", 200, at(2026, 1, 1), at(2026, 2, 1), tier_keys=("gold",), store_id=2, actions=("purchase",))
    ok = dict(at=at(2026, 1, 5), action="purchase", tier_key="gold", segments=set(), store_id=2)
    assert quests.quest_applies(q, **ok)
    assert not quests.quest_applies(q, **{**ok, "action": "check_in"})
    assert not quests.quest_applies(q, **{**ok, "tier_key": "silver"})
    assert not quests.quest_applies(q, **{**ok, "store_id": 1})
    with pytest.raises(LoyaltyError):
        quests.validate_quest(at(2026, 2, 1), at(2026, 1, 1), 200)
    with pytest.raises(LoyaltyError):
        quests.validate_quest(at(2026, 1, 1), at(2026, 2, 1), 100)


# --- badges ----------------------------------------------------------------------------------


def test_weekly_streak_counts_consecutive_monday_weeks():
    days = [date(2026, 11, 2), date(2026, 11, 8), date(2026, 11, 9), date(2026, 11, 18), date(2026, 11, 29)]
    # Weeks starting 2 Nov (2 visits), 9 Nov, 16 Nov, 23 Nov (29 Nov is its Sunday): 4 in a row.
    assert badges.longest_weekly_streak(days) == 4
    assert badges.longest_weekly_streak([date(2026, 11, 2), date(2026, 11, 16)]) == 1
    assert badges.longest_weekly_streak([]) == 0
    # Across a year boundary.
    assert badges.longest_weekly_streak([date(2026, 12, 28), date(2027, 1, 4)]) == 2


def test_badge_criteria_and_progress():
    facts = badges.ActivityFacts(
        action_counts={"purchase": 3, "check_in": 4, "rate_reward": 1},
        distinct_stores=2,
        visit_days=(date(2026, 11, 2), date(2026, 11, 9)),
        redemptions=0,
        tier_rank=1,
        tier_ranks={"silver": 1, "gold": 2},
        lifetime_earned=900,
    )
    B = badges.BadgeKind
    cases = [
        (badges.BadgeSpec("fp", "First", B.FIRST_PURCHASE), (1, 1)),
        (badges.BadgeSpec("ci", "Check-ins", B.CHECK_INS, target=5), (4, 5)),
        (badges.BadgeSpec("ds", "Stores", B.DISTINCT_STORES, target=2), (2, 2)),
        (badges.BadgeSpec("st", "Streak", B.WEEKLY_STREAK, target=3), (2, 3)),
        (badges.BadgeSpec("fr", "Redeem", B.FIRST_REDEMPTION), (0, 1)),
        (badges.BadgeSpec("rv", "Review", B.FIRST_REVIEW), (1, 1)),
        (badges.BadgeSpec("sv", "Silver", B.TIER_REACHED, param="silver"), (1, 1)),
        (badges.BadgeSpec("gd", "Gold", B.TIER_REACHED, param="gold"), (0, 1)),
        (badges.BadgeSpec("pt", "Points", B.POINTS_EARNED, target=1000), (900, 1000)),
        (badges.BadgeSpec("ac", "Shopper", B.ACTION_COUNT, target=2, param="purchase"), (2, 2)),
    ]
    for spec, expected in cases:
        assert badges.badge_progress(spec, facts) == expected, spec.key
    earned = badges.newly_earned([c[0] for c in cases], facts, already={"fp"})
    assert [s.key for s in earned] == ["ds", "rv", "sv", "ac"]


# --- challenges ------------------------------------------------------------------------------


def test_challenge_period_keys_in_merchant_timezone():
    R = challenges.Recurrence
    # Sunday 22:30 UTC is Monday 00:30 in Bucharest: a new ISO week there.
    sunday_night = at(2026, 11, 29, 22, 30)
    assert challenges.period_key(R.WEEKLY, sunday_night, BUC) == "2026-W49"
    assert challenges.period_key(R.WEEKLY, sunday_night, "UTC") == "2026-W48"
    assert challenges.period_key(R.MONTHLY, at(2026, 11, 30, 22, 30), BUC) == "2026-12"
    assert challenges.period_key(R.ONE_OFF, sunday_night, BUC) == "once"


def test_challenge_progress_and_completion():
    spec = challenges.ChallengeSpec("v3", "Visit 3 times", challenges.VISIT, 3, challenges.Recurrence.MONTHLY)
    assert challenges.counts_action(spec, "purchase") and challenges.counts_action(spec, "check_in")
    assert not challenges.counts_action(spec, "write_review")
    count, done = 0, False
    for expected in [(1, False), (2, False), (3, True)]:
        count, done = challenges.advance(spec, count, False)
        assert (count, done) == expected
    assert challenges.advance(spec, 3, True) == (3, False)  # completed: no second completion


def test_recurring_challenge_resets_per_period():
    """Progress is keyed by period, so a new month starts from an empty row."""
    spec = challenges.ChallengeSpec("v3", "Visit 3", challenges.VISIT, 3, challenges.Recurrence.MONTHLY)
    progress: dict[str, int] = {}
    for when in [at(2026, 10, 5), at(2026, 10, 20), at(2026, 11, 2)]:
        key = challenges.period_key(spec.recurrence, when, BUC)
        progress[key], _ = challenges.advance(spec, progress.get(key, 0), False)
    assert progress == {"2026-10": 2, "2026-11": 1}


def test_challenge_window_and_hidden():
    spec = challenges.ChallengeSpec("h", "Surprise", "check_in", 1, starts_at=at(2026, 1, 1), ends_at=at(2026, 2, 1), hidden=True)
    assert challenges.is_open(spec, at(2026, 1, 31)) and not challenges.is_open(spec, at(2026, 2, 1))
    assert not challenges.is_listed(spec, completed=False) and challenges.is_listed(spec, completed=True)


# --- referrals -------------------------------------------------------------------------------


def test_referral_refusals():
    ok = dict(referrer_id=1, referee_id=2, referee_already_referred=False, referrer_count_this_month=0, monthly_cap=2)
    referrals.check_referral(**ok)
    for change, code in [
        ({"referee_id": 1}, "self_referral"),
        ({"referee_already_referred": True}, "already_referred"),
        ({"referrer_count_this_month": 2}, "referral_cap"),
    ]:
        with pytest.raises(LoyaltyError) as err:
            referrals.check_referral(**{**ok, **change})
        assert err.value.code == code
    referrals.check_referral(**{**ok, "referrer_count_this_month": 99, "monthly_cap": None})


def test_referral_code_normalisation():
    code = referrals.generate_referral_code()
    assert referrals.normalise_referral_code(code.lower()) == code
    assert referrals.normalise_referral_code("ab1o-23lk") == "AB10231K"
    assert referrals.normalise_referral_code("short") == ""


# --- donations -------------------------------------------------------------------------------


def test_donation_day_starts_at_merchant_midnight():
    start, end = donations.day_bounds(at(2026, 11, 24, 22, 30), BUC)
    assert (start, end) == (at(2026, 11, 24, 22), at(2026, 11, 25, 22))
    start, _ = donations.day_bounds(at(2026, 11, 24, 21, 59), BUC)
    assert start == at(2026, 11, 23, 22)


def test_donation_daily_limit():
    donations.check_donation(100, donated_today=400, daily_limit=500)
    with pytest.raises(LoyaltyError) as err:
        donations.check_donation(101, donated_today=400, daily_limit=500)
    assert err.value.code == "donation_limit" and err.value.params == {"remaining": 100}
    with pytest.raises(LoyaltyError):
        donations.check_donation(0, donated_today=0, daily_limit=None)


# --- vouchers and catalogue ------------------------------------------------------------------


def test_voucher_codes_are_long_random_and_typable():
    codes = {vouchers.generate_code() for _ in range(500)}
    assert len(codes) == 500
    assert vouchers.CODE_BITS >= 80
    code = next(iter(codes))
    assert len(code.replace("-", "")) == 20 and set(code.replace("-", "")) <= set(vouchers.ALPHABET)
    assert not set("ILOU") & set(code)
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert vouchers.normalise_code(typed) == code
    assert vouchers.normalise_code("nope") == ""


def test_voucher_status_checks():
    exp = at(2026, 2, 1)
    vouchers.check_usable("issued", exp, at(2026, 1, 1))
    for status, now, code in [
        ("used", at(2026, 1, 1), "voucher_used"),
        ("cancelled", at(2026, 1, 1), "voucher_cancelled"),
        ("issued", exp, "voucher_expired"),
    ]:
        with pytest.raises(LoyaltyError) as err:
            vouchers.check_usable(status, exp, now)
        assert err.value.code == code


def _reward(**kw):
    base = dict(id=1, key="r", name="R", kind=catalog.RewardKind.DISCOUNT, cost_points=100)
    return catalog.RewardSpec(**{**base, **kw})


def test_catalog_refusal_reasons():
    now = at(2026, 1, 1)
    ok = dict(now=now, tier_rank=1, available_points=100, redeemed_by_member=0)
    catalog.check_redeemable(_reward(), **ok)
    for reward, change, code in [
        (_reward(is_active=False), {}, "reward_unavailable"),
        (_reward(valid_until=now), {}, "reward_unavailable"),
        (_reward(min_tier_rank=2), {}, "tier_required"),
        (_reward(stock=0), {}, "out_of_stock"),
        (_reward(per_member_limit=1), {"redeemed_by_member": 1}, "member_limit_reached"),
        (_reward(), {"available_points": 99}, "insufficient_points"),
    ]:
        with pytest.raises(LoyaltyError) as err:
            catalog.check_redeemable(reward, **{**ok, **change})
        assert err.value.code == code


def test_recommendations_affordable_first_then_top_rated():
    now = at(2026, 1, 1)
    rewards = [
        _reward(id=1, key="cheap", cost_points=50),
        _reward(id=2, key="loved", cost_points=80),
        _reward(id=3, key="dear", cost_points=300),
        _reward(id=4, key="gold-only", cost_points=10, min_tier_rank=2),
        _reward(id=5, key="soon", cost_points=150),
    ]
    recs = catalog.recommend(rewards, now=now, tier_rank=1, available_points=100, ratings={2: (4.5, 2), 1: (3.0, 1)})
    assert [r.reward.key for r in recs] == ["loved", "cheap", "soon", "dear"]
    assert recs[0].reason == "You can get this now, rated {rating} ★" and recs[0].reason_params == {"rating": "4.5"}
    assert recs[2].reason_params == {"missing": 50}


def test_recommendations_are_personal_favourites_first_disliked_last():
    """The member's own 4+ rating leads, a kind they redeemed before comes next, a reward they
    rated 2 or less sinks below the others, whatever the average of other members says."""
    now = at(2026, 1, 1)
    rewards = [
        _reward(id=1, key="crowd-pleaser", cost_points=50, kind=catalog.RewardKind.FREE_PRODUCT),
        _reward(id=2, key="my-favourite", cost_points=60, kind=catalog.RewardKind.FREE_PRODUCT),
        _reward(id=3, key="disliked", cost_points=40, kind=catalog.RewardKind.FREE_PRODUCT),
        _reward(id=4, key="same-kind", cost_points=70, kind=catalog.RewardKind.DISCOUNT),
    ]
    recs = catalog.recommend(
        rewards,
        now=now,
        tier_rank=1,
        available_points=100,
        ratings={1: (5.0, 9), 3: (4.9, 9), 2: (3.0, 2)},
        own_ratings={2: 5, 3: 1},
        redeemed_kinds=frozenset({catalog.RewardKind.DISCOUNT}),
    )
    assert [r.reward.key for r in recs] == ["my-favourite", "same-kind", "crowd-pleaser", "disliked"]
    assert recs[0].reason == "One of your favourites, you can get it now"
