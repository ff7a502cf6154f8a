"""Privacy in the profile: marketing consent per channel with its time, "Download my data"
(complete for the member, nothing secret, nothing about anyone else) and deleting one's own
account (anonymised, signed out everywhere, ledger kept and still auditable, email free again)."""

from __future__ import annotations

import io
import json
import warnings
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import func, select
from starlette.applications import Starlette

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from loyalty_app.api import member_media_routes
from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.models import (
    Account,
    AuthSession,
    LedgerEntry,
    MediaBlob,
    MemberActivity,
    Referral,
    ReferralCode,
    RewardRating,
    Role,
    Voucher,
)
from loyalty_app.services import ledger
from loyalty_app.services.member_app import account_closing
from loyalty_app.services.members import accounts, member_export, member_media, passwords, profile, sessions
from loyalty_app.services.operations.demo_program import seed_demo_program
from loyalty_app.services.platform.permissions import Actor
from tests.engine.test_rules_support import T0, make_program

PASSWORD = "my own long password"


@pytest.fixture
def program(db_engine):
    """A small seeded program (history, check-ins, a voucher, a rating, a donation, a referral
    from member 0 to member 1); member 0 has a real password and a picture."""
    p = make_program(db_engine, "cafe", members=3, with_rules=False)
    seed_demo_program(db_engine, p.merchant_id, p.member_ids, p.store_ids, T0, size="small")
    with write_session(db_engine) as s:
        for member_id in p.member_ids:
            s.get(Account, member_id).password_hash = passwords.hash_password(PASSWORD)
    return p


def member(p, index: int = 0) -> Actor:
    return Actor(account_id=p.member_ids[index], merchant_id=p.merchant_id, role=Role.MEMBER)


def open_session(engine, account_id: int) -> str:
    """A live session cookie header for the account."""
    with write_session(engine) as s:
        _row, ticket = sessions.create_session(
            s, account=s.get(Account, account_id), ip="10.1.1.1", user_agent="pytest", now=utcnow()
        )
    return f"ls_cafe={sessions.activate(engine, ticket=ticket).secret}"


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 100, 200)).save(buf, "PNG")
    return buf.getvalue()


# --------------------------------------------------------------------------- consent


def test_consent_is_stamped_per_channel_and_kept_when_unchanged(db_engine, program):
    ana = member(program)
    given = profile.set_consent(db_engine, ana, "email", True, now=T0)
    assert given["email"].granted and given["email"].at == T0
    assert not given["sms"].granted and given["sms"].at is None
    again = profile.set_consent(db_engine, ana, "email", True, now=T0 + timedelta(days=1))
    assert again["email"].at == T0  # giving it again does not move the date
    profile.set_consent(db_engine, ana, "push", True, now=T0 + timedelta(hours=2))
    withdrawn = profile.set_consent(db_engine, ana, "email", False, now=T0 + timedelta(days=2))
    assert not withdrawn["email"].granted and withdrawn["email"].at == T0 + timedelta(days=2)
    assert withdrawn["push"].granted
    with read_session(db_engine) as s:
        stored = s.get(Account, ana.account_id).consents
    assert stored == {
        "email": {"granted": False, "at": (T0 + timedelta(days=2)).isoformat()},
        "push": {"granted": True, "at": (T0 + timedelta(hours=2)).isoformat()},
    }


def test_consent_refusals(db_engine, program):
    with pytest.raises(LoyaltyError) as refused:
        profile.set_consent(db_engine, member(program), "carrier_pigeon", True)
    assert refused.value.code == "bad_channel"
    staff = Actor(account_id=program.staff_id, merchant_id=program.merchant_id, role=Role.STAFF)
    with pytest.raises(NotAllowed):
        profile.set_consent(db_engine, staff, "email", True)


def test_older_consent_format_reads_as_given():
    statuses = profile.consent_statuses({"email": "2026-11-01T10:00:00+00:00", "sms": {"granted": True, "at": "bad"}})
    assert statuses["email"].granted and statuses["email"].at.isoformat() == "2026-11-01T10:00:00+00:00"
    assert statuses["sms"].granted and statuses["sms"].at is None
    assert not statuses["push"].granted


# --------------------------------------------------------------------------- download my data


