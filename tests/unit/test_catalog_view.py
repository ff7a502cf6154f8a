"""The member's rewards screens through services.catalog.catalog_view, on SQLite and PostgreSQL: the
catalog (lock / afford / stock state, sort, filter), a reward's detail (ratings, reviews, own
rating), vouchers (own only: another member's is NotFound), and ratings (once per reward,
editable, first one earns points)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from loyalty_app.db import write_session
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.models import Reward, Role
from loyalty_app.services.catalog import catalog_view, rewards
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program import program_admin as admin
from tests.engine.test_rules_support import T0, make_program


@pytest.fixture
def program(db_engine):
    return make_program(db_engine)


def member(p, i: int = 0) -> Actor:
    return Actor(account_id=p.member_ids[i], merchant_id=p.merchant_id, role=Role.MEMBER)


def buy(engine, p, i: int = 0, cents: int = 30000, receipt: str = "r"):
    earning.credit_purchase(
        engine,
        merchant_id=p.merchant_id,
        account_id=p.member_ids[i],
        store_id=p.store_ids[0],
        amount_cents=cents,
        receipt=f"{receipt}-{i}",
        now=T0,
    )


def by_name(items):
    return {i.name: i for i in items}


def test_catalog_states_sort_and_filter(db_engine, program):
    p = program
    empty = catalog_view.member_catalog(db_engine, member(p), now=T0)
    assert empty.available_points == 0 and empty.total == 3
    items = by_name(empty.items)
    assert items["VIP evening"].status == "tier_locked" and items["VIP evening"].tier_name == "Gold"
    assert items["Free coffee"].status == "insufficient_points" and items["Free coffee"].missing_points == 100
    assert not any(i.redeemable for i in empty.items)
    assert catalog_view.member_catalog(db_engine, member(p), filter="affordable", now=T0).items == []

    buy(db_engine, p, cents=30000)  # 300 points
    listing = catalog_view.member_catalog(db_engine, member(p), now=T0)
    assert [i.name for i in listing.items] == ["VIP evening", "Mug", "Free coffee"]  # cheapest first
    assert listing.available_points == 300
    items = by_name(listing.items)
    assert items["Free coffee"].redeemable and items["Free coffee"].affordable and items["Free coffee"].missing_points == 0
    assert items["VIP evening"].affordable and not items["VIP evening"].redeemable  # points are not the lock
    assert items["Mug"].stock == 1
    affordable = catalog_view.member_catalog(db_engine, member(p), filter="affordable", now=T0)
    assert [i.name for i in affordable.items] == ["Mug", "Free coffee"] and affordable.total == 3

    newest = catalog_view.member_catalog(db_engine, member(p), sort="newest", now=T0)
    assert [i.reward_id for i in newest.items] == sorted((i.reward_id for i in newest.items), reverse=True)

    # Ratings order the "top rated" view; unrated rewards come last.
    buy(db_engine, p, i=1, cents=30000)
    for i, stars in ((0, 2), (1, 4)):
        catalog_view.redeem(db_engine, member(p, i), reward_id=p.reward_ids["coffee"], idempotency_key=f"c{i}", now=T0)
        catalog_view.rate(db_engine, member(p, i), reward_id=p.reward_ids["coffee"], stars=stars, now=T0)
    catalog_view.redeem(db_engine, member(p, 0), reward_id=p.reward_ids["mug"], idempotency_key="m0", now=T0)
    catalog_view.rate(db_engine, member(p, 0), reward_id=p.reward_ids["mug"], stars=5, now=T0)
    rated = catalog_view.member_catalog(db_engine, member(p), sort="rating", now=T0)
    assert [(i.name, i.rating, i.rating_count) for i in rated.items] == [
        ("Mug", 5.0, 1),
        ("Free coffee", 3.0, 2),
        ("VIP evening", None, 0),
    ]
    assert rated.active_vouchers == 2

    # The mug's only item is gone: out of stock for member 1, limit for member 0 (1 per member).
    other = by_name(catalog_view.member_catalog(db_engine, member(p, 1), now=T0).items)
    assert other["Mug"].status == "out_of_stock"
    with write_session(db_engine) as s:
        admin.upsert_reward(s, p.merchant_id, "mug", name="Mug", kind="free_product", cost_points=50, stock=5, per_member_limit=1)
    assert by_name(catalog_view.member_catalog(db_engine, member(p), now=T0).items)["Mug"].status == "limit_reached"

    with pytest.raises(LoyaltyError) as err:
        catalog_view.member_catalog(db_engine, member(p), sort="random", now=T0)
    assert err.value.code == "invalid_sort"


def test_catalog_hides_ended_and_inactive_rewards_and_shows_upcoming(db_engine, program):
    p = program
    with write_session(db_engine) as s:
        admin.upsert_reward(
            s, p.merchant_id, "old", name="Old", kind="discount", cost_points=10, valid_until=T0 - timedelta(days=1)
        )
        admin.upsert_reward(s, p.merchant_id, "off", name="Off", kind="discount", cost_points=10, is_active=False)
        admin.upsert_reward(
            s, p.merchant_id, "soon", name="Soon", kind="discount", cost_points=10, valid_from=T0 + timedelta(days=3)
        )
    items = by_name(catalog_view.member_catalog(db_engine, member(p), now=T0).items)
    assert "Old" not in items and "Off" not in items
    assert items["Soon"].status == "not_yet"
    with write_session(db_engine) as s:
        off_id = s.exec(select(Reward.id).where(Reward.merchant_id == p.merchant_id, Reward.key == "off")).one()
    with pytest.raises(NotFound):  # switched off and never redeemed: as if unknown
        catalog_view.reward_detail(db_engine, member(p), off_id, now=T0)


def test_reward_detail_ratings_reviews_and_own_rating(db_engine, program):
    p = program
    coffee = p.reward_ids["coffee"]
    fresh = catalog_view.reward_detail(db_engine, member(p), coffee, now=T0)
    assert not fresh.can_rate and fresh.my_stars is None and fresh.reviews == []
    assert fresh.distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0} and fresh.voucher_validity_days == 30

    for i in range(3):
        buy(db_engine, p, i=i)
        catalog_view.redeem(db_engine, member(p, i), reward_id=coffee, idempotency_key=f"k{i}", now=T0)
    catalog_view.rate(db_engine, member(p, 0), reward_id=coffee, stars=5, review_text="Great coffee", now=T0)
    catalog_view.rate(db_engine, member(p, 1), reward_id=coffee, stars=4, review_text="", now=T0 + timedelta(minutes=1))
    bad = catalog_view.rate(
        db_engine, member(p, 2), reward_id=coffee, stars=1, review_text="rude words", now=T0 + timedelta(minutes=2)
    )
    rewards.hide_review(db_engine, merchant_id=p.merchant_id, rating_id=bad.rating_id, moderator_id=p.admin_id, now=T0)

    detail = catalog_view.reward_detail(db_engine, member(p, 0), coffee, now=T0)
    assert detail.item.rating == 4.5 and detail.item.rating_count == 2  # the hidden one is left out
    assert detail.distribution == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
    assert [(r.review_text, r.mine) for r in detail.reviews] == [("Great coffee", True)]  # no empty texts, no hidden
    assert detail.can_rate and detail.my_stars == 5 and detail.my_review == "Great coffee" and detail.redeemed_by_me == 1
    assert catalog_view.reward_detail(db_engine, member(p, 2), coffee, now=T0).my_stars == 1  # still theirs to edit


def test_reward_of_another_merchant_is_not_found(db_engine, program):
    p = program
    other = make_program(db_engine, "books")
    with pytest.raises(NotFound):
        catalog_view.reward_detail(db_engine, member(p), other.reward_ids["coffee"], now=T0)
    with pytest.raises(NotFound):
        catalog_view.reward_detail(db_engine, member(p), 999_999, now=T0)
    buy(db_engine, p)
    with pytest.raises(NotFound):
        catalog_view.redeem(db_engine, member(p), reward_id=other.reward_ids["coffee"], idempotency_key="x", now=T0)


def test_vouchers_newest_first_with_status_and_only_ones_own(db_engine, program):
    p = program
    buy(db_engine, p, cents=100000)
    coffee = p.reward_ids["coffee"]
    first = catalog_view.redeem(db_engine, member(p), reward_id=coffee, idempotency_key="a", now=T0)
    used = catalog_view.redeem(db_engine, member(p), reward_id=coffee, idempotency_key="b", now=T0 + timedelta(hours=1))
    cancelled = catalog_view.redeem(db_engine, member(p), reward_id=coffee, idempotency_key="c", now=T0 + timedelta(hours=2))
    again = catalog_view.redeem(db_engine, member(p), reward_id=coffee, idempotency_key="c", now=T0 + timedelta(hours=2))
    assert again.replayed and again.voucher_id == cancelled.voucher_id  # a double tap redeems once
    rewards.use_voucher(
        db_engine,
        merchant_id=p.merchant_id,
        code=used.code,
        store_id=p.store_ids[0],
        staff_account_id=p.staff_id,
        now=T0 + timedelta(hours=3),
    )
    back = catalog_view.cancel(db_engine, member(p), voucher_id=cancelled.voucher_id, now=T0 + timedelta(hours=3))
    assert back.points_returned == 100

    later = first.expires_at + timedelta(seconds=1)  # the first one ran out
    listed = catalog_view.member_vouchers(db_engine, member(p), now=later)
    assert [(v.voucher_id, v.status) for v in listed] == [
        (cancelled.voucher_id, "cancelled"),
        (used.voucher_id, "used"),
        (first.voucher_id, "expired"),
    ]
    now_view = catalog_view.voucher_detail(db_engine, member(p), first.voucher_id, now=T0 + timedelta(hours=4))
    assert now_view.status == "issued" and now_view.cancellable and now_view.code == first.code
    assert now_view.points == 100 and now_view.reward_name == "Free coffee" and now_view.timezone == "Europe/Bucharest"
    assert not catalog_view.voucher_detail(db_engine, member(p), used.voucher_id, now=T0).cancellable

    # Another member (or another merchant's member) asking for it: NotFound, like an unknown id.
    for actor in (
        member(p, 1),
        Actor(account_id=p.member_ids[0], merchant_id=make_program(db_engine, "books").merchant_id, role=Role.MEMBER),
    ):
        with pytest.raises(NotFound):
            catalog_view.voucher_detail(db_engine, actor, first.voucher_id, now=T0)
    with pytest.raises(NotFound):
        catalog_view.cancel(db_engine, member(p, 1), voucher_id=first.voucher_id, now=T0)
    with pytest.raises(NotFound):
        catalog_view.voucher_detail(db_engine, member(p), 999_999, now=T0)
    assert catalog_view.member_vouchers(db_engine, member(p, 1), now=T0) == []


def test_rating_once_per_reward_editable_first_one_earns(db_engine, program):
    p = program
    coffee = p.reward_ids["coffee"]
    with pytest.raises(NotAllowed) as err:
        catalog_view.rate(db_engine, member(p), reward_id=coffee, stars=5, now=T0)
    assert err.value.code == "not_redeemed"
    buy(db_engine, p)
    catalog_view.redeem(db_engine, member(p), reward_id=coffee, idempotency_key="k", now=T0)
    first = catalog_view.rate(db_engine, member(p), reward_id=coffee, stars=2, review_text="Cold", now=T0)
    assert first.created and first.earn is not None and first.earn.points == 5  # the rate_reward rule
    edit = catalog_view.rate(db_engine, member(p), reward_id=coffee, stars=4, review_text="Better today", now=T0)
    assert not edit.created and edit.rating_id == first.rating_id and edit.earn is None
    detail = catalog_view.reward_detail(db_engine, member(p), coffee, now=T0)
    assert (detail.item.rating, detail.item.rating_count, detail.my_stars, detail.my_review) == (4.0, 1, 4, "Better today")
    with pytest.raises(LoyaltyError) as err:
        catalog_view.rate(db_engine, member(p), reward_id=coffee, stars=0, now=T0)
    assert err.value.code == "invalid_stars"


def test_only_signed_in_members_get_in(db_engine, program):
    p = program
    staff = Actor(account_id=p.staff_id, merchant_id=p.merchant_id, role=Role.STAFF, store_ids=frozenset(p.store_ids[:1]))
    for call in (
        lambda a: catalog_view.member_catalog(db_engine, a, now=T0),
        lambda a: catalog_view.reward_detail(db_engine, a, p.reward_ids["coffee"], now=T0),
        lambda a: catalog_view.member_vouchers(db_engine, a, now=T0),
        lambda a: catalog_view.redeem(db_engine, a, reward_id=p.reward_ids["coffee"], idempotency_key="z", now=T0),
        lambda a: catalog_view.rate(db_engine, a, reward_id=p.reward_ids["coffee"], stars=3, now=T0),
    ):
        for actor in (None, staff):
            with pytest.raises(NotAllowed):
                call(actor)


# --- the page states, called as the websocket would (cookie in the socket's headers) ----------

from tests.unit.test_states import app_db, cookie_for, run, substate  # noqa: E402,F401  (fixture too)


def member_root(engine, account_id: int, page: str, **query):
    import asyncio

    from reflex.state import State

    from loyalty_app.state.session import SessionState

    root = State(_reflex_internal_init=True)
    root.router_data = root._update_router_vars(
        {
            "pathname": f"/m/[slug]/{page}",
            "asPath": f"/m/cafe/{page}",
            "query": {"slug": "cafe", **{k: str(v) for k, v in query.items()}},
            "headers": {
                "cookie": cookie_for(engine, account_id, "cafe"),
                "origin": "http://localhost:3000",
                "user-agent": "pytest",
            },
            "ip": "127.0.0.1",
            "token": f"token-{account_id}-{page}",
            "sid": "sid",
        },
        {},
    )
    asyncio.run(run(substate(root, SessionState).guard_member_page()))
    return root


@pytest.fixture
def shop(app_db):
    """The state tests' café with a coffee reward and a second member; Ana has 300 points."""
    from loyalty_app.services.members import accounts

    engine, ids = app_db
    with write_session(engine) as s:
        ids["coffee"] = admin.upsert_reward(s, ids["cafe"], "coffee", name="Free coffee", kind="free_product", cost_points=100).id
        admin.upsert_reward(s, ids["cafe"], "cake", name="Cake", kind="free_product", cost_points=900)
    earning.credit_purchase(
        engine, merchant_id=ids["cafe"], account_id=ids["member"], store_id=ids["store"], amount_cents=30000, receipt="r1"
    )
    ids["other"] = accounts.sign_up_member(
        engine, merchant_id=ids["cafe"], email="o@x.test", password="correct horse battery", first_name="Otto"
    ).id
    return engine, ids


