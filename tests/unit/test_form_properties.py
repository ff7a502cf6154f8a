"""Hostile input into every form, through the Reflex states as the websocket calls them.

The property, for each form: the handler never raises and never falls back to the generic
"Something went wrong" (that is an unexpected exception, our 500); either it does what the input
asked for, or it shows a non-empty translated message and the database is unchanged (row counts of
every business table and the point totals). Who may use a form is tested in
test_authorization_matrix.py; here each form is used by the role it is for.

One database per test (the SQLite template copy of tests/conftest.py); examples run against it
one after the other and compare snapshots, so a change made by a refused input is caught.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from loyalty_app.db import read_session, write_session
from loyalty_app.models import Account, Charity
from loyalty_app.state.session import SessionState
from tests.unit.form_property_support import (
    HOSTILE_AMOUNT,
    HOSTILE_DATE,
    HOSTILE_FILES,
    HOSTILE_TEXT,
    HOSTILE_TZ,
    FakeUpload,
    call,
    forged_codes,
    form_settings,
    refused_cleanly,
    snapshot,
)
from tests.unit.test_states import PW, app_db, cookie_for, root_state, substate  # noqa: F401  (app_db: fixture)

# ------------------------------------------------------------------ fixtures


@dataclass
class World:
    engine: object
    ids: dict
    member_cookie: str
    staff_cookie: str


@pytest.fixture
def world(app_db) -> World:
    engine, ids = app_db
    return World(engine, ids, cookie_for(engine, ids["member"], "cafe"), cookie_for(engine, ids["staff"], "cafe"))


def credit_member(world: World, points: int) -> None:
    """Give the member points through the till, as a cashier would."""
    from loyalty_app.pages.staff import TillState

    till = substate(root_state(cookie=world.staff_cookie), TillState)
    till.store_id, till._member_id = str(world.ids["store"]), world.ids["member"]
    call(till.credit({"amount": str(points), "receipt": f"setup-{uuid.uuid4().hex}"}))
    assert till.error == "", till.error


# ------------------------------------------------------------------ the till (staff at their store)


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_till_credit_amounts_and_receipts(world):
    from loyalty_app.pages.staff import TillState

    @form_settings(120)
    @given(amount=HOSTILE_AMOUNT, receipt=st.one_of(HOSTILE_TEXT, st.uuids().map(str)))
    def check(amount, receipt):
        till = substate(root_state(cookie=world.staff_cookie), TillState)
        till.store_id, till._member_id = str(world.ids["store"]), world.ids["member"]
        before = snapshot(world.engine)
        call(till.credit({"amount": amount, "receipt": receipt}))
        after = snapshot(world.engine)
        if till.error:
            assert refused_cleanly(till.error), (amount, receipt, till.error)
            assert after == before, (amount, receipt, till.error)
            return
        assert till.result, (amount, receipt)
        gained = after["ledger points"] - before["ledger points"]
        if till.result.startswith("Already credited"):
            assert gained == 0
        else:
            shown = int(re.sub(r"\D", "", till.result.split(" ", 1)[0]))  # "+5,640 points (...)"
            assert shown == gained >= 0, (amount, till.result, gained)  # a few cents may earn 0, and say so

    check()


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_till_scan_codes(world):
    from loyalty_app.pages.staff import TillState

    real = world.ids["member_number"]

    @form_settings(120)
    @given(code=forged_codes(real))
    def check(code):
        till = substate(root_state(cookie=world.staff_cookie), TillState)
        till.store_id = str(world.ids["store"])
        before = snapshot(world.engine)
        call(till.scan({"code": code}))
        assert snapshot(world.engine) == before
        if till.error:
            assert refused_cleanly(till.error), (code, till.error)
            assert till.member_name == "" and till._member_id == 0
        else:
            # found: it must be our member of this merchant (never the other merchant's "Bo")
            assert till._member_id == world.ids["member"] and till.member_name == "Ana", code

    check()


# ------------------------------------------------------------------ giving points (member)


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_donation_amounts(world):
    from loyalty_app.pages.donate import DonateState

    with write_session(world.engine) as s:
        charity = Charity(merchant_id=world.ids["cafe"], key="trees", name="Trees")
        s.add(charity)
        s.flush()
        charity_id = charity.id
    credit_member(world, 500)

    @form_settings(80)
    @given(
        amount=st.one_of(HOSTILE_AMOUNT, st.just("other")),
        custom=HOSTILE_AMOUNT,
        charity=st.one_of(
            st.just(str(charity_id)), st.sampled_from(["", "0", "999999", "-1", f"{charity_id}.0", "١"]), HOSTILE_TEXT
        ),
    )
    def check(amount, custom, charity):
        root = root_state(page="donate", cookie=world.member_cookie)
        call(substate(root, SessionState).guard_member_page())  # the page's on_load: who is here
        donate = substate(root, DonateState)
        before = snapshot(world.engine)
        call(donate.review({"charity": charity, "amount": amount, "custom": custom}))
        assert snapshot(world.engine) == before  # reviewing never gives
        if donate.step != "confirm":
            assert refused_cleanly(donate.error), (amount, custom, charity, donate.error)
            return
        assert donate.error == "" and 0 < donate.points <= before["available"]
        call(donate.confirm())
        after = snapshot(world.engine)
        if donate.error:
            assert refused_cleanly(donate.error) and after == before, donate.error
        else:
            assert before["available"] - after["available"] == donate.points, (amount, custom)

    check()


# ------------------------------------------------------------------ profile (member)


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_profile_text_dates_and_time_zones(world):
    from loyalty_app.pages.profile import ProfileState

    @form_settings(120)
    @given(first=HOSTILE_TEXT, last=HOSTILE_TEXT, birthday=HOSTILE_DATE, tz=HOSTILE_TZ)
    def check(first, last, birthday, tz):
        with read_session(world.engine) as s:
            stored_before = s.get(Account, world.ids["member"]).model_dump()
        profile = substate(root_state(page="profile", cookie=world.member_cookie), ProfileState)
        call(profile.save({"first_name": first, "last_name": last, "birthday": birthday, "timezone": tz}))
        with read_session(world.engine) as s:
            stored = s.get(Account, world.ids["member"]).model_dump()
        if profile.error:
            assert refused_cleanly(profile.error), (first, last, birthday, tz, profile.error)
            assert stored == stored_before
            return
        assert profile.notice == "Saved"
        # what was stored is what was typed (trimmed), never a control character
        assert stored["first_name"] == profile.first_name and stored["first_name"].strip() == stored["first_name"]
        assert first.strip() == stored["first_name"] or "\x00" not in stored["first_name"]
        assert "\x00" not in stored["first_name"] + stored["last_name"] + (stored["timezone"] or "")
        if birthday.strip():
            assert stored["birthday"] is not None and stored["birthday"].isoformat() == birthday.strip()
        from zoneinfo import ZoneInfo

        ZoneInfo(stored["timezone"])  # a real zone, or the save would have been refused

    check()


# ------------------------------------------------------------------ pictures (member)


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_profile_picture_uploads(world):
    from loyalty_app.pages.profile import ProfileState

    @form_settings(60)
    @given(
        data=HOSTILE_FILES,
        name=st.one_of(
            st.sampled_from(["a.png", "a.jpg", "a.exe", "a.png.exe", "", "..\\..\\a.png", "a" * 500 + ".png", "\x00.png"]),
            HOSTILE_TEXT,
        ),
        kind=st.sampled_from(["avatar", "background"]),
    )
    def check(data, name, kind):
        profile = substate(root_state(page="profile", cookie=world.member_cookie), ProfileState)
        with read_session(world.engine) as s:
            account_before = s.get(Account, world.ids["member"]).model_dump()
        before = snapshot(world.engine)
        upload = FakeUpload(name=name, file=io.BytesIO(data))
        call((profile.upload_avatar if kind == "avatar" else profile.upload_background)([upload]))
        with read_session(world.engine) as s:
            account_after = s.get(Account, world.ids["member"]).model_dump()
        if profile.media_error:
            assert refused_cleanly(profile.media_error), (data[:40], name, profile.media_error)
            assert snapshot(world.engine) == before and account_after == account_before
            return
        assert profile.media_notice, (data[:40], name)
        assert account_after[f"{kind}_id"] is not None
        Image.open(io.BytesIO(data)).verify()  # only real pictures are accepted

    check()


# ------------------------------------------------------------------ messages, event codes, links (member)


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_inbox_new_message(world):
    from loyalty_app.pages.inbox import InboxState

    @form_settings(60)
    @given(
        subject=HOSTILE_TEXT,
        body=HOSTILE_TEXT,
        store=st.one_of(st.just(""), HOSTILE_AMOUNT),
        voucher=st.one_of(st.just(""), HOSTILE_AMOUNT),
        topic=st.one_of(st.just("other"), HOSTILE_TEXT),
    )
    def check(subject, body, store, voucher, topic):
        inbox = substate(root_state(page="inbox", cookie=world.member_cookie), InboxState)
        inbox.choose_topic(topic)
        before = snapshot(world.engine)
        call(inbox.send({"subject": subject, "body": body, "store_id": store, "voucher_id": voucher}))
        after = snapshot(world.engine)
        if inbox.error:
            assert refused_cleanly(inbox.error), (subject[:30], body[:30], store, voucher, inbox.error)
            assert after == before
        else:
            assert after["inboxthread"] == before["inboxthread"] + 1

    check()


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_event_codes_and_social_links(world):
    from loyalty_app.pages.challenges import ChallengesState

    @form_settings(60)
    @given(
        code=forged_codes("SUMMER-2024"),
        url=st.one_of(
            HOSTILE_TEXT,
            st.sampled_from(
                [
                    "javascript:alert(1)",
                    "http://",
                    "https://instagram.com/p/" + "a" * 3000,
                    "file:///etc/passwd",
                    "https://exa\x00mple.com",
                    "https://xn--80ak6aa92e.com/p/1",
                    "https://instagram.com/p/abc",
                ]
            ),
        ),
    )
    def check(code, url):
        challenges = substate(root_state(page="challenges", cookie=world.member_cookie), ChallengesState)
        for submit, form in ((challenges.submit_event_code, {"code": code}), (challenges.submit_social, {"url": url})):
            before = snapshot(world.engine)
            call(submit(form))
            after = snapshot(world.engine)
            if challenges.err_text:
                assert refused_cleanly(challenges.err_text), (form, challenges.err_text)
                assert after == before, form
            else:
                assert challenges.notice_title and after != before, form

    check()


# ------------------------------------------------------------------ joining (anyone)


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_sign_up_form(world):
    from loyalty_app.state.auth import AuthFormState

    @form_settings(25)  # every accepted sign-up hashes a password (argon2id, 19 MiB)
    @given(
        email=st.one_of(
            st.emails().map(str),
            HOSTILE_TEXT,
            st.sampled_from(["m@x.test", "M@X.TEST", " m@x.test ", "a@b", "a" * 300 + "@x.test"]),
        ),
        password=st.one_of(st.just(PW), HOSTILE_TEXT, st.just("p" * 2000)),
        first=HOSTILE_TEXT,
    )
    def check(email, password, first):
        auth = substate(root_state(page="signup"), AuthFormState)
        before = snapshot(world.engine)
        call(auth.sign_up({"email": email, "password": password, "first_name": first, "terms": "on"}))
        after = snapshot(world.engine)
        error = getattr(auth, "error", "")
        if error:
            assert refused_cleanly(error), (email, password[:20], first[:20], error)
            assert after == before
        else:
            assert after["account"] == before["account"] + 1, (email, first)

    check()
