"""Member QR codes: signed, short-lived, single use, bound to one program; keys rotate."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain import member_codes
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import LoyaltyError, NotAllowed
from loyalty_app.models import Account, Merchant, Role, SecurityEvent, Store
from loyalty_app.services.members import accounts
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.platform.qr import qr_png, qr_svg
from loyalty_app.services.store import till
from loyalty_app.services.store.member_codes import consume_member_code, issue_member_code

K1, K2 = b"old-key-0123456789", b"new-key-9876543210"


def _code(merchant_id=1, account_id=2, kid="k2", key=K2, now=None, lifetime=timedelta(seconds=60)):
    return member_codes.issue(
        merchant_id=merchant_id, account_id=account_id, kid=kid, key=key, now=now or utcnow(), lifetime=lifetime
    )[0]


def test_round_trip_and_every_code_is_new():
    now = utcnow()
    a, b = _code(now=now), _code(now=now)
    assert a != b  # a fresh nonce each time
    claims = member_codes.verify(a, keys={"k2": K2}, merchant_id=1, now=now)
    assert (claims.merchant_id, claims.account_id) == (1, 2)


@pytest.mark.parametrize(
    ("mutate", "code_name"),
    [
        (lambda c: c[:-2] + ("A" if c[-2] != "A" else "B") + c[-1], "code_bad_signature"),
        (lambda c: c.replace(".k2.", ".k9."), "code_bad_signature"),
        (lambda c: "hello", "code_malformed"),
        (lambda c: c + "." + "x" * 500, "code_malformed"),
    ],
)
def test_tampered_or_fake_codes_are_refused(mutate, code_name):
    with pytest.raises(LoyaltyError) as err:
        member_codes.verify(mutate(_code()), keys={"k2": K2}, merchant_id=1, now=utcnow())
    assert err.value.code == code_name


def test_payload_swap_with_another_members_payload_fails_the_signature():
    mine, theirs = _code(account_id=2).split("."), _code(account_id=3).split(".")
    forged = ".".join([mine[0], mine[1], theirs[2], mine[3]])
    with pytest.raises(LoyaltyError, match="not valid"):
        member_codes.verify(forged, keys={"k2": K2}, merchant_id=1, now=utcnow())


def test_expired_and_other_program_codes_are_refused():
    now = utcnow()
    code = _code(now=now)
    member_codes.verify(code, keys={"k2": K2}, merchant_id=1, now=now + timedelta(seconds=64))  # within skew
    with pytest.raises(LoyaltyError) as err:
        member_codes.verify(code, keys={"k2": K2}, merchant_id=1, now=now + timedelta(seconds=66))
    assert err.value.code == "code_expired"
    with pytest.raises(LoyaltyError) as err:
        member_codes.verify(code, keys={"k2": K2}, merchant_id=7, now=now)
    assert err.value.code == "code_other_program"


def test_keys_rotate_without_breaking_live_codes():
    old = _code(kid="k1", key=K1)
    assert member_codes.verify(old, keys={"k2": K2, "k1": K1}, merchant_id=1, now=utcnow()).account_id == 2
    with pytest.raises(LoyaltyError):
        member_codes.verify(old, keys={"k2": K2}, merchant_id=1, now=utcnow())  # retired key


def test_an_independent_decoder_reads_the_card_qr():
    code = _code()
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(code))))
    assert [d.text for d in decoded] == [code]
    assert qr_svg(code).startswith(b"<?xml") and b"<path" in qr_svg(code)


@pytest.fixture
def program(db_engine):
    with write_session(db_engine) as s:
        m = Merchant(slug="cafe", name="Cafe", short_name="Cafe")
        s.add(m)
        s.flush()
        store = Store(merchant_id=m.id, code="a", name="A")
        s.add(store)
        s.flush()
        mid, sid = m.id, store.id
    member = accounts.sign_up_member(db_engine, merchant_id=mid, email="m@x.test", password="correct horse 1", first_name="Ana")
    staff = accounts.create_staff(
        db_engine, merchant_id=mid, email="s@x.test", password="correct horse 1", first_name="Sam", store_ids=[sid]
    )
    return {
        "engine": db_engine,
        "merchant": mid,
        "store": sid,
        "member": member.id,
        "member_actor": Actor(member.id, mid, Role.MEMBER, frozenset(), 1),
        "staff_actor": Actor(staff.id, mid, Role.STAFF, frozenset({sid}), 2),
    }


def test_a_code_is_accepted_once_and_the_replay_is_logged(program):
    e = program["engine"]
    code, expires = issue_member_code(e, program["member_actor"])
    assert expires > utcnow()
    found = till.find_member(e, program["staff_actor"], store_id=program["store"], member_number=code)
    assert found.account_id == program["member"]
    with pytest.raises(LoyaltyError) as err:
        till.find_member(e, program["staff_actor"], store_id=program["store"], member_number=code)
    assert err.value.code == "code_replayed"
    with read_session(e) as s:
        events = s.exec(select(SecurityEvent).where(SecurityEvent.reason == "code_replayed")).all()
    assert len(events) == 1 and events[0].account_id == program["staff_actor"].account_id


def test_only_the_member_gets_codes_and_deleted_members_codes_die(program):
    e = program["engine"]
    with pytest.raises(NotAllowed):
        issue_member_code(e, None)
    with pytest.raises(NotAllowed):
        issue_member_code(e, program["staff_actor"])
    code, _ = issue_member_code(e, program["member_actor"])
    with write_session(e) as s:
        s.get(Account, program["member"]).deleted_at = utcnow()
    with pytest.raises(LoyaltyError) as err:
        consume_member_code(e, merchant_id=program["merchant"], code=code, staff_account_id=program["staff_actor"].account_id)
    assert err.value.code == "code_unknown_member"
