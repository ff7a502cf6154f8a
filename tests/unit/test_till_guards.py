"""The till's guards and extra flows: scanning any code, velocity limits and fraud flags, the
cashier's own member account, undo within minutes, vouchers redeemed once, refusals logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.models import Account, FraudFlag, LedgerEntry, Merchant, ProgramRules, Role, SecurityEvent, Store, Voucher
from loyalty_app.services import ledger
from loyalty_app.services.catalog import rewards
from loyalty_app.services.members import accounts
from loyalty_app.services.platform import live
from loyalty_app.services.platform.permissions import Actor, canonical_email
from loyalty_app.services.program import program_admin
from loyalty_app.services.store import member_codes, till

PW = "correct horse battery"


@pytest.fixture
def world(db_engine):
    with write_session(db_engine) as s:
        m = Merchant(slug="cafe", name="Cafe", short_name="Cafe")
        other = Merchant(slug="books", name="Books", short_name="Books")
        s.add(m)
        s.add(other)
        s.flush()
        a, b, c = (
            Store(merchant_id=m.id, code="a", name="A"),
            Store(merchant_id=m.id, code="b", name="B"),
            Store(merchant_id=other.id, code="c", name="C"),
        )
        for st in (a, b, c):
            s.add(st)
        s.flush()
        s.add(ProgramRules(merchant_id=m.id, till_credits_per_member_hour=3, till_undo_minutes=10))
        reward = program_admin.upsert_reward(s, m.id, "coffee", name="Free coffee", kind="free_product", cost_points=10)
        ids = dict(cafe=m.id, books=other.id, a=a.id, b=b.id, c=c.id, reward=reward.id)
    member = accounts.sign_up_member(db_engine, merchant_id=ids["cafe"], email="ana@x.test", password=PW, first_name="Ana")
    staff = accounts.create_staff(
        db_engine, merchant_id=ids["cafe"], email="sam@x.test", password=PW, first_name="Sam", store_ids=[ids["a"]]
    )
    books_member = accounts.sign_up_member(db_engine, merchant_id=ids["books"], email="bo@x.test", password=PW, first_name="Bo")
    return {
        **ids,
        "engine": db_engine,
        "member": member,
        "member_actor": Actor(member.id, ids["cafe"], Role.MEMBER, frozenset(), 3),
        "staff": Actor(staff.id, ids["cafe"], Role.STAFF, frozenset({ids["a"]}), 1),
        "books_member": books_member,
    }


def _credit(w, receipt: str, amount: str = "10", store: str = "a", actor=None, now=None):
    return till.credit_purchase_at_till(
        w["engine"],
        actor or w["staff"],
        store_id=w[store],
        member_account_id=w["member"].id,
        amount_text=amount,
        receipt=receipt,
        now=now,
    )


def _balance(w) -> int:
    with read_session(w["engine"]) as s:
        return ledger.get_balance(s, merchant_id=w["cafe"], account_id=w["member"].id).available


def _events(w, reason: str) -> list[SecurityEvent]:
    with read_session(w["engine"]) as s:
        return list(s.exec(select(SecurityEvent).where(SecurityEvent.reason == reason)).all())


def _flags(w) -> list[FraudFlag]:
    with read_session(w["engine"]) as s:
        return list(s.exec(select(FraudFlag)).all())


# --- scanning: the keyboard wedge types the same text the camera reads ---------------------


def test_keyboard_wedge_text_with_spaces_and_newline_finds_the_member_once(world):
    code, _ = member_codes.issue_member_code(world["engine"], world["member_actor"])
    found = till.scan(world["engine"], world["staff"], store_id=world["a"], text=f"  {code}\r\n")
    assert isinstance(found, till.MemberAtTill) and found.account_id == world["member"].id
    with pytest.raises(LoyaltyError) as replay:
        till.scan(world["engine"], world["staff"], store_id=world["a"], text=code)
    assert replay.value.code == "code_replayed"
    assert _events(world, "code_replayed")


def test_scan_by_member_number_with_spaces(world):
    number = world["member"].member_number
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    found = till.scan(world["engine"], world["staff"], store_id=world["a"], text=spaced)
    assert found.account_id == world["member"].id


def test_expired_and_forged_codes_are_refused_and_logged(world):
    e = world["engine"]
    old, _ = member_codes.issue_member_code(e, world["member_actor"], now=utcnow() - timedelta(minutes=5))
    with pytest.raises(LoyaltyError) as expired:
        till.scan(e, world["staff"], store_id=world["a"], text=old)
    fresh, _ = member_codes.issue_member_code(e, world["member_actor"])
    forged = fresh[:-2] + ("AA" if not fresh.endswith("AA") else "BB")
    with pytest.raises(LoyaltyError) as bad:
        till.scan(e, world["staff"], store_id=world["a"], text=forged)
    assert expired.value.code != bad.value.code
    with read_session(e) as s:
        reasons = {ev.reason for ev in s.exec(select(SecurityEvent).where(SecurityEvent.action == "scan_member_code")).all()}
    assert {expired.value.code, bad.value.code} <= reasons


def test_staff_of_another_store_cannot_scan_there(world):
    with pytest.raises(NotAllowed):
        till.scan(world["engine"], world["staff"], store_id=world["b"], text=world["member"].member_number)
    assert _events(world, "store_not_assigned")


# --- velocity ------------------------------------------------------------------------------


def test_velocity_limit_refuses_and_flags_then_allows_after_an_hour(world):
    now = utcnow()
    for i in range(3):
        _credit(world, f"R{i}", now=now + timedelta(minutes=i))
    before = _balance(world)
    with pytest.raises(LoyaltyError) as err:
        _credit(world, "R3", now=now + timedelta(minutes=5))
    assert err.value.code == "velocity_limit" and err.value.params["count"] == 3
    assert _balance(world) == before, "a refused credit changes nothing"
    flags = _flags(world)
    assert len(flags) == 1 and flags[0].kind == "velocity" and flags[0].member_account_id == world["member"].id
    assert flags[0].staff_account_id == world["staff"].account_id and flags[0].detail["limit"] == 3
    assert _events(world, "velocity_limit")
    # A replay of an already credited receipt is not a new credit: answered, not refused.
    assert _credit(world, "R0", now=now + timedelta(minutes=6)).outcome.replayed
    # An hour after the first credits the member can be served again.
    assert _credit(world, "R4", now=now + timedelta(minutes=61)).outcome.points == 10


# --- the cashier's own member account --------------------------------------------------------


def test_staff_never_serve_their_own_member_account(world):
    e = world["engine"]
    mine = accounts.sign_up_member(e, merchant_id=world["cafe"], email="Sam+coffee@x.test", password=PW, first_name="Sam")
    with pytest.raises(NotAllowed) as err:
        till.find_member(e, world["staff"], store_id=world["a"], member_number=mine.member_number)
    assert err.value.code == "own_member_account"
    with pytest.raises(NotAllowed):
        till.credit_purchase_at_till(
            e, world["staff"], store_id=world["a"], member_account_id=mine.id, amount_text="5", receipt="S1"
        )
    # Linked explicitly, with an unrelated address.
    linked = accounts.sign_up_member(e, merchant_id=world["cafe"], email="private@y.test", password=PW, first_name="S")
    with write_session(e) as s:
        staff_row = s.get(Account, world["staff"].account_id)
        staff_row.personal_account_id = linked.id
        s.add(staff_row)
    with pytest.raises(NotAllowed):
        till.credit_purchase_at_till(
            e, world["staff"], store_id=world["a"], member_account_id=linked.id, amount_text="5", receipt="S2"
        )
    flags = [f for f in _flags(world) if f.kind == "own_account"]
    assert len(flags) == 3 and {f.member_account_id for f in flags} == {mine.id, linked.id}
    with read_session(e) as s:
        assert s.exec(select(LedgerEntry)).all() == []


def test_canonical_email():
    assert canonical_email("A.Na+shop@GoogleMail.com") == canonical_email("ana@gmail.com")
    assert canonical_email("ana+x@y.test") == "ana@y.test"
    assert canonical_email("a.na@y.test") != canonical_email("ana@y.test")


# --- undo --------------------------------------------------------------------------------------


def test_undo_within_minutes_reverses_and_frees_the_receipt(world):
    now = utcnow()
    done = _credit(world, "U1", amount="50", now=now)
    assert done.undo_until is not None and _balance(world) == 50
    undone = till.undo_credit(
        world["engine"], world["staff"], store_id=world["a"], entry_id=done.entry_id, now=now + timedelta(minutes=2)
    )
    assert undone.points == 50 and undone.balance.available == 0 and _balance(world) == 0
    # Twice is harmless (idempotent), and the receipt can be credited again with the right amount.
    till.undo_credit(world["engine"], world["staff"], store_id=world["a"], entry_id=done.entry_id, now=now + timedelta(minutes=3))
    again = _credit(world, "U1", amount="5", now=now + timedelta(minutes=4))
    assert not again.outcome.replayed and again.outcome.points == 5 and _balance(world) == 5
    assert _credit(world, "U1", amount="5", now=now + timedelta(minutes=5)).outcome.replayed
    with read_session(world["engine"]) as s:
        kinds = [e.kind for e in s.exec(select(LedgerEntry).order_by(LedgerEntry.id)).all()]
    assert kinds == ["earn", "reversal", "earn"]
    assert ledger.audit(world["engine"]).ok


def test_undo_too_late_other_store_or_unknown_entry_is_refused(world):
    now = utcnow()
    done = _credit(world, "U2", now=now)
    with pytest.raises(LoyaltyError) as late:
        till.undo_credit(
            world["engine"], world["staff"], store_id=world["a"], entry_id=done.entry_id, now=now + timedelta(minutes=11)
        )
    assert late.value.code == "undo_too_late"
    with pytest.raises(NotAllowed):
        till.undo_credit(world["engine"], world["staff"], store_id=world["b"], entry_id=done.entry_id, now=now)
    with pytest.raises(NotFound):
        till.undo_credit(world["engine"], world["staff"], store_id=world["a"], entry_id=999999, now=now)
    with pytest.raises(NotAllowed):
        till.undo_credit(world["engine"], world["member_actor"], store_id=world["a"], entry_id=done.entry_id, now=now)
    assert _balance(world) == 10 and _events(world, "undo_too_late")


# --- undo takes back what the purchase caused -------------------------------------------------


def _visit_challenge(w, target: int = 2, points: int = 50) -> None:
    with write_session(w["engine"]) as s:
        program_admin.upsert_challenge(
            s, w["cafe"], "visits", name="Visit twice", action="visit", target=target, recurrence="monthly", reward_points=points
        )


def _progress(w) -> tuple[int, bool]:
    from loyalty_app.models import ChallengeProgress

    with read_session(w["engine"]) as s:
        rows = s.exec(select(ChallengeProgress).where(ChallengeProgress.account_id == w["member"].id)).all()
    assert len(rows) <= 1
    return (rows[0].count, rows[0].completed_at is not None) if rows else (0, False)


def _undo(w, done, now):
    return till.undo_credit(w["engine"], w["staff"], store_id=w["a"], entry_id=done.entry_id, now=now)


def test_undo_of_the_purchase_that_completed_a_challenge_takes_its_bonus_back(world):
    _visit_challenge(world)
    now = utcnow().replace(day=10, hour=12)  # mid-month: every step lands in the same monthly period
    first = _credit(world, "C1", amount="10", now=now)
    second = _credit(world, "C2", amount="10", now=now + timedelta(hours=2))
    assert second.outcome.points == 10 and second.outcome.bonus_points == 50 and second.outcome.total_points == 60
    assert second.outcome.bonus_parts == (("Visit twice", 50),)
    assert _balance(world) == 70 and _progress(world) == (2, True)
    # "Already credited" repeats the same total, bonus included, and writes nothing.
    replay = _credit(world, "C2", amount="10", now=now + timedelta(hours=2, minutes=1)).outcome
    assert replay.replayed and replay.total_points == 60 and replay.bonus_parts == (("Visit twice", 50),)
    assert _balance(world) == 70

    undone = _undo(world, second, now + timedelta(hours=2, minutes=3))
    assert (undone.points, undone.purchase_points, undone.bonus_parts) == (60, 10, (("Visit twice", 50),))
    assert undone.balance.available == 10 and _balance(world) == 10
    assert _progress(world) == (1, False)
    # Twice changes nothing more, and answers the same (the bonus included; the member is not told again).
    again = _undo(world, second, now + timedelta(hours=2, minutes=4))
    assert (again.points, again.purchase_points, again.bonus_parts, again.replayed) == (60, 10, (("Visit twice", 50),), True)
    assert undone.replayed is False and _balance(world) == 10 and _progress(world) == (1, False)
    # The corrected purchase completes the challenge again and pays again (a new key in the chain).
    redo = _credit(world, "C2", amount="20", now=now + timedelta(hours=2, minutes=5))
    assert not redo.outcome.replayed and redo.outcome.total_points == 70
    assert _balance(world) == 80 and _progress(world) == (2, True)
    with read_session(world["engine"]) as s:
        reasons = [(e.kind, e.points, e.reason) for e in s.exec(select(LedgerEntry).order_by(LedgerEntry.id)).all()]
    assert reasons == [
        ("earn", 10, "Purchase {amount} {currency} × {rate} pt/{currency}"),
        ("earn", 10, "Purchase {amount} {currency} × {rate} pt/{currency}"),
        ("earn", 50, "Challenge completed: {challenge}"),
        ("reversal", -10, "Purchase undone at the till"),
        ("reversal", -50, "Challenge no longer complete: {challenge}"),
        ("earn", 20, "Purchase {amount} {currency} × {rate} pt/{currency}"),
        ("earn", 50, "Challenge completed: {challenge}"),
    ]
    assert first.outcome.bonus_points == 0 and ledger.audit(world["engine"]).ok


def test_undo_of_an_earlier_step_uncompletes_the_challenge_a_later_purchase_completed(world):
    _visit_challenge(world)
    now = utcnow().replace(day=10, hour=12)
    first = _credit(world, "E1", amount="10", now=now)
    _credit(world, "E2", amount="10", now=now + timedelta(minutes=1))
    undone = _undo(world, first, now + timedelta(minutes=2))
    assert undone.points == 60 and undone.bonus_parts == (("Visit twice", 50),)
    assert _balance(world) == 10 and _progress(world) == (1, False)
    assert ledger.audit(world["engine"]).ok


def test_undo_that_leaves_the_challenge_complete_keeps_the_bonus(world):
    _visit_challenge(world, target=1)
    now = utcnow().replace(day=10, hour=12)
    first = _credit(world, "K1", amount="10", now=now)  # completes it (1 of 1)
    second = _credit(world, "K2", amount="10", now=now + timedelta(minutes=1))  # counts no more: already complete
    assert first.outcome.bonus_points == 50 and second.outcome.bonus_points == 0
    undone = _undo(world, second, now + timedelta(minutes=2))
    assert undone.points == 10 and undone.bonus_parts == ()
    assert _balance(world) == 60 and _progress(world) == (1, True)


def test_undo_of_a_counted_step_keeps_the_bonus_while_a_later_action_still_makes_the_target(world):
    """Visits A and B complete "visit twice"; C counts no more (complete already). A was the wrong
    member: undoing it leaves B and C, still two visits, so the bonus stands. Undoing C then
    leaves B alone: the bonus goes."""
    _visit_challenge(world)
    now = utcnow().replace(day=10, hour=12)
    first = _credit(world, "P1", amount="10", now=now)
    _credit(world, "P2", amount="10", now=now + timedelta(minutes=1))
    third = _credit(world, "P3", amount="10", now=now + timedelta(minutes=2))
    assert third.outcome.bonus_points == 0 and _balance(world) == 80
    undone = _undo(world, first, now + timedelta(minutes=3))
    assert (undone.points, undone.bonus_parts) == (10, ())
    assert _balance(world) == 70 and _progress(world) == (2, True)
    undone = _undo(world, third, now + timedelta(minutes=4))
    assert (undone.points, undone.bonus_parts) == (60, (("Visit twice", 50),))
    assert _balance(world) == 10 and _progress(world) == (1, False)
    assert ledger.audit(world["engine"]).ok


def test_a_closed_membership_can_still_have_a_mistaken_credit_undone(world):
    now = utcnow()
    done = _credit(world, "Z1", amount="10", now=now)
    with write_session(world["engine"]) as s:
        s.get(Account, world["member"].id).is_active = False
    undone = _undo(world, done, now + timedelta(minutes=1))
    assert undone.points == 10 and _balance(world) == 0


def test_undo_is_refused_whole_when_the_bonus_was_already_spent(world):
    _visit_challenge(world, points=50)
    now = utcnow().replace(day=10, hour=12)
    _credit(world, "S1", amount="10", now=now)
    second = _credit(world, "S2", amount="10", now=now + timedelta(minutes=1))
    assert _balance(world) == 70
    for n in range(6):  # spend 60 of the 70 points on coffees (10 each)
        rewards.redeem_reward(
            world["engine"],
            merchant_id=world["cafe"],
            account_id=world["member"].id,
            reward_id=world["reward"],
            idempotency_key=f"spend-{n}",
            now=now + timedelta(minutes=2),
        )
    assert _balance(world) == 10
    with pytest.raises(LoyaltyError) as refused:
        _undo(world, second, now + timedelta(minutes=3))
    assert refused.value.code == "reversal_insufficient_points"
    assert _balance(world) == 10 and _progress(world) == (2, True)
    with read_session(world["engine"]) as s:
        assert not s.exec(select(LedgerEntry).where(LedgerEntry.kind == "reversal")).all()
    assert ledger.audit(world["engine"]).ok


# --- vouchers at the till ---------------------------------------------------------------------


def _voucher(w) -> str:
    _credit(w, "V-points", amount="30")
    out = rewards.redeem_reward(
        w["engine"],
        merchant_id=w["cafe"],
        account_id=w["member"].id,
        reward_id=w["reward"],
        idempotency_key=f"redeem-{utcnow().timestamp()}",
    )
    return out.code


def test_voucher_scan_shows_the_reward_and_redeems_once(world):
    code = _voucher(world)
    seen = till.scan(world["engine"], world["staff"], store_id=world["a"], text=code.lower().replace("-", " "))
    assert isinstance(seen, till.VoucherAtTill) and seen.reward_name == "Free coffee" and seen.member_name == "Ana"
    used = till.redeem_voucher_at_till(world["engine"], world["staff"], store_id=world["a"], code=code)
    assert used.reward_name == "Free coffee" and used.account_id == world["member"].id
    with pytest.raises(LoyaltyError) as again:
        till.scan(world["engine"], world["staff"], store_id=world["a"], text=code)
    assert again.value.code == "voucher_used" and _events(world, "voucher_used")


def test_expired_cancelled_and_foreign_vouchers_are_refused_with_the_reason(world):
    e = world["engine"]
    code = _voucher(world)
    with pytest.raises(LoyaltyError) as expired:
        till.find_voucher(e, world["staff"], store_id=world["a"], code=code, now=utcnow() + timedelta(days=400))
    assert expired.value.code == "voucher_expired"
    with read_session(e) as s:
        voucher_id = s.exec(select(Voucher.id).where(Voucher.code == code)).one()
    rewards.cancel_voucher(e, merchant_id=world["cafe"], account_id=world["member"].id, voucher_id=voucher_id)
    with pytest.raises(LoyaltyError) as cancelled:
        till.scan(e, world["staff"], store_id=world["a"], text=code)
    assert cancelled.value.code == "voucher_cancelled"
    with pytest.raises(NotFound):
        till.scan(e, world["staff"], store_id=world["a"], text="ABCDE-FGHJK-MNPQR-STVWX")
    with pytest.raises(NotAllowed):
        till.redeem_voucher_at_till(e, world["member_actor"], store_id=world["a"], code=code)


# --- live tabs ----------------------------------------------------------------------------------


def test_live_tabs_are_per_member_and_purged(world):
    e, member = world["engine"], world["member_actor"]
    assert live.register_client(e, member, "tok-1")
    assert not live.register_client(e, world["staff"], "tok-staff"), "only members' tabs are tracked"
    assert not live.register_client(e, member, "x" * 65)
    assert live.member_clients(e, merchant_id=world["cafe"], account_id=member.account_id) == ["tok-1"]
    assert live.member_clients(e, merchant_id=world["books"], account_id=member.account_id) == []
    assert live.purge_stale(e, now=utcnow() + timedelta(days=2)) == 1
    assert live.member_clients(e, merchant_id=world["cafe"], account_id=member.account_id) == []


def test_the_cashier_sees_the_members_own_photo(world):
    import io

    from PIL import Image

    from loyalty_app.services.members import member_media

    e = world["engine"]
    found = till.find_member(e, world["staff"], store_id=world["a"], member_number=world["member"].member_number)
    assert found.avatar_src == ""
    buf = io.BytesIO()
    Image.new("RGB", (300, 300), (200, 30, 30)).save(buf, format="PNG")
    member_media.set_member_image(e, world["member_actor"], kind="avatar", data=buf.getvalue(), filename="me.png")
    found = till.find_member(e, world["staff"], store_id=world["a"], member_number=world["member"].member_number)
    assert found.avatar_src.startswith("data:image/")


@pytest.mark.parametrize(
    ("amount", "receipt", "scan"),
    [
        ("12.50", "R-1", ""),  # a purchase
        ("1 250,00", "A1B2C3", ""),
        ("1234567", "R-2", ""),  # seven digits: still an amount (12,345.67 typed without a separator)
        ("7000 0599", "", "7000 0599"),  # a printed member number typed or scanned into Amount
        ("70000599", "R-3", "70000599"),
        ("LM1.eyJtIjoxfQ.sig", "", "LM1.eyJtIjoxfQ.sig"),  # a live card code in Amount...
        ("", "LM1.eyJtIjoxfQ.sig", "LM1.eyJtIjoxfQ.sig"),  # ...or in Receipt
        ("ABCDE-FGHJK-MNPQR-STVWX", "", "ABCDE-FGHJK-MNPQR-STVWX"),  # a voucher code in Amount
        ("5", "ABCDEFGHJKMNPQRSTVWX", ""),  # a receipt shaped like a voucher code stays a receipt
    ],
)
def test_a_scan_typed_into_the_credit_form_is_recognised(amount, receipt, scan):
    assert till.scanned_into_credit_form(amount, receipt) == scan