def test_rewards_state_lists_and_filters(shop):
    import asyncio

    from loyalty_app.pages.rewards import RewardsState

    engine, ids = shop
    state = substate(member_root(engine, ids["member"], "rewards"), RewardsState)
    asyncio.run(run(state.load()))
    assert state.available == 300 and [r["name"] for r in state.items] == ["Free coffee", "Cake"]
    assert [r["status"] for r in state.items] == ["ok", "insufficient_points"] and state.items[1]["missing"] == "600"
    asyncio.run(run(state.choose("affordable")))
    assert [r["name"] for r in state.items] == ["Free coffee"]
    asyncio.run(run(state.choose("no-such-view")))
    assert state.view == "affordable"


def test_redeem_state_confirms_once_then_rating_updates_the_average(shop):
    import asyncio

    from loyalty_app.models import Voucher
    from loyalty_app.pages.reward_detail import RewardDetailState

    engine, ids = shop
    detail = substate(member_root(engine, ids["member"], "reward", id=ids["coffee"]), RewardDetailState)
    asyncio.run(run(detail.load()))
    assert detail.reward["name"] == "Free coffee" and detail.reward["status"] == "ok" and not detail.can_rate
    asyncio.run(run(detail.confirm_redeem()))  # without the confirmation step: nothing happens
    detail.ask_redeem()
    assert detail.confirming
    asyncio.run(run(detail.confirm_redeem()))
    asyncio.run(run(detail.confirm_redeem()))  # a second tap after it went through: nothing more
    with write_session(engine) as s:
        assert len(s.exec(select(Voucher)).all()) == 1
    asyncio.run(run(detail.load()))
    assert detail.can_rate and not detail.rated
    asyncio.run(run(detail.save_rating({"stars": "4", "review": "  Lovely  "})))
    assert detail.rating_error == "" and detail.rating_notice == "Thanks for rating!"  # no rate_reward rule here
    assert detail.reward["rating"] == "4.0" and detail.rating_count == 1 and detail.rated and detail.my_review == "Lovely"
    asyncio.run(run(detail.save_rating({"stars": "9"})))
    assert detail.rating_error == "Choose from 1 to 5 stars." and detail.reward["rating"] == "4.0"


