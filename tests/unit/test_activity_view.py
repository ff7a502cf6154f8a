"""The member's activity, giving and invite reads (services/member_app/activity.py, services/earning/referrals
.member_referrals): filters and keyset paging in SQL, reasons translated, pending and expiring
points, donations checked and given once, referrals listed — and only ever the actor's own data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.domain.ledger import EntryKind
from loyalty_app.i18n import translate
from loyalty_app.models import Account, Donation, LedgerEntry, Role
from loyalty_app.services import ledger
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.earning import referrals
from loyalty_app.services.member_app import activity
from loyalty_app.services.platform.permissions import Actor
from tests.engine.test_rules_support import T0, make_program
from tests.unit.test_states import app_db  # noqa: F401  (fixture: the app's states on a test database)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def member(p, i: int = 0) -> Actor:
    return Actor(account_id=p.member_ids[i], merchant_id=p.merchant_id, role=Role.MEMBER)


def buy(engine, p, i, cents, receipt, now=T0):
    return earning.credit_purchase(
        engine,
        merchant_id=p.merchant_id,
        account_id=p.member_ids[i],
        store_id=p.store_ids[0],
        amount_cents=cents,
        receipt=receipt,
        now=now,
    )


@pytest.fixture
def history(db_engine):
    """Member 0: purchases, a redemption, a donation, a staff correction each way, an undone
    purchase, expired points and points still pending. Member 1: a purchase of their own."""
    p = make_program(db_engine, members=3, expiry_policy="after_days", expiry_days=30)
    mid, a = p.merchant_id, p.member_ids[0]
    buy(db_engine, p, 0, 30000, "r1", T0)  # earn 300 (expires T0+30d)
    buy(db_engine, p, 1, 4200, "other-1", T0)  # another member's
    later = T0 + timedelta(days=40)
    with write_session(db_engine) as s:
        ledger.expire_due(s, merchant_id=mid, now=later)  # the 300 expire
    big = buy(db_engine, p, 0, 50000, "r2", later)  # earn 500 (or more: tier multiplier)
    with write_session(db_engine) as s:
        ledger.debit(
            s,
            merchant_id=mid,
            account_id=a,
            points=100,
            idempotency_key="redeem-1",
            reason="Redeemed: {reward}",
            reason_params={"reward": "Free coffee"},
            now=later + timedelta(minutes=1),
        )
        ledger.adjust(
            s,
            merchant_id=mid,
            account_id=a,
            points=15,
            reason="Goodwill: {note}",
            reason_params={"note": {"msgid": "Redeemed: {reward}", "params": {"reward": "Mug"}}},
            author_id=p.staff_id,
            idempotency_key="adj-plus",
            now=later + timedelta(minutes=2),
        )
        ledger.adjust(
            s,
            merchant_id=mid,
            account_id=a,
            points=-5,
            reason="Correction",
            author_id=p.staff_id,
            idempotency_key="adj-minus",
            now=later + timedelta(minutes=3),
        )
    activity.give(
        db_engine,
        member(p),
        charity_id=p.charity_ids["trees"],
        points=20,
        idempotency_key="gift-1",
        now=later + timedelta(minutes=4),
    )
    undone = buy(db_engine, p, 0, 4000, "r3", later + timedelta(minutes=5))
    with write_session(db_engine) as s:
        ledger.reverse(
            s,
            merchant_id=mid,
            entry_id=undone.entry_id,
            idempotency_key="undo-r2",
            reason="Purchase undone at the till",
            now=later + timedelta(minutes=5),
        )
        ledger.credit(
            s,
            merchant_id=mid,
            account_id=a,
            points=70,
            idempotency_key="pending-1",
            reason="Wrote a review",
            pending_days=5,
            now=later + timedelta(minutes=6),
        )
    return p, later, big.points, undone.points


def kinds_and_points(page):
    return [(r.kind, r.points) for r in page.rows]


def test_filters_select_in_sql_by_kind_and_sign(db_engine, history):
    p, _later, big, small = history
    me = member(p)
    every = activity.history_page(db_engine, me, limit=50)
    assert [r.entry_id for r in every.rows] == sorted((r.entry_id for r in every.rows), reverse=True)  # newest first
    assert {r.kind for r in every.rows} == {"earn", "expire", "redeem", "adjustment", "donate", "reversal"}
    earned = kinds_and_points(activity.history_page(db_engine, me, filter="earned"))
    assert sorted(earned) == sorted([("earn", 70), ("adjustment", 15), ("earn", small), ("earn", big), ("earn", 300)])
    spent = kinds_and_points(activity.history_page(db_engine, me, filter="spent"))
    assert sorted(spent) == sorted([("reversal", -small), ("adjustment", -5), ("redeem", -100)])
    assert kinds_and_points(activity.history_page(db_engine, me, filter="expired")) == [("expire", -300)]
    assert kinds_and_points(activity.history_page(db_engine, me, filter="donated")) == [("donate", -20)]
    directions = {(r.kind, r.direction) for r in every.rows}
    assert ("earn", "in") in directions and ("redeem", "out") in directions and ("expire", "out") in directions
    with pytest.raises(LoyaltyError) as err:
        activity.history_page(db_engine, me, filter="everything; drop table")
    assert err.value.code == "invalid_filter"


def test_filter_and_limit_run_in_the_query_not_in_python(db_engine, history):
    p = history[0]
    statements = []

    def record(_conn, _cursor, statement, params, _context, _many):
        if "FROM ledgerentry" in statement:
            statements.append((statement, params))

    event.listen(db_engine, "before_cursor_execute", record)
    try:
        activity.history_page(db_engine, member(p), filter="donated", limit=3)
    finally:
        event.remove(db_engine, "before_cursor_execute", record)
    sql, params = statements[-1]
    assert "LIMIT" in sql.upper() and "ledgerentry.kind" in sql
    assert "donate" in str(params) and 4 in (params.values() if isinstance(params, dict) else params)  # limit + 1


def test_keyset_paging_show_more(db_engine):
    p = make_program(db_engine, members=2)
    for i in range(25):
        buy(db_engine, p, 0, 1000 + i * 100, f"r{i}", T0 + timedelta(hours=i))
    me = member(p)
    seen, before, pages = [], None, 0
    while True:
        page = activity.history_page(db_engine, me, before_id=before, limit=10)
        pages += 1
        seen += [r.entry_id for r in page.rows]
        if page.next_before_id is None:
            break
        assert page.next_before_id == page.rows[-1].entry_id
        before = page.next_before_id
    assert pages == 3 and len(seen) == 25 and len(set(seen)) == 25
    assert seen == sorted(seen, reverse=True)
    # An exact multiple: the last full page says there is no more.
    page = activity.history_page(db_engine, me, before_id=seen[14], limit=10)
    assert len(page.rows) == 10 and page.next_before_id is None
    with pytest.raises(LoyaltyError):
        activity.history_page(db_engine, me, before_id="5")  # type: ignore[arg-type]


def test_entries_recorded_late_read_in_time_order_and_page_without_gaps(db_engine):
    """Replayed or imported history gets ids out of time order: the list follows the time."""
    p = make_program(db_engine, members=2)
    for i, hours in enumerate([5, 1, 9, 3, 7, 2, 8, 0, 6, 4]):  # inserted in this (shuffled) order
        buy(db_engine, p, 0, 1000 + i, f"late{i}", T0 + timedelta(hours=hours))
    buy(db_engine, p, 0, 999, "same-time", T0 + timedelta(hours=4))  # a tie on created_at: id decides
    me = member(p)
    seen, before = [], None
    while True:
        page = activity.history_page(db_engine, me, before_id=before, limit=3)
        seen += page.rows
        if page.next_before_id is None:
            break
        before = page.next_before_id
    assert len(seen) == 11 and len({r.entry_id for r in seen}) == 11
    assert [r.at for r in seen] == sorted((r.at for r in seen), reverse=True)
    ties = [r.entry_id for r in seen if r.at == T0 + timedelta(hours=4)]
    assert ties == sorted(ties, reverse=True) and len(ties) == 2
    # Another member's entry id as the cursor: an empty page, nothing of theirs.
    theirs = buy(db_engine, p, 1, 5000, "theirs", T0)
    assert activity.history_page(db_engine, me, before_id=theirs.entry_id).rows == []


def test_row_topics_pick_the_icon(db_engine, history):
    p = history[0]
    rows = activity.history_page(db_engine, member(p), limit=50).rows
    topics = {(r.kind, r.topic) for r in rows}
    assert ("earn", "purchase") in topics and ("donate", "donate") in topics and ("expire", "expire") in topics
    assert activity.topic("earn", {"challenge": "visit-3"}) == "challenge"
    assert activity.topic("earn", {"referral_id": 4}) == "friend"
    assert activity.topic("earn", {"action": "check_in"}) == "visit"
    assert activity.topic("earn", None) == "earn"


def test_reasons_translated_with_params_and_nested_params(db_engine, history):
    p = history[0]
    me = member(p)
    es = activity.history_page(db_engine, me, filter="all", lang="es", limit=50)
    en = activity.history_page(db_engine, me, filter="all", lang="en", limit=50)
    by_kind_es = {r.kind: r.reason for r in es.rows}
    assert by_kind_es["donate"] == "Donación a Plant trees"
    assert by_kind_es["expire"] == translate("es", "Points expired.") != "Points expired."
    assert "Canjeado: Free coffee" in [r.reason for r in es.rows]
    purchase_en = [r.reason for r in en.rows if r.kind == "earn" and r.reason.startswith("Purchase")]
    assert "Purchase 500.00 EUR × 1 pt/EUR" in purchase_en and not any("{" in r for r in purchase_en)
    assert "Purchase 40.00 EUR × 1 pt/EUR, ×1.5 Silver" in purchase_en  # the multipliers parameter
    # A parameter that is itself a reason is translated too; an untranslated msgid stays English.
    assert "Goodwill: Canjeado: Mug" in [r.reason for r in es.rows]
    # Stored parameters that clash with translate()'s own arguments do not break the row.
    assert activity.reason_text("es", "Hi {lang}", {"lang": "x", "msgid": "y"}) == "Hi x"
    assert activity.reason_text("en", "Missing {thing}", {}) == "Missing {thing}"


def test_pending_and_expiring_points(db_engine, history):
    p, later = history[:2]
    outlook = activity.points_outlook(db_engine, member(p), now=later + timedelta(minutes=10))
    assert outlook.pending == 70 and [pts for _, pts in outlook.pending_lots] == [70]
    when, _ = outlook.pending_lots[0]
    assert timedelta(days=4, hours=23) < when - later < timedelta(days=5, hours=1)
    assert outlook.timezone == "Europe/Bucharest"  # the account has no zone of its own: the shop's
    # 500 earned at `later` (reversed: nothing left), 15 adjustment lot: expiring within 30 days?
    soon = activity.points_outlook(db_engine, member(p), now=later + timedelta(days=25))
    assert soon.expiring and soon.expiring_total == sum(pts for _, pts in soon.expiring)
    assert all(later < when <= later + timedelta(days=55) for when, _ in soon.expiring)


def test_member_timezone_prefers_the_members_own_choice(db_engine, history):
    p = history[0]
    with write_session(db_engine) as s:
        s.get(Account, p.member_ids[0]).timezone = "America/New_York"
    assert activity.history_page(db_engine, member(p)).timezone == "America/New_York"


def test_only_the_members_own_data(db_engine, history):
    p = history[0]
    mine = activity.history_page(db_engine, member(p), limit=100)
    with read_session(db_engine) as s:
        others = set(s.exec(select(LedgerEntry.id).where(LedgerEntry.account_id != p.member_ids[0])).all())
    assert others and not others & {r.entry_id for r in mine.rows}
    theirs = activity.history_page(db_engine, member(p, 1), limit=100)
    assert [r.kind for r in theirs.rows] == ["expire", "earn"]  # their purchase, expired after 30 days
    assert {r.entry_id for r in theirs.rows} <= others
    # Anonymous, staff, and a member of another program acting here are refused (and logged).
    staff = Actor(account_id=p.staff_id, merchant_id=p.merchant_id, role=Role.STAFF, store_ids=frozenset(p.store_ids))
    for actor in (None, staff):
        with pytest.raises(NotAllowed):
            activity.history_page(db_engine, actor)
        with pytest.raises(NotAllowed):
            activity.points_outlook(db_engine, actor)
        with pytest.raises(NotAllowed):
            activity.giving_screen(db_engine, actor)
        with pytest.raises(NotAllowed):
            referrals.member_referrals(db_engine, actor)
    other = make_program(db_engine, "books", members=1)
    stranger = Actor(account_id=p.member_ids[0], merchant_id=other.merchant_id, role=Role.MEMBER)  # forged pairing
    with pytest.raises(NotFound):
        activity.history_page(db_engine, stranger)


def test_giving_checks_then_gives_once(db_engine):
    p = make_program(db_engine, members=2)
    buy(db_engine, p, 0, 80000, "big")  # 800 points
    me, trees = member(p), p.charity_ids["trees"]
    screen = activity.giving_screen(db_engine, me, now=T0)
    assert (screen.available, screen.daily_limit, screen.remaining_today, screen.member_total) == (800, 500, 500, 0)
    assert [c.name for c in screen.charities] == ["Plant trees"] and screen.amounts == (100, 250, 500)
    for raw, code in [
        ("abc", "invalid_points"),
        ("", "invalid_points"),
        ("0", "invalid_points"),
        ("-5", "invalid_points"),
        ("2.5", "invalid_points"),
        (True, "invalid_points"),
        ("600", "donation_limit"),
    ]:
        with pytest.raises(LoyaltyError) as err:
            activity.preview_gift(db_engine, me, charity_id=trees, points=raw, now=T0)
        assert err.value.code == code, raw
    with pytest.raises(NotFound):
        activity.preview_gift(db_engine, me, charity_id=999999, points=100, now=T0)
    preview = activity.preview_gift(db_engine, me, charity_id=trees, points=" 250 ", now=T0)
    assert (preview.charity_name, preview.points, preview.balance_after) == ("Plant trees", 250, 550)
    first = activity.give(db_engine, me, charity_id=trees, points=250, idempotency_key="k1", now=T0)
    again = activity.give(db_engine, me, charity_id=trees, points=250, idempotency_key="k1", now=T0 + timedelta(seconds=1))
    assert not first.replayed and again.replayed
    assert (first.available, first.member_total, first.charity_total, first.charity_donors) == (550, 250, 250, 1)
    with read_session(db_engine) as s:
        assert s.exec(select(func.count()).select_from(Donation)).one() == 1
    # Over today's cap, and more than the balance (another day), are refused with clear messages.
    with pytest.raises(LoyaltyError) as err:
        activity.preview_gift(db_engine, me, charity_id=trees, points=300, now=T0)
    assert err.value.code == "donation_limit" and err.value.params == {"remaining": 250}
    assert "250" in translate("en", err.value.message, **err.value.params)
    with pytest.raises(LoyaltyError) as err:
        activity.give(db_engine, me, charity_id=trees, points=300, idempotency_key="k2", now=T0)
    assert err.value.code == "donation_limit"
    tomorrow = T0 + timedelta(days=1)
    with pytest.raises(LoyaltyError) as err:
        activity.preview_gift(db_engine, me, charity_id=trees, points=551, now=tomorrow)
    assert err.value.code == "insufficient_points"
    # Member 1's key "k1" is their own: it does not replay member 0's gift.
    buy(db_engine, p, 1, 20000, "b1")
    theirs = activity.give(db_engine, member(p, 1), charity_id=trees, points=100, idempotency_key="k1", now=tomorrow)
    assert not theirs.replayed and theirs.member_total == 100 and theirs.charity_total == 350 and theirs.charity_donors == 2
    assert activity.giving_screen(db_engine, me, now=tomorrow).member_total == 250


def test_referral_list_for_the_member_only(db_engine):
    p = make_program(db_engine, members=4, referral_referee_points=50, referral_referrer_points=100)
    a, b, c, _d = p.member_ids
    with write_session(db_engine) as s:
        s.get(Account, b).first_name, s.get(Account, b).last_name = "Sofía", "García"
    code = referrals.referral_code_for(db_engine, merchant_id=p.merchant_id, account_id=a)
    referrals.register_referral(db_engine, merchant_id=p.merchant_id, referee_account_id=b, code=code, now=T0)
    referrals.register_referral(
        db_engine, merchant_id=p.merchant_id, referee_account_id=c, code=code, now=T0 + timedelta(hours=1)
    )
    buy(db_engine, p, 1, 1000, "b-first", T0 + timedelta(days=1))  # b's first purchase: a's bonus
    mine = referrals.member_referrals(db_engine, member(p, 0))
    assert mine.code == code and mine.friend_points == 50
    assert [(r.friend_name, r.status) for r in mine.referrals] == [("First2 L.", "joined"), ("Sofía G.", "bonus_paid")]
    assert mine.referrals[1].bonus_points == 100 and mine.referrals[0].bonus_points == 0
    # b sees their own (new) code and nobody they invited; a's friends are not b's business.
    theirs = referrals.member_referrals(db_engine, member(p, 1))
    assert theirs.referrals == [] and theirs.code != code
    link = referrals.referral_link("cafe", code, origin="https://shop.example/")
    assert link == f"https://shop.example/m/cafe/signup?ref={code}"


def test_kind_values_cover_every_entry_kind():
    """Every ledger kind lands in "all" and at most one other filter (by kind and sign)."""
    assert set(activity.FILTERS) == {"all", "earned", "spent", "expired", "donated"}
    assert {k.value for k in EntryKind} == {"earn", "release", "redeem", "expire", "donate", "reversal", "adjustment"}
    assert activity.direction("release", 40) == "info"
    assert activity.direction("reversal", -40) == "out" and activity.direction("reversal", 40) == "in"


# --- the page states, driven as the websocket would (session cookie re-checked per event) -------


def _member_states(app_db, *classes):
    import asyncio

    from loyalty_app.state.session import SessionState
    from tests.unit.test_states import cookie_for, root_state, substate

    engine, ids = app_db
    root = root_state(page="activity", cookie=cookie_for(engine, ids["member"], "cafe"))
    session = substate(root, SessionState)
    session._load_merchant()
    session._apply_identity(session._current_actor())
    assert session.role == "member"
    return asyncio, [substate(root, cls) for cls in classes]


def test_donate_state_confirms_once_and_shows_errors(app_db):
    from loyalty_app.pages.donate import DonateState
    from loyalty_app.services.program import program_admin
    from tests.unit.test_states import run

    engine, ids = app_db
    with write_session(engine) as s:
        charity = program_admin.upsert_charity(s, ids["cafe"], "food", name="City Food Bank", description="Meals.")
        ledger.credit(s, merchant_id=ids["cafe"], account_id=ids["member"], points=300, idempotency_key="seed", reason="Welcome")
    asyncio, (state,) = _member_states(app_db, DonateState)
    asyncio.run(run(state.load()))
    assert state.available == 300 and state.charities[0]["name"] == "City Food Bank" and state.step == "choose"

    asyncio.run(run(state.review({"charity": str(charity.id), "amount": "other", "custom": "lots"})))
    assert state.step == "choose" and state.error == "Enter a whole number of points."
    asyncio.run(run(state.review({"charity": str(charity.id), "amount": "500"})))
    assert state.error == "Not enough points: you have 300, this needs 500."
    asyncio.run(run(state.review({"amount": "100"})))
    assert state.error == "Choose a charity."

    asyncio.run(run(state.review({"charity": str(charity.id), "amount": "100"})))
    assert (state.step, state.error, state.charity_name, state.points, state.balance_after) == (
        "confirm",
        "",
        "City Food Bank",
        100,
        200,
    )
    key = state._key
    asyncio.run(run(state.confirm()))
    asyncio.run(run(state.confirm()))  # the second tap of a double tap
    assert state.step == "thanks" and state.available == 200 and state.member_total == 100 and state.charity_total == 100
    # Even if the same confirmation reached the server again, its key gives the first answer.
    state.step, state._key = "confirm", key
    asyncio.run(run(state.confirm()))
    with read_session(engine) as s:
        assert s.exec(select(func.count()).select_from(Donation)).one() == 1
        assert ledger.get_balance(s, merchant_id=ids["cafe"], account_id=ids["member"]).available == 200


def test_activity_state_filters_and_pages(app_db):
    from loyalty_app.pages.activity import ActivityState
    from tests.unit.test_states import run

    engine, ids = app_db
    with write_session(engine) as s:
        for i in range(23):
            ledger.credit(
                s,
                merchant_id=ids["cafe"],
                account_id=ids["member"],
                points=10 + i,
                idempotency_key=f"e{i}",
                reason="Challenge completed: {challenge}",
                reason_params={"challenge": f"C{i}"},
            )
        ledger.debit(
            s,
            merchant_id=ids["cafe"],
            account_id=ids["member"],
            points=5,
            idempotency_key="r1",
            reason="Redeemed: {reward}",
            reason_params={"reward": "Tea"},
        )
    asyncio, (state,) = _member_states(app_db, ActivityState)
    asyncio.run(run(state.load()))
    assert state.loaded and state.filter == "all" and len(state.items) == 20 and state.has_more
    assert state.items[0]["reason"] == "Redeemed: Tea" and state.items[0]["points"] == "\u22125"
    assert state.items[1]["points"] == "+32" and state.items[0]["new_day"] == "1" and state.items[1]["new_day"] == ""
    assert state.items[0]["day"] == "Today"
    asyncio.run(run(state.more()))
    assert len(state.items) == 24 and not state.has_more and len({i["id"] for i in state.items}) == 24
    asyncio.run(run(state.choose("spent")))
    assert [i["reason"] for i in state.items] == ["Redeemed: Tea"] and not state.has_more
    asyncio.run(run(state.choose("nonsense")))
    assert state.filter == "spent"


@pytest.mark.parametrize("typed, points", [("250", 250), (" 1 000 ", 1000), ("1\u00a0000", 1000)])
def test_a_typed_gift_amount_reads_as_whole_points(typed, points):
    assert activity.parse_points(typed) == points


@pytest.mark.parametrize("typed", ["--3", "-", "+3", "3.5", "1e3", "١٢", "", "1" * 13, "0", "-3"])
def test_a_bad_gift_amount_is_a_clear_refusal_not_a_crash(typed):
    """Found by Hypothesis: "--3" passed the old check and crashed int() ("Something went wrong")."""
    with pytest.raises(LoyaltyError) as refused:
        activity.parse_points(typed)
    assert refused.value.code == "invalid_points"
