"""services.program.program_console: the merchant console's program editor (parsing and validating raw
form strings, one transaction with the changelog entry, retire/restore, quest times in the
merchant's timezone, authorization) and moderation (reviews, submissions)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import func, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.models import (
    Badge,
    Challenge,
    EarningRule,
    MediaBlob,
    ProgramChange,
    Quest,
    Reward,
    RewardRating,
    Role,
    Submission,
    Survey,
    Tier,
)
from loyalty_app.services import ledger
from loyalty_app.services.member_app import cockpit
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program import changelog
from loyalty_app.services.program import program_admin as pa
from loyalty_app.services.program import program_console as pc
from tests.engine.test_rules_support import T0, make_program

NOW = T0  # Monday 2 November 2026, 12:00 in Bucharest (UTC+2)


@pytest.fixture
def world(db_engine):
    cafe = make_program(db_engine, "cafe")
    books = make_program(db_engine, "books", members=1)
    return {
        "engine": db_engine,
        "cafe": cafe,
        "books": books,
        "admin": Actor(cafe.admin_id, cafe.merchant_id, Role.ADMIN),
        "member": Actor(cafe.member_ids[0], cafe.merchant_id, Role.MEMBER),
        "staff": Actor(cafe.staff_id, cafe.merchant_id, Role.STAFF, frozenset(cafe.store_ids[:1])),
        "books_admin": Actor(books.admin_id, books.merchant_id, Role.ADMIN),
    }


def count(engine, model, *where) -> int:
    with read_session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def changes(w):
    return changelog.published_changes(w["engine"], w["member"], now=NOW + timedelta(days=400))


REWARD = {
    "name": "Free espresso",
    "kind": "free_product",
    "cost_points": "80",
    "stock": "",
    "per_member_limit": "",
    "min_tier": "",
    "valid_from": "",
    "valid_until": "",
    "voucher_validity_days": "",
}
EARNING = {"name": "Newsletter", "action": "subscribe_newsletter", "points": "50", "limit_count": "1", "limit_period": "ever"}
TIER = {"name": "Platinum", "rank": "3", "threshold": "5000", "colour": "#4b5563", "purchase_multiplier": "2.5"}
BADGE = {"name": "Regular", "kind": "check_ins", "target": "5", "icon": "pin"}
CHALLENGE = {"name": "Visit 3 times", "action": "visit", "target": "3", "recurrence": "monthly", "reward_points": "50"}
QUEST = {"name": "Double points weekend", "multiplier": "2", "starts_at": "2026-11-07T12:00", "ends_at": "2026-11-08T20:00"}
CHARITY = {"name": "Food bank", "description": "Meals for families."}
SURVEY = {
    "name": "Taste survey",
    "questions": "choice: How often do you visit? = Daily; Weekly; Rarely\n"
    "stars: Rate our coffee\ntext: What should we add? (optional)",
}
SEGMENT = {"name": "Regulars this month", "visited_within_days": "30"}
FORMS = {
    "reward": REWARD,
    "earning": EARNING,
    "tier": TIER,
    "badge": BADGE,
    "challenge": CHALLENGE,
    "quest": QUEST,
    "charity": CHARITY,
    "survey": SURVEY,
}


# ------------------------------------------------------------------------------- validation

BAD_FIELDS = [
    ("reward", {"name": ""}, "name", "field_required"),
    ("reward", {"name": "x" * 81}, "name", "field_too_long"),
    ("reward", {"cost_points": "abc"}, "cost_points", "not_a_whole_number"),
    ("reward", {"cost_points": "12.5"}, "cost_points", "not_a_whole_number"),
    ("reward", {"cost_points": "0"}, "cost_points", "number_out_of_range"),
    ("reward", {"cost_points": ""}, "cost_points", "field_required"),
    ("reward", {"stock": "-1"}, "stock", "number_out_of_range"),
    ("reward", {"kind": "car"}, "kind", "unknown_option"),
    ("reward", {"min_tier": "diamond"}, "min_tier", "unknown_tier"),
    ("reward", {"valid_from": "next week"}, "valid_from", "invalid_datetime"),
    ("reward", {"valid_from": "2026-12-01T10:00", "valid_until": "2026-11-30T10:00"}, "valid_until", "ends_before_start"),
    ("reward", {"voucher_validity_days": "0"}, "voucher_validity_days", "number_out_of_range"),
    ("earning", {"points": "0"}, "points", "number_out_of_range"),
    ("earning", {"action": "fly"}, "action", "unknown_option"),
    ("earning", {"action": "purchase", "points_per_unit": "lots"}, "points_per_unit", "not_a_decimal"),
    ("earning", {"action": "purchase", "points_per_unit": "0"}, "points_per_unit", "number_out_of_range"),
    ("earning", {"limit_period": "none"}, "limit_period", "limit_period_required"),
    ("earning", {"limit_count": ""}, "limit_count", "limit_count_required"),
    ("earning", {"tier_keys": "gold,diamond"}, "tier_keys", "unknown_tier"),
    ("earning", {"tier_keys:diamond": "on"}, "tier_keys", "unknown_tier"),
    ("earning", {"store": "999999"}, "store", "unknown_store"),
    ("earning", {"segment": "vip"}, "segment", "unknown_option"),
    ("reward", {"segment": "seg:999"}, "segment", "unknown_option"),
    ("challenge", {"segment": "seg:1 or 1=1"}, "segment", "unknown_option"),
    ("quest", {"segment": "vip"}, "segment", "unknown_option"),
    ("earning", {"action": "attend_event", "event_codes": "JAZZ, bad code!"}, "event_codes", "invalid_event_codes"),
    ("tier", {"colour": "green"}, "colour", "invalid_colour"),
    ("tier", {"rank": "1"}, "rank", "rank_taken"),
    ("tier", {"threshold": "100"}, "threshold", "threshold_order"),
    ("tier", {"purchase_multiplier": "20"}, "purchase_multiplier", "multiplier_out_of_range"),
    ("tier", {"purchase_multiplier": "two"}, "purchase_multiplier", "not_a_decimal"),
    ("badge", {"kind": "tier_reached"}, "param_tier", "field_required"),
    ("badge", {"kind": "tier_reached", "param_tier": "diamond"}, "param_tier", "unknown_option"),
    ("badge", {"icon": "skull"}, "icon", "unknown_option"),
    ("badge", {"target": "0"}, "target", "number_out_of_range"),
    ("challenge", {"reward_badge": "nope"}, "reward_badge", "unknown_badge"),
    ("challenge", {"recurrence": "daily"}, "recurrence", "unknown_option"),
    ("challenge", {"starts_at": "2026-11-10T10:00", "ends_at": "2026-11-10T09:00"}, "ends_at", "ends_before_start"),
    ("quest", {"multiplier": "1"}, "multiplier", "multiplier_out_of_range"),
    ("quest", {"multiplier": "11"}, "multiplier", "multiplier_out_of_range"),
    ("quest", {"starts_at": ""}, "starts_at", "field_required"),
    ("quest", {"starts_at": "2026-11-07 25:00"}, "starts_at", "invalid_datetime"),
    ("quest", {"ends_at": "2026-11-07T11:00"}, "ends_at", "ends_before_start"),
    ("quest", {"actions": "check_in,fly"}, "actions", "unknown_action"),
    ("charity", {"description": "x" * 301}, "description", "field_too_long"),
    ("survey", {"questions": ""}, "questions", "invalid_questions"),
    ("survey", {"questions": "How are you?"}, "questions", "invalid_questions"),
    ("survey", {"questions": "choice: Pick one = only"}, "questions", "invalid_questions"),
]


@pytest.mark.parametrize("kind,bad,field,code", BAD_FIELDS, ids=[f"{k}-{f}-{c}" for k, _b, f, c in BAD_FIELDS])
def test_every_field_is_parsed_and_refused_with_its_own_code(world, kind, bad, field, code):
    e = world["engine"]
    before = (count(e, pc.SPECS[kind].model), count(e, ProgramChange))
    with pytest.raises(LoyaltyError) as refused:
        pc.SAVES[kind](e, world["admin"], {**FORMS[kind], **bad}, now=NOW)
    assert (refused.value.code, refused.value.params["field"]) == (code, field)
    assert isinstance(refused.value, pc.FormInvalid) and refused.value.errors[field].code == code
    assert (count(e, pc.SPECS[kind].model), count(e, ProgramChange)) == before  # nothing half-saved


def test_all_refused_fields_come_back_together_in_form_order(world):
    with pytest.raises(pc.FormInvalid) as refused:
        pc.save_reward(
            world["engine"],
            world["admin"],
            {**REWARD, "name": "", "cost_points": "ten", "valid_from": "soon"},
            publish_note="x" * 1001,
            now=NOW,
        )
    err = refused.value
    assert list(err.errors) == ["publish_note", "name", "cost_points", "valid_from"]
    assert err.code == "field_too_long" and err.params["field"] == "publish_note"
    assert err.errors["cost_points"].message == pc.NOT_A_WHOLE_NUMBER


def test_valid_forms_save_for_every_kind_with_a_changelog_entry_each(world):
    e = world["engine"]
    titles = []
    for kind, form in FORMS.items():
        row = pc.SAVES[kind](e, world["admin"], form, now=NOW)
        assert row.row_id and row.key
        titles.append(changes(world)[0].title)
    assert titles == [
        "New reward: Free espresso",
        "New way to earn: Newsletter",
        "New tier: Platinum",
        "New badge: Regular",
        "New challenge: Visit 3 times",
        "Double points weekend: ×2 points from Sat 7 Nov 12:00",
        "New charity: Food bank",
        "New survey: Taste survey",
    ]
    assert [c.kind for c in changes(world)][::-1] == [
        "reward",
        "earning",
        "tier",
        "badge",
        "challenge",
        "quest",
        "charity",
        "survey",
    ]


def test_numbers_decimals_and_colours_are_normalised(world):
    e = world["engine"]
    pc.save_earning_rule(
        e,
        world["admin"],
        {
            "name": "Purchases",
            "action": "purchase",
            "points_per_unit": "1,50",
            "limit_period": "none",
            "tier_keys:gold": "on",
            "store": str(world["cafe"].store_ids[1]),
        },
        now=NOW,
    )
    pc.save_tier(e, world["admin"], {**TIER, "colour": "#ABC", "purchase_multiplier": "×1,5"}, now=NOW)
    with read_session(e) as s:
        rule = s.exec(select(EarningRule).where(EarningRule.name == "Purchases")).one()
        tier = s.exec(select(Tier).where(Tier.name == "Platinum")).one()
    assert (rule.points_per_unit, rule.tier_keys, rule.store_id) == ("1.5", ["gold"], world["cafe"].store_ids[1])
    assert (tier.colour, tier.multipliers, tier.key) == ("#aabbcc", {"purchase": 150}, "platinum")


# ---------------------------------------------------------------------- changelog + transaction


def test_reward_and_its_changelog_entry_commit_together(world, monkeypatch):
    e = world["engine"]

    def broken(*args, **kwargs):
        raise RuntimeError("changelog down")

    monkeypatch.setattr(pc.changelog, "record_change", broken)
    with pytest.raises(RuntimeError):
        pc.save_reward(e, world["admin"], REWARD, now=NOW)
    assert count(e, Reward, Reward.name == "Free espresso") == 0  # rolled back with the failed entry
    monkeypatch.undo()
    row = pc.save_reward(
        e, world["admin"], {**REWARD, "valid_from": "2026-11-20T09:00"}, publish_note="Our classic, on us.", now=NOW
    )
    entry = changes(world)[0]
    assert (row.key, row.status, entry.title, entry.body) == (
        "free-espresso",
        "scheduled",
        "New reward: Free espresso",
        "Our classic, on us.",
    )
    assert entry.effective_at == datetime(2026, 11, 20, 7, 0, tzinfo=UTC)  # the reward's start (Bucharest 09:00)


def test_update_keeps_the_key_and_an_unchanged_save_writes_no_entry(world):
    e = world["engine"]
    first = pc.save_reward(e, world["admin"], REWARD, now=NOW)
    twin = pc.save_reward(e, world["admin"], REWARD, now=NOW)
    assert (first.key, twin.key) == ("free-espresso", "free-espresso-2")
    entries = count(e, ProgramChange)
    same = pc.save_reward(e, world["admin"], first.form, now=NOW)  # the edit form as the page sends it back
    assert same.row_id == first.row_id and count(e, ProgramChange) == entries
    changed = pc.save_reward(e, world["admin"], {**first.form, "name": "Free double espresso", "cost_points": "90"}, now=NOW)
    assert (changed.key, changed.name, changed.form["cost_points"]) == ("free-espresso", "Free double espresso", "90")
    assert changes(world)[0].title == "Reward updated: Free double espresso"


def test_retire_and_restore_write_entries_and_keep_the_row(world):
    e = world["engine"]
    row = pc.save_challenge(e, world["admin"], CHALLENGE, now=NOW)
    retired = pc.retire_challenge(e, world["admin"], row.row_id, publish_note="Back in spring.", now=NOW)
    assert retired.status == "retired" and changes(world)[0].title == "Challenge retired: Visit 3 times"
    assert changes(world)[0].body == "Back in spring."
    entries = count(e, ProgramChange)
    pc.retire_challenge(e, world["admin"], row.row_id, now=NOW)  # already retired: nothing to publish
    assert count(e, ProgramChange) == entries
    again = pc.save_challenge(e, world["admin"], {**retired.form, "target": "4"}, now=NOW)
    assert again.status == "retired"  # editing does not bring a retired row back
    assert pc.set_active(e, world["admin"], "challenge", row.row_id, True, now=NOW).status == "active"
    assert changes(world)[0].title == "Challenge back: Visit 3 times"
    with pytest.raises(LoyaltyError) as refused:
        pc.set_active(e, world["admin"], "changelog", 1, False)
    assert refused.value.code == "not_retirable"


def test_changelog_entries_are_annotated_from_the_console(world):
    e = world["engine"]
    pc.save_charity(e, world["admin"], CHARITY, now=NOW)
    entry = pc.list_changes(e, world["admin"])[0]
    pc.annotate_change(e, world["admin"], str(entry.change_id), "Matched by the shop, point for point.")
    assert changes(world)[0].note == "Matched by the shop, point for point."
    with pytest.raises(NotFound):
        pc.annotate_change(e, world["books_admin"], entry.change_id, "theirs")
    with pytest.raises(NotFound):
        pc.annotate_change(e, world["admin"], "12; drop", "x")


# ---------------------------------------------------------------------------------- quests


def test_quest_times_are_the_merchants_wall_clock(world):
    e = world["engine"]
    row = pc.save_quest(e, world["admin"], {**QUEST, "tier_keys:silver": "on", "actions": "purchase,check_in"}, now=NOW)
    with read_session(e) as s:
        quest = s.get(Quest, row.row_id)
    assert quest.starts_at == datetime(2026, 11, 7, 10, 0, tzinfo=UTC)  # 12:00 in Bucharest (UTC+2)
    assert quest.ends_at == datetime(2026, 11, 8, 18, 0, tzinfo=UTC)
    assert (quest.multiplier_pct, quest.tier_keys, quest.actions) == (200, ["silver"], ["purchase", "check_in"])
    assert (row.status, row.form["starts_at"], row.form["ends_at"]) == ("scheduled", "2026-11-07T12:00", "2026-11-08T20:00")
    entry = changes(world)[0]
    assert entry.kind == "quest" and entry.effective_at == quest.starts_at
    # Summer time: the same wall clock is UTC+3 in July.
    summer = pc.save_quest(
        e, world["admin"], {**QUEST, "name": "Summer", "starts_at": "2027-07-03 12:00", "ends_at": "2027-07-04 12:00"}, now=NOW
    )
    with read_session(e) as s:
        assert s.get(Quest, summer.row_id).starts_at == datetime(2027, 7, 3, 9, 0, tzinfo=UTC)


def test_a_quest_starting_now_shows_on_the_members_home_with_its_end(world):
    e, cafe = world["engine"], world["cafe"]
    local_now = NOW.astimezone(pc.utc_to_local(NOW, "Europe/Bucharest").tzinfo)
    form = {
        **QUEST,
        "name": "Happy hour",
        "multiplier": "1.5",
        "starts_at": local_now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (local_now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    row = pc.save_quest(e, world["admin"], form, now=NOW)
    assert row.status == "active"
    summary = cockpit.member_summary(
        e, merchant_id=cafe.merchant_id, account_id=cafe.member_ids[0], now=NOW + timedelta(minutes=1)
    )
    card = next(q for q in summary.active_quests if q.name == "Happy hour")
    assert card.multiplier_pct == 150 and card.ends_at == NOW + timedelta(hours=2)
    assert changes(world)[0].title == "Happy hour: ×1.5 points from Mon 2 Nov 12:00"
    pc.retire_quest(e, world["admin"], row.row_id, now=NOW)
    summary = cockpit.member_summary(
        e, merchant_id=cafe.merchant_id, account_id=cafe.member_ids[0], now=NOW + timedelta(minutes=1)
    )
    assert all(q.name != "Happy hour" for q in summary.active_quests)
    assert changes(world)[0].title == "Cancelled: Happy hour"


# ------------------------------------------------------------------------ rows, keys, lists


def test_lists_show_status_facts_and_the_edit_form(world):
    e = world["engine"]
    pc.save_reward(
        e,
        world["admin"],
        {**REWARD, "name": "Gold lunch", "min_tier": "gold", "stock": "5", "valid_until": "2026-11-01T10:00"},
        now=NOW,
    )
    rows = {r.name: r for r in pc.list_rewards(e, world["admin"], now=NOW)}
    lunch = rows["Gold lunch"]
    assert lunch.status == "ended" and lunch.form["min_tier"] == "gold" and lunch.form["valid_until"] == "2026-11-01T10:00"
    assert ("{tier} and above", {"tier": "Gold"}) in lunch.facts and ("Stock: {n}", {"n": 5}) in lunch.facts
    assert rows["Free coffee"].status == "active"
    assert {r.name for r in pc.list_rewards(e, world["books_admin"])}.isdisjoint({"Gold lunch"})
    tiers = pc.list_tiers(e, world["admin"])
    assert [t.key for t in tiers] == ["bronze", "silver", "gold"] and tiers[1].form["purchase_multiplier"] == "1.5"


def test_keys_are_slugs_of_the_name(world):
    assert pc.slug_key("Free espresso!", "reward") == "free-espresso"
    assert pc.slug_key("Café crème — grand", "reward") == "cafe-creme-grand"
    assert pc.slug_key("Бесплатный кофе", "reward") == "reward"


def test_survey_questions_round_trip_and_keep_their_ids(world):
    e = world["engine"]
    row = pc.save_survey(e, world["admin"], SURVEY, now=NOW)
    with read_session(e) as s:
        questions = s.get(Survey, row.row_id).questions
    assert [(q["id"], q["kind"], q["required"]) for q in questions] == [
        ("q1", "choice", True),
        ("q2", "stars", True),
        ("q3", "text", False),
    ]
    assert questions[0]["options"] == ["Daily", "Weekly", "Rarely"]
    assert row.form["questions"] == pc.questions_text(questions)
    edited = pc.save_survey(
        e, world["admin"], {**row.form, "questions": "stars: Rate our coffee\n" + row.form["questions"]}, now=NOW
    )
    with read_session(e) as s:
        ids = [q["id"] for q in s.get(Survey, edited.row_id).questions]
    assert ids == ["q2", "q1", "q3x", "q3"]  # unchanged questions keep their ids (answers stay linked)


def test_badges_and_challenges_link_to_the_programs_own_rows(world):
    e = world["engine"]
    pc.save_badge(
        e,
        world["admin"],
        {**BADGE, "name": "Gold member", "kind": "tier_reached", "param_tier": "gold", "icon": "crown"},
        now=NOW,
    )
    badge = pc.save_badge(e, world["admin"], {**BADGE, "name": "Night owl", "icon": "moon"}, now=NOW)
    challenge = pc.save_challenge(e, world["admin"], {**CHALLENGE, "reward_badge": badge.key, "hidden": "on"}, now=NOW)
    with read_session(e) as s:
        row = s.get(Challenge, challenge.row_id)
        assert row.reward_badge_id == badge.row_id and row.hidden
        assert s.exec(select(Badge).where(Badge.name == "Gold member")).one().param == "gold"
    assert challenge.form["reward_badge"] == badge.key and challenge.form["hidden"] == "on"
    pc.save_reward(e, world["books_admin"], {**REWARD, "name": "Books tier reward"}, now=NOW)
    with pytest.raises(pc.FormInvalid) as refused:  # another program's tier key is unknown here
        pc.save_reward(e, world["books_admin"], {**REWARD, "min_tier": "platinum"}, now=NOW)
    assert refused.value.code == "unknown_tier"


# ------------------------------------------------------------------------------ reward image


def _png(size=(900, 600), colour=(200, 80, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def test_reward_picture_is_cleaned_and_saved_with_the_reward(world):
    e = world["engine"]
    clean, preview = pc.prepare_reward_image(_png())
    assert preview.startswith("data:image/webp;base64,")
    row = pc.save_reward(e, world["admin"], REWARD, image=clean, now=NOW)
    with read_session(e) as s:
        blob = s.get(MediaBlob, s.get(Reward, row.row_id).image_id)
    assert (blob.kind, blob.content_type, blob.merchant_id) == ("reward", "image/webp", world["cafe"].merchant_id)
    with pytest.raises(LoyaltyError) as refused:
        pc.prepare_reward_image(b"GIF89a not an image")
    assert refused.value.code == "image_format"
    before = count(e, MediaBlob)
    with pytest.raises(pc.FormInvalid):
        pc.save_reward(e, world["admin"], {**REWARD, "cost_points": "x"}, image=_png(colour=(1, 2, 3)), now=NOW)
    assert count(e, MediaBlob) == before  # the picture is not stored when the form is refused
    kept = pc.save_reward(e, world["admin"], {**row.form, "cost_points": "85"}, now=NOW)
    assert kept.image_id == row.image_id
    assert pc.save_reward(e, world["admin"], row.form, remove_image=True, now=NOW).image_id is None


# ---------------------------------------------------------------------------- authorization


@pytest.mark.parametrize("who", ["member", "staff"])
def test_members_and_staff_cannot_use_the_editor(world, who):
    e = world["engine"]
    with pytest.raises(NotAllowed):
        pc.list_rewards(e, world[who])
    with pytest.raises(NotAllowed):
        pc.save_reward(e, world[who], REWARD)
    with pytest.raises(NotAllowed):
        pc.retire_reward(e, world[who], world["cafe"].reward_ids["coffee"])
    with pytest.raises(NotAllowed):
        pc.hide_review(e, world[who], 1, "spam")
    with pytest.raises(NotAllowed):
        pc.list_submissions(e, world[who])
    with pytest.raises(NotAllowed):
        pc.save_quest(e, None, QUEST)
    assert count(e, Reward, Reward.name == "Free espresso") == 0


def test_another_programs_admin_cannot_touch_this_programs_rows(world):
    e, coffee = world["engine"], world["cafe"].reward_ids["coffee"]
    with pytest.raises(NotFound):
        pc.save_reward(e, world["books_admin"], {**REWARD, "id": str(coffee), "name": "Hijacked"}, now=NOW)
    with pytest.raises(NotFound):
        pc.retire_reward(e, world["books_admin"], coffee)
    with pytest.raises(NotFound):
        pc.save_reward(e, world["admin"], {**REWARD, "id": "1 or 1=1"})
    with read_session(e) as s:
        row = s.get(Reward, coffee)
    assert (row.name, row.is_active) == ("Free coffee", True)
    assert count(e, ProgramChange) == 0


# ------------------------------------------------------------------------------- moderation


def _rating(w, text="Lovely", i=0) -> int:
    cafe = w["cafe"]
    with write_session(w["engine"]) as s:
        row = RewardRating(
            merchant_id=cafe.merchant_id,
            account_id=cafe.member_ids[i],
            reward_id=cafe.reward_ids["coffee"],
            stars=2,
            review_text=text,
            created_at=NOW,
            updated_at=NOW,
        )
        s.add(row)
        s.flush()
        return row.id


def test_reviews_are_hidden_with_a_reason_and_shown_again(world):
    e = world["engine"]
    rid = _rating(world, "Buy cheap watches at spam.example")
    with pytest.raises(LoyaltyError) as refused:
        pc.hide_review(e, world["admin"], rid, "  ")
    assert (refused.value.code, refused.value.params["field"]) == ("reason_required", "reason")
    with pytest.raises(NotFound):
        pc.hide_review(e, world["books_admin"], rid, "spam")
    pc.hide_review(e, world["admin"], str(rid), "Advertising", now=NOW)
    row = pc.list_reviews(e, world["admin"])[0]
    assert (row.rating_id, row.hidden, row.hidden_reason, row.reward_name) == (rid, True, "Advertising", "Free coffee")
    with read_session(e) as s:
        assert s.get(RewardRating, rid).hidden_by_id == world["cafe"].admin_id
    pc.show_review(e, world["admin"], rid)
    assert pc.list_reviews(e, world["admin"])[0].hidden is False
    assert pc.list_reviews(e, world["books_admin"]) == []


def test_submissions_are_approved_for_points_or_rejected_with_a_reason(world):
    e, cafe = world["engine"], world["cafe"]
    with write_session(e) as s:
        pa.upsert_earning_rule(s, cafe.merchant_id, "social", action="tag_social", points=15)
        pa.upsert_earning_rule(s, cafe.merchant_id, "photo", action="photo_contest", points=40)
        blob = MediaBlob(
            merchant_id=cafe.merchant_id, kind="contest", content_type="image/webp", sha256="x" * 64, data=b"RIFF....WEBP"
        )
        s.add(blob)
        s.flush()
        post = Submission(
            merchant_id=cafe.merchant_id,
            account_id=cafe.member_ids[0],
            kind="social",
            url="https://instagram.com/p/abc",
            created_at=NOW,
        )
        photo = Submission(
            merchant_id=cafe.merchant_id, account_id=cafe.member_ids[1], kind="photo", media_id=blob.id, created_at=NOW
        )
        s.add(post)
        s.add(photo)
        s.flush()
        post_id, photo_id = post.id, photo.id
    pending = pc.list_submissions(e, world["admin"])
    assert [(p.kind, p.has_photo, p.member) for p in pending] == [("social", False, "First0"), ("photo", True, "First1")]
    assert pc.submission_photo(e, world["admin"], photo_id) == ("image/webp", b"RIFF....WEBP")
    with pytest.raises(NotFound):
        pc.submission_photo(e, world["books_admin"], photo_id)
    with pytest.raises(NotAllowed):
        pc.submission_photo(e, world["member"], photo_id)
    with pytest.raises(NotFound):
        pc.submission_photo(e, world["admin"], post_id)  # no photo
    pc.review_submission(e, world["admin"], str(post_id), True, now=NOW)
    with read_session(e) as s:
        assert ledger.get_balance(s, merchant_id=cafe.merchant_id, account_id=cafe.member_ids[0]).available == 15
    with pytest.raises(LoyaltyError) as refused:
        pc.review_submission(e, world["admin"], photo_id, False, "")
    assert refused.value.code == "reason_required"
    with pytest.raises(NotFound):
        pc.review_submission(e, world["books_admin"], photo_id, False, "Not ours")
    pc.review_submission(e, world["admin"], photo_id, False, "Not a photo of our shop", now=NOW)
    with read_session(e) as s:
        assert s.get(Submission, photo_id).reason == "Not a photo of our shop"
    assert pc.list_submissions(e, world["admin"]) == []


# --------------------------------------------------------------------------- admin media route

PW = "correct horse battery"


def _cookie(engine, merchant_id: int, email: str) -> str:
    from loyalty_app.services.members import accounts, sessions

    ticket = accounts.sign_in(
        engine, merchant_id=merchant_id, email=email, password=PW, ip="10.0.0.9", user_agent="pytest"
    ).activation_ticket
    activated = sessions.activate(engine, ticket=ticket)
    return f"ls_{activated.merchant_slug}={activated.secret}"


def test_contest_photos_are_served_to_the_programs_admins_only(world):
    import warnings

    from starlette.applications import Starlette

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    from loyalty_app.api import admin_media_routes
    from loyalty_app.services.members import accounts

    e, cafe = world["engine"], world["cafe"]
    accounts.create_admin(e, merchant_id=cafe.merchant_id, email="boss@x.test", password=PW, first_name="Bo")
    accounts.sign_up_member(e, merchant_id=cafe.merchant_id, email="ana@x.test", password=PW, first_name="Ana")
    accounts.create_admin(e, merchant_id=world["books"].merchant_id, email="boss@x.test", password=PW, first_name="Bk")
    with write_session(e) as s:
        blob = MediaBlob(merchant_id=cafe.merchant_id, kind="contest", content_type="image/webp", sha256="y" * 64, data=b"PHOTO")
        s.add(blob)
        s.flush()
        row = Submission(
            merchant_id=cafe.merchant_id, account_id=cafe.member_ids[0], kind="photo", media_id=blob.id, created_at=NOW
        )
        s.add(row)
        s.flush()
        sub_id = row.id
    client = TestClient(Starlette(routes=admin_media_routes.build_routes(lambda: e)), follow_redirects=False)
    path = f"/m/cafe/admin-media/submission/{sub_id}"
    ok = client.get(path, headers={"cookie": _cookie(e, cafe.merchant_id, "boss@x.test")})
    assert (ok.status_code, ok.content, ok.headers["cache-control"]) == (200, b"PHOTO", "private, no-store")
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"cookie": _cookie(e, cafe.merchant_id, "ana@x.test")}).status_code == 403
    books_cookie = _cookie(e, world["books"].merchant_id, "boss@x.test")
    assert client.get(f"/m/books/admin-media/submission/{sub_id}", headers={"cookie": books_cookie}).status_code == 404
    assert client.get(path + "0", headers={"cookie": _cookie(e, cafe.merchant_id, "boss@x.test")}).status_code == 404
    assert client.get("/m/cafe/admin-media/submission/abc").status_code == 404


def test_program_changes_are_in_the_admin_audit_log(world):
    from loyalty_app.services.platform import admin_audit

    e = world["engine"]
    row = pc.save_challenge(e, world["admin"], CHALLENGE, now=NOW)
    pc.save_challenge(e, world["admin"], dict(row.form), now=NOW)  # unchanged: nothing published, nothing audited
    pc.retire_challenge(e, world["admin"], row.row_id, now=NOW)
    actions = [r.action for r in admin_audit.recent(e, world["admin"])]
    assert actions == ["program.retire_challenge", "program.create_challenge"]


def test_built_in_and_merchant_segments_are_both_offered_to_target(world):
    e = world["engine"]
    seg_row = pc.save_segment(e, world["admin"], SEGMENT, now=NOW)
    ref = f"seg:{seg_row.row_id}"
    rule = pc.save_earning_rule(e, world["admin"], {**EARNING, "segment": "birthday_month"}, now=NOW)
    challenge = pc.save_challenge(e, world["admin"], {**CHALLENGE, "segment": ref}, now=NOW)
    assert rule.form["segment"] == "birthday_month" and ("Birthday this month", {}) in rule.facts
    with read_session(e) as s:
        assert s.get(Challenge, challenge.row_id).segment_key == ref
    assert pc.save_challenge(e, world["admin"], {**challenge.form, "segment": ""}, now=NOW).form["segment"] == ""
    with pytest.raises(NotFound):  # another program's segment id is unknown here, and so is the row
        pc.save_segment(e, world["books_admin"], {**SEGMENT, "id": str(seg_row.row_id)}, now=NOW)
    with pytest.raises(pc.FormInvalid):
        pc.save_reward(e, world["books_admin"], {**REWARD, "segment": ref}, now=NOW)


def test_tiers_and_badges_can_be_retired_and_restored_from_the_console(world):
    e = world["engine"]
    badge = pc.save_badge(e, world["admin"], BADGE, now=NOW)
    assert pc.set_active(e, world["admin"], "badge", badge.row_id, False, now=NOW).status == "retired"
    assert changes(world)[0].title == "Badge retired: Regular"
    assert pc.set_active(e, world["admin"], "badge", badge.row_id, True, now=NOW).status == "active"
    assert changes(world)[0].title == "Badge back: Regular"
    gold = next(t for t in pc.list_tiers(e, world["admin"]) if t.key == "gold")
    assert gold.retirable and gold.status == "active"
    assert pc.retire_tier(e, world["admin"], gold.row_id, now=NOW).status == "retired"
    options = pc.program_options(e, world["admin"])
    assert options.retired_tiers == frozenset({"gold"}) and ("gold", "Gold") in options.tiers  # still listed, marked
    with pytest.raises(NotFound):
        pc.retire_tier(e, world["books_admin"], gold.row_id)
    from loyalty_app.services.platform import admin_audit

    actions = [r.action for r in admin_audit.recent(e, world["admin"])]
    assert actions[:3] == ["program.retire_tier", "program.restore_badge", "program.retire_badge"]