def test_voucher_state_shows_own_voucher_and_never_another_members(shop):
    import asyncio

    from loyalty_app.pages.vouchers import VoucherState

    engine, ids = shop
    ana = Actor(account_id=ids["member"], merchant_id=ids["cafe"], role=Role.MEMBER)
    red = catalog_view.redeem(engine, ana, reward_id=ids["coffee"], idempotency_key="k")
    own = substate(member_root(engine, ids["member"], "voucher", id=red.voucher_id), VoucherState)
    asyncio.run(run(own.load()))
    assert own.code == red.code and own.qr_src.startswith("data:image/svg+xml") and own.groups == red.code.split("-")
    assert own.voucher["status"] == "issued"

    other = substate(member_root(engine, ids["other"], "voucher", id=red.voucher_id), VoucherState)
    asyncio.run(run(other.load()))
    assert other.missing and other.code == "" and other.qr_src == "" and other.voucher == {}
    other.ask_cancel()
    asyncio.run(run(other.confirm_cancel()))  # their cancel is refused as not found
    assert other.error == "Voucher not found."
    assert catalog_view.voucher_detail(engine, ana, red.voucher_id).status == "issued"

    own.ask_cancel()
    asyncio.run(run(own.confirm_cancel()))
    assert own.notice == "Voucher cancelled. 100 points are back in your balance."
    assert own.voucher["status"] == "cancelled" and own.qr_src == ""


def test_a_written_review_is_the_write_review_action_once_per_reward(db_engine, program):
    """Stars alone earn the rate_reward points; the first written review (now or in a later
    edit) also earns write_review, once per reward."""
    p = program
    coffee = p.reward_ids["coffee"]
    buy(db_engine, p)
    catalog_view.redeem(db_engine, member(p), reward_id=coffee, idempotency_key="k", now=T0)
    stars_only = catalog_view.rate(db_engine, member(p), reward_id=coffee, stars=5, now=T0)
    assert stars_only.earn.points == 5 and stars_only.review_earn is None
    with_text = catalog_view.rate(db_engine, member(p), reward_id=coffee, stars=5, review_text="Lovely crema", now=T0)
    assert with_text.earn is None and with_text.review_earn is not None and with_text.review_earn.points == 25
    again = catalog_view.rate(db_engine, member(p), reward_id=coffee, stars=4, review_text="Still lovely", now=T0)
    assert again.review_earn is None, "a review earns once per reward, edits earn nothing more"
