"""The registry of ways to earn (domain/ways_to_earn.py): every action has one complete entry, an
incomplete entry is refused, and the console, the Challenges page, the activity history, the
earning rules and the engagement flows read their tables from it, so a new way to earn is one
registry entry (plus its translations) and nothing else."""

from __future__ import annotations

import dataclasses

import pytest
from babel.messages.extract import extract_from_file

from loyalty_app.domain import earning, ways_to_earn
from loyalty_app.domain.ways_to_earn import BUILT_IN, WAYS_TO_EARN, Action, Claim, Topic, WayToEarn, missing_parts
from loyalty_app.i18n.catalogs import TRANSLATED_LANGUAGES, lookup
from loyalty_app.pages import challenges as challenges_page
from loyalty_app.services.earning import engagement
from loyalty_app.services.member_app import activity
from loyalty_app.services.program import program_console as pc

TEXTS = ("label", "how_to", "reason", "reason_multiplied")

# "Attend a tasting" as the README adds it (without N_() here: tests are not extracted into the catalogs).
TASTING = WayToEarn(
    key="attend_tasting",
    label="Attend a tasting",
    how_to="Come to one of our tastings",
    reason="Came to a tasting",
    reason_multiplied="Came to a tasting, {multipliers}",
    topic=Topic.EVENT,
    claim=Claim.BY_MEMBER,
)


@pytest.fixture(autouse=True)
def registry_restored():
    """Whatever a test registers, the registry is the built-in one again afterwards."""
    before = WAYS_TO_EARN.keys()
    yield
    for key in set(WAYS_TO_EARN.keys()) - set(before):
        WAYS_TO_EARN.unregister(key)
    assert WAYS_TO_EARN.keys() == before


# --------------------------------------------------------------------------- completeness


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
def test_every_action_has_a_complete_entry(action):
    way = WAYS_TO_EARN.get(action.value)
    assert way is not None, f"{action.value} has no entry in domain/ways_to_earn.py BUILT_IN"
    assert missing_parts(way) == (), f"{action.value} lacks {missing_parts(way)}"
    assert way.key == action.value
    for part in TEXTS:
        assert getattr(way, part).strip(), f"{action.value} has no {part}"
    assert isinstance(way.topic, Topic) and isinstance(way.claim, Claim)
    assert way.reason_multiplied.endswith("{multipliers}")


def test_the_registry_holds_exactly_the_actions():
    assert WAYS_TO_EARN.keys() == tuple(w.key for w in BUILT_IN)
    assert set(WAYS_TO_EARN.keys()) == {a.value for a in Action}
    assert len(WAYS_TO_EARN) == len(Action)


def test_every_text_is_marked_for_the_catalogs_and_translated():
    found = {
        message
        for _line, message, _comments, _context in extract_from_file("python", ways_to_earn.__file__, keywords={"N_": None})
    }
    for way in WAYS_TO_EARN:
        for part in TEXTS:
            msgid = getattr(way, part)
            assert msgid in found, f"{way.key}.{part} is not marked with N_()"
            for lang in TRANSLATED_LANGUAGES:
                assert lookup(lang, msgid), f"{way.key}.{part} has no {lang} translation: {msgid!r}"
    assert ways_to_earn.VISIT_HOW in found and all(lookup(lang, ways_to_earn.VISIT_HOW) for lang in TRANSLATED_LANGUAGES)


BROKEN = [
    ("key", ""),
    ("key", "Attend tasting"),
    ("key", "visit"),  # the challenges' pseudo-action
    ("label", ""),
    ("label", "   "),
    ("how_to", ""),
    ("reason", ""),
    ("reason", "Came to {"),
    ("reason_multiplied", ""),
    ("reason_multiplied", "Came to a tasting"),  # no {multipliers}
    ("reason_multiplied", "Came to a tasting {code}, {multipliers}"),  # a placeholder the plain reason lacks
    ("topic", "event"),  # a plain string, not a Topic
    ("topic", None),
    ("claim", None),
    ("claim", "by_member"),
    ("params", ["event_codes"]),  # a list, not a tuple
    ("params", ("wine_list",)),  # a parameter the console cannot edit
    ("visit", None),
    ("card", 0),
]


def test_the_new_way_is_complete_and_may_take_event_codes():
    assert missing_parts(TASTING) == ()
    assert missing_parts(dataclasses.replace(TASTING, params=("event_codes",), visit=True, card=9)) == ()


@pytest.mark.parametrize("part,value", BROKEN)
def test_a_missing_or_malformed_part_is_named_and_refused(part, value):
    broken = dataclasses.replace(TASTING, **{part: value})
    assert part in missing_parts(broken)
    with pytest.raises(ValueError, match=part):
        WAYS_TO_EARN.register(broken)
    assert "attend_tasting" not in WAYS_TO_EARN


def test_a_key_or_card_place_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        WAYS_TO_EARN.register(dataclasses.replace(TASTING, key=Action.ATTEND_EVENT.value))
    survey_card = WAYS_TO_EARN[Action.FILL_SURVEY.value].card
    with pytest.raises(ValueError, match="card place"):
        WAYS_TO_EARN.register(dataclasses.replace(TASTING, card=survey_card))
    assert "attend_tasting" not in WAYS_TO_EARN


# --------------------------------------------------------------------------- the consumers


