"""services.earning.engagement: the Challenges tab's read model and its ways to earn (survey, newsletter,
event code, social link and photo submissions with the merchant's review, profile/birthday)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import func, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import Conflict, LoyaltyError, NotAllowed, NotFound
from loyalty_app.models import (
    Account,
    MediaBlob,
    MemberActivity,
    Role,
    SecurityEvent,
    Submission,
    SurveyResponse,
)
from loyalty_app.services import ledger
from loyalty_app.services.earning import engagement
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program import program_admin as admin
from tests.engine.test_rules_support import T0, make_program

QUESTIONS = [
    {"id": "visit", "text": "How often do you visit?", "kind": "choice", "options": ["Daily", "Weekly", "Rarely"]},
    {"id": "coffee", "text": "Rate our coffee", "kind": "stars"},
    {"id": "wish", "text": "What should we add?", "kind": "text", "required": False, "max_length": 20},
]
GOOD = {"visit": "Weekly", "coffee": "4", "wish": "Oat milk"}


@pytest.fixture
def program(db_engine):
    p = make_program(db_engine)
    with write_session(db_engine) as s:
        admin.upsert_earning_rule(
            s, p.merchant_id, "survey", action="fill_survey", points=30, limit_count=1, limit_period="month"
        )
        admin.upsert_earning_rule(
            s, p.merchant_id, "news", action="subscribe_newsletter", points=50, limit_count=1, limit_period="ever"
        )
        admin.upsert_earning_rule(s, p.merchant_id, "social", action="tag_social", points=15, limit_count=3, limit_period="week")
        admin.upsert_earning_rule(
            s, p.merchant_id, "photo", action="photo_contest", points=40, limit_count=1, limit_period="month"
        )
        admin.upsert_earning_rule(s, p.merchant_id, "bday", action="birthday", points=200, limit_count=1, limit_period="year")
        p.survey_id = engagement.upsert_survey(s, p.merchant_id, "taste", title="Taste survey", questions=QUESTIONS).id
    return p


def member(p, i: int = 0) -> Actor:
    return Actor(account_id=p.member_ids[i], merchant_id=p.merchant_id, role=Role.MEMBER)


def boss(p) -> Actor:
    return Actor(account_id=p.admin_id, merchant_id=p.merchant_id, role=Role.ADMIN)


def available(engine, p, i: int = 0) -> int:
    with read_session(engine) as s:
        return ledger.get_balance(s, merchant_id=p.merchant_id, account_id=p.member_ids[i]).available


def count(engine, model, *where) -> int:
    with read_session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def activities(engine, p, action: str, i: int = 0) -> int:
    return count(engine, MemberActivity, MemberActivity.account_id == p.member_ids[i], MemberActivity.action == action)


# ----------------------------------------------------------------------------------- survey


def test_answers_are_validated_question_by_question():
    qs = engagement.clean_questions(QUESTIONS)
    assert engagement.validate_answers(qs, GOOD) == {"visit": "Weekly", "coffee": 4, "wish": "Oat milk"}
    assert engagement.validate_answers(qs, {"visit": "Daily", "coffee": 5, "extra": "dropped"}) == {"visit": "Daily", "coffee": 5}
    cases = [
        ({"coffee": "4"}, "answer_required"),
        ({"visit": "  ", "coffee": "4"}, "answer_required"),
        ({"visit": "Hourly", "coffee": "4"}, "invalid_choice"),
        ({"visit": "Daily", "coffee": "6"}, "invalid_stars"),
        ({"visit": "Daily", "coffee": "0"}, "invalid_stars"),
        ({"visit": "Daily", "coffee": "four"}, "invalid_stars"),
        ({"visit": "Daily", "coffee": "3", "wish": "x" * 21}, "answer_too_long"),
        ({"visit": ["Daily"], "coffee": "3"}, "invalid_answer"),
        ("not a dict", "invalid_answer"),
    ]
    for answers, code in cases:
        with pytest.raises(LoyaltyError) as err:
            engagement.validate_answers(qs, answers)
        assert err.value.code == code, answers
    for bad in (
        [],
        [{"id": "a", "text": "Q", "kind": "choice", "options": ["only one"]}],
        [{"id": "a", "text": "Q", "kind": "essay"}],
        [{"id": "a", "text": "Q", "kind": "stars"}] * 2,
    ):
        with pytest.raises(LoyaltyError):
            engagement.clean_questions(bad)


def test_survey_pays_once_and_stores_the_answers(db_engine, program):
    p = program
    before = available(db_engine, p)
    result = engagement.submit_survey(db_engine, member(p), p.survey_id, GOOD, now=T0)
    assert result.points == 30 and result.available == before + 30
    with read_session(db_engine) as s:
        response = s.exec(select(SurveyResponse)).one()
    assert response.answers == {"visit": "Weekly", "coffee": 4, "wish": "Oat milk"} and response.account_id == p.member_ids[0]
    with pytest.raises(LoyaltyError) as err:
        engagement.submit_survey(db_engine, member(p), p.survey_id, GOOD, now=T0 + timedelta(days=40))
    assert err.value.code == "survey_answered"
    assert available(db_engine, p) == before + 30
    overview = engagement.engagement_overview(db_engine, member(p), now=T0)
    assert overview.survey.answered_at is not None
    assert {w.action: w.status for w in overview.ways}["fill_survey"] == "answered"
    # Another member still answers it.
    assert engagement.submit_survey(db_engine, member(p, 1), p.survey_id, GOOD, now=T0).points == 30


def test_bad_answers_or_a_refused_earn_save_nothing(db_engine, program):
    p = program
    before = available(db_engine, p)
    with pytest.raises(LoyaltyError) as err:
        engagement.submit_survey(db_engine, member(p), p.survey_id, {"visit": "Hourly", "coffee": "4"}, now=T0)
    assert err.value.code == "invalid_choice"
    assert count(db_engine, SurveyResponse) == 0 and activities(db_engine, p, "fill_survey") == 0
    # The monthly limit is used by another survey: the second one is refused whole.
    with write_session(db_engine) as s:
        other = engagement.upsert_survey(s, p.merchant_id, "other", title="Other", questions=QUESTIONS[:1]).id
    engagement.submit_survey(db_engine, member(p), other, {"visit": "Daily"}, now=T0)
    with pytest.raises(LoyaltyError) as err:
        engagement.submit_survey(db_engine, member(p), p.survey_id, GOOD, now=T0 + timedelta(hours=1))
    assert err.value.code == "limit_reached"
    assert count(db_engine, SurveyResponse, SurveyResponse.survey_id == p.survey_id) == 0
    assert available(db_engine, p) == before + 30
    # Next month it works.
    assert engagement.submit_survey(db_engine, member(p), p.survey_id, GOOD, now=T0 + timedelta(days=31)).points == 30


def test_closed_foreign_or_unknown_surveys_are_refused(db_engine, program):
    p = program
    books = make_program(db_engine, "books")
    with write_session(db_engine) as s:
        foreign = engagement.upsert_survey(s, books.merchant_id, "b", title="Books", questions=QUESTIONS).id
        closed = engagement.upsert_survey(
            s,
            p.merchant_id,
            "closed",
            title="Closed",
            questions=QUESTIONS,
            ends_at=T0 - timedelta(days=1),
            starts_at=T0 - timedelta(days=9),
        ).id
    for sid in (foreign, 999_999):
        with pytest.raises(NotFound):
            engagement.submit_survey(db_engine, member(p), sid, GOOD, now=T0)
    with pytest.raises(LoyaltyError) as err:
        engagement.submit_survey(db_engine, member(p), closed, GOOD, now=T0)
    assert err.value.code == "survey_closed"
    assert count(db_engine, SurveyResponse) == 0


def test_upserting_the_same_survey_writes_nothing(db_engine, program):
    with write_session(db_engine) as s:
        row = engagement.upsert_survey(s, program.merchant_id, "taste", title="Taste survey", questions=QUESTIONS)
        assert row.id == program.survey_id and not s.dirty


# ------------------------------------------------------------------------------- newsletter


def test_newsletter_sets_consent_and_pays_once_ever(db_engine, program):
    p = program
    before = available(db_engine, p)
    first = engagement.subscribe_newsletter(db_engine, member(p), now=T0)
    assert first.points == 50 and not first.already
    with read_session(db_engine) as s:
        consent = s.get(Account, p.member_ids[0]).consents["email"]
    assert consent["granted"] is True and consent["at"].startswith("2026-11-02")
    again = engagement.subscribe_newsletter(db_engine, member(p), now=T0 + timedelta(days=400))
    assert again.already and again.points == 0
    assert available(db_engine, p) == before + 50 and activities(db_engine, p, "subscribe_newsletter") == 1
    statuses = {w.action: w.status for w in engagement.engagement_overview(db_engine, member(p), now=T0).ways}
    assert statuses["subscribe_newsletter"] == "subscribed"


def test_newsletter_consent_is_kept_when_no_rule_pays(db_engine, program):
    p = program
    with write_session(db_engine) as s:
        admin.upsert_earning_rule(
            s,
            p.merchant_id,
            "news",
            action="subscribe_newsletter",
            points=50,
            limit_count=1,
            limit_period="ever",
            is_active=False,
        )
    result = engagement.subscribe_newsletter(db_engine, member(p), now=T0)
    assert result.points == 0
    with read_session(db_engine) as s:
        assert s.get(Account, p.member_ids[0]).consents["email"]["granted"] is True
    ways = {w.action for w in engagement.engagement_overview(db_engine, member(p), now=T0).ways}
    assert "subscribe_newsletter" not in ways  # no rule: that way to earn is not shown


# ------------------------------------------------------------------------------- event code


def test_event_code_valid_invalid_and_repeat(db_engine, program):
    p = program
    before = available(db_engine, p)
    result = engagement.enter_event_code(db_engine, member(p), " jazz ", now=T0)
    assert result.points == 40 and available(db_engine, p) == before + 40
    with pytest.raises(LoyaltyError) as err:
        engagement.enter_event_code(db_engine, member(p), "JAZZ", now=T0 + timedelta(days=1))
    assert err.value.code == "event_code_used"
    with pytest.raises(LoyaltyError) as err:
        engagement.enter_event_code(db_engine, member(p), "ROCK", now=T0)
    assert err.value.code == "invalid_event_code"
    for bad, code in (("", "event_code_required"), ("JAZZ NIGHT!", "invalid_event_code"), ("X" * 41, "invalid_event_code")):
        with pytest.raises(LoyaltyError) as err:
            engagement.enter_event_code(db_engine, member(p), bad, now=T0)
        assert err.value.code == code
    assert available(db_engine, p) == before + 40
    assert count(db_engine, SecurityEvent, SecurityEvent.action == "event_code") == 1
    # The same code is still good for another member.
    assert engagement.enter_event_code(db_engine, member(p, 1), "jazz", now=T0).points == 40


def test_wrong_event_codes_are_throttled(db_engine, program):
    p = program
    for i in range(engagement.EVENT_CODE_ATTEMPTS):
        with pytest.raises(LoyaltyError):
            engagement.enter_event_code(db_engine, member(p), f"GUESS{i}", now=T0)
    with pytest.raises(LoyaltyError) as err:
        engagement.enter_event_code(db_engine, member(p), "JAZZ", now=T0 + timedelta(minutes=5))
    assert err.value.code == "event_code_throttled"
    assert engagement.enter_event_code(db_engine, member(p), "JAZZ", now=T0 + timedelta(hours=2)).points == 40


# ------------------------------------------------------------------------ social and review


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.instagram.com/p/Cx123/", "https://www.instagram.com/p/Cx123/"),
        ("  https://instagram.com/p/abc?igsh=1#frag ", "https://instagram.com/p/abc?igsh=1"),
        ("https://m.facebook.com/story.php?id=1", "https://m.facebook.com/story.php?id=1"),
        ("https://www.tiktok.com/@cafe/video/1", "https://www.tiktok.com/@cafe/video/1"),
        ("https://x.com/cafe/status/1", "https://x.com/cafe/status/1"),
        ("https://twitter.com/cafe/status/1", "https://twitter.com/cafe/status/1"),
        ("https://www.threads.net/@cafe/post/1", "https://www.threads.net/@cafe/post/1"),
        ("HTTPS://INSTAGRAM.COM/p/A", "https://instagram.com/p/A"),
    ],
)
def test_social_links_on_the_allowlist_are_accepted(url, expected):
    assert engagement.clean_social_url(url) == expected


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("", "link_required"),
        ("http://instagram.com/p/abc", "link_not_https"),
        ("javascript:alert(1)", "link_not_https"),
        ("instagram.com/p/abc", "link_not_https"),
        ("https://instagram.com.evil.test/p/abc", "link_host"),
        ("https://evilinstagram.com/p/abc", "link_host"),
        ("https://example.com/instagram.com/p", "link_host"),
        ("https://user:pw@instagram.com/p/abc", "link_host"),
        ("https://instagram.com:8443/p/abc", "link_host"),
        ("https://instagram.com/", "link_not_post"),
        ("https://instagram.com", "link_not_post"),
        ("https://instagram.com/p/a b", "link_invalid"),
        ("https://instagram.com/p/" + "a" * 500, "link_too_long"),
    ],
)
def test_other_links_are_refused(url, code):
    with pytest.raises(LoyaltyError) as err:
        engagement.clean_social_url(url)
    assert err.value.code == code


def test_social_submission_is_reviewed_by_the_merchant(db_engine, program):
    p = program
    before = available(db_engine, p)
    sub = engagement.submit_social_link(db_engine, member(p), "https://instagram.com/p/one", now=T0)
    assert sub.status == "pending" and available(db_engine, p) == before
    with pytest.raises(LoyaltyError) as err:
        engagement.submit_social_link(db_engine, member(p, 1), "https://instagram.com/p/one", now=T0)
    assert err.value.code == "link_duplicate"

    mine = engagement.engagement_overview(db_engine, member(p), now=T0)
    assert [(s.url, s.status) for s in mine.submissions] == [("https://instagram.com/p/one", "pending")]
    assert {w.action: w.pending for w in mine.ways}["tag_social"] == 1
    assert engagement.engagement_overview(db_engine, member(p, 1), now=T0).submissions == []

    # Members and staff cannot review; a rejection needs a reason.
    staff = Actor(account_id=p.staff_id, merchant_id=p.merchant_id, role=Role.STAFF, store_ids=frozenset(p.store_ids[:1]))
    for actor in (member(p), member(p, 1), staff, None):
        with pytest.raises(NotAllowed):
            engagement.review_submission(db_engine, actor, sub.submission_id, True, now=T0)
    with pytest.raises(LoyaltyError) as err:
        engagement.review_submission(db_engine, boss(p), sub.submission_id, False, "  ", now=T0)
    assert err.value.code == "reason_required"

    approved = engagement.review_submission(db_engine, boss(p), sub.submission_id, True, now=T0 + timedelta(hours=1))
    assert approved.status == "approved" and approved.points == 15
    assert available(db_engine, p) == before + 15
    again = engagement.review_submission(db_engine, boss(p), sub.submission_id, True, now=T0 + timedelta(hours=2))
    assert again.status == "approved" and available(db_engine, p) == before + 15
    with pytest.raises(Conflict):
        engagement.review_submission(db_engine, boss(p), sub.submission_id, False, "Changed my mind", now=T0)
    assert activities(db_engine, p, "tag_social") == 1

    other = engagement.submit_social_link(db_engine, member(p), "https://x.com/cafe/status/2", now=T0)
    rejected = engagement.review_submission(db_engine, boss(p), other.submission_id, False, "We are not tagged.", now=T0)
    assert rejected.status == "rejected" and rejected.points == 0
    seen = {
        s.url: (s.status, s.reason, s.points) for s in engagement.engagement_overview(db_engine, member(p), now=T0).submissions
    }
    assert seen == {
        "https://instagram.com/p/one": ("approved", "", 15),
        "https://x.com/cafe/status/2": ("rejected", "We are not tagged.", 0),
    }
    assert available(db_engine, p) == before + 15


def test_another_merchants_admin_cannot_review(db_engine, program):
    p = program
    books = make_program(db_engine, "books")
    sub = engagement.submit_social_link(db_engine, member(p), "https://instagram.com/p/one", now=T0)
    with pytest.raises(NotFound):
        engagement.review_submission(db_engine, boss(books), sub.submission_id, True, now=T0)
    assert engagement.pending_submissions(db_engine, boss(books)) == []
    assert [s.submission_id for s in engagement.pending_submissions(db_engine, boss(p))] == [sub.submission_id]


def test_submissions_respect_the_rule_limit_and_pending_cap(db_engine, program):
    p = program
    for i in range(3):
        s = engagement.submit_social_link(db_engine, member(p), f"https://instagram.com/p/{i}", now=T0)
        engagement.review_submission(db_engine, boss(p), s.submission_id, True, now=T0)
    with pytest.raises(LoyaltyError) as err:  # 3 a week, all used
        engagement.submit_social_link(db_engine, member(p), "https://instagram.com/p/x", now=T0)
    assert err.value.code == "limit_reached"
    later = T0 + timedelta(days=7)
    for i in range(engagement.MAX_PENDING):
        engagement.submit_social_link(db_engine, member(p), f"https://instagram.com/p/later{i}", now=later)
    with pytest.raises(LoyaltyError) as err:
        engagement.submit_social_link(db_engine, member(p), "https://instagram.com/p/one-more", now=later)
    assert err.value.code == "too_many_pending"


# -------------------------------------------------------------------------------------- photo


def jpeg_with_exif(size=(1600, 1200)) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    buf = io.BytesIO()
    image.save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


def test_photo_is_validated_reencoded_and_reviewed(db_engine, program):
    p = program
    sub = engagement.submit_photo(db_engine, member(p), jpeg_with_exif(), filename="me.jpg", now=T0)
    assert sub.kind == "photo" and sub.status == "pending"
    with read_session(db_engine) as s:
        row = s.get(Submission, sub.submission_id)
        blob = s.get(MediaBlob, row.media_id)
        assert blob.kind == "contest" and blob.content_type == "image/webp" and blob.merchant_id == p.merchant_id
        assert blob.width <= 1280 and b"SecretCam" not in blob.data
    for bad, code in ((b"GIF89a not really", "image_format"), (b"", "image_empty"), (b"<svg/>", "image_format")):
        with pytest.raises(LoyaltyError) as err:
            engagement.submit_photo(db_engine, member(p), bad, now=T0)
        assert err.value.code == code
    assert count(db_engine, Submission) == 1
    approved = engagement.review_submission(db_engine, boss(p), sub.submission_id, True, now=T0)
    assert approved.points == 40 and activities(db_engine, p, "photo_contest") == 1


# ------------------------------------------------------------------ claims and the read model


def test_profile_and_birthday_claims(db_engine, program):
    p = program
    assert engagement.claim_action(db_engine, member(p), "complete_profile", now=T0).points == 50
    with pytest.raises(LoyaltyError) as err:
        engagement.claim_action(db_engine, member(p), "complete_profile", now=T0 + timedelta(days=1))
    assert err.value.code == "already_claimed"
    assert engagement.claim_action(db_engine, member(p), "birthday", now=T0).points == 200  # born in November
    with pytest.raises(LoyaltyError):
        engagement.claim_action(db_engine, member(p), "birthday", now=T0 + timedelta(days=3))
    with pytest.raises(LoyaltyError) as err:
        engagement.claim_action(db_engine, member(p), "purchase", now=T0)
    assert err.value.code == "not_claimable"
    statuses = {w.action: w.status for w in engagement.engagement_overview(db_engine, member(p), now=T0).ways}
    assert statuses["complete_profile"] == "limit" and statuses["birthday"] == "limit"
    later = {
        w.action: w.status for w in engagement.engagement_overview(db_engine, member(p, 1), now=T0 + timedelta(days=60)).ways
    }
    assert later["birthday"] == "not_birthday_month" and later["complete_profile"] == "open"


def test_overview_challenges_badges_and_ways(db_engine, program):
    p = program
    with write_session(db_engine) as s:
        admin.upsert_badge(s, p.merchant_id, "regular", name="Regular", kind="check_ins", target=3, icon="pin")
        admin.upsert_badge(s, p.merchant_id, "night", name="Night owl", kind="challenge", param="secret", icon="moon")
        admin.upsert_challenge(
            s,
            p.merchant_id,
            "week-review",
            name="Review this week",
            action="write_review",
            target=1,
            recurrence="weekly",
            reward_points=20,
        )
        admin.upsert_challenge(
            s, p.merchant_id, "two-events", name="Two events", action="attend_event", target=2, ends_at=T0 + timedelta(days=3)
        )
        admin.upsert_challenge(
            s, p.merchant_id, "secret", name="Secret", action="check_in", target=1, hidden=True, reward_badge_key="night"
        )
        s.get(Account, p.member_ids[0]).timezone = "America/New_York"
    view = engagement.engagement_overview(db_engine, member(p), now=T0)
    assert view.timezone == "America/New_York"
    cards = {c.key: c for c in view.challenges}
    assert set(cards) == {"week-review", "two-events"}  # the hidden one is not listed yet
    assert cards["two-events"].ends_at == T0 + timedelta(days=3) and cards["two-events"].resets_at is None
    # Weekly: resets at the merchant's next Monday midnight (Bucharest, UTC+2 in November).
    assert cards["week-review"].resets_at.isoformat() == "2026-11-08T22:00:00+00:00"
    badges = {b.key: b for b in view.badges}
    assert not badges["night"].earned and badges["night"].param == ""  # a surprise stays a surprise
    assert badges["regular"].kind == "check_ins" and (badges["regular"].current, badges["regular"].target) == (0, 3)
    assert [w.action for w in view.ways] == [
        "fill_survey",
        "attend_event",
        "tag_social",
        "photo_contest",
        "subscribe_newsletter",
        "complete_profile",
        "birthday",
    ]

    engagement.enter_event_code(db_engine, member(p), "JAZZ", now=T0)
    from loyalty_app.services.earning.actions import record_action

    record_action(
        db_engine,
        merchant_id=p.merchant_id,
        account_id=p.member_ids[0],
        action="check_in",
        idempotency_key="ci-1",
        store_id=p.store_ids[0],
        now=T0,
    )
    view = engagement.engagement_overview(db_engine, member(p), now=T0 + timedelta(minutes=1))
    cards = {c.key: c for c in view.challenges}
    assert (cards["two-events"].count, cards["two-events"].pct) == (1, 50)
    assert cards["secret"].completed and cards["secret"].hidden and cards["secret"].completed_at == T0
    assert [c.completed for c in view.challenges] == [False, False, True]  # completed ones last
    badges = {b.key: b for b in view.badges}
    assert badges["night"].earned and badges["night"].awarded_at == T0
    assert (badges["regular"].current, badges["regular"].pct) == (1, 33)


def test_only_signed_in_members_use_the_tab(db_engine, program):
    p = program
    staff = Actor(account_id=p.staff_id, merchant_id=p.merchant_id, role=Role.STAFF, store_ids=frozenset(p.store_ids[:1]))
    other_merchant = Actor(account_id=p.member_ids[0], merchant_id=p.merchant_id + 99, role=Role.MEMBER)
    calls = (
        lambda a: engagement.engagement_overview(db_engine, a, now=T0),
        lambda a: engagement.submit_survey(db_engine, a, p.survey_id, GOOD, now=T0),
        lambda a: engagement.subscribe_newsletter(db_engine, a, now=T0),
        lambda a: engagement.enter_event_code(db_engine, a, "JAZZ", now=T0),
        lambda a: engagement.submit_social_link(db_engine, a, "https://x.com/a/status/1", now=T0),
        lambda a: engagement.submit_photo(db_engine, a, jpeg_with_exif((40, 40)), now=T0),
        lambda a: engagement.claim_action(db_engine, a, "complete_profile", now=T0),
    )
    for call in calls:
        for actor in (None, staff, boss(p)):
            with pytest.raises(NotAllowed):
                call(actor)
    assert count(db_engine, SurveyResponse) == 0 and count(db_engine, Submission) == 0
    with pytest.raises(LoyaltyError):
        engagement.engagement_overview(db_engine, other_merchant, now=T0)
