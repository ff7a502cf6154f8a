"""Hostile input into the merchant console's forms and the member forms test_form_properties.py
does not cover, through the Reflex states as the websocket calls them.

The property, for each form: the handler never raises and never shows the generic "Something
went wrong" (an unexpected exception, our 500); either it does what was asked (the saved values
are the parsed input) or it shows a non-empty translated message and the database is unchanged
(row count and a hash of every row of every business table).

The world is the demo program plus the objects of tests/unit/authz_support.py (a fraud flag, a
pending submission, a rating, a thread, a voucher...), built once per backend and copied into
each test's fresh database. Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set
(PostgreSQL refuses NUL in text: that must be a clear refusal too).
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlmodel import SQLModel
from sqlmodel import select as sm_select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.text import lines, one_line
from loyalty_app.models import (
    Account,
    FraudFlag,
    InboxMessage,
    LoginAttempt,
    Merchant,
    ProgramChange,
    Reward,
    RewardRating,
    Submission,
    Survey,
    SurveyResponse,
    Voucher,
)
from tests.unit import form_property_support
from tests.unit.authz_support import (
    IGNORED_TABLES,
    PASSWORD,
    World,
    build_world,
    capture_rows,
    drive,
    point_app_at,
    restore_rows,
    root_state,
    substate,
)
from tests.unit.form_property_support import (
    HOSTILE_AMOUNT,
    HOSTILE_COLOUR,
    HOSTILE_DATETIME,
    HOSTILE_FILES,
    HOSTILE_TEXT,
    VALID_PNG,
    FakeUpload,
    form_settings,
    hostile_ids,
    refused_cleanly,
)


@pytest.fixture(autouse=True)
def _examples_for_the_backend(db_backend):
    """Fewer examples on PostgreSQL (see form_property_support.EXAMPLE_SHARE)."""
    form_property_support.use_backend_share(db_backend)
    yield
    form_property_support.use_backend_share("sqlite")


# Rows a refused input may write on purpose (see authz_support.IGNORED_TABLES), plus the
# periodic jobs' bookkeeping.
NOISY = set(IGNORED_TABLES) | {"appmeta"}
_WORLDS: dict[str, Any] = {}


def rows_hash(engine) -> dict[str, str]:
    """Row count and a hash of every row, per business table."""
    out = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in NOISY:
                found = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                out[table.name] = f"{len(found)}:{hashlib.sha256(repr(found).encode()).hexdigest()[:16]}"
    return out


def changed(before: dict, after: dict) -> list[str]:
    return sorted(k for k in before if before[k] != after.get(k))


def call(result) -> list:
    import asyncio

    return asyncio.run(drive(result))


@pytest.fixture
def world(db_engine, monkeypatch) -> tuple[Any, World]:
    point_app_at(db_engine, monkeypatch)
    backend = db_engine.dialect.name
    if backend not in _WORLDS:
        w = build_world(db_engine)
        _WORLDS[backend] = (w, capture_rows(db_engine))
        return db_engine, w
    w, rows = _WORLDS[backend]
    restore_rows(db_engine, rows)
    return db_engine, w


def state(w: World, cls, *, caller: str, page: str, query: dict | None = None):
    return substate(root_state(page=page, cookie=w.cookies[caller], query=query), cls)


def assert_refused(message: str, before: dict, engine, context) -> None:
    assert refused_cleanly(message), (context, message)
    after = rows_hash(engine)
    assert after == before, (context, message, changed(before, after))


def one(engine, stmt):
    with read_session(engine) as s:
        return s.exec(stmt).first()


def books_row_id(engine, model, books: int) -> str:
    row = one(engine, sm_select(model.id).where(model.merchant_id == books))
    return str(row or 424242)


# ------------------------------------------------------------------ the program editor (admin)

NAMES = st.one_of(st.sampled_from(["Free espresso", "Café crème ☕", "Добрый день", "שלום עולם", "x" * 80]), HOSTILE_TEXT)
WHOLE = st.one_of(st.integers(min_value=-3, max_value=1_200_000).map(str), HOSTILE_AMOUNT)
DECIMAL = st.one_of(st.sampled_from(["1", "1.5", "2", "2,5", "×3", "10", "10.01", "0.99", "1.001"]), HOSTILE_AMOUNT)
MOMENT = st.one_of(st.just(""), HOSTILE_DATETIME)
OPTIONAL = st.one_of(st.just(""), HOSTILE_TEXT)


def pick(*valid: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(list(valid)), HOSTILE_TEXT)


def editor_fields(kind: str, w: World, opts) -> dict[str, st.SearchStrategy]:
    """Per editor, each field: sensible values often enough that some saves succeed, hostile ones otherwise."""
    from loyalty_app.services.program import program_console as pc

    tiers = [k for k, _n in opts.tiers] or ["none"]
    stores = [str(i) for i, _n in opts.stores] + [str(w.books_store)]
    segments = list(pc.SEGMENT_LABELS) + [k for k, _n in opts.segments] + ["seg:999999", "seg:²"]
    tier_list = st.one_of(st.lists(st.sampled_from(tiers), max_size=3).map(",".join), HOSTILE_TEXT)
    common = {"name": NAMES, "description": OPTIONAL}
    fields = {
        "reward": {
            "kind": pick(*pc.REWARD_KIND_LABELS),
            "cost_points": WHOLE,
            "stock": st.one_of(st.just(""), WHOLE),
            "per_member_limit": st.one_of(st.just(""), WHOLE),
            "min_tier": st.one_of(st.just(""), pick(*tiers)),
            "valid_from": MOMENT,
            "valid_until": MOMENT,
            "voucher_validity_days": st.one_of(st.just(""), WHOLE),
            "segment": st.one_of(st.just(""), pick(*segments)),
        },
        "earning": {
            "action": pick(*pc.ACTION_LABELS),
            "points": WHOLE,
            "points_per_unit": DECIMAL,
            "limit_count": st.one_of(st.just(""), WHOLE),
            "limit_period": pick(*pc.LIMIT_PERIOD_LABELS),
            "valid_from": MOMENT,
            "valid_until": MOMENT,
            "tier_keys": tier_list,
            "segment": st.one_of(st.just(""), pick(*segments)),
            "store": st.one_of(st.just(""), pick(*stores)),
            "event_codes": st.one_of(st.just("SUMMER-24, FALL_1"), HOSTILE_TEXT),
        },
        "tier": {
            "rank": st.one_of(st.integers(-1, 22).map(str), HOSTILE_AMOUNT),
            "threshold": st.one_of(st.integers(-1, 11_000_000).map(str), HOSTILE_AMOUNT),
            "colour": HOSTILE_COLOUR,
            "purchase_multiplier": st.one_of(st.just(""), DECIMAL),
        },
        "badge": {
            "kind": pick(*pc.BADGE_KIND_LABELS),
            "target": WHOLE,
            "icon": st.one_of(st.just(""), pick(*pc.BADGE_ICONS)),
            "param_tier": pick(*tiers),
            "param_action": pick(*pc.ACTION_LABELS),
            "param_challenge": pick(*([k for k, _n in opts.challenges] or ["x"])),
        },
        "challenge": {
            "action": pick(*pc.CHALLENGE_ACTION_LABELS),
            "target": WHOLE,
            "recurrence": pick(*pc.RECURRENCE_LABELS),
            "starts_at": MOMENT,
            "ends_at": MOMENT,
            "reward_points": st.one_of(st.just(""), WHOLE),
            "reward_badge": st.one_of(st.just(""), pick(*([k for k, _n in opts.badges] or ["x"]))),
            "hidden": st.sampled_from(["", "on", "true", "\x00"]),
            "segment": st.one_of(st.just(""), pick(*segments)),
        },
        "quest": {
            "multiplier": DECIMAL,
            "starts_at": HOSTILE_DATETIME,
            "ends_at": HOSTILE_DATETIME,
            "tier_keys": tier_list,
            "actions": st.one_of(st.lists(st.sampled_from(list(pc.ACTION_LABELS)), max_size=3).map(",".join), HOSTILE_TEXT),
            "store": st.one_of(st.just(""), pick(*stores)),
            "segment": st.one_of(st.just(""), pick(*segments)),
        },
        "charity": {},
        "survey": {
            "questions": st.one_of(
                st.sampled_from(
                    [
                        "stars: How was it?",
                        "choice: Often? = Daily; Weekly\ntext: Ideas? (optional)",
                        "choice: Only one = A",
                        "text:",
                        "stars: " + "q" * 201,
                        "choice: x = a; a",
                        "stars: Bad\x00question",
                        "stars: \u202eevil",
                        "\n".join(["stars: q"] * 21),
                    ]
                ),
                HOSTILE_TEXT,
            ),
            "starts_at": MOMENT,
            "ends_at": MOMENT,
        },
        "segment": {
            "tier_keys": tier_list,
            "visited_within_days": st.one_of(st.just(""), WHOLE),
            "not_visited_days": st.one_of(st.just(""), WHOLE),
            "spend_measure": pick("amount", "points"),
            "spend_days": st.one_of(st.just(""), WHOLE),
            "spend_min": st.one_of(st.just(""), DECIMAL, WHOLE),
            "spend_max": st.one_of(st.just(""), DECIMAL, WHOLE),
            "rfm_classes": st.one_of(st.just(""), pick(*pc.RFM_LABELS)),
            "consent_channels": st.one_of(st.just(""), pick(*pc.CONSENT_LABELS)),
        },
    }[kind]
    return {**common, **fields}


def _typed_local(value: str) -> datetime | None:
    from loyalty_app.services.program.program_console import DATETIME_FORMATS

    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    return None


def check_saved_form(kind: str, form: dict[str, str], saved: dict[str, str]) -> None:
    """What the editor shows after the save (read back from the database) is what was typed, parsed."""
    name_key = "name"
    typed_name = one_line(form["name"])
    assert saved[name_key] == typed_name, (kind, form["name"], saved[name_key])
    for field in (
        "cost_points",
        "stock",
        "per_member_limit",
        "voucher_validity_days",
        "target",
        "rank",
        "threshold",
        "limit_count",
        "visited_within_days",
        "not_visited_days",
        "spend_days",
    ):
        if field in form and field in saved and form[field].strip():
            assert int(saved[field]) == int(form[field].replace(" ", "").replace("\u00a0", "")), (
                kind,
                field,
                form[field],
                saved[field],
            )
    for field in ("valid_from", "valid_until", "starts_at", "ends_at"):
        if field in form and field in saved:
            typed = _typed_local(form[field]) if form[field].strip() else None
            if typed is None:
                assert saved[field] == "", (kind, field, form[field], saved[field])
            else:  # wall-clock time in the shop's zone; a time in a DST gap moves by the gap
                shown = datetime.strptime(saved[field], "%Y-%m-%dT%H:%M")
                assert abs(shown - typed.replace(second=0)) <= timedelta(hours=1), (kind, field, form[field], saved[field])
    if kind == "tier" and form["colour"].strip():
        digits = form["colour"].strip().lstrip("#").lower()
        assert saved["colour"].lstrip("#") in (digits, "".join(c * 2 for c in digits)), (form["colour"], saved["colour"])


PROGRAM_KINDS = ("reward", "earning", "tier", "badge", "challenge", "quest", "charity", "survey", "segment")


@pytest.mark.parametrize("kind", PROGRAM_KINDS)
def test_program_editor_saves(world, kind):
    from loyalty_app.pages.admin_program import FIX_FIELDS, KIND_OF_TAB, NOTHING_CHANGED, SAVED, SEGMENT_SAVED, ProgramState
    from loyalty_app.services.program import program_console as pc

    engine, w = world
    tab = next(t for t, k in KIND_OF_TAB.items() if k == kind)
    opts = pc.program_options(engine, w.actor("admin"))
    fields = editor_fields(kind, w, opts)
    existing = [r.row_id for r in pc.LISTS[kind](engine, w.actor("admin"))]

    @form_settings(22)
    @given(
        form=st.fixed_dictionaries(fields),
        edit=st.one_of(
            st.just(""),
            st.sampled_from([str(i) for i in existing] or [""]),
            hostile_ids(books_row_id(engine, pc.SPECS[kind].model, w.books)),
        ),
        note=st.one_of(st.just(""), HOSTILE_TEXT),
    )
    def check(form, edit, note):
        program = state(w, ProgramState, caller="admin", page="admin-program", query={"tab": tab})
        call(program.load())
        assert program.error == "" and program.tab == tab
        if edit:
            # Listed now: earlier examples of this test may have added rows since ``existing``.
            listed = {str(r.row_id) for r in pc.LISTS[kind](engine, w.actor("admin"))}
            call(program.edit(edit))  # a tampered id is not one of the listed rows: ignored
            assert program._editing_id in ([int(edit)] if edit in listed else [0]), edit
        before = rows_hash(engine)
        call(program.save({**form, "publish_note": note}))
        context = (kind, edit, form, note[:40])
        if program.error:
            assert_refused(program.error, before, engine, context)
            if program.error == FIX_FIELDS:
                assert program.errors and all(m.strip() for m in program.errors.values()), context
            return
        assert program.notice in (SAVED, NOTHING_CHANGED, SEGMENT_SAVED), (context, program.notice)
        check_saved_form(kind, form, program.values)

    check()


def test_program_editor_retire_with_planted_ids(world):
    """Retire/restore act on the server-side edited row; a planted id of another merchant or junk is refused."""
    from loyalty_app.pages.admin_program import ProgramState

    engine, w = world
    books_reward = books_row_id(engine, Reward, w.books)

    @form_settings(25)
    @given(
        planted=st.one_of(st.just(int(books_reward)), st.integers(min_value=-(2**70), max_value=2**70)),
        action=st.sampled_from(["retire", "restore"]),
    )
    def check(planted, action):
        program = state(w, ProgramState, caller="admin", page="admin-program", query={"tab": "rewards"})
        call(program.load())
        program._editing_id = planted
        before = rows_hash(engine)
        call(getattr(program, action)())
        if program._editing_id and program.error == "" and planted != 0:
            pytest.fail(f"{action} of {planted} was accepted")
        if program.error:
            assert_refused(program.error, before, engine, (planted, action))
        else:
            assert rows_hash(engine) == before

    check()


# ------------------------------------------------------------------ changelog and moderation (admin)


def test_changelog_annotate(world):
    from loyalty_app.pages.admin_program import NOTE_SAVED, ChangelogState

    engine, w = world
    books_change = books_row_id(engine, ProgramChange, w.books)

    @form_settings(40)
    @given(change_id=hostile_ids(w.change_id, int(books_change)), note=st.one_of(st.just("Extended to Sundays"), HOSTILE_TEXT))
    def check(change_id, note):
        changelog = state(w, ChangelogState, caller="admin", page="admin-program")
        before = rows_hash(engine)
        call(changelog.annotate({"change_id": change_id, "note": note}))
        if changelog.error:
            assert_refused(changelog.error, before, engine, (change_id, note[:40]))
            return
        assert changelog.notice == NOTE_SAVED and change_id.strip() == str(w.change_id), change_id
        with read_session(engine) as s:
            assert s.get(ProgramChange, w.change_id).note == lines(note)

    check()


def test_moderation_hide_review_and_reject_submission(world):
    from loyalty_app.pages.admin_program import REJECTED, REVIEW_HIDDEN, ModerationState

    engine, w = world
    books_rating = books_row_id(engine, RewardRating, w.books)
    books_submission = books_row_id(engine, Submission, w.books)

    @form_settings(40)
    @given(
        rating_id=hostile_ids(w.rating_id, int(books_rating)),
        submission_id=hostile_ids(w.submission_id, int(books_submission)),
        reason=st.one_of(st.just("Off topic"), HOSTILE_TEXT),
    )
    def check(rating_id, submission_id, reason):
        moderation = state(w, ModerationState, caller="admin", page="admin-program")
        before = rows_hash(engine)
        call(moderation.hide({"rating_id": rating_id, "reason": reason}))
        if moderation.error:
            assert_refused(moderation.error, before, engine, ("hide", rating_id, reason[:40]))
        else:
            assert moderation.notice == REVIEW_HIDDEN and rating_id.strip() == str(w.rating_id)
            with read_session(engine) as s:
                rating = s.get(RewardRating, w.rating_id)
                assert rating.hidden_at is not None and rating.hidden_reason == one_line(reason)
        before = rows_hash(engine)
        call(moderation.reject({"submission_id": submission_id, "reason": reason}))
        if moderation.error:
            assert_refused(moderation.error, before, engine, ("reject", submission_id, reason[:40]))
        else:
            assert moderation.notice == REJECTED and submission_id.strip() == str(w.submission_id)
            with read_session(engine) as s:
                assert s.get(Submission, w.submission_id).status == "rejected"

    check()


# ------------------------------------------------------------------ fraud and messages (admin)


def test_fraud_resolve_and_hold(world):
    from loyalty_app.pages.admin_fraud import FraudState

    engine, w = world
    member = w.accounts["member"]

    @form_settings(40)
    @given(
        flag_id=hostile_ids(w.flag_id),
        member_id=hostile_ids(member, w.books_member_id, w.accounts["admin"]),
        reason=st.one_of(st.just("Checked the receipts"), HOSTILE_TEXT),
    )
    def check(flag_id, member_id, reason):
        fraud = state(w, FraudState, caller="admin", page="admin-fraud")
        before = rows_hash(engine)
        call(fraud.resolve({"flag_id": flag_id, "note": reason}))
        if fraud.error:
            assert_refused(fraud.error, before, engine, ("resolve", flag_id, reason[:40]))
        else:
            assert flag_id.strip() == str(w.flag_id), flag_id
            with read_session(engine) as s:
                assert s.get(FraudFlag, w.flag_id).resolved_at is not None
        before = rows_hash(engine)
        call(fraud.hold({"member_id": member_id, "reason": reason}))
        if fraud.error:
            assert_refused(fraud.error, before, engine, ("hold", member_id, reason[:40]))
        else:
            assert member_id.strip() == str(member), member_id
            with read_session(engine) as s:
                account = s.get(Account, member)
                assert account.spending_suspended_at is not None
                assert account.spending_suspended_reason == one_line(reason)
        call(fraud.restore(member_id))
        assert refused_cleanly(fraud.error) if fraud.error else True, (member_id, fraud.error)

    check()


def test_admin_inbox_answer(world):
    from loyalty_app.pages.admin_inbox import AdminInboxState

    engine, w = world

    @form_settings(40)
    @given(thread_id=hostile_ids(w.thread_id), body=st.one_of(st.just("We found it!"), HOSTILE_TEXT))
    def check(thread_id, body):
        inbox = state(w, AdminInboxState, caller="admin", page="admin-inbox")
        call(inbox.open(thread_id))
        assert inbox.error == "" or refused_cleanly(inbox.error), (thread_id, inbox.error)
        inbox.error = ""
        before = rows_hash(engine)
        call(inbox.answer({"body": body}))
        if inbox.error:
            assert_refused(inbox.error, before, engine, (thread_id, body[:40]))
            return
        assert thread_id.strip() == str(w.thread_id), thread_id
        with read_session(engine) as s:
            last = s.exec(
                sm_select(InboxMessage).where(InboxMessage.thread_id == w.thread_id).order_by(InboxMessage.id.desc())
            ).first()
        assert last.from_merchant and last.body == lines(body)

    check()


# ------------------------------------------------------------------ theme editor (admin)

HEX = re.compile(r"^#[0-9a-f]{6}$")


def test_theme_editor_inputs_save_and_publish(world):
    from loyalty_app.domain.theme import BRAND_NAME_MAX, COLOUR_FIELDS, FONTS, PRESETS, RADIUS_MAX, RADIUS_MIN
    from loyalty_app.pages.admin_theme import PUBLISHED, SAVED, ThemeEditorState

    engine, w = world
    field = st.one_of(st.sampled_from(list(COLOUR_FIELDS)), HOSTILE_TEXT)
    step = st.one_of(
        st.tuples(st.just("set_brand_name"), st.one_of(st.just("Bean & Leaf"), HOSTILE_TEXT)),
        st.tuples(st.sampled_from(["type_colour", "check_colour", "pick_colour", "apply_suggestion"]), field, HOSTILE_COLOUR),
        st.tuples(st.just("set_radius"), st.one_of(HOSTILE_AMOUNT, st.integers(-100, 100), st.floats(allow_nan=True))),
        st.tuples(st.just("set_mode"), st.one_of(st.sampled_from(["light", "dark"]), HOSTILE_TEXT)),
        st.tuples(st.just("set_font"), st.one_of(st.sampled_from(list(FONTS)), HOSTILE_TEXT)),
        st.tuples(st.just("apply_preset"), st.one_of(st.sampled_from([p.key for p in PRESETS]), HOSTILE_TEXT)),
        st.tuples(st.just("set_publish_note"), HOSTILE_TEXT),
        st.tuples(st.just("revert"), hostile_ids(w.theme_version)),
    )

    @form_settings(30)
    @given(steps=st.lists(step, min_size=1, max_size=6), finish=st.sampled_from(["save_draft", "publish", "none"]))
    def check(steps, finish):
        theme = state(w, ThemeEditorState, caller="admin", page="admin-theme")
        call(theme.load())
        assert theme.error == ""
        for name, *args in steps:
            before = rows_hash(engine)
            call(getattr(theme, name)(*args))
            if name != "revert":
                assert rows_hash(engine) == before, (name, args)  # editing saves nothing
            if theme.error:
                assert_refused(theme.error, before, engine, (name, args))
                theme.error = ""
            assert all(refused_cleanly(m) for m in theme.field_errors.values()), theme.field_errors
            # the draft that drives the preview and the CSS holds only clean values
            assert all(HEX.match(getattr(theme, f)) for f in COLOUR_FIELDS), [getattr(theme, f) for f in COLOUR_FIELDS]
            assert RADIUS_MIN <= theme.radius <= RADIUS_MAX and theme.font in FONTS and theme.mode in ("light", "dark")
            assert len(theme.brand_name) <= BRAND_NAME_MAX
        if finish == "none":
            return
        theme.ask_publish() if finish == "publish" else None
        note = theme.publish_note
        before = rows_hash(engine)
        draft = {
            "brand_name": theme.brand_name,
            **{f: getattr(theme, f) for f in COLOUR_FIELDS},
            "radius": theme.radius,
            "font": theme.font,
            "mode": theme.mode,
        }
        call(getattr(theme, finish)())
        if theme.error:
            assert_refused(theme.error, before, engine, (steps, finish))
            return
        assert theme.notice == (PUBLISHED if finish == "publish" else SAVED)
        if finish == "publish":
            with read_session(engine) as s:
                merchant = s.get(Merchant, w.cafe)
                for key, value in draft.items():
                    if key != "brand_name" or value:
                        assert merchant.theme.get(key) == value, (key, value, merchant.theme.get(key))
                assert note == "" or note.strip() != ""

    check()


def test_theme_logo_upload(world):
    from loyalty_app.pages.admin_theme import ThemeEditorState

    engine, w = world

    @form_settings(25)
    @given(data=st.one_of(st.just(VALID_PNG), HOSTILE_FILES), name=st.one_of(st.just("logo.png"), HOSTILE_TEXT))
    def check(data, name):
        theme = state(w, ThemeEditorState, caller="admin", page="admin-theme")
        call(theme.load())
        before = rows_hash(engine)
        call(theme.upload_logo([FakeUpload(name=name, file=io.BytesIO(data))]))
        if theme.error:
            assert_refused(theme.error, before, engine, (data[:30], name[:30]))
        else:
            assert theme._logo_id and theme.notice

    check()


def test_analytics_period_switch(world):
    from loyalty_app.pages.admin_analytics import AnalyticsState
    from loyalty_app.services.insight.analytics import PERIODS

    engine, w = world

    @form_settings(15)
    @given(period=st.one_of(st.sampled_from(list(PERIODS)), HOSTILE_TEXT))
    def check(period):
        analytics = state(w, AnalyticsState, caller="admin", page="admin-analytics")
        before = rows_hash(engine)
        call(analytics.set_period(period))
        assert analytics.period in PERIODS and analytics.error == "", (period, analytics.error)
        assert rows_hash(engine) == before

    check()


# ------------------------------------------------------------------ member forms


def test_reward_rating_and_review(world):
    from loyalty_app.pages.reward_detail import RewardDetailState

    engine, w = world
    books_reward = books_row_id(engine, Reward, w.books)

    @form_settings(40)
    @given(
        reward_id=hostile_ids(w.rated_reward_id, w.cheap_reward_id, int(books_reward)),
        stars=st.one_of(st.sampled_from(["1", "3", "5"]), HOSTILE_AMOUNT),
        review=st.one_of(st.just("Lovely"), HOSTILE_TEXT),
    )
    def check(reward_id, stars, review):
        detail = state(w, RewardDetailState, caller="member", page="reward", query={"id": reward_id})
        call(detail.load())
        assert detail.error == "" or refused_cleanly(detail.error), (reward_id, detail.error)
        before = rows_hash(engine)
        call(detail.save_rating({"stars": stars, "review": review}))
        if detail.rating_error:
            assert_refused(detail.rating_error, before, engine, (reward_id, stars, review[:40]))
            return
        # The id is read as the URL carries it, spaces around it ignored (state.forms.form_id).
        assert detail.rating_notice and reward_id.strip() == str(w.rated_reward_id), (reward_id, stars)
        with read_session(engine) as s:
            rating = s.get(RewardRating, w.rating_id)
        assert rating.stars == int(stars) and rating.review_text == lines(review), (stars, review[:40])

    check()


def test_survey_answers_are_validated(world):
    """The pure check every survey submission goes through, on many answers (cheap)."""
    from loyalty_app.domain.errors import LoyaltyError
    from loyalty_app.services.earning.engagement import validate_answers

    engine, w = world
    with read_session(engine) as s:
        questions = list(s.get(Survey, w.survey_id).questions)
    answer = st.one_of(
        st.sampled_from(["1", "5", "4", "0", "6", "²", "٣", "３", "-1", "4.0"]),
        HOSTILE_AMOUNT,
        HOSTILE_TEXT,
        *[st.sampled_from(q["options"]) for q in questions if q.get("options")],
    )

    @form_settings(300)
    @given(answers=st.fixed_dictionaries({q["id"]: answer for q in questions}))
    def check(answers):
        try:
            cleaned = validate_answers(questions, answers)
        except LoyaltyError as err:
            assert err.message
            return
        for q in questions:
            if q["id"] in cleaned and q["kind"] == "stars":
                assert 1 <= cleaned[q["id"]] <= 5

    check()


def test_survey_submission(world):
    from loyalty_app.pages.challenges import ChallengesState

    engine, w = world
    with read_session(engine) as s:
        questions = list(s.get(Survey, w.survey_id).questions)
    answer = st.one_of(
        st.sampled_from(["4", "²", "6", ""]),
        HOSTILE_TEXT,
        *[st.sampled_from(q["options"]) for q in questions if q.get("options")],
    )

    @form_settings(30)
    @given(
        answers=st.fixed_dictionaries({f"q_{q['id']}": answer for q in questions}),
        planted=st.sampled_from([w.survey_id, 0, -1, int(books_row_id(engine, Survey, w.books))]),
    )
    def check(answers, planted):
        challenges = state(w, ChallengesState, caller="member", page="challenges")
        call(challenges.load())
        challenges._survey_id = planted  # server-side: another merchant's survey must still be refused
        before = rows_hash(engine)
        call(challenges.submit_survey(answers))
        if challenges.err_text:
            assert_refused(challenges.err_text, before, engine, (answers, planted))
            return
        assert planted == w.survey_id and challenges.notice_title
        with read_session(engine) as s:
            response = s.exec(
                sm_select(SurveyResponse).where(
                    SurveyResponse.survey_id == w.survey_id, SurveyResponse.account_id == w.accounts["member"]
                )
            ).first()
        assert response is not None
        for q in questions:
            typed = answers[f"q_{q['id']}"].strip()
            if typed:
                assert response.answers[q["id"]] == (int(typed) if q["kind"] == "stars" else typed)

    # the world's member may have answered already: start from an unanswered survey
    with write_session(engine) as s:
        s.exec(delete(SurveyResponse).where(SurveyResponse.account_id == w.accounts["member"]))
    check()


def test_inbox_reply_in_a_thread(world):
    from loyalty_app.pages.inbox import InboxState

    engine, w = world
    books_thread = books_row_id(engine, __import__("loyalty_app.models", fromlist=["InboxThread"]).InboxThread, w.books)

    @form_settings(40)
    @given(thread_id=hostile_ids(w.thread_id, int(books_thread)), body=st.one_of(st.just("Thanks!"), HOSTILE_TEXT))
    def check(thread_id, body):
        inbox = state(w, InboxState, caller="member", page="inbox", query={"id": thread_id})
        call(inbox.load())
        assert inbox.error == "" or refused_cleanly(inbox.error), (thread_id, inbox.error)
        opened = inbox.thread.get("id", "")
        assert opened in ("", str(w.thread_id)), (thread_id, opened)  # never someone else's thread
        before = rows_hash(engine)
        call(inbox.answer({"body": body}))
        if inbox.error:
            assert_refused(inbox.error, before, engine, (thread_id, body[:40]))
            return
        assert opened == str(w.thread_id)
        with read_session(engine) as s:
            last = s.exec(
                sm_select(InboxMessage).where(InboxMessage.thread_id == w.thread_id).order_by(InboxMessage.id.desc())
            ).first()
        assert not last.from_merchant and last.body == lines(body)

    check()


def test_sign_in_form(world):
    from loyalty_app.state.auth import AuthFormState

    engine, w = world
    email = "member@demo.test"

    @form_settings(30)  # a real password check per example (argon2id)
    @given(
        typed_email=st.one_of(
            st.sampled_from([email, email.upper(), f" {email} ", email + "\x00", "\u202e" + email]),
            st.emails().map(str),
            HOSTILE_TEXT,
        ),
        password=st.one_of(st.just(PASSWORD), st.just(PASSWORD + " "), st.just("p" * 5000), HOSTILE_TEXT),
    )
    def check(typed_email, password):
        with write_session(engine) as s:  # the throttle is tested elsewhere: every example starts fresh
            s.exec(delete(LoginAttempt))
        auth = state(w, AuthFormState, caller="anonymous", page="signin")
        before = rows_hash(engine)
        events = call(auth.sign_in({"email": typed_email, "password": password}))
        if auth.error:
            assert_refused(auth.error, before, engine, (typed_email, password[:20]))
            return
        assert password == PASSWORD and typed_email.strip().lower() == email, (typed_email, password[:20])
        assert events, "a successful sign-in hands the browser its one-time ticket"

    check()


def test_delete_account_wrong_passwords_then_right(world):
    from loyalty_app.pages.profile import ProfileState

    engine, w = world
    member = w.accounts["member"]

    @form_settings(12)  # argon2id per example
    @given(
        password=st.one_of(
            st.sampled_from(
                ["", " ", PASSWORD + " ", " " + PASSWORD, PASSWORD.upper(), PASSWORD[:-1], PASSWORD + "\x00", "p" * 5000]
            ),
            HOSTILE_TEXT,
        ).filter(lambda p: p != PASSWORD)
    )
    def check(password):
        with write_session(engine) as s:
            s.exec(delete(LoginAttempt))
        profile = state(w, ProfileState, caller="member", page="profile")
        before = rows_hash(engine)
        call(profile.delete_account({"password": password}))
        assert_refused(profile.delete_error, before, engine, password[:40])

    check()
    with write_session(engine) as s:
        s.exec(delete(LoginAttempt))
    profile = state(w, ProfileState, caller="member", page="profile")
    call(profile.delete_account({"password": PASSWORD}))
    assert profile.delete_error == ""
    with read_session(engine) as s:
        account = s.get(Account, member)
        assert account.deleted_at is not None and not account.is_active


def test_voucher_cancel_with_hostile_ids(world):
    from loyalty_app.pages.vouchers import VoucherState

    engine, w = world
    other = one(engine, sm_select(Voucher.id).where(Voucher.account_id != w.accounts["member"]))

    @form_settings(40)
    @given(voucher_id=hostile_ids(w.voucher_id, other or 424242))
    def check(voucher_id):
        voucher = state(w, VoucherState, caller="member", page="voucher", query={"id": voucher_id})
        call(voucher.load())
        assert voucher.error == "" or refused_cleanly(voucher.error), (voucher_id, voucher.error)
        before = rows_hash(engine)
        call(voucher.confirm_cancel())
        if voucher.error:
            assert_refused(voucher.error, before, engine, voucher_id)
            return
        assert voucher.notice, voucher_id
        with read_session(engine) as s:  # one of the member's own vouchers (the demo gives her several)
            cancelled = s.get(Voucher, int(voucher_id.strip()))
            assert cancelled.account_id == w.accounts["member"] and cancelled.status == "cancelled", voucher_id

    check()
