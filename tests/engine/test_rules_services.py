"""Rules-engine services on SQLite and PostgreSQL: earning, limits, multipliers, tiers,
badges, challenges, rewards and vouchers, ratings, donations, referrals, cockpit, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import Conflict, LoyaltyError, NotAllowed, NotFound
from loyalty_app.models import LedgerEntry, MemberActivity, MemberTierChange, Reward, Voucher
from loyalty_app.services import ledger
from loyalty_app.services.catalog import donations, rewards
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.earning import referrals, tiers
from loyalty_app.services.member_app import cockpit
from loyalty_app.services.program import program_admin as admin
from tests.engine.test_rules_support import T0, make_program

UTC = UTC


@pytest.fixture
def program(db_engine):
    return make_program(db_engine)


def _buy(engine, p, member=0, cents=2400, receipt="R1", now=T0, store=0, **kw):
    return earning.credit_purchase(
        engine,
        merchant_id=p.merchant_id,
        account_id=p.member_ids[member],
        store_id=p.store_ids[store],
        amount_cents=cents,
        receipt=receipt,
        now=now,
        **kw,
    )


def _balance(engine, p, member=0):
    with read_session(engine) as s:
        return ledger.get_balance(s, merchant_id=p.merchant_id, account_id=p.member_ids[member])


def _entries(engine, p, member=0):
    with read_session(engine) as s:
        return s.exec(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.account_id == p.member_ids[member])).one()


# --- earning -----------------------------------------------------------------------------------


def test_purchase_points_reason_and_idempotency(db_engine, program):
    p = program
    out = _buy(db_engine, p, cents=2499, staff_account_id=p.staff_id)
    assert (out.points, out.breakdown.base_points, out.replayed) == (24, 24, False)  # floor by default
    assert out.reason == "Purchase {amount} {currency} × {rate} pt/{currency}"
    assert out.reason_params == {"amount": "24.99", "currency": "EUR", "rate": "1"}
    with read_session(db_engine) as s:
        entry = s.get(LedgerEntry, out.entry_id)
        assert entry.idempotency_key == f"receipt:{p.store_ids[0]}:R1"
        assert entry.source["receipt"] == "R1" and entry.source["breakdown"]["base"] == 24
    again = _buy(db_engine, p, cents=2499, staff_account_id=p.staff_id, now=T0 + timedelta(minutes=5))
    assert again.replayed and again.entry_id == out.entry_id and _balance(db_engine, p).available == 24
    with pytest.raises(Conflict):
        _buy(db_engine, p, cents=1000)
    with pytest.raises(Conflict):  # another member cannot reuse the receipt
        _buy(db_engine, p, member=1, cents=2499)


def test_purchase_rounding_per_program(db_engine):
    p = make_program(db_engine, "round", purchase_rounding="round")
    assert _buy(db_engine, p, cents=2450).points == 25
    assert _buy(db_engine, p, cents=2449, receipt="R2").points == 24


def test_purchase_rule_rate_and_staff_store_check(db_engine, program):
    p = program
    with write_session(db_engine) as s:
        admin.upsert_earning_rule(
            s, p.merchant_id, "store1-rate", action="purchase", points_per_unit="1.5", store_id=p.store_ids[1]
        )
    out = _buy(db_engine, p, cents=1000, store=1)
    assert out.points == 15 and out.reason_params["rate"] == "1.5"
    assert _buy(db_engine, p, cents=1000, receipt="R2").points == 10  # other store: program rate
    with pytest.raises(NotAllowed) as err:  # staff not assigned to store 1
        _buy(db_engine, p, cents=1000, receipt="R3", store=1, staff_account_id=p.staff_id)
    assert err.value.code == "not_store_staff"


def test_action_limits_use_merchant_day_and_write_nothing_when_refused(db_engine, program):
    p = program
    kw = dict(merchant_id=p.merchant_id, account_id=p.member_ids[0], action="check_in", store_id=p.store_ids[0])
    evening = datetime(2026, 11, 2, 21, 0, tzinfo=UTC)  # 23:00 in Bucharest
    assert earning.record_action(db_engine, idempotency_key="c1", now=evening, **kw).points == 10
    entries = _entries(db_engine, p)
    with pytest.raises(LoyaltyError) as err:
        earning.record_action(db_engine, idempotency_key="c2", now=evening + timedelta(minutes=30), **kw)
    assert err.value.code == "limit_reached"
    assert _entries(db_engine, p) == entries and _balance(db_engine, p).available == 10
    # 22:30 UTC is 00:30 the next day in Bucharest: a new day.
    assert earning.record_action(db_engine, idempotency_key="c3", now=evening + timedelta(minutes=90), **kw).points == 10
    with read_session(db_engine) as s:
        assert s.exec(select(func.count()).select_from(MemberActivity)).one() == 2


def test_action_conditions_and_service_only(db_engine, program):
    p = program
    kw = dict(merchant_id=p.merchant_id, account_id=p.member_ids[0], now=T0)
    with pytest.raises(LoyaltyError) as err:
        earning.record_action(db_engine, action="attend_event", idempotency_key="e1", detail={"event_code": "ROCK"}, **kw)
    assert err.value.code == "invalid_event_code"
    assert (
        earning.record_action(db_engine, action="attend_event", idempotency_key="e2", detail={"event_code": "jazz"}, **kw).points
        == 40
    )
    for action, code in [("purchase", "action_not_direct"), ("fill_survey", "no_rule"), ("dance", "unknown_action")]:
        with pytest.raises(LoyaltyError) as err:
            earning.record_action(db_engine, action=action, idempotency_key=f"x-{action}", **kw)
        assert err.value.code == code
    assert earning.record_action(db_engine, action="complete_profile", idempotency_key="p1", **kw).points == 50
    with write_session(db_engine) as s:  # a segment-targeted rule: members in their birthday month
        admin.upsert_earning_rule(s, p.merchant_id, "bday-survey", action="fill_survey", points=30, segment_key="birthday_month")
    assert earning.record_action(db_engine, action="fill_survey", idempotency_key="s1", **kw).points == 30  # born in November
    with pytest.raises(LoyaltyError) as err:
        earning.record_action(
            db_engine,
            action="fill_survey",
            idempotency_key="s2",
            merchant_id=p.merchant_id,
            account_id=p.member_ids[0],
            now=datetime(2026, 12, 5, tzinfo=UTC),
        )
    assert err.value.code == "no_rule"
    with pytest.raises(LoyaltyError) as err:
        earning.record_action(
            db_engine,
            action="complete_profile",
            idempotency_key="p2",
            now=T0 + timedelta(days=400),
            merchant_id=p.merchant_id,
            account_id=p.member_ids[0],
        )
    assert err.value.code == "limit_reached"


def test_quest_and_tier_multipliers_explain_the_points(db_engine, program):
    p = program
    _buy(db_engine, p, cents=50000, receipt="big")  # 500 points: Silver (purchase ×1.5) at once
    with write_session(db_engine) as s:
        admin.upsert_quest(
            s,
            p.merchant_id,
            "weekend",
            name="Double weekend",
            multiplier_pct=200,
            starts_local=datetime(2026, 11, 7),
            ends_local=datetime(2026, 11, 9),
            actions=["purchase"],
        )
        admin.set_program_rules(s, p.merchant_id, quest_stacking="multiply", max_multiplier_pct=250)
    saturday = datetime(2026, 11, 6, 22, 30, tzinfo=UTC)  # 00:30 Saturday in Bucharest
    out = _buy(db_engine, p, cents=1000, receipt="sat", now=saturday)
    assert (out.breakdown.base_points, out.breakdown.tier_pct, out.breakdown.quest_pct) == (10, 150, 200)
    assert out.breakdown.capped and out.points == 25  # ×3 capped at ×2.5
    assert out.reason_params["multipliers"] == "×1.5 Silver, ×2 Double weekend, max ×2.5"
    before = _buy(db_engine, p, cents=1000, receipt="fri", now=saturday - timedelta(hours=1))
    assert before.points == 15 and [m.key for m in before.breakdown.multipliers] == ["silver"]


def test_tier_upgrade_at_once_downgrade_only_after_grace(db_engine, program):
    p = program
    out = _buy(db_engine, p, cents=160000, receipt="huge")
    assert out.tier_change and out.tier_change.to_key == "gold" and out.tier_change.upgraded
    later = T0 + timedelta(days=366)  # the points left the rolling window
    report = tiers.evaluate_tiers(db_engine, p.merchant_id, later)
    assert report.grace_started == 1 and report.downgraded == 0
    assert tiers.evaluate_tiers(db_engine, p.merchant_id, later).grace_started == 0  # nothing new
    report = tiers.evaluate_tiers(db_engine, p.merchant_id, later + timedelta(days=30))
    assert report.downgraded == 1 and report.changes[0][1].to_key == "bronze"
    with read_session(db_engine) as s:
        reasons = s.exec(select(MemberTierChange.reason).order_by(MemberTierChange.id)).all()
    assert list(reasons) == ["earn", "grace_expired"]


def test_calendar_year_tier_holds_through_next_year(db_engine):
    p = make_program(db_engine, "cal", tier_window="calendar_year")
    _buy(db_engine, p, cents=60000, receipt="y1", now=datetime(2025, 6, 1, tzinfo=UTC))
    summary = cockpit.member_summary(
        db_engine, merchant_id=p.merchant_id, account_id=p.member_ids[0], now=datetime(2026, 3, 1, tzinfo=UTC)
    )
    assert summary.tier_key == "silver" and summary.points_to_keep_tier == 500  # nothing earned this year yet
    assert tiers.evaluate_tiers(db_engine, p.merchant_id, datetime(2026, 12, 1, tzinfo=UTC)).grace_started == 0
    report = tiers.evaluate_tiers(db_engine, p.merchant_id, datetime(2027, 1, 5, tzinfo=UTC))
    assert report.grace_started == 1


def test_badges_once_and_challenges_with_hidden_surprise(db_engine, program):
    p = program
    with write_session(db_engine) as s:
        admin.upsert_badge(s, p.merchant_id, "first", name="First purchase", kind="first_purchase")
        admin.upsert_badge(s, p.merchant_id, "explorer", name="Explorer", kind="distinct_stores", target=2)
        admin.upsert_badge(s, p.merchant_id, "night", name="Night owl", kind="challenge", param="surprise")
        admin.upsert_challenge(
            s,
            p.merchant_id,
            "visits",
            name="Visit 2 times this month",
            action="visit",
            target=2,
            recurrence="monthly",
            reward_points=30,
        )
        admin.upsert_challenge(
            s, p.merchant_id, "surprise", name="Surprise", action="check_in", target=1, reward_badge_key="night", hidden=True
        )
    summary = cockpit.member_summary(db_engine, merchant_id=p.merchant_id, account_id=p.member_ids[0], now=T0)
    assert [c.key for c in summary.challenges] == ["visits"]  # the hidden one is not listed
    first = _buy(db_engine, p, cents=1000, receipt="a")
    assert [b.key for b in first.badges_awarded] == ["first"]
    second = _buy(db_engine, p, cents=1000, receipt="b", store=1, now=T0 + timedelta(days=1))
    assert [b.key for b in second.badges_awarded] == ["explorer"]  # "first" is not awarded twice
    assert [c.key for c in second.challenges_completed] == ["visits"] and second.bonus_points == 30
    assert second.balance.available == 10 + 10 + 30
    check = earning.record_action(
        db_engine,
        merchant_id=p.merchant_id,
        account_id=p.member_ids[0],
        action="check_in",
        idempotency_key="ci",
        store_id=p.store_ids[0],
        now=T0 + timedelta(days=2),
    )
    assert [c.key for c in check.challenges_completed] == ["surprise"] and [b.key for b in check.badges_awarded] == ["night"]
    next_month = _buy(db_engine, p, cents=1000, receipt="c", now=datetime(2026, 12, 3, tzinfo=UTC))
    assert next_month.challenges_completed == ()  # monthly progress restarted at 1/2
    summary = cockpit.member_summary(
        db_engine, merchant_id=p.merchant_id, account_id=p.member_ids[0], now=datetime(2026, 12, 3, 1, tzinfo=UTC)
    )
    by_key = {c.key: c for c in summary.challenges}
    assert by_key["visits"].count == 1 and by_key["surprise"].completed


# --- rewards and vouchers ----------------------------------------------------------------------


def test_redeem_use_once_and_cancel(db_engine, program):
    p = program
    _buy(db_engine, p, cents=30000, receipt="r")
    kw = dict(merchant_id=p.merchant_id, account_id=p.member_ids[0])
    red = rewards.redeem_reward(db_engine, reward_id=p.reward_ids["coffee"], idempotency_key="k1", now=T0, **kw)
    assert red.balance.available == 200 and len(red.code.replace("-", "")) == 20
    assert rewards.redeem_reward(db_engine, reward_id=p.reward_ids["coffee"], idempotency_key="k1", now=T0, **kw).replayed
    used = rewards.use_voucher(
        db_engine, merchant_id=p.merchant_id, code=red.code.lower(), store_id=p.store_ids[0], staff_account_id=p.staff_id, now=T0
    )
    assert used.reward_name == "Free coffee"
    with pytest.raises(LoyaltyError) as err:
        rewards.use_voucher(
            db_engine, merchant_id=p.merchant_id, code=red.code, store_id=p.store_ids[0], staff_account_id=p.staff_id, now=T0
        )
    assert err.value.code == "voucher_used"
    with pytest.raises(LoyaltyError):
        rewards.cancel_voucher(db_engine, voucher_id=red.voucher_id, now=T0, **kw)
    second = rewards.redeem_reward(db_engine, reward_id=p.reward_ids["coffee"], idempotency_key="k2", now=T0, **kw)
    cancelled = rewards.cancel_voucher(db_engine, voucher_id=second.voucher_id, now=T0, **kw)
    assert cancelled.points_returned == 100 and cancelled.balance.available == 200
    with pytest.raises(LoyaltyError) as err:
        rewards.use_voucher(
            db_engine, merchant_id=p.merchant_id, code=second.code, store_id=p.store_ids[0], staff_account_id=p.staff_id, now=T0
        )
    assert err.value.code == "voucher_cancelled"
    third = rewards.redeem_reward(db_engine, reward_id=p.reward_ids["coffee"], idempotency_key="k3", now=T0, **kw)
    with pytest.raises(LoyaltyError) as err:
        rewards.use_voucher(
            db_engine,
            merchant_id=p.merchant_id,
            code=third.code,
            store_id=p.store_ids[0],
            staff_account_id=p.staff_id,
            now=third.expires_at,
        )
    assert err.value.code == "voucher_expired"


def test_stock_member_limit_and_tier_gate(db_engine, program):
    p = program
    for member in (0, 1):
        _buy(db_engine, p, member=member, cents=20000, receipt=f"m{member}")
    mug = p.reward_ids["mug"]
    first = rewards.redeem_reward(
        db_engine, merchant_id=p.merchant_id, account_id=p.member_ids[0], reward_id=mug, idempotency_key="a", now=T0
    )
    for member, key, code in [(0, "b", "out_of_stock"), (1, "c", "out_of_stock")]:
        with pytest.raises(LoyaltyError) as err:
            rewards.redeem_reward(
                db_engine, merchant_id=p.merchant_id, account_id=p.member_ids[member], reward_id=mug, idempotency_key=key, now=T0
            )
        assert err.value.code == code
    rewards.cancel_voucher(db_engine, merchant_id=p.merchant_id, account_id=p.member_ids[0], voucher_id=first.voucher_id, now=T0)
    with read_session(db_engine) as s:
        assert s.get(Reward, mug).stock == 1
    rewards.redeem_reward(
        db_engine, merchant_id=p.merchant_id, account_id=p.member_ids[0], reward_id=mug, idempotency_key="d", now=T0
    )
    with write_session(db_engine) as s:
        admin.upsert_reward(s, p.merchant_id, "mug", name="Mug", kind="free_product", cost_points=50, stock=5, per_member_limit=1)
    with pytest.raises(LoyaltyError) as err:
        rewards.redeem_reward(
            db_engine, merchant_id=p.merchant_id, account_id=p.member_ids[0], reward_id=mug, idempotency_key="e", now=T0
        )
    assert err.value.code == "member_limit_reached"
    with pytest.raises(LoyaltyError) as err:
        rewards.redeem_reward(
            db_engine,
            merchant_id=p.merchant_id,
            account_id=p.member_ids[0],
            reward_id=p.reward_ids["vip"],
            idempotency_key="f",
            now=T0,
        )
    assert err.value.code == "tier_required"
    with pytest.raises(LoyaltyError) as err:
        rewards.redeem_reward(
            db_engine,
            merchant_id=p.merchant_id,
            account_id=p.member_ids[2],
            reward_id=p.reward_ids["coffee"],
            idempotency_key="g",
            now=T0,
        )
    assert err.value.code == "insufficient_points"


def test_ratings_only_redeemers_once_editable_hidden_leave_average(db_engine, program):
    p = program
    coffee = p.reward_ids["coffee"]
    kw = dict(merchant_id=p.merchant_id, reward_id=coffee, now=T0)
    with pytest.raises(NotAllowed):
        rewards.rate_reward(db_engine, account_id=p.member_ids[0], stars=5, **kw)
    for member in (0, 1):
        _buy(db_engine, p, member=member, cents=20000, receipt=f"m{member}")
        rewards.redeem_reward(
            db_engine,
            merchant_id=p.merchant_id,
            account_id=p.member_ids[member],
            reward_id=coffee,
            idempotency_key=f"r{member}",
            now=T0,
        )
    first = rewards.rate_reward(db_engine, account_id=p.member_ids[0], stars=5, review_text="Great", **kw)
    assert first.created and first.earn.points == 5
    edit = rewards.rate_reward(db_engine, account_id=p.member_ids[0], stars=3, review_text="OK", **kw)
    assert not edit.created and edit.rating_id == first.rating_id and edit.earn is None
    other = rewards.rate_reward(db_engine, account_id=p.member_ids[1], stars=1, review_text="bad words", **kw)
    with pytest.raises(LoyaltyError) as err:
        rewards.rate_reward(db_engine, account_id=p.member_ids[1], stars=6, **kw)
    assert err.value.code == "invalid_stars"
    with pytest.raises(LoyaltyError):
        rewards.rate_reward(db_engine, account_id=p.member_ids[1], stars=4, review_text="x" * 501, **kw)
    with read_session(db_engine) as s:
        assert rewards.rating_averages(s, p.merchant_id)[coffee] == (2.0, 2)
    rewards.hide_review(db_engine, merchant_id=p.merchant_id, rating_id=other.rating_id, moderator_id=p.admin_id, now=T0)
    with read_session(db_engine) as s:
        assert rewards.rating_averages(s, p.merchant_id)[coffee] == (3.0, 1)
        assert [r.review_text for r in rewards.reward_reviews(s, merchant_id=p.merchant_id, reward_id=coffee)] == ["OK"]
    with pytest.raises(NotAllowed):
        rewards.hide_review(db_engine, merchant_id=p.merchant_id, rating_id=first.rating_id, moderator_id=p.member_ids[1])


# --- donations and referrals -------------------------------------------------------------------


def test_donation_daily_limit_resets_at_merchant_midnight(db_engine, program):
    p = program
    _buy(db_engine, p, cents=100000, receipt="r")
    kw = dict(merchant_id=p.merchant_id, account_id=p.member_ids[0], charity_id=p.charity_ids["trees"])
    evening = datetime(2026, 11, 2, 21, 0, tzinfo=UTC)  # 23:00 local
    assert donations.donate(db_engine, points=400, idempotency_key="d1", now=evening, **kw).donated_today == 400
    with pytest.raises(LoyaltyError) as err:
        donations.donate(db_engine, points=101, idempotency_key="d2", now=evening + timedelta(minutes=30), **kw)
    assert err.value.code == "donation_limit" and err.value.params == {"remaining": 100}
    after_midnight = evening + timedelta(hours=1, minutes=1)  # 00:01 local
    assert donations.donate(db_engine, points=500, idempotency_key="d3", now=after_midnight, **kw).donated_today == 500
    with read_session(db_engine) as s:
        totals = donations.charity_totals(s, p.merchant_id)
    assert [(t.key, t.points, t.donors) for t in totals] == [("trees", 900, 1)]
    assert _balance(db_engine, p).donated == 900


def test_referral_rewards_both_sides_and_refusals(db_engine):
    p = make_program(
        db_engine, "ref", members=5, referral_monthly_cap=2, referral_referee_points=50, referral_referrer_points=100
    )
    a, b, c, d, e = p.member_ids
    code = referrals.referral_code_for(db_engine, merchant_id=p.merchant_id, account_id=a)
    assert referrals.referral_code_for(db_engine, merchant_id=p.merchant_id, account_id=a) == code
    kw = dict(merchant_id=p.merchant_id, code=code, now=T0)
    assert referrals.register_referral(db_engine, referee_account_id=b, **kw).referee_points == 50
    assert _balance(db_engine, p, 1).available == 50 and _balance(db_engine, p, 0).available == 0
    assert _buy(db_engine, p, member=0, cents=75000, receipt="a1").tier_change.to_key == "silver"
    out = _buy(db_engine, p, member=1, cents=1000, receipt="b1")
    assert out.extra["referrer_rewarded"] == a and _balance(db_engine, p, 0).available == 750 + 100
    _buy(db_engine, p, member=1, cents=1000, receipt="b2")
    assert _balance(db_engine, p, 0).available == 850  # paid once
    for referee, code_expected in [(a, "self_referral"), (b, "already_referred")]:
        with pytest.raises(LoyaltyError) as err:
            referrals.register_referral(db_engine, referee_account_id=referee, **kw)
        assert err.value.code == code_expected
    referrals.register_referral(db_engine, referee_account_id=c, **kw)
    with pytest.raises(LoyaltyError) as err:
        referrals.register_referral(db_engine, referee_account_id=d, **kw)
    assert err.value.code == "referral_cap"
    referrals.register_referral(
        db_engine, referee_account_id=d, merchant_id=p.merchant_id, code=code, now=T0 + timedelta(days=30)
    )
    with pytest.raises(NotFound):
        referrals.register_referral(db_engine, referee_account_id=e, merchant_id=p.merchant_id, code="ZZZZZZZZ", now=T0)
    # Gold doubles referral bonuses (tier benefit per action).
    _buy(db_engine, p, member=0, cents=100000, receipt="a2")
    code_e = referrals.register_referral(
        db_engine, referee_account_id=e, merchant_id=p.merchant_id, code=code, now=T0 + timedelta(days=60)
    )
    assert code_e.referee_points == 50
    before = _balance(db_engine, p, 0).available
    _buy(db_engine, p, member=4, cents=500, receipt="e1", now=T0 + timedelta(days=60))
    assert _balance(db_engine, p, 0).available == before + 200


# --- isolation between programs ----------------------------------------------------------------


def test_nothing_crosses_programs(db_engine, program):
    a = program
    b = make_program(db_engine, "books")
    _buy(db_engine, a, cents=20000, receipt="a")
    red = rewards.redeem_reward(
        db_engine,
        merchant_id=a.merchant_id,
        account_id=a.member_ids[0],
        reward_id=a.reward_ids["coffee"],
        idempotency_key="a",
        now=T0,
    )
    attempts = [
        lambda: earning.credit_purchase(
            db_engine,
            merchant_id=b.merchant_id,
            account_id=a.member_ids[0],
            store_id=b.store_ids[0],
            amount_cents=100,
            receipt="x",
            now=T0,
        ),
        lambda: earning.credit_purchase(
            db_engine,
            merchant_id=b.merchant_id,
            account_id=b.member_ids[0],
            store_id=a.store_ids[0],
            amount_cents=100,
            receipt="x",
            now=T0,
        ),
        lambda: rewards.redeem_reward(
            db_engine,
            merchant_id=b.merchant_id,
            account_id=b.member_ids[0],
            reward_id=a.reward_ids["coffee"],
            idempotency_key="x",
            now=T0,
        ),
        lambda: rewards.use_voucher(
            db_engine, merchant_id=b.merchant_id, code=red.code, store_id=b.store_ids[0], staff_account_id=b.staff_id, now=T0
        ),
        lambda: rewards.cancel_voucher(
            db_engine, merchant_id=b.merchant_id, account_id=b.member_ids[0], voucher_id=red.voucher_id, now=T0
        ),
        lambda: donations.donate(
            db_engine,
            merchant_id=b.merchant_id,
            account_id=b.member_ids[0],
            charity_id=a.charity_ids["trees"],
            points=1,
            idempotency_key="x",
            now=T0,
        ),
        lambda: cockpit.member_summary(db_engine, merchant_id=b.merchant_id, account_id=a.member_ids[0], now=T0),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()
    with pytest.raises(NotAllowed):  # A's staff cannot accept a voucher at B's store
        rewards.use_voucher(
            db_engine, merchant_id=b.merchant_id, code=red.code, store_id=b.store_ids[0], staff_account_id=a.staff_id, now=T0
        )
    code = referrals.referral_code_for(db_engine, merchant_id=a.merchant_id, account_id=a.member_ids[0])
    with pytest.raises(NotFound):
        referrals.register_referral(db_engine, merchant_id=b.merchant_id, referee_account_id=b.member_ids[0], code=code, now=T0)
    with read_session(db_engine) as s:
        assert s.exec(select(Voucher).where(Voucher.merchant_id == b.merchant_id)).all() == []
    # Same keys in two programs are independent.
    assert _buy(db_engine, b, cents=20000, receipt="a").replayed is False


def test_cockpit_summary(db_engine, program):
    p = program
    with write_session(db_engine) as s:
        admin.upsert_quest(
            s,
            p.merchant_id,
            "now",
            name="Double now",
            multiplier_pct=200,
            starts_local=datetime(2026, 11, 1),
            ends_local=datetime(2026, 11, 4),
        )
        admin.upsert_badge(s, p.merchant_id, "ci", name="Regular", kind="check_ins", target=3)
    _buy(db_engine, p, cents=30000, receipt="r")  # 300 ×2 = 600: Silver
    s = cockpit.member_summary(db_engine, merchant_id=p.merchant_id, account_id=p.member_ids[0], now=T0 + timedelta(hours=1))
    assert (s.balance.available, s.tier_key, s.next_tier_name) == (600, "silver", "Gold")
    assert (s.points_to_next_tier, s.pct_to_next_tier, s.points_to_keep_tier) == (900, 10, 0)
    assert [q.key for q in s.active_quests] == ["now"] and s.active_quests[0].ends_at == datetime(2026, 11, 3, 22, tzinfo=UTC)
    assert [(b.key, b.current, b.target) for b in s.locked_badges] == [("ci", 0, 3)]
    recs = [(r.key, r.affordable, r.reason) for r in s.recommended_rewards]
    assert recs[:2] == [("coffee", True, "You can get this now"), ("mug", True, "You can get this now")]
    assert "vip" not in [r[0] for r in recs]  # tier gate
