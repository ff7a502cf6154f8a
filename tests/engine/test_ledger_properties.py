"""Random sequences of ledger operations against a small in-memory model of the same rules.

The model below is written independently of the service (plain lists and dicts, its own drain
order), so a mistake in either shows up as a disagreement. After every step: the member's
counters equal the model's, every lot's remaining equals the model's, available >= 0, and the
audit (balance == sum of entries == lots, lots never over-drained) passes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import Conflict, LoyaltyError
from loyalty_app.models import PointLot
from loyalty_app.services import ledger
from loyalty_app.services.ledger import EntryKind
from loyalty_app.services.platform.tx import run_in_transaction
from tests.conftest import PG_URL, _backends
from tests.engine.ledger_workers import create_people, shared_database

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=_backends())
def module_engine(request, tmp_path_factory) -> Iterator[Engine]:
    with shared_database(request.param, PG_URL, tmp_path_factory.mktemp("ledger_props")) as (_url, engine):
        yield engine


# --------------------------------------------------------------------------- the model


@dataclass
class ModelLot:
    seq: int
    original: int
    remaining: int
    pending: bool
    available_at: datetime
    expires_at: datetime | None
    revoked: bool = False
    expired_amount: int = 0


@dataclass
class ModelEntry:
    kind: str
    points: int  # signed as the system reports it
    lot_seq: int | None = None  # credits: the lot they created
    drains: list[tuple[int, int]] = field(default_factory=list)  # debits: (lot seq, points)
    reversed: bool = False


class Refused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class Model:
    expiry_days: int | None  # None: points never expire
    default_pending_days: int
    lots: list[ModelLot] = field(default_factory=list)
    counters: dict = field(default_factory=lambda: dict(available=0, pending=0, lifetime_earned=0, spent=0, expired=0, donated=0))
    entries: list[ModelEntry] = field(default_factory=list)

    def expiry(self, available_at: datetime) -> datetime | None:
        return None if self.expiry_days is None else available_at + timedelta(days=self.expiry_days)

    # Settling is what the ledger does at the start of each write for the member.
    def settle(self, now: datetime, *, expire: bool = True) -> tuple[int, int]:
        released = expired = 0
        for lot in self.lots:
            if lot.remaining <= 0:
                continue
            if lot.pending and lot.available_at <= now:
                lot.pending = False
                self.counters["pending"] -= lot.remaining
                self.counters["available"] += lot.remaining
                released += 1
            if expire and not lot.pending and lot.expires_at is not None and lot.expires_at <= now:
                self.counters["available"] -= lot.remaining
                self.counters["expired"] += lot.remaining
                lot.expired_amount += lot.remaining
                lot.remaining = 0
                expired += 1
        return released, expired

    def spendable(self, now: datetime, exclude: int | None = None) -> list[ModelLot]:
        lots = [
            lot
            for lot in self.lots
            if lot.remaining > 0 and not lot.pending and lot.seq != exclude and (lot.expires_at is None or lot.expires_at > now)
        ]
        # Soonest expiry first, never-expiring last, then oldest, then creation order.
        return sorted(
            lots, key=lambda lot: (lot.expires_at is None, lot.expires_at or lot.available_at, lot.available_at, lot.seq)
        )

    def drain(self, now: datetime, amount: int, exclude: int | None = None) -> list[tuple[int, int]]:
        drains = []
        for lot in self.spendable(now, exclude):
            if amount == 0:
                break
            take = min(lot.remaining, amount)
            lot.remaining -= take
            amount -= take
            drains.append((lot.seq, take))
        assert amount == 0
        return drains

    def new_lot(self, points: int, available_at: datetime, now: datetime) -> ModelLot:
        lot = ModelLot(len(self.lots), points, points, available_at > now, available_at, self.expiry(available_at))
        self.lots.append(lot)
        return lot

    def credit(self, now: datetime, points: int, *, pending_days: int | None, earned: bool) -> ModelEntry:
        self.settle(now)
        days = pending_days if pending_days is not None else (self.default_pending_days if earned else 0)
        lot = self.new_lot(points, now + timedelta(days=days), now)
        self.counters["pending" if lot.pending else "available"] += points
        if earned:
            self.counters["lifetime_earned"] += points
        entry = ModelEntry("earn" if earned else "adjustment", points, lot_seq=lot.seq)
        self.entries.append(entry)
        return entry

    def debit(self, now: datetime, points: int, kind: str) -> ModelEntry:
        self.settle(now)
        available = sum(lot.remaining for lot in self.spendable(now))
        if available < points:
            raise Refused("insufficient_points")
        drains = self.drain(now, points)
        self.counters["available"] -= points
        if kind == "redeem":
            self.counters["spent"] += points
        elif kind == "donate":
            self.counters["donated"] += points
        entry = ModelEntry(kind, -points, drains=drains)
        self.entries.append(entry)
        return entry

    def reverse(self, now: datetime, target: ModelEntry) -> ModelEntry:
        self.settle(now)
        if target.kind == "reversal":
            raise Refused("not_reversible")
        if target.reversed:
            raise Refused("already_reversed")
        if target.points > 0:
            lot = self.lots[target.lot_seq]
            from_lot = lot.remaining
            spent = target.points - lot.expired_amount - from_lot
            if spent > 0 and sum(other.remaining for other in self.spendable(now, exclude=lot.seq)) < spent:
                raise Refused("reversal_insufficient_points")
            if spent > 0:
                self.drain(now, spent, exclude=lot.seq)
            self.counters["pending" if lot.pending else "available"] -= from_lot
            self.counters["available"] -= max(spent, 0)
            if target.kind == "earn":
                self.counters["lifetime_earned"] -= target.points
            self.counters["expired"] -= lot.expired_amount
            lot.remaining = 0
            lot.revoked = True
            points = -(from_lot + max(spent, 0))
        else:
            points = -target.points
            to_new_lot = 0
            for seq, taken in target.drains:
                lot = self.lots[seq]
                if not lot.revoked and (lot.expires_at is None or lot.expires_at > now):
                    lot.remaining += taken
                else:
                    to_new_lot += taken
            if to_new_lot:
                self.new_lot(to_new_lot, now, now)
            self.counters["available"] += points
            if target.kind == "redeem":
                self.counters["spent"] -= points
            elif target.kind == "donate":
                self.counters["donated"] -= points
        target.reversed = True
        entry = ModelEntry("reversal", points)
        self.entries.append(entry)
        return entry


# --------------------------------------------------------------------------- the machine


@dataclass
class Done:
    """A request that succeeded: enough to replay it and to reverse its entry."""

    call: str
    kwargs: dict
    entry_id: int
    model_entry: ModelEntry
    result: ledger.LedgerResult


def make_machine(engine: Engine):
    class LedgerMachine(RuleBasedStateMachine):
        @initialize(
            expiry_days=st.sampled_from([None, 1, 2, 5]),
            default_pending_days=st.sampled_from([0, 0, 2]),
        )
        def start(self, expiry_days, default_pending_days):
            with write_session(engine) as s:
                self.people = create_people(s)
                row = ledger.get_program_settings(s, self.people.merchant_id)
                row.expiry_policy = "never" if expiry_days is None else "after_days"
                row.expiry_days = expiry_days or 365
                row.pending_days = default_pending_days
            self.model = Model(expiry_days, default_pending_days)
            self.now = T0
            self.done: list[Done] = []
            self.key_seq = 0

        # -- helpers

        def key(self, prefix: str) -> str:
            self.key_seq += 1
            return f"{prefix}:{self.key_seq}"

        def call(self, name: str, **kwargs) -> ledger.LedgerResult:
            fn = getattr(ledger, name)
            return run_in_transaction(engine, lambda s: fn(s, merchant_id=self.people.merchant_id, **kwargs))

        def attempt(self, name: str, model_step, **kwargs) -> None:
            """Run the same operation on a copy of the model and on the system; they must agree
            on success or on the refusal code. A refusal leaves both unchanged."""
            trial = copy.deepcopy(self.model)
            try:
                expected_entry = model_step(trial)
                expected_error = None
            except Refused as refused:
                expected_error = refused.code
            try:
                result = self.call(name, now=self.now, **kwargs)
            except LoyaltyError as error:
                assert error.code == expected_error, (name, kwargs, error.code, expected_error)
                return
            assert expected_error is None, (name, kwargs, "system accepted, model refused", expected_error)
            assert not result.replayed
            assert result.points == expected_entry.points, (result.points, expected_entry.points)
            assert result.balance.as_dict() == trial.counters
            self.model = trial
            # Remember the model's own entry object (the copy in ``trial``).
            self.done.append(Done(name, kwargs, result.entry_id, trial.entries[-1], result))
            self._rebind_done_entries()

        def _rebind_done_entries(self) -> None:
            # ``attempt`` deep-copies the model; point each Done at the live model entry again.
            by_position = self.model.entries
            for position, done in enumerate(d for d in self.done):
                done.model_entry = by_position[position]

        # -- rules

        @rule(points=st.integers(1, 200), pending_days=st.sampled_from([None, 0, 1, 3]))
        def earn(self, points, pending_days):
            self.attempt(
                "credit",
                lambda m: m.credit(self.now, points, pending_days=pending_days, earned=True),
                account_id=self.people.member_id,
                points=points,
                idempotency_key=self.key("receipt"),
                reason="Purchase",
                source={"receipt": self.key_seq},
                pending_days=pending_days,
            )

        @rule(data=st.data(), kind=st.sampled_from(["redeem", "donate"]), beyond=st.integers(0, 4).map(lambda n: n == 0))
        def spend(self, data, kind, beyond):
            # Mostly amounts the member can afford (so drains happen), sometimes more than that.
            settled = copy.deepcopy(self.model)
            settled.settle(self.now)
            affordable = sum(lot.remaining for lot in settled.spendable(self.now))
            if beyond or affordable == 0:
                points = data.draw(st.integers(affordable + 1, affordable + 50), label="points")
            else:
                points = data.draw(st.integers(1, affordable), label="points")
            self.attempt(
                "debit",
                lambda m: m.debit(self.now, points, kind),
                account_id=self.people.member_id,
                points=points,
                idempotency_key=self.key("voucher"),
                reason="Reward",
                kind=EntryKind(kind),
            )

        @rule(expiry_days=st.sampled_from([None, 1, 3, 7]))
        def change_expiry_policy(self, expiry_days):
            """Lots under different policies make the drain order matter."""
            with write_session(engine) as s:
                row = ledger.get_program_settings(s, self.people.merchant_id)
                row.expiry_policy = "never" if expiry_days is None else "after_days"
                row.expiry_days = expiry_days or 365
            self.model.expiry_days = expiry_days

        @rule(points=st.integers(-150, 150).filter(bool))
        def adjust(self, points):
            def model_step(m: Model) -> ModelEntry:
                if points > 0:
                    return m.credit(self.now, points, pending_days=0, earned=False)
                entry = m.debit(self.now, -points, "adjustment")
                return entry

            self.attempt(
                "adjust",
                model_step,
                account_id=self.people.member_id,
                points=points,
                idempotency_key=self.key("adj"),
                reason="Correction",
                author_id=self.people.staff_id,
            )

        @precondition(lambda self: self.done)
        @rule(data=st.data())
        def reverse(self, data):
            target = data.draw(st.sampled_from(self.done))
            position = self.done.index(target)
            self.attempt(
                "reverse",
                lambda m: m.reverse(self.now, m.entries[position]),
                entry_id=target.entry_id,
                idempotency_key=self.key("return"),
                reason="Returned",
            )

        def _expired_earns(self) -> list[int]:
            return [
                i
                for i, d in enumerate(self.done)
                if d.call == "credit" and not d.model_entry.reversed and self.model.lots[d.model_entry.lot_seq].expired_amount > 0
            ]

        @precondition(lambda self: self._expired_earns())
        @rule(data=st.data())
        def reverse_expired_earn(self, data):
            """Reversing an earn whose lot partly expired must not take the expired part twice."""
            position = data.draw(st.sampled_from(self._expired_earns()))
            self.attempt(
                "reverse",
                lambda m: m.reverse(self.now, m.entries[position]),
                entry_id=self.done[position].entry_id,
                idempotency_key=self.key("return"),
                reason="Returned",
            )

        @precondition(lambda self: self.done)
        @rule(data=st.data(), change_details=st.booleans())
        def replay(self, data, change_details):
            target = data.draw(st.sampled_from(self.done))
            kwargs = dict(target.kwargs)
            if change_details:
                kwargs["reason"] = kwargs["reason"] + " (edited)"
                with pytest.raises(Conflict) as refused:
                    self.call(target.call, now=self.now, **kwargs)
                assert refused.value.code == "idempotency_conflict"
                return
            again = self.call(target.call, now=self.now, **kwargs)
            assert again.replayed
            assert (again.entry_id, again.points, again.balance) == (target.entry_id, target.result.points, target.result.balance)

        @rule(hours=st.sampled_from([1, 12, 24, 24 * 3, 24 * 7]))
        def advance_clock(self, hours):
            self.now += timedelta(hours=hours)

        @rule()
        def release_job(self):
            released = run_in_transaction(
                engine, lambda s: ledger.release_pending(s, merchant_id=self.people.merchant_id, now=self.now)
            )
            has_matured = any(lot.pending and lot.remaining > 0 and lot.available_at <= self.now for lot in self.model.lots)
            expected = self.model.settle(self.now, expire=False)[0] if has_matured else 0
            assert released == expected

        @rule()
        def expire_job(self):
            expired = run_in_transaction(
                engine, lambda s: ledger.expire_due(s, merchant_id=self.people.merchant_id, now=self.now)
            )
            has_due = any(
                lot.remaining > 0 and lot.expires_at is not None and lot.expires_at <= self.now for lot in self.model.lots
            )
            expected = self.model.settle(self.now)[1] if has_due else 0
            assert expired == expected

        # -- invariants

        @invariant()
        def system_agrees_with_model(self):
            with read_session(engine) as s:
                balance = ledger.get_balance(s, merchant_id=self.people.merchant_id, account_id=self.people.member_id)
                remainders = list(
                    s.exec(
                        select(PointLot.remaining).where(PointLot.merchant_id == self.people.merchant_id).order_by(PointLot.id)
                    )
                )
            assert balance.as_dict() == self.model.counters
            assert balance.available >= 0 and balance.pending >= 0
            assert remainders == [lot.remaining for lot in self.model.lots]
            assert all(0 <= lot.remaining <= lot.original for lot in self.model.lots)

        @invariant()
        def audit_passes(self):
            report = ledger.audit(engine)
            assert report.ok, [d.describe() for d in report.drifts]

    return LedgerMachine


@pytest.mark.slow
def test_ledger_matches_model_under_random_operations(module_engine):
    run_state_machine_as_test(
        make_machine(module_engine),
        settings=settings(
            max_examples=25,
            stateful_step_count=35,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            database=None,
        ),
    )