def test_export_holds_everything_of_the_member(db_engine, program):
    ana = member(program)
    profile.set_consent(db_engine, ana, "sms", True, now=T0)
    member_media.set_member_image(db_engine, ana, kind="avatar", data=png())
    data = member_export.export_member_data(db_engine, ana, now=T0)
    json.dumps(data)  # JSON-ready as it is

    assert data["format"] == "loyalty-member-export/1"
    assert data["profile"]["email"] == "member0@cafe.test" and data["profile"]["first_name"] == "First0"
    assert data["consents"]["sms"] == {"granted": True, "at": T0.isoformat()}
    assert data["consents"]["email"] == {"granted": False, "at": None}
    with read_session(db_engine) as s:
        entries = s.exec(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.account_id == ana.account_id)).one()
        activities = s.exec(select(MemberActivity).where(MemberActivity.account_id == ana.account_id)).all()
        balance = ledger.get_balance(s, merchant_id=program.merchant_id, account_id=ana.account_id)
    assert len(data["ledger"]) == entries > 0
    assert all(e["reason"] and "{" not in e["reason"] for e in data["ledger"])  # readable reasons, params filled in
    assert data["points"]["available"] == balance.available
    assert len(data["activities"]) == len(activities)
    assert data["check_ins"] and len(data["check_ins"]) == sum(a.action == "check_in" for a in activities)
    assert data["vouchers"] and data["vouchers"][0]["reward"] and data["vouchers"][0]["code"]
    assert data["ratings"] and 1 <= data["ratings"][0]["stars"] <= 5
    assert data["donations"] and data["donations"][0]["charity"]
    assert data["referrals"]["my_code"] and len(data["referrals"]["friends_invited"]) == 1
    assert data["badges"] and data["badges"][0]["name"]
    assert data["challenges"] and data["challenges"][0]["name"]
    assert data["tier"] and data["tier"]["name"]
    assert data["pictures"]["avatar"]["content_type"] == "image/webp"
    assert data["pictures"]["background"] is None

    friend = member_export.export_member_data(db_engine, member(program, 1), now=T0)
    assert friend["referrals"]["invited_by_a_friend"] is not None


def test_export_has_no_secrets_and_nothing_about_other_people(db_engine, program):
    ana = member(program)
    cookie = open_session(db_engine, ana.account_id)
    other_cookie = open_session(db_engine, program.member_ids[1])
    with read_session(db_engine) as s:
        me = s.get(Account, ana.account_id)
        others = s.exec(select(Account).where(Account.merchant_id == program.merchant_id, Account.id != ana.account_id)).all()
        secrets = [row.secret_hash for row in s.exec(select(AuthSession)).all()]
        referral = s.exec(select(Referral).where(Referral.referrer_id == ana.account_id)).one()
    text = json.dumps(member_export.export_member_data(db_engine, ana, now=T0), ensure_ascii=False)

    assert me.password_hash not in text and "argon2" not in text and "password" not in text.lower()
    for secret in [*secrets, cookie.split("=", 1)[1], other_cookie.split("=", 1)[1]]:
        assert secret not in text
    for forbidden_key in (
        "secret_hash",
        "activation_hash",
        "referee_id",
        "referrer_id",
        "staff_id",
        "author_id",
        "idempotency_key",
        "request_hash",
    ):
        assert f'"{forbidden_key}"' not in text
    for other in others:  # the friend ana invited, the other member, the staff and the admin
        assert other.email not in text
        if other.first_name != me.first_name:  # the test staff share ana's made-up first name
            assert f'"{other.first_name}"' not in text
        assert other.member_number not in text
    invited = member_export.export_member_data(db_engine, ana, now=T0)["referrals"]["friends_invited"]
    assert referral.referee_id and [set(friend) for friend in invited] == [{"joined_at", "rewarded_at"}]


def test_export_is_refused_to_staff_and_anonymous(db_engine, program):
    staff = Actor(account_id=program.staff_id, merchant_id=program.merchant_id, role=Role.STAFF)
    with pytest.raises(NotAllowed):
        member_export.export_member_data(db_engine, staff)
    with pytest.raises(NotAllowed):
        member_export.export_member_data(db_engine, None)


@pytest.fixture
def client(db_engine) -> TestClient:
    return TestClient(Starlette(routes=member_media_routes.build_routes(lambda: db_engine)), follow_redirects=False)


def test_export_route_downloads_a_private_json_file(db_engine, program, client):
    cookie = open_session(db_engine, program.member_ids[0])
    response = client.get("/m/cafe/me/export.json", headers={"cookie": cookie})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and 'filename="cafe-my-data-' in disposition
    assert "no-store" in response.headers["cache-control"]
    assert response.json()["profile"]["email"] == "member0@cafe.test"

    signed_out = client.get("/m/cafe/me/export.json")
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/m/cafe/signin?next=")
    staff = client.get("/m/cafe/me/export.json", headers={"cookie": open_session(db_engine, program.staff_id)})
    assert staff.status_code == 403


