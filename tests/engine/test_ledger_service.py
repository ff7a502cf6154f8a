"""The ledger service on SQLite and PostgreSQL: idempotency, balances, lots, jobs, reversals,
adjustments, merchant isolation and the audit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import Conflict, LoyaltyError, NotAllowed, NotFound
from loyalty_app.models import LedgerEntry, LotMovement, PointLot
from loyalty_app.services import ledger
from loyalty_app.services.ledger import BalanceSnapshot, EntryKind
from loyalty_app.services.platform.tx import run_in_transaction
from tests.conftest import PG_URL, _backends
from tests.engine.ledger_workers import create_people, shared_database

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Program:
    engine: Engine
    merchant_id: int
    member_id: int
    other_member_id: int
    staff_id: int
    foreign_merchant_id: int
    foreign_member_id: int
    foreign_staff_id: int

    def run(self, fn):
        return run_in_transaction(self.engine, fn)

    def credit(self, points, key, **kwargs):
        kwargs.setdefault("account_id", self.member_id)
        kwargs.setdefault("reason", "Purchase")
        kwargs.setdefault("now", T0)
        return self.run(lambda s: ledger.credit(s, merchant_id=self.merchant_id, points=points, idempotency_key=key, **kwargs))

    def debit(self, points, key, **kwargs):
        kwargs.setdefault("account_id", self.member_id)
        kwargs.setdefault("reason", "Reward")
        kwargs.setdefault("now", T0)
        return self.run(lambda s: ledger.debit(s, merchant_id=self.merchant_id, points=points, idempotency_key=key, **kwargs))

    def reverse(self, entry_id, key, **kwargs):
        kwargs.setdefault("reason", "Receipt returned")
        kwargs.setdefault("now", T0)
        return self.run(
            lambda s: ledger.reverse(s, merchant_id=self.merchant_id, entry_id=entry_id, idempotency_key=key, **kwargs)
        )

    def adjust(self, points, key, **kwargs):
        kwargs.setdefault("account_id", self.member_id)
        kwargs.setdefault("author_id", self.staff_id)
        kwargs.setdefault("reason", "Goodwill")
        kwargs.setdefault("now", T0)
        return self.run(lambda s: ledger.adjust(s, merchant_id=self.merchant_id, points=points, idempotency_key=key, **kwargs))

    def balance(self, account_id=None) -> BalanceSnapshot:
        with read_session(self.engine) as s:
            return ledger.get_balance(s, merchant_id=self.merchant_id, account_id=account_id or self.member_id)

    def settings(self, **values):
        with write_session(self.engine) as s:
            row = ledger.get_program_settings(s, self.merchant_id)
            for name, value in values.items():
                setattr(row, name, value)
            ledger.validate_program_settings(row)

    def entries(self) -> list[LedgerEntry]:
        with read_session(self.engine) as s:
            stmt = select(LedgerEntry).where(LedgerEntry.merchant_id == self.merchant_id).order_by(LedgerEntry.id)
            entries = list(s.exec(stmt))
            s.expunge_all()
            return entries

    def lots(self) -> dict[int, PointLot]:
        """Lots by the id of the entry that created them (detached, readable after the session)."""
        with read_session(self.engine) as s:
            stmt = select(PointLot).where(PointLot.merchant_id == self.merchant_id)
            lots = {lot.source_entry_id: lot for lot in s.exec(stmt)}
            s.expunge_all()
            return lots

    def assert_audit_ok(self):
        report = ledger.audit(self.engine)
        assert report.ok, [d.describe() for d in report.drifts]


@pytest.fixture(scope="module", params=_backends())
def module_engine(request, tmp_path_factory) -> Iterator[Engine]:
    """One database per backend for this module; each test gets its own merchants."""
    with shared_database(request.param, PG_URL, tmp_path_factory.mktemp("ledger")) as (_url, engine):
        yield engine


def _program(engine: Engine) -> Program:
    with write_session(engine) as s:
        mine = create_people(s)
        foreign = create_people(s)
    return Program(
        engine,
        mine.merchant_id,
        mine.member_id,
        mine.other_member_id,
        mine.staff_id,
        foreign.merchant_id,
        foreign.member_id,
        foreign.staff_id,
    )


@pytest.fixture
def program(module_engine) -> Program:
    return _program(module_engine)


# --------------------------------------------------------------------------- credits and why


def test_credit_records_why_and_updates_the_balance_in_the_same_transaction(program):
    result = program.credit(
        120,
        "receipt:7:A-1",
        reason="Purchase at {store}",
        reason_params={"store": "Main street"},
        rule_id=3,
        source={"store_id": 7, "receipt": "A-1", "amount": "12.00", "multipliers": [150]},
    )
    assert not result.replayed and result.points == 120
    assert result.balance == BalanceSnapshot(available=120, lifetime_earned=120)
    assert program.balance() == result.balance
    with read_session(program.engine) as s:
        (entry,) = ledger.history(s, merchant_id=program.merchant_id, account_id=program.member_id)
    assert entry.id == result.entry_id
    assert (entry.kind, entry.points, entry.rule_id) == ("earn", 120, 3)
    assert entry.reason == "Purchase at {store}" and entry.reason_params == {"store": "Main street"}
    assert entry.source == {"store_id": 7, "receipt": "A-1", "amount": "12.00", "multipliers": [150]}
    assert entry.created_at == T0
    program.assert_audit_ok()


def test_a_refused_write_in_the_callers_transaction_leaves_nothing(program):
    def credit_then_fail(s):
        ledger.credit(
            s, merchant_id=program.merchant_id, account_id=program.member_id, points=10, idempotency_key="k", reason="r", now=T0
        )
        raise RuntimeError("till crashed")

    with pytest.raises(RuntimeError):
        program.run(credit_then_fail)
    assert program.balance() == BalanceSnapshot()
    assert program.entries() == []


# --------------------------------------------------------------------------- idempotency


def test_same_key_same_details_is_replayed_and_writes_nothing(program):
    first = program.credit(50, "receipt:1:9", source={"store_id": 1})
    program.credit(10, "receipt:1:10")
    again = program.credit(50, "receipt:1:9", source={"store_id": 1}, now=T0 + timedelta(hours=3))
    assert again.replayed
    assert (again.entry_id, again.points, again.balance) == (first.entry_id, first.points, first.balance)
    assert len(program.entries()) == 2
    assert program.balance().available == 60


def test_same_key_with_different_details_is_a_conflict(program):
    program.credit(50, "receipt:1:9")
    for changes in ({"points": 51}, {"reason": "Other"}, {"source": {"store_id": 2}}, {"pending_days": 3}):
        points = changes.pop("points", 50)
        with pytest.raises(Conflict) as refused:
            program.credit(points, "receipt:1:9", **changes)
        assert refused.value.code == "idempotency_conflict"
    with pytest.raises(Conflict):
        program.credit(50, "receipt:1:9", account_id=program.other_member_id)
    with pytest.raises(Conflict):
        program.debit(50, "receipt:1:9")
    assert len(program.entries()) == 1


def test_keys_are_unique_per_merchant_not_globally(program):
    program.credit(5, "event:1")
    other = program.run(
        lambda s: ledger.credit(
            s,
            merchant_id=program.foreign_merchant_id,
            account_id=program.foreign_member_id,
            points=5,
            idempotency_key="event:1",
            reason="Purchase",
            now=T0,
        )
    )
    assert not other.replayed


def test_replayed_debit_does_not_take_points_twice(program):
    program.credit(100, "receipt:1")
    first = program.debit(60, "voucher:1")
    second = program.debit(60, "voucher:1")
    assert second.replayed and second.entry_id == first.entry_id
    assert program.balance().available == 40


def test_a_refused_replay_does_not_hide_a_conflict_inside_one_transaction(program):
    def twice(s):
        ledger.credit(
            s, merchant_id=program.merchant_id, account_id=program.member_id, points=5, idempotency_key="k", reason="r", now=T0
        )
        return ledger.credit(
            s, merchant_id=program.merchant_id, account_id=program.member_id, points=5, idempotency_key="k", reason="r", now=T0
        )

    assert program.run(twice).replayed


# --------------------------------------------------------------------------- no negative balance


def test_debit_beyond_available_is_refused_and_changes_nothing(program):
    program.credit(30, "receipt:1")
    program.credit(20, "receipt:2", pending_days=5)  # pending points cannot be spent
    with pytest.raises(LoyaltyError) as refused:
        program.debit(31, "voucher:1")
    assert refused.value.code == "insufficient_points"
    assert refused.value.params == {"available": 30, "needed": 31}
    assert refused.value.message == "Not enough points: you have {available}, this needs {needed}."
    assert program.balance() == BalanceSnapshot(available=30, pending=20, lifetime_earned=50)
    assert program.debit(30, "voucher:2").balance.available == 0
    program.assert_audit_ok()


def test_bad_amounts_are_refused(program):
    for points in (0, -5, 1.5, True, "10", None, 10_000_001):
        for call in (program.credit, program.debit):
            with pytest.raises(LoyaltyError) as refused:
                call(points, "bad")
            assert refused.value.code == ("points_too_large" if points == 10_000_001 else "invalid_points")
    assert program.entries() == []


def test_adjustment_of_zero_is_refused(program):
    with pytest.raises(LoyaltyError) as refused:
        program.adjust(0, "adj:0")
    assert refused.value.code == "invalid_points"


def test_debit_kind_must_be_a_debit(program):
    with pytest.raises(LoyaltyError) as refused:
        program.debit(5, "x", kind=EntryKind.EARN)
    assert refused.value.code == "kind_not_allowed"
    with pytest.raises(LoyaltyError):
        program.credit(5, "y", kind=EntryKind.EXPIRE)


# --------------------------------------------------------------------------- pending and release


def test_pending_points_are_released_by_the_job_once(program):
    program.settings(pending_days=14)
    result = program.credit(80, "receipt:1")  # program default: 14 days
    assert result.balance == BalanceSnapshot(pending=80, lifetime_earned=80)
    program.credit(20, "receipt:2", pending_days=0)
    assert program.run(lambda s: ledger.release_pending(s, merchant_id=program.merchant_id, now=T0 + timedelta(days=13))) == 0
    assert program.run(lambda s: ledger.release_pending(s, merchant_id=program.merchant_id, now=T0 + timedelta(days=14))) == 1
    assert program.run(lambda s: ledger.release_pending(s, merchant_id=program.merchant_id, now=T0 + timedelta(days=30))) == 0
    assert program.balance() == BalanceSnapshot(available=100, lifetime_earned=100)
    release = [e for e in program.entries() if e.kind == "release"]
    assert len(release) == 1 and release[0].points == 80
    assert (release[0].available_delta, release[0].pending_delta) == (80, -80)
    program.assert_audit_ok()


def test_a_debit_can_spend_matured_pending_points_before_the_job_runs(program):
    program.credit(40, "receipt:1", pending_days=3)
    with pytest.raises(LoyaltyError):
        program.debit(40, "voucher:1", now=T0 + timedelta(days=2))
    result = program.debit(40, "voucher:1", now=T0 + timedelta(days=3))
    assert result.balance == BalanceSnapshot(lifetime_earned=40, spent=40)
    assert [e.kind for e in program.entries()] == ["earn", "release", "redeem"]


# --------------------------------------------------------------------------- expiry


def test_expiry_job_expires_remainders_once(program):
    program.settings(expiry_policy="after_days", expiry_days=10)
    program.credit(100, "receipt:1")
    program.debit(30, "voucher:1", now=T0 + timedelta(days=2))
    assert program.run(lambda s: ledger.expire_due(s, merchant_id=program.merchant_id, now=T0 + timedelta(days=9))) == 0
    assert program.run(lambda s: ledger.expire_due(s, merchant_id=program.merchant_id, now=T0 + timedelta(days=10))) == 1
    assert program.run(lambda s: ledger.expire_due(s, merchant_id=program.merchant_id, now=T0 + timedelta(days=11))) == 0
    assert program.balance() == BalanceSnapshot(available=0, lifetime_earned=100, spent=30, expired=70)
    (expire,) = [e for e in program.entries() if e.kind == "expire"]
    assert expire.points == -70 and expire.reason == "Points expired."
    program.assert_audit_ok()


def test_expired_points_cannot_be_spent_even_before_the_job_runs(program):
    program.settings(expiry_policy="after_days", expiry_days=10)
    program.credit(100, "receipt:1")
    with pytest.raises(LoyaltyError) as refused:
        program.debit(1, "voucher:1", now=T0 + timedelta(days=10))
    assert refused.value.params["available"] == 0


def test_pending_expiry_clock_starts_when_points_become_available(program):
    program.settings(expiry_policy="after_days", expiry_days=10, pending_days=5)
    program.credit(100, "receipt:1")
    (lot,) = program.lots().values()
    assert lot.available_at == T0 + timedelta(days=5)
    assert lot.expires_at == T0 + timedelta(days=15)
    # One job run after both dates releases and then expires the lot.
    assert program.run(lambda s: ledger.expire_due(s, merchant_id=program.merchant_id, now=T0 + timedelta(days=20))) == 1
    assert program.balance() == BalanceSnapshot(lifetime_earned=100, expired=100)
    program.assert_audit_ok()


def test_debits_drain_the_soonest_expiring_points_first(program):
    program.settings(expiry_policy="after_days", expiry_days=100)
    late = program.credit(10, "receipt:late", now=T0)  # expires T0+100d
    program.settings(expiry_policy="after_days", expiry_days=20)
    soon = program.credit(10, "receipt:soon", now=T0 + timedelta(days=1))  # expires T0+21d
    program.settings(expiry_policy="never")
    never = program.credit(10, "receipt:never", now=T0 + timedelta(days=2))
    debit = program.debit(15, "voucher:1", now=T0 + timedelta(days=3))
    lots = program.lots()
    with read_session(program.engine) as s:
        moves = s.exec(select(LotMovement.points).where(LotMovement.entry_id == debit.entry_id)).all()
        expiring = ledger.expiring_points(
            s, merchant_id=program.merchant_id, account_id=program.member_id, now=T0 + timedelta(days=3), within_days=365
        )
    assert lots[soon.entry_id].remaining == 0
    assert lots[late.entry_id].remaining == 5
    assert lots[never.entry_id].remaining == 10
    assert sorted(moves) == [-10, -5]
    assert expiring == [(T0 + timedelta(days=100), 5)]


def test_expiring_points_groups_by_date_within_the_window(program):
    program.settings(expiry_policy="after_days", expiry_days=20)
    program.credit(10, "r1")
    program.credit(15, "r2")
    program.credit(7, "r3", now=T0 + timedelta(days=5))
    program.settings(expiry_days=60)
    program.credit(100, "r4")
    with read_session(program.engine) as s:
        soon = ledger.expiring_points(s, merchant_id=program.merchant_id, account_id=program.member_id, now=T0, within_days=30)
        later = ledger.expiring_points(
            s, merchant_id=program.merchant_id, account_id=program.member_id, now=T0 + timedelta(days=21), within_days=30
        )
    assert soon == [(T0 + timedelta(days=20), 25), (T0 + timedelta(days=25), 7)]
    assert later == [(T0 + timedelta(days=25), 7)]


# --------------------------------------------------------------------------- reversal


def test_reversing_an_unspent_earn_removes_its_points(program):
    earn = program.credit(100, "receipt:1")
    result = program.reverse(earn.entry_id, "return:1")
    assert result.points == -100
    assert result.balance == BalanceSnapshot()
    assert program.reverse(earn.entry_id, "return:1").replayed
    with pytest.raises(Conflict) as refused:
        program.reverse(earn.entry_id, "return:again")
    assert refused.value.code == "already_reversed"
    program.assert_audit_ok()


def test_reversing_a_spent_earn_takes_the_spent_part_from_other_points(program):
    earn = program.credit(100, "receipt:1")
    program.debit(70, "voucher:1")  # 30 left in the first lot
    program.credit(80, "receipt:2")
    result = program.reverse(earn.entry_id, "return:1")
    assert result.points == -100  # 30 from its own lot + 70 from the second lot
    assert result.balance == BalanceSnapshot(available=10, lifetime_earned=80, spent=70)
    program.assert_audit_ok()


def test_reversing_an_earn_the_member_cannot_cover_is_refused(program):
    earn = program.credit(100, "receipt:1")
    program.debit(70, "voucher:1")
    program.credit(50, "receipt:2")
    before = program.balance()
    with pytest.raises(LoyaltyError) as refused:
        program.reverse(earn.entry_id, "return:1")
    assert refused.value.code == "reversal_insufficient_points"
    assert refused.value.params == {"needed": 70, "available": 50}
    assert program.balance() == before
    assert len(program.entries()) == 3


def test_reversing_a_pending_earn_removes_pending_points(program):
    earn = program.credit(40, "receipt:1", pending_days=7)
    result = program.reverse(earn.entry_id, "return:1", now=T0 + timedelta(days=1))
    assert result.balance == BalanceSnapshot()
    assert program.run(lambda s: ledger.release_pending(s, merchant_id=program.merchant_id, now=T0 + timedelta(days=8))) == 0
    program.assert_audit_ok()


def test_reversing_a_partly_expired_earn_does_not_take_expired_points_twice(program):
    program.settings(expiry_policy="after_days", expiry_days=10)
    earn = program.credit(100, "receipt:1")
    program.debit(40, "voucher:1", now=T0 + timedelta(days=1))
    program.run(lambda s: ledger.expire_due(s, merchant_id=program.merchant_id, now=T0 + timedelta(days=10)))
    program.settings(expiry_policy="never")
    program.credit(50, "receipt:2", now=T0 + timedelta(days=11))
    result = program.reverse(earn.entry_id, "return:1", now=T0 + timedelta(days=12))
    assert result.points == -40  # only the spent part; the 60 that expired are not taken again
    assert result.balance == BalanceSnapshot(available=10, lifetime_earned=50, spent=40, expired=0)
    program.assert_audit_ok()


def test_reversing_a_redemption_gives_points_back_to_the_lots_it_drained(program):
    program.settings(expiry_policy="after_days", expiry_days=30)
    program.credit(100, "receipt:1")
    redeem = program.debit(60, "voucher:1")
    result = program.reverse(redeem.entry_id, "voucher-cancel:1", now=T0 + timedelta(days=1))
    assert result.points == 60
    assert result.balance == BalanceSnapshot(available=100, lifetime_earned=100, spent=0)
    (lot,) = program.lots().values()
    assert lot.remaining == 100 and lot.expires_at == T0 + timedelta(days=30)
    program.assert_audit_ok()


def test_reversing_a_redemption_after_its_lots_expired_gives_a_new_lot(program):
    program.settings(expiry_policy="after_days", expiry_days=10)
    program.credit(100, "receipt:1")
    donation = program.debit(60, "donation:1", kind=EntryKind.DONATE)
    assert donation.balance.donated == 60
    later = T0 + timedelta(days=15)
    program.run(lambda s: ledger.expire_due(s, merchant_id=program.merchant_id, now=later))
    result = program.reverse(donation.entry_id, "donation-cancel:1", now=later)
    assert result.balance == BalanceSnapshot(available=60, lifetime_earned=100, donated=0, expired=40)
    new_lot = program.lots()[result.entry_id]
    assert (new_lot.remaining, new_lot.available_at, new_lot.expires_at) == (60, later, later + timedelta(days=10))
    program.assert_audit_ok()


def test_only_earns_debits_and_adjustments_can_be_reversed(program):
    earn = program.credit(10, "receipt:1")
    reversal = program.reverse(earn.entry_id, "return:1")
    with pytest.raises(Conflict) as refused:
        program.reverse(reversal.entry_id, "return:2")
    assert refused.value.code == "not_reversible"
    program.credit(10, "receipt:2", pending_days=1)
    program.run(lambda s: ledger.release_pending(s, merchant_id=program.merchant_id, now=T0 + timedelta(days=1)))
    (release,) = [e for e in program.entries() if e.kind == "release"]
    with pytest.raises(Conflict):
        program.reverse(release.id, "return:3")


# --------------------------------------------------------------------------- adjustments


def test_adjustments_need_a_staff_author_and_do_not_count_as_earned(program):
    up = program.adjust(25, "adj:1", reason="Missing stamp from {date}")
    assert up.balance == BalanceSnapshot(available=25)
    down = program.adjust(-5, "adj:2")
    assert down.points == -5 and down.balance.available == 20
    entries = program.entries()
    assert [(e.kind, e.author_id) for e in entries] == [("adjustment", program.staff_id)] * 2
    with pytest.raises(LoyaltyError) as refused:
        program.adjust(-21, "adj:3")
    assert refused.value.code == "insufficient_points"
    with pytest.raises(NotAllowed):
        program.adjust(5, "adj:4", author_id=program.other_member_id)
    with pytest.raises(NotFound):
        program.adjust(5, "adj:5", author_id=program.foreign_staff_id)
    with pytest.raises(LoyaltyError) as refused:
        program.adjust(5, "adj:6", author_id=None)
    assert refused.value.code == "author_required"
    undo = program.reverse(down.entry_id, "adj:2:undo", author_id=program.staff_id)
    assert undo.points == 5 and undo.balance == BalanceSnapshot(available=25)
    program.assert_audit_ok()


# --------------------------------------------------------------------------- merchant isolation


def test_nothing_crosses_merchants(program):
    mine = program.credit(10, "receipt:1")
    foreign = program.foreign_member_id
    with pytest.raises(NotFound):
        program.credit(10, "receipt:2", account_id=foreign)
    with pytest.raises(NotFound):
        program.debit(1, "voucher:2", account_id=foreign)
    with pytest.raises(NotFound):
        program.adjust(1, "adj:1", account_id=foreign)
    with pytest.raises(NotFound):
        program.run(
            lambda s: ledger.reverse(
                s, merchant_id=program.foreign_merchant_id, entry_id=mine.entry_id, idempotency_key="x", reason="r", now=T0
            )
        )
    with read_session(program.engine) as s:
        for read in (ledger.get_balance, ledger.history):
            with pytest.raises(NotFound):
                read(s, merchant_id=program.merchant_id, account_id=foreign)
        with pytest.raises(NotFound):
            ledger.expiring_points(s, merchant_id=program.merchant_id, account_id=foreign, now=T0)
        with pytest.raises(NotFound):
            ledger.lifetime_earned_between(s, merchant_id=program.merchant_id, account_id=foreign, start=T0, end=T0)
        with pytest.raises(NotFound):
            ledger.get_balance(s, merchant_id=program.foreign_merchant_id, account_id=program.member_id)
        with pytest.raises(NotFound):
            ledger.get_program_settings(s, 987654)
    assert program.entries()[0].id == mine.entry_id and len(program.entries()) == 1


# --------------------------------------------------------------------------- reads


def test_history_is_newest_first_and_filters_by_kind(program):
    for i in range(5):
        program.credit(10, f"receipt:{i}", now=T0 + timedelta(minutes=i))
    program.debit(15, "voucher:1", now=T0 + timedelta(minutes=9))
    with read_session(program.engine) as s:
        page = ledger.history(s, merchant_id=program.merchant_id, account_id=program.member_id, limit=3)
        second = ledger.history(s, merchant_id=program.merchant_id, account_id=program.member_id, limit=3, offset=3)
        redeems = ledger.history(s, merchant_id=program.merchant_id, account_id=program.member_id, kinds=[EntryKind.REDEEM])
    assert [e.points for e in page] == [-15, 10, 10]
    assert [e.idempotency_key for e in second] == ["receipt:2", "receipt:1", "receipt:0"]
    assert [e.kind for e in redeems] == ["redeem"]
    assert page[0].balance_after["available"] == 35


def test_lifetime_earned_between_counts_earns_minus_their_reversals(program):
    first = program.credit(100, "r1", now=T0)
    program.credit(50, "r2", now=T0 + timedelta(days=40))
    program.adjust(500, "adj:1", now=T0)
    program.debit(80, "v1", now=T0 + timedelta(days=41))
    program.reverse(first.entry_id, "return:1", now=T0 + timedelta(days=45))  # after the window
    with read_session(program.engine) as s:
        window = dict(merchant_id=program.merchant_id, account_id=program.member_id)
        assert ledger.lifetime_earned_between(s, **window, start=T0, end=T0 + timedelta(days=30)) == 0
        assert ledger.lifetime_earned_between(s, **window, start=T0 + timedelta(days=30), end=T0 + timedelta(days=60)) == 50
        assert ledger.lifetime_earned_between(s, **window, start=T0 - timedelta(days=1), end=T0 + timedelta(days=1)) == 0
    program.credit(30, "r3", now=T0 + timedelta(days=50))
    with read_session(program.engine) as s:
        assert ledger.lifetime_earned_between(s, **window, start=T0, end=T0 + timedelta(days=365)) == 80


# --------------------------------------------------------------------------- audit


def test_audit_reports_tampering(db_engine, capsys):
    program = _program(db_engine)  # its own database: this test corrupts it on purpose
    program.credit(100, "receipt:1")
    program.debit(30, "voucher:1")
    program.credit(20, "receipt:2", account_id=program.other_member_id)
    program.assert_audit_ok()
    try:
        with program.engine.begin() as conn:
            # The database refuses a lot above its original points (a CHECK constraint); the audit must
            # still catch it where that guard is missing (a copy restored without it): lift it here.
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
            else:
                conn.exec_driver_sql("ALTER TABLE pointlot DROP CONSTRAINT ck_pointlot_remaining_in_range")
            conn.execute(
                text("UPDATE memberbalance SET available = available + 5 WHERE account_id = :a"), {"a": program.member_id}
            )
            conn.execute(
                text("UPDATE pointlot SET remaining = remaining + 500 WHERE account_id = :a"), {"a": program.other_member_id}
            )
        report = ledger.audit(program.engine)
        assert not report.ok
        described = [d.describe() for d in report.drifts]
        assert any(f"account {program.member_id}: available: expected 70, found 75" in d for d in described)
        assert any(f"account {program.member_id}: available vs lots: expected 70, found 75" in d for d in described)
        assert any(f"account {program.other_member_id}: lot" in d and "expected 20, found 520" in d for d in described)
        assert any(f"account {program.other_member_id}: available vs lots: expected 520, found 20" in d for d in described)
        assert report.members_checked == 2 and report.entries_checked == 3
        url = program.engine.url.render_as_string(hide_password=False)
        assert ledger.main_audit(["--database-url", url]) == 1
        out = capsys.readouterr().out
        assert "DRIFT" in out and "FAILED" in out
    finally:  # PostgreSQL's schema is shared by this process's tests: put the guard back
        with program.engine.begin() as conn:
            if conn.dialect.name != "sqlite":
                conn.execute(text("UPDATE pointlot SET remaining = LEAST(remaining, original_points)"))
                conn.exec_driver_sql(
                    "ALTER TABLE pointlot ADD CONSTRAINT ck_pointlot_remaining_in_range "
                    "CHECK (remaining >= 0 AND remaining <= original_points)"
                )