def test_the_consumers_tables_come_from_the_registry():
    assert pc.ACTION_LABELS == {w.key: w.label for w in WAYS_TO_EARN}
    assert list(pc.CHALLENGE_ACTION_LABELS) == ["visit", *WAYS_TO_EARN.keys()]
    assert challenges_page.ACTION_HOW == {"visit": ways_to_earn.VISIT_HOW, **{w.key: w.how_to for w in WAYS_TO_EARN}}
    assert earning.ACTION_REASONS == {Action(w.key): (w.reason, w.reason_multiplied) for w in WAYS_TO_EARN}
    assert (earning.PURCHASE_REASON, earning.PURCHASE_REASON_MULTIPLIED) == WAYS_TO_EARN["purchase"].reasons
    assert earning.SERVICE_ONLY_ACTIONS == {Action.PURCHASE, Action.RATE_REWARD, Action.REFER_FRIEND}
    assert earning.VISIT_ACTIONS == {Action.PURCHASE, Action.CHECK_IN}
    for way in WAYS_TO_EARN:
        assert activity.topic("earn", {"action": way.key}) == way.topic.value
    assert engagement.WAYS == WAYS_TO_EARN.on_challenges_tab()
    assert engagement.CLAIMABLE == {"complete_profile", "birthday"}
    # Each way claimed by review has its submission kind (and its own submit function).
    assert set(engagement.SUBMISSION_ACTIONS.values()) == set(WAYS_TO_EARN.claimed(Claim.REVIEWED))


def test_a_new_way_to_earn_is_one_registry_entry():
    """Registering "attend a tasting" is all it takes: the console's labels, the Challenges page's
    how-to, the activity topic and the ledger reason pick it up, and it is gone once unregistered."""
    assert "attend_tasting" not in pc.action_labels()
    with WAYS_TO_EARN.registered(TASTING):
        # The console: a label to pick for rules, action-count badges, quests and challenges.
        assert pc.action_labels()["attend_tasting"] == "Attend a tasting"
        assert pc.challenge_action_labels()["attend_tasting"] == "Attend a tasting"
        assert list(pc.action_labels())[-1] == "attend_tasting"  # registry order: after the built-in ones
        # The Challenges page: how a challenge or badge counting it is done.
        assert challenges_page.action_how()["attend_tasting"] == "Come to one of our tastings"
        # The activity history: its icon topic and the reason its entries show (English until translated).
        assert activity.topic("earn", {"action": "attend_tasting"}) == "event"
        reason, multiplied = earning.earn_reasons("attend_tasting")
        assert activity.reason_text("es", reason, {}) == "Came to a tasting"
        assert activity.reason_text("en", multiplied, {"multipliers": "×2 Gold"}) == "Came to a tasting, ×2 Gold"
        # Who may record it, what it counts as, where its card goes.
        assert "attend_tasting" not in WAYS_TO_EARN.service_only()
        assert "attend_tasting" not in WAYS_TO_EARN.visits()
        assert "attend_tasting" in WAYS_TO_EARN.claimed(Claim.BY_MEMBER)
        assert "attend_tasting" not in WAYS_TO_EARN.on_challenges_tab()  # no card unless it gets a place
    assert "attend_tasting" not in pc.action_labels()
    assert "attend_tasting" not in challenges_page.action_how()
    assert activity.topic("earn", {"action": "attend_tasting"}) == "earn"


def test_a_new_way_with_a_card_and_a_claim_button():
    with WAYS_TO_EARN.registered(dataclasses.replace(TASTING, claim=Claim.CLAIM_BUTTON, card=8)):
        assert WAYS_TO_EARN.on_challenges_tab()[-1] == "attend_tasting"
        assert "attend_tasting" in WAYS_TO_EARN.claimed(Claim.CLAIM_BUTTON)
    assert WAYS_TO_EARN.on_challenges_tab() == engagement.WAYS


def test_a_registered_way_is_earned_end_to_end(db_engine):
    """With only its registry entry, "attend a tasting" is an action: a merchant sets an earning
    rule for it, a member is paid through the ledger with its reason, and once unregistered it is
    refused again (nothing to add to ``Action``)."""
    from loyalty_app.db import read_session, write_session
    from loyalty_app.domain.errors import LoyaltyError
    from loyalty_app.services import ledger
    from loyalty_app.services.earning import actions
    from loyalty_app.services.program import program_admin
    from tests.engine.test_rules_support import T0, make_program

    p = make_program(db_engine, "tasting")
    with WAYS_TO_EARN.registered(TASTING):
        with write_session(db_engine) as s:
            program_admin.upsert_earning_rule(s, p.merchant_id, "tasting", action="attend_tasting", points=40)
        outcome = actions.record_action(
            db_engine,
            merchant_id=p.merchant_id,
            account_id=p.member_ids[0],
            action="attend_tasting",
            idempotency_key="tasting-1",
            now=T0,
        )
        assert outcome.points == 40 and outcome.reason == "Came to a tasting"
        with read_session(db_engine) as s:
            assert ledger.get_balance(s, merchant_id=p.merchant_id, account_id=p.member_ids[0]).available == 40
            entry = ledger.history(s, merchant_id=p.merchant_id, account_id=p.member_ids[0], limit=1)[0]
        assert entry.reason == "Came to a tasting" and entry.points == 40
        assert activity.topic("earn", {"action": "attend_tasting"}) == "event"
    with pytest.raises(LoyaltyError, match="Unknown action"):
        actions.record_action(
            db_engine,
            merchant_id=p.merchant_id,
            account_id=p.member_ids[0],
            action="attend_tasting",
            idempotency_key="tasting-2",
            now=T0,
        )