# --------------------------------------------------------------------------- deleting the account


def test_wrong_password_deletes_nothing_and_is_throttled(db_engine, program):
    ana = member(program)
    for _ in range(5):
        with pytest.raises(LoyaltyError) as refused:
            account_closing.delete_account(db_engine, ana, password="not my password", ip="10.9.9.9", now=T0)
        assert refused.value.code == "wrong_password"
    with pytest.raises(LoyaltyError) as refused:
        account_closing.delete_account(db_engine, ana, password=PASSWORD, ip="10.9.9.9", now=T0)
    assert refused.value.code == "throttled" and refused.value.params["minutes"] >= 1
    with pytest.raises(LoyaltyError) as refused:
        account_closing.delete_account(db_engine, ana, password="", now=T0)
    assert refused.value.code == "password_required"
    with read_session(db_engine) as s:
        account = s.get(Account, ana.account_id)
    assert account.deleted_at is None and account.email == "member0@cafe.test" and account.is_active


def test_delete_anonymises_signs_out_keeps_the_ledger_and_frees_the_email(db_engine, program):
    ana = member(program)
    member_media.set_member_image(db_engine, ana, kind="avatar", data=png())
    member_media.set_member_image(db_engine, ana, kind="background", data=png())
    profile.set_consent(db_engine, ana, "email", True, now=T0)
    cookies = [open_session(db_engine, ana.account_id) for _ in range(2)]
    friend_cookie = open_session(db_engine, program.member_ids[1])
    with read_session(db_engine) as s:
        entries_before = s.exec(select(LedgerEntry.id).where(LedgerEntry.account_id == ana.account_id)).all()
        open_vouchers = s.exec(select(Voucher).where(Voucher.account_id == ana.account_id, Voucher.status == "issued")).all()
        ratings_before = s.exec(select(RewardRating).where(RewardRating.account_id == ana.account_id)).all()
    assert open_vouchers and ratings_before

    outcome = account_closing.delete_account(db_engine, ana, password=PASSWORD, ip="10.9.9.9", now=T0)
    assert outcome.vouchers_cancelled == len(open_vouchers) and outcome.points_returned > 0
    assert outcome.sessions_revoked == 2

    with read_session(db_engine) as s:
        account = s.get(Account, ana.account_id)
        assert account.email == f"deleted-{ana.account_id}@invalid"
        assert (account.first_name, account.last_name, account.birthday, account.consents) == ("", "", None, {})
        assert account.avatar_id is None and account.background_id is None
        assert s.exec(select(func.count()).select_from(MediaBlob).where(MediaBlob.kind.in_(["avatar", "background"]))).one() == 0
        assert not passwords.verify_password(PASSWORD, account.password_hash)
        assert account.deleted_at is not None and account.is_active is False
        assert account.member_number  # the ledger's owner stays identifiable to the merchant only as a number
        entries_after = s.exec(select(LedgerEntry).where(LedgerEntry.account_id == ana.account_id)).all()
        assert {e.id for e in entries_after} >= set(entries_before)  # nothing removed
        assert len(entries_after) == len(entries_before) + len(open_vouchers)  # one reversal per voucher
        assert all(
            v.status == "cancelled"
            for v in s.exec(
                select(Voucher).where(Voucher.account_id == ana.account_id, Voucher.id.in_([v.id for v in open_vouchers]))
            )
        )
        assert s.exec(select(ReferralCode).where(ReferralCode.account_id == ana.account_id)).first() is None
        ratings = s.exec(select(RewardRating).where(RewardRating.account_id == ana.account_id)).all()
        assert len(ratings) == len(ratings_before) and all(r.review_text == "" for r in ratings)
    assert ledger.audit(db_engine).ok

    for cookie in cookies:
        assert sessions.resolve(db_engine, merchant_id=program.merchant_id, cookie_header=cookie, slug="cafe") is None
    assert sessions.resolve(db_engine, merchant_id=program.merchant_id, cookie_header=friend_cookie, slug="cafe") is not None
    with pytest.raises(LoyaltyError):
        accounts.sign_in(
            db_engine,
            merchant_id=program.merchant_id,
            email=f"deleted-{ana.account_id}@invalid",
            password=PASSWORD,
            ip="10.2.2.2",
            user_agent="pytest",
        )
    with pytest.raises(NotFound):
        member_export.export_member_data(db_engine, ana)
    with pytest.raises(LoyaltyError):
        account_closing.delete_account(db_engine, ana, password=PASSWORD, now=T0)

    again = accounts.sign_up_member(
        db_engine, merchant_id=program.merchant_id, email="member0@cafe.test", password="a brand new password", first_name="Ana"
    )
    assert again.id != ana.account_id
    signed_in = accounts.sign_in(
        db_engine,
        merchant_id=program.merchant_id,
        email="member0@cafe.test",
        password="a brand new password",
        ip="10.2.2.2",
        user_agent="pytest",
    )
    assert signed_in.account_id == again.id
    fresh = member_export.export_member_data(
        db_engine, Actor(account_id=again.id, merchant_id=program.merchant_id, role=Role.MEMBER)
    )
    assert fresh["ledger"] == [] and fresh["vouchers"] == [] and fresh["points"]["available"] == 0


