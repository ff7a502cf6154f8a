"""A Hypothesis state machine over the rules engine with a moving clock.

Steps: purchases and check-ins (earn), redeem reward, cancel voucher, use voucher, donate,
advance the clock (points expire after 30 days), tier evaluation. A plain-Python model keeps
the expected points lot by lot (soonest-expiring spent first, cancelled vouchers give points
back to their lots while valid, else to a new lot), stock, vouchers, donations per local day
and tiers. Invariants: each balance equals the sum of its ledger entries and the model's, no
balance is negative, stock is never negative and matches the model, tiers agree.
Runs on SQLite (a fresh file per example) to stay fast.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func
from sqlmodel import SQLModel, select

from loyalty_app.db import make_engine, read_session, write_session
from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.models import LedgerEntry, MemberBalance, Reward
from loyalty_app.services import ledger
from loyalty_app.services.catalog import donations, rewards
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.earning import tiers
from loyalty_app.services.program import program_admin as admin
from tests.engine.test_rules_support import T0, make_program

TZ = ZoneInfo("Europe/Bucharest")
EXPIRY = timedelta(days=30)
VOUCHER_DAYS = timedelta(days=30)
DONATION_LIMIT = 300
GRACE = timedelta(days=30)
# (key, threshold, purchase multiplier %) as set up below
TIERS = [("bronze", 0, 100), ("silver", 200, 150), ("gold", 600, 200)]
REWARDS = {
    "coffee": (100, None, None, None),
    "mug": (60, 2, 1, None),
    "vip": (40, None, None, "gold"),
}  # cost, stock, limit, tier


@dataclass
class Lot:
    id: int
    expires_at: datetime
    remaining: int


@dataclass
class Member:
    id: int
    lots: list[Lot] = field(default_factory=list)
    earns: list[tuple[datetime, int]] = field(default_factory=list)
    tier: str = "bronze"
    grace_until: datetime | None = None
    last_check_in: date | None = None
    donated: dict = field(default_factory=dict)  # local day -> points

    def available(self) -> int:
        return sum(lot.remaining for lot in self.lots)


@dataclass
class VoucherModel:
    id: int
    code: str
    member: int
    reward: str
    expires_at: datetime
    status: str = "issued"
    drained: list[tuple[int, int]] = field(default_factory=list)  # (lot id, points)


def _tier_for(points: int) -> str:
    return [key for key, threshold, _ in TIERS if points >= threshold][-1]


def _rank(key: str) -> int:
    return [t[0] for t in TIERS].index(key)


class ProgramMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.tmp = tempfile.mkdtemp()
        self.engine = make_engine(f"sqlite:///{self.tmp}/sm.db")
        SQLModel.metadata.create_all(self.engine)
        p = make_program(
            self.engine,
            "sm",
            members=2,
            expiry_policy="after_days",
            expiry_days=30,
            donation_daily_limit=DONATION_LIMIT,
            tier_grace_days=30,
        )
        with write_session(self.engine) as s:
            for rank, (key, threshold, pct) in enumerate(TIERS):
                admin.upsert_tier(
                    s,
                    p.merchant_id,
                    key,
                    name=key.title(),
                    rank=rank,
                    threshold=threshold,
                    multipliers={"purchase": pct} if pct != 100 else {},
                )
            admin.upsert_reward(s, p.merchant_id, "coffee", name="Coffee", kind="free_product", cost_points=100)
            admin.upsert_reward(
                s, p.merchant_id, "mug", name="Mug", kind="free_product", cost_points=60, stock=2, per_member_limit=1
            )
            admin.upsert_reward(s, p.merchant_id, "vip", name="VIP", kind="event_ticket", cost_points=40, min_tier_key="gold")
        self.p = p
        self.now = T0
        self.members = {m: Member(m) for m in p.member_ids}
        self.stock = {"mug": 2}
        self.vouchers: list[VoucherModel] = []
        self.lot_ids = itertools.count(1)
        self.keys = itertools.count(1)

    def teardown(self):
        self.engine.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- model helpers ----------------------------------------------------------------------

    def settle(self) -> None:
        """Expire due lots in the system and in the model before each step."""
        with write_session(self.engine) as s:
            ledger.expire_due(s, merchant_id=self.p.merchant_id, now=self.now)
        for m in self.members.values():
            for lot in m.lots:
                if lot.expires_at <= self.now:
                    lot.remaining = 0

    def credit(self, m: Member, points: int) -> None:
        if points > 0:
            m.lots.append(Lot(next(self.lot_ids), self.now + EXPIRY, points))
            m.earns.append((self.now, points))
            qualified = _tier_for(self.qualifying(m))
            if _rank(qualified) > _rank(m.tier):
                m.tier, m.grace_until = qualified, None

    def qualifying(self, m: Member) -> int:
        start = self.now - timedelta(days=365)
        return sum(p for at, p in m.earns if start <= at <= self.now)

    def drain(self, m: Member, points: int) -> list[tuple[int, int]]:
        taken = []
        for lot in sorted(
            (lot for lot in m.lots if lot.remaining > 0 and lot.expires_at > self.now), key=lambda lot: (lot.expires_at, lot.id)
        ):
            if points == 0:
                break
            take = min(lot.remaining, points)
            lot.remaining -= take
            points -= take
            taken.append((lot.id, take))
        assert points == 0
        return taken

    # --- rules ------------------------------------------------------------------------------

    @rule(member=st.integers(0, 1), cents=st.integers(1, 40000), store=st.integers(0, 1))
    def purchase(self, member, cents, store):
        self.settle()
        m = self.members[self.p.member_ids[member]]
        pct = {key: pct for key, _, pct in TIERS}[m.tier]
        out = earning.credit_purchase(
            self.engine,
            merchant_id=self.p.merchant_id,
            account_id=m.id,
            store_id=self.p.store_ids[store],
            amount_cents=cents,
            receipt=f"r{next(self.keys)}",
            now=self.now,
        )
        expected = (cents // 100) * pct // 100
        assert out.points == expected
        self.credit(m, expected)

    @rule(member=st.integers(0, 1))
    def check_in(self, member):
        self.settle()
        m = self.members[self.p.member_ids[member]]
        today = self.now.astimezone(TZ).date()
        try:
            out = earning.record_action(
                self.engine,
                merchant_id=self.p.merchant_id,
                account_id=m.id,
                action="check_in",
                idempotency_key=f"c{next(self.keys)}",
                store_id=self.p.store_ids[0],
                now=self.now,
            )
        except LoyaltyError as refused:
            assert refused.code == "limit_reached" and m.last_check_in == today
            return
        assert m.last_check_in != today and out.points == 10
        m.last_check_in = today
        self.credit(m, 10)

    @rule(member=st.integers(0, 1), reward=st.sampled_from(sorted(REWARDS)))
    def redeem(self, member, reward):
        self.settle()
        m = self.members[self.p.member_ids[member]]
        cost, _stock, limit, tier = REWARDS[reward]
        held = sum(1 for v in self.vouchers if v.member == m.id and v.reward == reward and v.status != "cancelled")
        if tier and _rank(m.tier) < _rank(tier):
            expected = "tier_required"
        elif reward in self.stock and self.stock[reward] <= 0:
            expected = "out_of_stock"
        elif limit is not None and held >= limit:
            expected = "member_limit_reached"
        elif m.available() < cost:
            expected = "insufficient_points"
        else:
            expected = None
        try:
            out = rewards.redeem_reward(
                self.engine,
                merchant_id=self.p.merchant_id,
                account_id=m.id,
                reward_id=self.p.reward_ids.get(reward) or self._reward_id(reward),
                idempotency_key=f"k{next(self.keys)}",
                now=self.now,
            )
        except LoyaltyError as refused:
            assert refused.code == expected
            return
        assert expected is None
        drained = self.drain(m, cost)
        if reward in self.stock:
            self.stock[reward] -= 1
        self.vouchers.append(VoucherModel(out.voucher_id, out.code, m.id, reward, self.now + VOUCHER_DAYS, drained=drained))

    def _reward_id(self, key: str) -> int:
        with read_session(self.engine) as s:
            return s.exec(select(Reward.id).where(Reward.merchant_id == self.p.merchant_id, Reward.key == key)).one()

    def _voucher_error(self, v: VoucherModel) -> str | None:
        if v.status == "used":
            return "voucher_used"
        if v.status == "cancelled":
            return "voucher_cancelled"
        if self.now >= v.expires_at:
            return "voucher_expired"
        return None

    @precondition(lambda self: self.vouchers)
    @rule(data=st.data())
    def cancel(self, data):
        self.settle()
        v = data.draw(st.sampled_from(self.vouchers))
        expected = self._voucher_error(v)
        try:
            rewards.cancel_voucher(
                self.engine, merchant_id=self.p.merchant_id, account_id=v.member, voucher_id=v.id, now=self.now
            )
        except LoyaltyError as refused:
            assert refused.code == expected
            return
        assert expected is None
        v.status = "cancelled"
        m = self.members[v.member]
        lots = {lot.id: lot for lot in m.lots}
        to_new = 0
        for lot_id, points in v.drained:
            if lots[lot_id].expires_at > self.now:
                lots[lot_id].remaining += points
            else:
                to_new += points
        if to_new:
            m.lots.append(Lot(next(self.lot_ids), self.now + EXPIRY, to_new))
        if v.reward in self.stock:
            self.stock[v.reward] += 1

    @precondition(lambda self: self.vouchers)
    @rule(data=st.data())
    def use(self, data):
        self.settle()
        v = data.draw(st.sampled_from(self.vouchers))
        expected = self._voucher_error(v)
        try:
            rewards.use_voucher(
                self.engine,
                merchant_id=self.p.merchant_id,
                code=v.code,
                store_id=self.p.store_ids[0],
                staff_account_id=self.p.staff_id,
                now=self.now,
            )
        except LoyaltyError as refused:
            assert refused.code == expected
            return
        assert expected is None
        v.status = "used"

    @rule(member=st.integers(0, 1), points=st.integers(1, 250))
    def donate(self, member, points):
        self.settle()
        m = self.members[self.p.member_ids[member]]
        today = self.now.astimezone(TZ).date()
        if m.donated.get(today, 0) + points > DONATION_LIMIT:
            expected = "donation_limit"
        elif m.available() < points:
            expected = "insufficient_points"
        else:
            expected = None
        try:
            donations.donate(
                self.engine,
                merchant_id=self.p.merchant_id,
                account_id=m.id,
                charity_id=self.p.charity_ids["trees"],
                points=points,
                idempotency_key=f"d{next(self.keys)}",
                now=self.now,
            )
        except LoyaltyError as refused:
            assert refused.code == expected
            return
        assert expected is None
        self.drain(m, points)
        m.donated[today] = m.donated.get(today, 0) + points

    @rule(hours=st.integers(1, 24 * 40))
    def advance_clock(self, hours):
        self.now += timedelta(hours=hours)
        self.settle()

    @rule()
    def evaluate(self):
        self.settle()
        tiers.evaluate_tiers(self.engine, self.p.merchant_id, self.now)
        for m in self.members.values():
            qualified = _tier_for(self.qualifying(m))
            if _rank(qualified) > _rank(m.tier):
                m.tier, m.grace_until = qualified, None
            elif _rank(qualified) == _rank(m.tier):
                m.grace_until = None
            elif m.grace_until is None:
                m.grace_until = self.now + GRACE
            elif self.now >= m.grace_until:
                m.tier, m.grace_until = qualified, None

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def balances_match_entries_and_model(self):
        with read_session(self.engine) as s:
            for m in self.members.values():
                row = s.get(MemberBalance, m.id)
                available = row.available if row else 0
                sums = s.exec(
                    select(
                        func.coalesce(func.sum(LedgerEntry.available_delta), 0),
                        func.coalesce(func.sum(LedgerEntry.pending_delta), 0),
                    ).where(LedgerEntry.account_id == m.id)
                ).one()
                assert (available, row.pending if row else 0) == (sums[0], sums[1])
                assert available >= 0
                assert available == m.available(), (m.id, available, m.available())
                tier = tiers.current_tier(s, self.p.merchant_id, m.id, tiers.load_tiers(s, self.p.merchant_id))
                assert tier.key == m.tier

    @invariant()
    def stock_matches(self):
        with read_session(self.engine) as s:
            stock = s.exec(select(Reward.stock).where(Reward.merchant_id == self.p.merchant_id, Reward.key == "mug")).one()
        assert stock >= 0 and stock == self.stock["mug"]


ProgramMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.slow
class TestProgramStateMachine(ProgramMachine.TestCase):
    pass
