"""Member segments: the pure criteria (domain.segments), the SQL count agreeing with the
member-by-member evaluation, targeting of rewards, challenges and quests (hidden AND refused for
members outside the segment), the console editor, and retiring tiers and badges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain import segments as seg
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.domain.segments import SegmentCriteria, SegmentFacts
from loyalty_app.models import (
    Account,
    AdminAuditEntry,
    Badge,
    MemberBadge,
    MemberTier,
    MemberTierChange,
    ProgramChange,
    Role,
    Segment,
    Tier,
)
from loyalty_app.services.catalog import catalog_view, rewards
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.earning import segments, tiers
from loyalty_app.services.earning.badges import member_badges
from loyalty_app.services.insight import analytics
from loyalty_app.services.member_app import cockpit
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program import program_admin as pa
from loyalty_app.services.program import program_console as pc
from tests.engine.test_rules_support import T0, make_program

NOW = T0  # Monday 2 November 2026, 12:00 in Bucharest (UTC+2)
TZ = "Europe/Bucharest"


# =============================================================================== domain


def facts(**kw) -> SegmentFacts:
    return SegmentFacts(**kw)


def test_an_empty_segment_matches_nobody():
    assert seg.matches(SegmentCriteria(), facts(tier_key="gold"), NOW, TZ) is False


def test_tiers_match_any_of_the_chosen():
    c = SegmentCriteria(tier_keys=("silver", "gold"))
    assert seg.matches(c, facts(tier_key="gold"), NOW, TZ)
    assert not seg.matches(c, facts(tier_key="bronze"), NOW, TZ)
    assert not seg.matches(c, facts(tier_key=None), NOW, TZ)


def test_visited_within_counts_the_shops_calendar_days_including_today():
    c = SegmentCriteria(visited_within_days=7)
    today = date(2026, 11, 2)
    assert seg.matches(c, facts(last_visit_day=today), NOW, TZ)
    assert seg.matches(c, facts(last_visit_day=today - timedelta(days=6)), NOW, TZ)  # the 7th day back
    assert not seg.matches(c, facts(last_visit_day=today - timedelta(days=7)), NOW, TZ)
    assert not seg.matches(c, facts(last_visit_day=None), NOW, TZ)


def test_days_follow_the_merchants_time_zone_not_utc():
    late = datetime(2026, 11, 2, 22, 30, tzinfo=UTC)  # already 3 November, 00:30 in Bucharest
    c = SegmentCriteria(visited_within_days=7)
    oct_27 = facts(last_visit_day=date(2026, 10, 27))
    assert seg.matches(c, oct_27, late, "UTC")  # UTC's today is 2 Nov: 27 Oct is the 7th day
    assert not seg.matches(c, oct_27, late, TZ)  # Bucharest's today is 3 Nov: the window starts on 28 Oct
    assert seg.window_first_day(7, late, TZ) == date(2026, 10, 28)


def test_no_visit_for_n_days_includes_members_who_never_came():
    c = SegmentCriteria(not_visited_days=30)
    today = date(2026, 11, 2)
    assert seg.matches(c, facts(last_visit_day=None), NOW, TZ)
    assert seg.matches(c, facts(last_visit_day=today - timedelta(days=30)), NOW, TZ)
    assert not seg.matches(c, facts(last_visit_day=today - timedelta(days=29)), NOW, TZ)
    both = SegmentCriteria(visited_within_days=90, not_visited_days=30)  # came in the last 90 days, not in the last 30
    assert seg.matches(both, facts(last_visit_day=today - timedelta(days=45)), NOW, TZ)
    assert not seg.matches(both, facts(last_visit_day=today - timedelta(days=10)), NOW, TZ)
    assert not seg.matches(both, facts(last_visit_day=None), NOW, TZ)


def test_spend_bounds_are_inclusive_and_read_their_own_window():
    c = SegmentCriteria(spend_measure="amount", spend_days=30, spend_min=5000, spend_max=20000)
    assert seg.matches(c, facts(spend={("amount", 30): 5000}), NOW, TZ)
    assert seg.matches(c, facts(spend={("amount", 30): 20000}), NOW, TZ)
    assert not seg.matches(c, facts(spend={("amount", 30): 4999}), NOW, TZ)
    assert not seg.matches(c, facts(spend={("amount", 30): 20001}), NOW, TZ)
    assert not seg.matches(c, facts(spend={("points", 30): 9000, ("amount", 7): 9000}), NOW, TZ)  # other windows
    at_most = SegmentCriteria(spend_measure="points", spend_days=90, spend_max=0)
    assert seg.matches(at_most, facts(), NOW, TZ)  # earned nothing


def test_rfm_and_consent():
    rfm = SegmentCriteria(rfm_classes=("at_risk", "hibernating"))
    assert seg.matches(rfm, facts(rfm_class="at_risk"), NOW, TZ)
    assert not seg.matches(rfm, facts(rfm_class="loyal"), NOW, TZ)
    assert not seg.matches(rfm, facts(rfm_class=None), NOW, TZ)  # not scored
    consent = SegmentCriteria(consent_channels=("email", "sms"))
    assert seg.matches(consent, facts(consents=frozenset({"email", "sms", "push"})), NOW, TZ)
    assert not seg.matches(consent, facts(consents=frozenset({"email"})), NOW, TZ)  # every ticked channel


def test_criteria_combine_with_and():
    c = SegmentCriteria(tier_keys=("gold",), consent_channels=("email",), visited_within_days=30)
    ok = facts(tier_key="gold", consents=frozenset({"email"}), last_visit_day=date(2026, 10, 20))
    assert seg.matches(c, ok, NOW, TZ)
    assert not seg.matches(c, facts(tier_key="gold", consents=frozenset({"email"})), NOW, TZ)
    assert not seg.matches(c, facts(tier_key="silver", consents=frozenset({"email"}), last_visit_day=date(2026, 10, 20)), NOW, TZ)


@pytest.mark.parametrize(
    "criteria,field,code",
    [
        (SegmentCriteria(), "criteria", "no_criteria"),
        (SegmentCriteria(visited_within_days=30, not_visited_days=30), "not_visited_days", "visit_windows_clash"),
        (SegmentCriteria(spend_min=100), "spend_days", "spend_days_required"),
        (SegmentCriteria(spend_days=30), "spend_min", "spend_bound_required"),
        (SegmentCriteria(spend_days=30, spend_min=100, spend_max=50), "spend_max", "spend_max_below_min"),
    ],
)
def test_contradictions_are_refused_by_field(criteria, field, code):
    errors = seg.criteria_errors(criteria)
    assert errors[field].code == code and errors[field].params["field"] == field
    with pytest.raises(LoyaltyError):
        seg.validate(criteria)


def test_criteria_round_trip_and_references():
    c = SegmentCriteria(
        tier_keys=("gold",),
        spend_measure="points",
        spend_days=30,
        spend_min=10,
        rfm_classes=("new",),
        consent_channels=("push",),
        not_visited_days=3,
    )
    assert SegmentCriteria.from_dict(c.as_dict()) == c
    assert SegmentCriteria.from_dict({"rfm_classes": ["vip", "loyal"], "spend_days": "30"}) == SegmentCriteria(
        rfm_classes=("loyal",)
    )
    assert seg.parse_ref(seg.segment_ref(12)) == 12
    assert seg.parse_ref("new_members") is None and seg.parse_ref("seg:x") is None


# =============================================================================== services


@pytest.fixture(autouse=True)
def _fresh_rfm_cache():
    segments.clear_rfm_cache()
    yield
    segments.clear_rfm_cache()


@pytest.fixture
def world(db_engine):
    cafe = make_program(db_engine, "cafe", members=6)
    return {
        "engine": db_engine,
        "cafe": cafe,
        "admin": Actor(cafe.admin_id, cafe.merchant_id, Role.ADMIN),
        "members": [Actor(m, cafe.merchant_id, Role.MEMBER) for m in cafe.member_ids],
    }


def buy(w, i: int, euros: float, when: datetime, receipt: str):
    cafe = w["cafe"]
    return earning.credit_purchase(
        w["engine"],
        merchant_id=cafe.merchant_id,
        account_id=cafe.member_ids[i],
        store_id=cafe.store_ids[0],
        amount_cents=int(round(euros * 100)),
        receipt=receipt,
        now=when,
    )


def segment(w, name: str, **form) -> int:
    return pc.save_segment(w["engine"], w["admin"], {"name": name, **form}, now=NOW).row_id


def test_a_targeted_reward_is_invisible_and_unredeemable_outside_its_segment(world):
    e, m = world["engine"], world["members"]
    buy(world, 0, 60, NOW - timedelta(days=3), "r1")  # 60 EUR in the last 30 days: in
    buy(world, 1, 20, NOW - timedelta(days=3), "r2")  # 20 EUR: out
    sid = segment(world, "Big spenders", spend_days="30", spend_min="50")
    reward = pc.save_reward(
        e,
        world["admin"],
        {"name": "Thank-you cake", "kind": "free_product", "cost_points": "5", "segment": f"seg:{sid}"},
        now=NOW,
    )
    assert reward.form["segment"] == f"seg:{sid}" and ("Only for: {segment}", {"segment": "Big spenders"}) in reward.facts
    seen = {i.name for i in catalog_view.member_catalog(e, m[0], now=NOW).items}
    unseen = {i.name for i in catalog_view.member_catalog(e, m[1], now=NOW).items}
    assert "Thank-you cake" in seen and "Thank-you cake" not in unseen and "Free coffee" in unseen
    with pytest.raises(NotFound):
        catalog_view.reward_detail(e, m[1], reward.row_id, now=NOW)
    with pytest.raises(NotAllowed) as refused:
        catalog_view.redeem(e, m[1], reward_id=reward.row_id, idempotency_key="k1", now=NOW)
    assert refused.value.code == "reward_not_offered"
    assert refused.value.message == rewards.NOT_OFFERED  # a msgid: shown translated by state.forms.error_message
    recommended = cockpit.member_summary(e, merchant_id=world["cafe"].merchant_id, account_id=m[1].account_id, now=NOW)
    assert all(r.name != "Thank-you cake" for r in recommended.recommended_rewards)
    assert catalog_view.reward_detail(e, m[0], reward.row_id, now=NOW).item.redeemable
    voucher = catalog_view.redeem(e, m[0], reward_id=reward.row_id, idempotency_key="k2", now=NOW)
    assert voucher.reward_name == "Thank-you cake"
    # Leaving the segment later: the member keeps the page of what they redeemed, marked ended.
    later = NOW + timedelta(days=40)
    assert "Thank-you cake" not in {i.name for i in catalog_view.member_catalog(e, m[0], now=later).items}
    assert catalog_view.reward_detail(e, m[0], reward.row_id, now=later).item.status == "ended"


def test_news_of_a_targeted_offer_reaches_only_its_segment(world):
    """A reward for "Big spenders" is announced on What's new to them, not to everyone; the
    merchant's console lists every entry."""
    from loyalty_app.services.program import changelog

    e, m = world["engine"], world["members"]
    buy(world, 0, 60, NOW - timedelta(days=3), "n1")
    sid = segment(world, "Big spenders", spend_days="30", spend_min="50")
    pc.save_reward(
        e,
        world["admin"],
        {"name": "Thank-you cake", "kind": "free_product", "cost_points": "5", "segment": f"seg:{sid}"},
        now=NOW,
    )
    pc.save_reward(e, world["admin"], {"name": "Lemonade", "kind": "free_product", "cost_points": "5"}, now=NOW)

    def titles(actor):
        return [c.title for c in changelog.published_changes(e, actor, now=NOW + timedelta(seconds=1))]

    inside, outside, admin = titles(m[0]), titles(m[1]), titles(world["admin"])
    assert any("Thank-you cake" in t for t in inside) and any("Lemonade" in t for t in inside)
    assert not any("Thank-you cake" in t for t in outside) and any("Lemonade" in t for t in outside)
    assert any("Thank-you cake" in t for t in admin)