# --------------------------------------------------------------------------- the page state, as the websocket calls it

from tests.unit.test_states import PW, app_db, cookie_for, root_state, run, substate  # noqa: E402,F401  (fixture)


async def collect(handler_result) -> list:
    """Drive an async-generator handler, keeping what it yields (events it asks for)."""
    return [item async for item in handler_result]


def test_profile_state_pictures_consent_and_delete(app_db):
    import asyncio
    from pathlib import Path

    import reflex as rx

    from loyalty_app.pages.profile import ProfileState
    from loyalty_app.state.member_media import MemberMediaState
    from loyalty_app.state.session import SessionState

    engine, ids = app_db
    cookie = cookie_for(engine, ids["member"], "cafe")
    root = root_state(page="profile", cookie=cookie)
    asyncio.run(run(substate(root, SessionState).guard_member_page()))
    state, media = substate(root, ProfileState), substate(root, MemberMediaState)
    asyncio.run(run(state.load()))
    assert state.consent_granted == {"email": False, "sms": False, "push": False}
    assert media.avatar_url == "" and state.initial == "A"

    asyncio.run(run(state.toggle_consent("sms")))
    assert state.consent_granted["sms"] is True and state.consent_when["sms"]
    assert state.consent_when["sms"] == profile_date(state.consent_when["sms"])

    asyncio.run(run(state.upload_avatar([rx.UploadFile(file=io.BytesIO(png()), path=Path("me.png"))])))
    assert state.media_error == "" and state.media_notice
    assert media.avatar_url.startswith("/m/cafe/me/avatar?v=")
    asyncio.run(run(state.upload_background([rx.UploadFile(file=io.BytesIO(b"just text"), path=Path("fake.png"))])))
    assert state.media_error == "Choose a JPEG, PNG or WebP image." and media.background_url == ""
    asyncio.run(run(state.upload_rejected([{"file": {"path": "big.jpg"}, "errors": [{"code": "file-too-large"}]}])))
    assert state.media_error == "This image is larger than 5 MB. Choose a smaller one."
    asyncio.run(run(state.remove_picture("avatar")))
    assert media.avatar_url == ""

    state.open_delete()
    yielded = asyncio.run(collect(state.delete_account({"password": "not it at all"})))
    assert state.delete_error == "This password is not right. Try again." and SessionState.sign_out not in yielded
    assert state.delete_busy is False and state.delete_open is True
    yielded = asyncio.run(collect(state.delete_account({"password": PW})))
    assert state.delete_error == "" and yielded[-1] == SessionState.sign_out
    with read_session(engine) as s:
        assert s.get(Account, ids["member"]).deleted_at is not None
    assert substate(root, SessionState)._current_actor() is None


def profile_date(text: str) -> str:
    """The consent date reads like "23 Nov 2026"."""
    import re

    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}", text), text
    return text


def test_typed_text_loses_control_characters_everywhere():
    """Found by Hypothesis: a first name of NUL was stored on SQLite (PostgreSQL refused it). One
    rule, domain.text, for names, subjects, reasons, notes and reviews."""
    from loyalty_app.domain.text import lines, one_line

    assert one_line("\x00Ana  Maria\x1b\n") == "Ana Maria"
    assert one_line("\u202eanA") == "anA"  # no right-to-left override
    assert one_line("می\u200cخواهم") == "می\u200cخواهم"  # ZWNJ is spelling in Persian
    assert one_line("\x00") == ""
    assert lines(" Hello\x00\r\n\r\n  second\tline \r") == "Hello\n\nsecond line"