def test_a_targeted_challenge_counts_and_shows_only_for_its_segment(world):
    e, cafe = world["engine"], world["cafe"]
    with write_session(e) as s:
        s.get(Account, cafe.member_ids[0]).consents = {"email": {"granted": True, "at": NOW.isoformat()}}
    sid = segment(world, "Newsletter readers", **{"consent_channels:email": "on"})
    pc.save_challenge(
        e,
        world["admin"],
        {"name": "Come by", "action": "visit", "target": "1", "reward_points": "30", "segment": f"seg:{sid}"},
        now=NOW,
    )
    outside = buy(world, 1, 10, NOW, "c1")
    inside = buy(world, 0, 10, NOW, "c2")
    assert [c.name for c in inside.challenges_completed] == ["Come by"] and inside.bonus_points == 30
    assert outside.challenges_completed == () and outside.bonus_points == 0
    views = {
        i: [
            c.name
            for c in cockpit.member_summary(e, merchant_id=cafe.merchant_id, account_id=cafe.member_ids[i], now=NOW).challenges
        ]
        for i in (0, 1)
    }
    assert views == {0: ["Come by"], 1: []}


def test_a_targeted_quest_multiplies_only_for_its_segment(world):
    e, cafe = world["engine"], world["cafe"]
    buy(world, 0, 5, NOW - timedelta(days=1), "q0")
    sid = segment(world, "Recent visitors", visited_within_days="7")
    local = NOW.astimezone(pc.utc_to_local(NOW, TZ).tzinfo)
    pc.save_quest(
        e,
        world["admin"],
        {
            "name": "Welcome back",
            "multiplier": "2",
            "segment": f"seg:{sid}",
            "starts_at": (local - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (local + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
        },
        now=NOW,
    )
    assert buy(world, 0, 10, NOW, "q1").points == 20
    assert buy(world, 1, 10, NOW, "q2").points == 10
    quests = {
        i: [
            q.name
            for q in cockpit.member_summary(e, merchant_id=cafe.merchant_id, account_id=cafe.member_ids[i], now=NOW).active_quests
        ]
        for i in (0, 1)
    }
    assert quests == {0: ["Welcome back"], 1: ["Welcome back"]}  # member 1 visited just now: in the segment too
    assert [
        q.name
        for q in cockpit.member_summary(e, merchant_id=cafe.merchant_id, account_id=cafe.member_ids[2], now=NOW).active_quests
    ] == []


def _population(w):
    """Six members with different tiers, visits, spend, consents and joining dates."""
    e, cafe = w["engine"], w["cafe"]
    buy(w, 0, 600, NOW - timedelta(days=200), "p0a")  # silver, long ago
    buy(w, 0, 40, NOW - timedelta(days=2), "p0b")
    buy(w, 1, 25, NOW - timedelta(days=20), "p1")
    buy(w, 2, 1600, NOW - timedelta(days=10), "p2")  # gold
    buy(w, 3, 5, NOW - timedelta(days=100), "p3")
    with write_session(e) as s:
        s.get(Account, cafe.member_ids[1]).consents = {
            "email": {"granted": True, "at": "2026-10-01T00:00:00"},
            "sms": {"granted": False, "at": "2026-10-02T00:00:00"},
        }
        s.get(Account, cafe.member_ids[2]).consents = {"email": "2026-10-01T00:00:00", "sms": {"granted": True, "at": "x"}}
        s.get(Account, cafe.member_ids[4]).created_at = NOW - timedelta(days=5)  # new in RFM
    tiers.evaluate_tiers(e, cafe.merchant_id, NOW)


CRITERIA = [
    SegmentCriteria(tier_keys=("silver", "gold")),
    SegmentCriteria(tier_keys=("bronze",)),
    SegmentCriteria(visited_within_days=30),
    SegmentCriteria(not_visited_days=30),
    SegmentCriteria(visited_within_days=150, not_visited_days=15),
    SegmentCriteria(spend_measure="amount", spend_days=30, spend_min=2500),
    SegmentCriteria(spend_measure="amount", spend_days=30, spend_max=4000),
    SegmentCriteria(spend_measure="points", spend_days=365, spend_min=500, spend_max=1000),
    SegmentCriteria(consent_channels=("email",)),
    SegmentCriteria(consent_channels=("email", "sms")),
    SegmentCriteria(rfm_classes=("new",)),
    SegmentCriteria(rfm_classes=("champions", "loyal", "at_risk", "hibernating", "others")),
    SegmentCriteria(tier_keys=("bronze",), consent_channels=("email",), visited_within_days=30),
]


def test_the_sql_count_equals_the_evaluation_function_member_by_member(world):
    e, cafe = world["engine"], world["cafe"]
    _population(world)
    with read_session(e) as s:
        accounts = [s.get(Account, i) for i in cafe.member_ids]
        for criteria in CRITERIA:
            by_sql = segments.matching_ids(s, cafe.merchant_id, criteria, now=NOW, tz=TZ)
            by_rule = {
                a.id for a in accounts if seg.matches(criteria, segments.member_facts(s, a, [criteria], now=NOW, tz=TZ), NOW, TZ)
            }
            assert by_sql == by_rule, criteria
            assert segments.count_matching(s, cafe.merchant_id, criteria, now=NOW, tz=TZ) == len(by_rule)
        ids = cafe.member_ids
        assert segments.matching_ids(s, cafe.merchant_id, CRITERIA[0], now=NOW, tz=TZ) == {ids[0], ids[2]}
        assert segments.matching_ids(s, cafe.merchant_id, CRITERIA[9], now=NOW, tz=TZ) == {ids[2]}  # old consent form too
        assert segments.matching_ids(s, cafe.merchant_id, CRITERIA[5], now=NOW, tz=TZ) == {ids[0], ids[1], ids[2]}


def test_rfm_classes_agree_with_the_analytics_chart_and_the_pure_rules(world):
    e, cafe = world["engine"], world["cafe"]
    _population(world)
    chart = analytics.rfm_segments(e, world["admin"], now=NOW)
    with read_session(e) as s:
        classes = segments.rfm_classes(s, cafe.merchant_id, NOW, TZ)
        _base, scored = analytics.rfm_scored(cafe.merchant_id, NOW, TZ)
        rows = s.execute(select(scored.c.id, scored.c.r, scored.c.f, scored.c.m, scored.c.joined, scored.c.segment)).all()
    counts = {k: sum(1 for c in classes.values() if c == k) for k in analytics.SEGMENTS}
    assert counts == chart.segments and sum(counts.values()) == chart.scored == 6
    for _id, r, f, m, joined, name in rows:
        joined = joined if joined.tzinfo else joined.replace(tzinfo=UTC)
        assert seg.classify_rfm(r, f, m, is_new=joined >= NOW - timedelta(days=analytics.RFM_NEW_DAYS)) == name


def test_member_segments_list_builtin_and_merchant_keys(world):
    e, cafe = world["engine"], world["cafe"]
    _population(world)
    gold = segment(world, "Gold people", **{"tier_keys:gold": "on"})
    with read_session(e) as s:
        mine = segments.MemberSegments(s, cafe.member_ids[2], NOW, tz=TZ).get()
        other = segments.MemberSegments(s, cafe.member_ids[3], NOW, tz=TZ).get()
    assert f"seg:{gold}" in mine and f"seg:{gold}" not in other
    assert "birthday_month" in mine  # built-in segments keep working (born 15 November)


# =============================================================================== console


def test_the_segment_editor_refuses_bad_fields_and_saves_nothing(world):
    e = world["engine"]

    def total(model):
        with read_session(e) as s:
            return s.exec(select(func.count()).select_from(model)).one()

    before = (total(Segment), total(AdminAuditEntry))
    cases = [
        ({}, "criteria", "no_criteria"),
        ({"visited_within_days": "0"}, "visited_within_days", "number_out_of_range"),
        ({"spend_days": "30", "spend_min": "lots"}, "spend_min", "not_an_amount"),
        ({"spend_days": "30", "spend_min": "50", "spend_max": "20"}, "spend_max", "spend_max_below_min"),
        ({"spend_min": "50"}, "spend_days", "spend_days_required"),
        ({"visited_within_days": "10", "not_visited_days": "20"}, "not_visited_days", "visit_windows_clash"),
        ({"tier_keys:diamond": "on"}, "tier_keys", "unknown_tier"),
        ({"rfm_classes:vip": "on"}, "rfm_classes", "unknown_option"),
        ({"consent_channels:fax": "on"}, "consent_channels", "unknown_option"),
        ({"spend_measure": "euros", "spend_days": "3", "spend_min": "1"}, "spend_measure", "unknown_option"),
    ]
    for form, field, code in cases:
        with pytest.raises(pc.FormInvalid) as refused:
            pc.save_segment(e, world["admin"], {"name": "X", **form}, now=NOW)
        assert refused.value.errors[field].code == code, form
    with pytest.raises(pc.FormInvalid) as refused:
        pc.save_segment(e, world["admin"], {"name": "", "visited_within_days": "x"}, now=NOW)
    assert set(refused.value.errors) == {"name", "visited_within_days"}
    assert (total(Segment), total(AdminAuditEntry)) == before


def test_segments_are_audited_not_published_and_listed_with_counts(world):
    e = world["engine"]
    _population(world)
    changes = len(pc.list_changes(e, world["admin"]))
    row = pc.save_segment(e, world["admin"], {"name": "Spent 25+", "spend_days": "30", "spend_min": "25,00"}, now=NOW)
    assert row.form["spend_min"] == "25" and row.key == "spent-25"
    assert len(pc.list_changes(e, world["admin"])) == changes  # never on members' "What's new"
    with read_session(e) as s:
        actions = s.exec(select(AdminAuditEntry.action)).all()
    assert "program.create_segment" in actions
    listed = {r.name: r for r in pc.list_segments(e, world["admin"], now=NOW)}
    assert ("Members now: {n}", {"n": 3}) in listed["Spent 25+"].facts
    preview = pc.preview_segment(e, world["admin"], {"spend_days": "30", "spend_min": "25"}, now=NOW)
    assert preview.count == 3 and preview.names[0] == "First0 L."
    with pytest.raises(pc.FormInvalid):
        pc.preview_segment(e, world["admin"], {"spend_min": "25"}, now=NOW)
    options = pc.program_options(e, world["admin"])
    assert (f"seg:{row.row_id}", "Spent 25+") in options.segments


def test_a_targeted_segment_cannot_be_retired_and_a_retired_one_cannot_be_chosen(world):
    e = world["engine"]
    sid = segment(world, "Lapsed", not_visited_days="60")
    reward = pc.save_reward(
        e,
        world["admin"],
        {"name": "Come back gift", "kind": "free_product", "cost_points": "1", "segment": f"seg:{sid}"},
        now=NOW,
    )
    with pytest.raises(LoyaltyError) as refused:
        pc.set_active(e, world["admin"], "segment", sid, False, now=NOW)
    assert refused.value.code == "segment_in_use" and refused.value.params["n"] == 1
    pc.retire_reward(e, world["admin"], reward.row_id, now=NOW)
    assert pc.set_active(e, world["admin"], "segment", sid, False, now=NOW).status == "retired"
    with pytest.raises(pc.FormInvalid) as refused:
        pc.save_quest(
            e,
            world["admin"],
            {
                "name": "Q",
                "multiplier": "2",
                "starts_at": "2026-11-07T12:00",
                "ends_at": "2026-11-08T12:00",
                "segment": f"seg:{sid}",
            },
            now=NOW,
        )
    assert refused.value.errors["segment"].code == "unknown_option"
    kept = pc.save_reward(e, world["admin"], {**reward.form, "cost_points": "2"}, now=NOW)  # keeps its own segment
    assert kept.form["segment"] == f"seg:{sid}"
    assert pc.list_segments(e, world["admin"], now=NOW)[0].facts[0] == ("Members now: {n}", {"n": 0})


# =============================================================================== retiring tiers and badges


def _tier_of(e, account_id):
    with read_session(e) as s:
        row = s.exec(select(MemberTier).where(MemberTier.account_id == account_id)).first()
        return s.get(Tier, row.tier_id).key if row and row.tier_id else None


def test_retiring_a_tier_moves_its_members_down_and_keeps_their_history(world):
    e, cafe = world["engine"], world["cafe"]
    buy(world, 0, 600, NOW - timedelta(days=1), "t0")  # silver
    buy(world, 1, 1600, NOW - timedelta(days=1), "t1")  # gold
    assert (_tier_of(e, cafe.member_ids[0]), _tier_of(e, cafe.member_ids[1])) == ("silver", "gold")
    retired = pc.retire_tier(e, world["admin"], cafe.tier_ids["silver"], now=NOW)
    assert retired.status == "retired" and pc.list_changes(e, world["admin"])[0].title == "Tier retired: Silver"
    assert (_tier_of(e, cafe.member_ids[0]), _tier_of(e, cafe.member_ids[1])) == ("bronze", "gold")
    with read_session(e) as s:
        history = s.exec(
            select(MemberTierChange).where(MemberTierChange.account_id == cafe.member_ids[0]).order_by(MemberTierChange.id)
        ).all()
    assert [(h.reason, h.to_tier_id) for h in history][-1] == ("tier_retired", cafe.tier_ids["bronze"])
    assert history[-2].to_tier_id == cafe.tier_ids["silver"]  # the earlier upgrade stays
    buy(world, 0, 100, NOW, "t2")  # 700 points: Silver's threshold, but Silver is out of the ladder
    assert _tier_of(e, cafe.member_ids[0]) == "bronze"
    summary = cockpit.member_summary(e, merchant_id=cafe.merchant_id, account_id=cafe.member_ids[0], now=NOW)
    assert (summary.tier_name, summary.next_tier_name) == ("Bronze", "Gold")
    pc.set_active(e, world["admin"], "tier", cafe.tier_ids["silver"], True, now=NOW)
    buy(world, 0, 1, NOW + timedelta(minutes=1), "t3")  # the next earn upgrades again
    assert _tier_of(e, cafe.member_ids[0]) == "silver"


def test_a_holding_left_on_a_retired_tier_reads_as_the_tier_below_and_is_rewritten(world):
    e, cafe = world["engine"], world["cafe"]
    buy(world, 0, 1600, NOW - timedelta(days=1), "s0")  # gold
    with write_session(e) as s:  # as if an earn raced the retirement
        s.get(Tier, cafe.tier_ids["gold"]).is_active = False
    with read_session(e) as s:
        active = tiers.load_tiers(s, cafe.merchant_id)
        assert [t.key for t in active] == ["bronze", "silver"]
        assert tiers.current_tier(s, cafe.merchant_id, cafe.member_ids[0], active).key == "silver"
    tiers.evaluate_tiers(e, cafe.merchant_id, NOW)
    assert _tier_of(e, cafe.member_ids[0]) == "silver"
    with read_session(e) as s:
        last = s.exec(
            select(MemberTierChange).where(MemberTierChange.account_id == cafe.member_ids[0]).order_by(MemberTierChange.id.desc())
        ).first()
    assert (last.reason, last.from_tier_id) == ("tier_retired", cafe.tier_ids["gold"])


def test_a_retired_badge_is_not_awarded_but_earned_ones_stay_visible(world):
    e, cafe = world["engine"], world["cafe"]
    with write_session(e) as s:
        first = pa.upsert_badge(s, cafe.merchant_id, "first", name="First purchase", kind="first_purchase").id
        regular = pa.upsert_badge(
            s, cafe.merchant_id, "regular", name="Regular", kind="action_count", param="purchase", target=2
        ).id
    buy(world, 0, 5, NOW, "b0")  # member 0 earns "First purchase"
    pc.retire_badge(e, world["admin"], first, now=NOW)
    pc.set_active(e, world["admin"], "badge", regular, False, now=NOW)
    assert pc.list_changes(e, world["admin"])[0].title == "Badge retired: Regular"
    buy(world, 1, 5, NOW, "b1")
    buy(world, 0, 5, NOW + timedelta(minutes=1), "b2")  # reaches "Regular"'s target after it was retired
    with read_session(e) as s:
        owned = {(a, b) for a, b in s.exec(select(MemberBadge.account_id, MemberBadge.badge_id)).all()}
        views = {
            i: [
                (v.key, v.earned)
                for v in member_badges(s, merchant_id=cafe.merchant_id, account_id=cafe.member_ids[i], tier_rank=0, tier_ranks={})
            ]
            for i in (0, 1)
        }
    assert owned == {(cafe.member_ids[0], first)}
    assert views == {0: [("first", True)], 1: []}
    options = pc.program_options(e, world["admin"])
    assert options.retired_badges == frozenset({"first", "regular"})
    with read_session(e) as s:
        assert not s.get(Badge, first).is_active
    assert ProgramChange  # (imported for the changelog checks above)
