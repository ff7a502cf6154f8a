"""Authorization matrix (issue #7): every Reflex event handler of the app, called as each kind of
caller, with a payload an allowed caller would succeed with, so a refusal is due to who asks.

Outcomes asserted per caller:
- allowed: the handler's effect happens (a row written, or the caller's own data loaded) and no
  refusal is shown;
- refused: the database is unchanged (row count and a hash of every row of every table except
  ``IGNORED_TABLES``), no protected data ends up in the state, and any message shown is a
  translated refusal ("Please sign in first.", "You are not allowed to do this." or the case's
  not-found message). Handlers of pages whose guard redirects the caller may stay silent.
- inert (class "ui": view-only handlers such as opening a dialog): nothing in the database
  changes and no protected data is loaded, whoever calls.

Enumeration rule: every ``event_handlers`` entry of every State class defined in ``loyalty_app``
must have a row in MATRIX; Reflex's own handlers (``setvar``, and those of Reflex's internal
states: hydrate, on_load_internal, update_vars_internal, ...) are excluded. A handler added
later without a row fails ``test_every_handler_is_classified`` with "classify X.y in the matrix".
To classify one, add a ``Case`` to MATRIX below (kind, page, how to call it, what "allowed"
does).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import reflex as rx
from reflex.state import State

import loyalty_app.loyalty_app  # noqa: F401  (registers every page and state)
from loyalty_app.domain.errors import NotAllowed
from loyalty_app.models import (
    Account,
    Charity,
    Donation,
    FraudFlag,
    InboxMessage,
    InboxThread,
    LedgerEntry,
    ProgramChange,
    Reward,
    RewardRating,
    Submission,
    SurveyResponse,
    ThemeVersion,
    Voucher,
    WebhookDelivery,
    WebhookEndpoint,
)
from loyalty_app.pages.activity import ActivityState
from loyalty_app.pages.admin import AdminState, PostersState
from loyalty_app.pages.admin_analytics import AnalyticsState
from loyalty_app.pages.admin_data import DataState
from loyalty_app.pages.admin_fraud import FraudState
from loyalty_app.pages.admin_inbox import AdminInboxState
from loyalty_app.pages.admin_program import ChangelogState, ModerationState, ProgramState
from loyalty_app.pages.admin_theme import ThemeEditorState
from loyalty_app.pages.admin_webhooks import WebhooksState
from loyalty_app.pages.card import CardState
from loyalty_app.pages.challenges import ChallengesState
from loyalty_app.pages.checkin import CheckinState
from loyalty_app.pages.donate import DonateState
from loyalty_app.pages.inbox import InboxState
from loyalty_app.pages.invite import InviteState
from loyalty_app.pages.landing import LandingState
from loyalty_app.pages.news import NewsState
from loyalty_app.pages.profile import ProfileState
from loyalty_app.pages.reward_detail import RewardDetailState
from loyalty_app.pages.rewards import RewardsState
from loyalty_app.pages.staff import TillState
from loyalty_app.pages.vouchers import VouchersState, VoucherState
from loyalty_app.services.store import checkins
from loyalty_app.state.auth import AuthFormState
from loyalty_app.state.cockpit import CockpitState
from loyalty_app.state.inbox_badge import InboxBadgeState
from loyalty_app.state.language import LanguageState
from loyalty_app.state.live import LiveState
from loyalty_app.state.member_media import MemberMediaState
from loyalty_app.state.ping import PingState
from loyalty_app.state.session import SessionState

from .authz_support import (
    CALLERS,
    PASSWORD,
    REFUSALS,
    BackgroundProxy,
    World,
    build_world,
    capture_rows,
    changed_tables,
    count,
    drive,
    get,
    png_bytes,
    point_app_at,
    redirect_target,
    restore_rows,
    root_state,
    snapshot,
    substate,
)

GENERIC = "Something went wrong. Please try again."
MEMBERS = ("member", "other_member")


@dataclass
class Ctx:
    """What an effect check sees after an allowed call."""

    state: Any
    root: State
    world: World
    caller: str
    engine: Any
    before: dict[str, str]
    events: list[Any]

    @property
    def me(self) -> int:
        return self.world.accounts[self.caller]


@dataclass
class Case:
    kind: str  # public | ui | member | staff | admin
    page: str
    call: Callable[[Any, World, str], Any]  # (state, world, caller) -> the handler's result
    effect: Callable[[Ctx], None] | None = None  # asserts what an allowed call did
    query: Callable[[World], dict] | None = None  # route params (?id=...)
    prepare: Callable[[Any, World, str, Any], None] | None = None  # plant server-side state first
    protected: tuple[str, ...] = ()  # vars that must stay at their defaults when refused
    errors: tuple[str, ...] = ("error",)  # vars where a refusal may be shown
    object_level: bool = False  # other_member acts on member's object: refused
    refusal_messages: tuple[str, ...] = ()  # besides REFUSALS (e.g. "not found" for another's object)
    expect: dict[str, str] = field(default_factory=dict)  # per-caller overrides
    guard: str | None = None  # page guard run first (default from kind)


def expected(case: Case, caller: str) -> str:
    if caller in case.expect:
        return case.expect[caller]
    if case.kind == "public":
        return "allowed"
    if case.kind == "ui":
        return "inert"
    if case.kind == "member":
        if caller == "member" or (caller == "other_member" and not case.object_level):
            return "allowed"
        return "refused"
    if case.kind == "staff":
        return "allowed" if caller in ("staff", "admin") else "refused"
    if case.kind == "admin":
        return "allowed" if caller == "admin" else "refused"
    raise AssertionError(case.kind)


GUARD_OF_KIND = {"member": "guard_member_page", "staff": "guard_staff_page", "admin": "guard_admin_page"}


# ----------------------------------------------------------------------------- effect helpers


def upload(data: bytes, name: str = "pic.png") -> list:
    return [rx.UploadFile(file=io.BytesIO(data), path=Path(name))]


def loaded(*names: str, caller_value: Callable[[Ctx], Any] | None = None):
    """Effect: these vars hold data now."""

    def check(ctx: Ctx) -> None:
        for name in names:
            assert getattr(ctx.state, name), f"{name} stayed empty"

    return check


def all_of(*checks):
    def check(ctx: Ctx) -> None:
        for c in checks:
            c(ctx)

    return check


def notice(name: str = "notice"):
    def check(ctx: Ctx) -> None:
        assert getattr(ctx.state, name), f"{name} stayed empty"

    return check


def account_field(name: str, value):
    def check(ctx: Ctx) -> None:
        assert getattr(get(ctx.engine, Account, ctx.me), name) == value

    return check


def ledger_grew_for(who: str = "member"):
    def check(ctx: Ctx) -> None:
        account_id = ctx.world.accounts[who] if who in ctx.world.accounts else ctx.me
        now = count(ctx.engine, LedgerEntry, LedgerEntry.account_id == account_id)
        assert now > ctx.before_ledger[account_id], "no ledger entry was written"  # type: ignore[attr-defined]

    return check


def ledger_grew_for_me(ctx: Ctx) -> None:
    assert count(ctx.engine, LedgerEntry, LedgerEntry.account_id == ctx.me) > ctx.before_ledger[ctx.me]  # type: ignore[attr-defined]


def db_changed(*tables: str):
    def check(ctx: Ctx) -> None:
        changed = changed_tables(ctx.before, snapshot(ctx.engine))
        assert set(tables) & set(changed), f"expected a change in {tables}, changed: {changed}"

    return check


def first_name_is_own(ctx: Ctx) -> None:
    assert ctx.state.first_name == ctx.world.first_names[ctx.caller]


def voucher_status(status: str):
    def check(ctx: Ctx) -> None:
        assert get(ctx.engine, Voucher, ctx.world.voucher_id).status == status

    return check


def no_redirect(ctx: Ctx) -> None:
    assert not redirect_target(ctx.events), f"unexpected redirect {ctx.events}"


def nothing(ctx: Ctx) -> None:
    """Effect of a handler whose allowed call only changes this tab's view."""


# ----------------------------------------------------------------------------- plants


def plant(**values):
    def prepare(state, world: World, caller: str, engine) -> None:
        for name, value in values.items():
            setattr(state, name, value(world) if callable(value) else value)

    return prepare


def till_at_old_town(**values):
    return plant(store_id=lambda w: str(w.old_town), **values)


def fresh_credit(state, world: World, caller: str, engine) -> None:
    """A purchase credited a moment ago at Old Town by that store's staff, to undo. Spread over
    the three members: the till refuses a fifth credit for one member within an hour."""
    from loyalty_app.services.store import till

    members = (world.accounts["member"], world.accounts["other_member"], world.third_member)
    done = till.credit_purchase_at_till(
        engine,
        world.actor("staff"),
        store_id=world.old_town,
        member_account_id=members[CALLERS.index(caller) % 3],
        amount_text="9.50",
        receipt=f"UNDO-{caller}",
    )
    state.store_id = str(world.old_town)
    state._undo_entry_id = done.entry_id


def voucher_q(w: World) -> dict:
    return {"id": w.voucher_id}


def reward_q(w: World) -> dict:
    return {"id": w.cheap_reward_id}


# ----------------------------------------------------------------------------- case helpers


def _colour_of(caller: str) -> str:
    """A different picture per caller: the photo contest refuses a photo sent before."""
    return f"#{30 * CALLERS.index(caller) + 10:02x}4080"


def _assert(condition) -> None:
    assert condition


def _more(ctx: Ctx, name: str) -> None:
    """Effect: one more row than before the call (counted as in ``_counts``)."""
    after = _counts(ctx.engine, ctx.world, ctx.caller)[name]
    assert after == ctx.before_counts[name] + 1, f"{name}: {ctx.before_counts[name]} -> {after}"  # type: ignore[attr-defined]


def _a_preset() -> str:
    from loyalty_app.domain.theme import PRESETS

    return PRESETS[0].key


def _stores_of(ctx: Ctx) -> set[int]:
    return {
        "staff": {ctx.world.old_town},
        "staff_other_store": {ctx.world.riverside},
        "admin": {ctx.world.old_town, ctx.world.riverside},
    }[ctx.caller]


def _guard_effect(ctx: Ctx, *, allowed: tuple[str, ...]) -> None:
    """A guard lets its own people stay and sends everyone else away, identity matching the cookie."""
    target = redirect_target(ctx.events)
    session = ctx.state
    if ctx.caller in allowed:
        assert not target, f"{ctx.caller} was sent to {target}"
    else:
        assert target, f"{ctx.caller} was not redirected"
    signed_in_here = ctx.caller not in ("anonymous", "books_member", "books_admin")
    assert session.signed_in == signed_in_here
    assert session._account_id == (ctx.world.accounts[ctx.caller] if signed_in_here else 0)


def _signed_out(ctx: Ctx) -> None:
    assert not ctx.state.signed_in and ctx.state._account_id == 0
    assert any("signout" in str(e) for e in ctx.events)


def _keep_fresh(state):
    import loyalty_app.pages.card as card

    card.REFRESH_SECONDS, card.MAX_REFRESHES = 0, 1  # restored by the fixture's monkeypatch
    return type(state).keep_fresh.fn(BackgroundProxy(state))


def _retired_reward(state, world: World, caller: str, engine) -> None:
    from loyalty_app.services.program import program_console as pc

    if get(engine, Reward, world.retire_reward_id).is_active:
        pc.set_active(engine, world.actor("admin"), "reward", world.retire_reward_id, False)
    state.tab, state._editing_id = "rewards", world.retire_reward_id


def _hidden_rating(state, world: World, caller: str, engine) -> None:
    from loyalty_app.services.program import program_console as pc

    if get(engine, RewardRating, world.rating_id).hidden_at is None:
        pc.hide_review(engine, world.actor("admin"), world.rating_id, "Hidden for the test")


def _theme_draft(state, world: World, caller: str, engine) -> None:
    from loyalty_app.services.program import theme_admin

    if count(engine, ThemeVersion, ThemeVersion.status == "draft") == 0:
        theme_admin.save_draft(engine, world.actor("admin"), {"brand_name": "A draft"})
    state.has_draft = True


# ----------------------------------------------------------------------------- the matrix

PUBLIC, UI, MEMBER, STAFF, ADMIN = "public", "ui", "member", "staff", "admin"
NOT_FOUND_VOUCHER = ("This voucher cannot be found.", "Voucher not found.")
NOT_FOUND_THREAD = ("This conversation cannot be found.",)

MATRIX: dict[tuple[type, str], Case] = {
    # --- shared state: session and page guards --------------------------------------------------
    (SessionState, "guard_member_page"): Case(
        PUBLIC, "home", lambda s, w, c: s.guard_member_page(), guard="", effect=lambda ctx: _guard_effect(ctx, allowed=MEMBERS)
    ),
    (SessionState, "guard_staff_page"): Case(
        PUBLIC,
        "staff",
        lambda s, w, c: s.guard_staff_page(),
        guard="",
        effect=lambda ctx: _guard_effect(ctx, allowed=("staff", "staff_other_store", "admin")),
    ),
    (SessionState, "guard_admin_page"): Case(
        PUBLIC, "admin", lambda s, w, c: s.guard_admin_page(), guard="", effect=lambda ctx: _guard_effect(ctx, allowed=("admin",))
    ),
    (SessionState, "guard_public_page"): Case(
        PUBLIC,
        "signin",
        lambda s, w, c: s.guard_public_page(),
        guard="",
        effect=lambda ctx: _guard_effect(ctx, allowed=("anonymous", "books_member", "books_admin")),
    ),
    (SessionState, "sign_out"): Case(
        PUBLIC, "home", lambda s, w, c: s.sign_out(), guard="guard_member_page", effect=lambda ctx: _signed_out(ctx)
    ),
    (PingState, "ping"): Case(PUBLIC, "home", lambda s, w, c: s.ping(), effect=lambda ctx: _assert(ctx.state.pings == 1)),
    (LanguageState, "choose"): Case(
        PUBLIC, "home", lambda s, w, c: s.choose("ro"), effect=lambda ctx: _assert(ctx.state.lang == "ro")
    ),
    (LanguageState, "detect"): Case(PUBLIC, "home", lambda s, w, c: s.detect(), effect=lambda ctx: _assert(ctx.events)),
    (LanguageState, "receive_browser_languages"): Case(
        PUBLIC,
        "home",
        lambda s, w, c: s.receive_browser_languages(["es-ES", "en"]),
        effect=lambda ctx: _assert(ctx.state.lang == "es"),
    ),
    (LandingState, "load"): Case(PUBLIC, "", lambda s, w, c: s.load(), effect=lambda ctx: _assert(len(ctx.state.programs) == 2)),
    (AuthFormState, "sign_in"): Case(
        PUBLIC,
        "signin",
        lambda s, w, c: s.sign_in({"email": "member@demo.test", "password": PASSWORD}),
        effect=lambda ctx: _assert(ctx.state.error == "" and any("activate" in str(e) for e in ctx.events)),
    ),
    (AuthFormState, "sign_up"): Case(
        PUBLIC,
        "signup",
        lambda s, w, c: s.sign_up({"email": f"new.{c}@authz.test", "password": "a long new password", "first_name": "Nia"}),
        effect=lambda ctx: _assert(
            ctx.state.error == "" and count(ctx.engine, Account, Account.email == f"new.{ctx.caller}@authz.test") == 1
        ),
    ),
    (LiveState, "dismiss"): Case(UI, "home", lambda s, w, c: s.dismiss()),
    (MemberMediaState, "load"): Case(
        MEMBER,
        "home",
        lambda s, w, c: s.load(),
        protected=("avatar_url", "background_url"),
        effect=lambda ctx: _assert(bool(ctx.state.avatar_url) == (ctx.caller == "member")),
    ),
    (CockpitState, "load"): Case(
        MEMBER, "home", lambda s, w, c: s.load(), protected=("loaded", "available", "rewards"), effect=loaded("loaded")
    ),
    (InboxBadgeState, "load"): Case(
        MEMBER,
        "home",
        lambda s, w, c: s.load(),
        protected=("unread",),
        effect=lambda ctx: _assert(ctx.state.unread == (1 if ctx.caller == "member" else 0)),
    ),
    # --- member pages -----------------------------------------------------------------------
    (ProfileState, "load"): Case(
        MEMBER, "profile", lambda s, w, c: s.load(), protected=("first_name", "email", "member_number"), effect=first_name_is_own
    ),
    (ProfileState, "save"): Case(
        MEMBER,
        "profile",
        lambda s, w, c: s.save(
            {"first_name": "Renamed", "last_name": "P", "birthday": "1990-05-04", "timezone": "Europe/Madrid"}
        ),
        effect=account_field("first_name", "Renamed"),
    ),
    (ProfileState, "choose_language"): Case(
        MEMBER, "profile", lambda s, w, c: s.choose_language("ru"), effect=account_field("language", "ru")
    ),
    (ProfileState, "upload_avatar"): Case(
        MEMBER,
        "profile",
        lambda s, w, c: s.upload_avatar(upload(png_bytes(colour="#aa0000"))),
        errors=("media_error",),
        effect=db_changed("account"),
    ),
    (ProfileState, "upload_background"): Case(
        MEMBER,
        "profile",
        lambda s, w, c: s.upload_background(upload(png_bytes((400, 200)))),
        errors=("media_error",),
        effect=db_changed("account"),
    ),
    (ProfileState, "remove_picture"): Case(
        MEMBER,
        "profile",
        lambda s, w, c: s.remove_picture("avatar"),
        errors=("media_error",),
        effect=lambda ctx: _assert(get(ctx.engine, Account, ctx.me).avatar_id is None and ctx.state.media_error == ""),
    ),
    (ProfileState, "toggle_consent"): Case(
        MEMBER, "profile", lambda s, w, c: s.toggle_consent("sms"), errors=("consent_error",), effect=db_changed("account")
    ),
    (ProfileState, "delete_account"): Case(
        MEMBER,
        "profile",
        lambda s, w, c: s.delete_account({"password": PASSWORD}),
        errors=("delete_error",),
        refusal_messages=("That password is not right.",),
        effect=lambda ctx: _assert(get(ctx.engine, Account, ctx.me).deleted_at is not None),
    ),
    (ProfileState, "open_delete"): Case(UI, "profile", lambda s, w, c: s.open_delete()),
    (ProfileState, "close_delete"): Case(UI, "profile", lambda s, w, c: s.close_delete()),
    (ProfileState, "upload_rejected"): Case(
        UI, "profile", lambda s, w, c: s.upload_rejected([{"errors": [{"code": "file-too-large"}]}])
    ),
    (RewardsState, "load"): Case(
        MEMBER, "rewards", lambda s, w, c: s.load(), protected=("items", "available"), effect=loaded("items")
    ),
    (RewardsState, "choose"): Case(
        MEMBER, "rewards", lambda s, w, c: s.choose("affordable"), protected=("items", "available"), effect=loaded("loaded")
    ),
    (RewardDetailState, "load"): Case(
        MEMBER,
        "reward",
        lambda s, w, c: s.load(),
        query=reward_q,
        protected=("reward", "rid", "available"),
        effect=loaded("reward", "rid"),
    ),
    (RewardDetailState, "confirm_redeem"): Case(
        MEMBER,
        "reward",
        lambda s, w, c: s.confirm_redeem(),
        query=reward_q,
        prepare=plant(_redeem_key=lambda w: "authz-redeem-key"),
        protected=("reward", "rid"),
        effect=lambda ctx: _more(ctx, "vouchers_mine"),
    ),
    (RewardDetailState, "save_rating"): Case(
        MEMBER,
        "reward",
        lambda s, w, c: s.save_rating({"stars": "2", "review": "Changed my mind"}),
        query=lambda w: {"id": w.rated_reward_id},
        errors=("rating_error",),
        object_level=True,
        refusal_messages=("Only members who redeemed this reward can rate it.",),
        effect=lambda ctx: _assert(get(ctx.engine, RewardRating, ctx.world.rating_id).stars == 2),
    ),
    (RewardDetailState, "ask_redeem"): Case(UI, "reward", lambda s, w, c: s.ask_redeem(), query=reward_q),
    (RewardDetailState, "cancel_redeem"): Case(UI, "reward", lambda s, w, c: s.cancel_redeem(), query=reward_q),
    (RewardDetailState, "choose_stars"): Case(UI, "reward", lambda s, w, c: s.choose_stars("4"), query=reward_q),
    (VouchersState, "load"): Case(
        MEMBER,
        "vouchers",
        lambda s, w, c: s.load(),
        protected=("items",),
        effect=lambda ctx: _assert((str(ctx.world.voucher_id) in {v["id"] for v in ctx.state.items}) == (ctx.caller == "member")),
    ),
    (VoucherState, "load"): Case(
        MEMBER,
        "voucher",
        lambda s, w, c: s.load(),
        query=voucher_q,
        object_level=True,
        protected=("voucher", "code", "groups", "qr_src"),
        effect=lambda ctx: _assert(ctx.state.code == ctx.world.voucher_code),
    ),
    (VoucherState, "confirm_cancel"): Case(
        MEMBER,
        "voucher",
        lambda s, w, c: s.confirm_cancel(),
        query=voucher_q,
        object_level=True,
        protected=("voucher", "code", "groups", "qr_src"),
        refusal_messages=NOT_FOUND_VOUCHER,
        effect=voucher_status("cancelled"),
    ),
    (VoucherState, "ask_cancel"): Case(UI, "voucher", lambda s, w, c: s.ask_cancel(), query=voucher_q),
    (VoucherState, "keep"): Case(UI, "voucher", lambda s, w, c: s.keep(), query=voucher_q),
    (ChallengesState, "load"): Case(
        MEMBER,
        "challenges",
        lambda s, w, c: s.load(),
        protected=("challenges", "ways", "badges_earned"),
        effect=loaded("loaded", "ways"),
    ),
    (ChallengesState, "submit_survey"): Case(
        MEMBER,
        "challenges",
        lambda s, w, c: s.submit_survey(dict(w.survey_answers)),
        prepare=plant(_survey_id=lambda w: w.survey_id),
        errors=("err_text",),
        effect=lambda ctx: _assert(count(ctx.engine, SurveyResponse, SurveyResponse.account_id == ctx.me) == 1),
    ),
    (ChallengesState, "subscribe"): Case(
        MEMBER,
        "challenges",
        lambda s, w, c: s.subscribe(),
        errors=("err_text",),
        effect=all_of(notice("notice_title"), db_changed("account", "ledgerentry")),
    ),
    (ChallengesState, "submit_event_code"): Case(
        MEMBER,
        "challenges",
        lambda s, w, c: s.submit_event_code({"code": "JAZZNIGHT"}),
        errors=("err_text",),
        effect=all_of(notice("notice_title"), ledger_grew_for_me),
    ),
    (ChallengesState, "submit_social"): Case(
        MEMBER,
        "challenges",
        lambda s, w, c: s.submit_social({"url": f"https://www.instagram.com/p/authz{c}/"}),
        errors=("err_text",),
        effect=lambda ctx: _more(ctx, "submissions_mine"),
    ),
    (ChallengesState, "upload_photo"): Case(
        MEMBER,
        "challenges",
        lambda s, w, c: s.upload_photo(upload(png_bytes((320, 240), _colour_of(c)))),
        errors=("err_text",),
        effect=lambda ctx: _more(ctx, "submissions_mine"),
    ),
    (ChallengesState, "claim"): Case(
        MEMBER, "challenges", lambda s, w, c: s.claim("complete_profile"), errors=("err_text",), effect=ledger_grew_for_me
    ),
    (ChallengesState, "set_view"): Case(UI, "challenges", lambda s, w, c: s.set_view("badges")),
    (ChallengesState, "toggle_survey"): Case(UI, "challenges", lambda s, w, c: s.toggle_survey()),
    (ChallengesState, "photo_rejected"): Case(
        UI, "challenges", lambda s, w, c: s.photo_rejected([{"errors": [{"code": "file-invalid-type"}]}])
    ),
    (ActivityState, "load"): Case(
        MEMBER, "activity", lambda s, w, c: s.load(), protected=("items", "available", "expiring"), effect=loaded("items")
    ),
    (ActivityState, "choose"): Case(
        MEMBER, "activity", lambda s, w, c: s.choose("earned"), protected=("items",), effect=loaded("items")
    ),
    (ActivityState, "more"): Case(
        MEMBER,
        "activity",
        lambda s, w, c: s.more(),
        prepare=plant(has_more=True, _before_id=0),
        protected=("items",),
        effect=loaded("items"),
    ),
    (DonateState, "load"): Case(
        MEMBER, "donate", lambda s, w, c: s.load(), protected=("charities", "available"), effect=loaded("charities")
    ),
    (DonateState, "review"): Case(
        MEMBER,
        "donate",
        lambda s, w, c: s.review({"charity": str(w.charity_id), "amount": "10"}),
        protected=("charity_name", "points"),
        effect=lambda ctx: _assert(ctx.state.step == "confirm"),
    ),
    (DonateState, "confirm"): Case(
        MEMBER,
        "donate",
        lambda s, w, c: s.confirm(),
        prepare=plant(step="confirm", _key=lambda w: "authz-gift", _charity_id=lambda w: w.charity_id, _points=10),
        effect=lambda ctx: _assert(
            count(ctx.engine, Donation, Donation.account_id == ctx.me) > ctx.before_counts["donation_mine"]
        ),
    ),  # type: ignore[attr-defined]
    (DonateState, "again"): Case(
        MEMBER, "donate", lambda s, w, c: s.again(), protected=("charities", "available"), effect=loaded("charities")
    ),
    (DonateState, "back"): Case(UI, "donate", lambda s, w, c: s.back()),
    (InviteState, "load"): Case(
        MEMBER, "invite", lambda s, w, c: s.load(), protected=("code", "link", "referrals"), effect=loaded("code", "link")
    ),
    (InviteState, "after_copy"): Case(UI, "invite", lambda s, w, c: s.after_copy("copied")),
    (NewsState, "load"): Case(MEMBER, "news", lambda s, w, c: s.load(), protected=("changes",), effect=loaded("loaded")),
    (CardState, "load"): Case(
        MEMBER,
        "card",
        lambda s, w, c: s.load(),
        protected=("member_number", "full_name", "qr_src"),
        effect=loaded("member_number", "qr_src"),
    ),
    (CardState, "refresh_now"): Case(
        MEMBER, "card", lambda s, w, c: s.refresh_now(), protected=("qr_src",), effect=loaded("qr_src")
    ),
    (CardState, "keep_fresh"): Case(
        MEMBER, "card", lambda s, w, c: _keep_fresh(s), protected=("qr_src",), effect=loaded("qr_src")
    ),
    (CheckinState, "load"): Case(
        MEMBER,
        "checkin",
        lambda s, w, c: s.load(),
        query=lambda w: {"s": checkins.store_token(w.cafe, w.old_town)},
        protected=("store_name", "points", "available"),
        effect=all_of(lambda ctx: _assert(ctx.state.status == "done"), ledger_grew_for_me),
    ),
    (InboxState, "load"): Case(
        MEMBER,
        "inbox",
        lambda s, w, c: s.load(),
        query=lambda w: {"id": w.thread_id},
        object_level=True,
        protected=("thread", "messages"),
        effect=lambda ctx: _assert(ctx.state.thread.get("subject") == ctx.world.thread_subject),
    ),
    (InboxState, "send"): Case(
        MEMBER,
        "inbox",
        lambda s, w, c: s.send(
            {"subject": "About my voucher", "body": "Hello", "store_id": str(w.old_town), "voucher_id": str(w.voucher_id)}
        ),
        object_level=True,
        refusal_messages=NOT_FOUND_VOUCHER,
        effect=lambda ctx: _assert(
            count(ctx.engine, InboxThread, InboxThread.account_id == ctx.me) == ctx.before_counts["threads_mine"] + 1
        ),
    ),  # type: ignore[attr-defined]
    (InboxState, "answer"): Case(
        MEMBER,
        "inbox",
        lambda s, w, c: s.answer({"body": "Any news?"}),
        prepare=plant(thread=lambda w: {"id": str(w.thread_id)}),
        object_level=True,
        refusal_messages=NOT_FOUND_THREAD,
        # An admin may answer any thread of the merchant (inbox.reply decides by role), as in the console.
        expect={"admin": "allowed"},
        effect=lambda ctx: _more(ctx, "thread_messages"),
    ),
    (InboxState, "compose"): Case(UI, "inbox", lambda s, w, c: s.compose()),
    (InboxState, "choose_topic"): Case(UI, "inbox", lambda s, w, c: s.choose_topic("complaint")),
    # --- the till -----------------------------------------------------------------------------
    (TillState, "load"): Case(
        STAFF,
        "staff",
        lambda s, w, c: s.load(),
        protected=("stores",),
        expect={"staff_other_store": "allowed"},
        effect=lambda ctx: _assert({x["id"] for x in ctx.state.stores} == {str(i) for i in _stores_of(ctx)}),
    ),
    (TillState, "scan"): Case(
        STAFF,
        "staff",
        lambda s, w, c: s.scan({"code": w.member_number}),
        prepare=till_at_old_town(),
        protected=("member_name", "member_points", "member_number"),
        effect=lambda ctx: _assert(ctx.state.member_name.startswith("Ana")),
    ),
    (TillState, "camera_scan"): Case(
        STAFF,
        "staff",
        lambda s, w, c: s.camera_scan([{"rawValue": w.voucher_code}]),
        prepare=till_at_old_town(),
        protected=("voucher_reward", "voucher_member"),
        effect=lambda ctx: _assert(ctx.state.voucher_member.startswith("Ana")),
    ),
    (TillState, "credit"): Case(
        STAFF,
        "staff",
        lambda s, w, c: s.credit({"amount": "12.50", "receipt": f"R-{c}"}),
        prepare=till_at_old_town(_member_id=lambda w: w.accounts["member"]),
        protected=("result",),
        effect=ledger_grew_for("member"),
    ),
    (TillState, "undo"): Case(
        STAFF,
        "staff",
        lambda s, w, c: s.undo(),
        prepare=fresh_credit,
        protected=("result",),
        effect=lambda ctx: _assert(ctx.state.result.startswith("Credit undone")),
    ),
    (TillState, "redeem_voucher"): Case(
        STAFF,
        "staff",
        lambda s, w, c: s.redeem_voucher(),
        prepare=till_at_old_town(_voucher_code=lambda w: w.voucher_code),
        protected=("result",),
        effect=voucher_status("used"),
    ),
    (TillState, "choose_store"): Case(UI, "staff", lambda s, w, c: s.choose_store(str(w.old_town))),
    (TillState, "toggle_camera"): Case(UI, "staff", lambda s, w, c: s.toggle_camera()),
    (TillState, "clear"): Case(UI, "staff", lambda s, w, c: s.clear()),
    # --- the merchant console ------------------------------------------------------------------
    (AdminState, "load"): Case(ADMIN, "admin", lambda s, w, c: s.load(), protected=("figures",), effect=loaded("figures")),
    (AnalyticsState, "load"): Case(
        ADMIN,
        "admin/analytics",
        lambda s, w, c: s.load(),
        protected=("loaded", "kpi_members"),
        effect=loaded("loaded", "kpi_members"),
    ),
    (AnalyticsState, "set_period"): Case(
        ADMIN,
        "admin/analytics",
        lambda s, w, c: s.set_period("month"),
        protected=("loaded", "kpi_members"),
        effect=loaded("loaded", "kpi_members"),
    ),
    (DataState, "load"): Case(ADMIN, "admin/data", lambda s, w, c: s.load(), protected=("audit",), effect=loaded("audit")),
    (FraudState, "load"): Case(
        ADMIN, "admin/fraud", lambda s, w, c: s.load(), protected=("flags", "suspended"), effect=loaded("flags", "suspended")
    ),
    (FraudState, "resolve"): Case(
        ADMIN,
        "admin/fraud",
        lambda s, w, c: s.resolve({"flag_id": str(w.flag_id), "note": "Checked"}),
        protected=("flags",),
        effect=lambda ctx: _assert(get(ctx.engine, FraudFlag, ctx.world.flag_id).resolved_at is not None),
    ),
    (FraudState, "hold"): Case(
        ADMIN,
        "admin/fraud",
        lambda s, w, c: s.hold({"member_id": str(w.accounts["member"]), "reason": "Odd credits"}),
        protected=("flags",),
        effect=db_changed("account"),
    ),
    (FraudState, "restore"): Case(
        ADMIN, "admin/fraud", lambda s, w, c: s.restore(str(w.third_member)), protected=("flags",), effect=db_changed("account")
    ),
    (PostersState, "load"): Case(
        ADMIN, "admin/posters", lambda s, w, c: s.load(), protected=("stores",), effect=loaded("stores")
    ),
    (AdminInboxState, "load"): Case(
        ADMIN, "admin/inbox", lambda s, w, c: s.load(), protected=("threads",), effect=loaded("threads")
    ),
    # The console's handlers ask for an admin before the inbox service (which serves members too).
    (AdminInboxState, "open"): Case(
        ADMIN,
        "admin/inbox",
        lambda s, w, c: s.open(str(w.thread_id)),
        protected=("threads", "messages"),
        refusal_messages=NOT_FOUND_THREAD,
        effect=loaded("threads", "messages"),
    ),
    (AdminInboxState, "answer"): Case(
        ADMIN,
        "admin/inbox",
        lambda s, w, c: s.answer({"body": "Sorted, see you soon"}),
        prepare=plant(open_id=lambda w: str(w.thread_id)),
        protected=("threads",),
        refusal_messages=NOT_FOUND_THREAD,
        effect=lambda ctx: _more(ctx, "thread_messages"),
    ),
    (ProgramState, "ask_preview"): Case(UI, "admin/program", lambda s, w, c: s.ask_preview()),
    (ProgramState, "show_preview"): Case(
        ADMIN,
        "admin/program",
        lambda s, w, c: s.show_preview({"visited_within_days": "30"}),
        protected=("preview",),
        effect=loaded("preview"),
    ),
    (WebhooksState, "load"): Case(
        ADMIN, "admin/webhooks", lambda s, w, c: s.load(), protected=("endpoints", "deliveries"), effect=loaded("endpoints")
    ),
    (WebhooksState, "new_endpoint"): Case(UI, "admin/webhooks", lambda s, w, c: s.new_endpoint()),
    (WebhooksState, "hide_secret"): Case(UI, "admin/webhooks", lambda s, w, c: s.hide_secret()),
    (WebhooksState, "edit"): Case(
        ADMIN,
        "admin/webhooks",
        lambda s, w, c: s.edit(str(w.webhook_id)),
        protected=("values", "editing"),
        effect=loaded("editing"),
    ),
    (WebhooksState, "save"): Case(
        ADMIN,
        "admin/webhooks",
        lambda s, w, c: s.save({"url": "https://crm2.example.invalid/in", "event:member.enrolled": "on", "is_active": "on"}),
        protected=("endpoints", "secret"),
        effect=lambda ctx: _assert(count(ctx.engine, WebhookEndpoint) == 2),
    ),
    (WebhooksState, "toggle_active"): Case(
        ADMIN,
        "admin/webhooks",
        lambda s, w, c: s.toggle_active(str(w.webhook_id), False),
        protected=("endpoints",),
        effect=lambda ctx: _assert(not get(ctx.engine, WebhookEndpoint, ctx.world.webhook_id).is_active),
    ),
    (WebhooksState, "reveal"): Case(
        ADMIN, "admin/webhooks", lambda s, w, c: s.reveal(str(w.webhook_id)), protected=("secret",), effect=loaded("secret")
    ),
    (WebhooksState, "rotate"): Case(
        ADMIN,
        "admin/webhooks",
        lambda s, w, c: s.rotate(str(w.webhook_id)),
        protected=("secret",),
        effect=db_changed("webhookendpoint"),
    ),
    (WebhooksState, "send_test"): Case(
        ADMIN,
        "admin/webhooks",
        lambda s, w, c: s.send_test(str(w.webhook_id)),
        protected=("deliveries",),
        effect=lambda ctx: _assert(count(ctx.engine, WebhookDelivery) == 2),
    ),  # made, then reported not delivered
    (WebhooksState, "retry"): Case(
        ADMIN,
        "admin/webhooks",
        lambda s, w, c: s.retry(str(w.webhook_delivery_id)),
        protected=("deliveries",),
        effect=db_changed("webhookdelivery"),
    ),
    (ProgramState, "load"): Case(
        ADMIN, "admin/program", lambda s, w, c: s.load(), protected=("rows", "store_options"), effect=loaded("rows", "loaded")
    ),
    (ProgramState, "select_tab"): Case(
        ADMIN, "admin/program", lambda s, w, c: s.select_tab("tiers"), protected=("rows",), effect=loaded("rows")
    ),
    (ProgramState, "save"): Case(
        ADMIN,
        "admin/program",
        lambda s, w, c: s.save({"name": "Animal shelter", "description": "Food and blankets"}),
        prepare=plant(tab="charities"),
        protected=("rows",),
        effect=lambda ctx: _assert(count(ctx.engine, Charity, Charity.name == "Animal shelter") == 1),
    ),
    (ProgramState, "retire"): Case(
        ADMIN,
        "admin/program",
        lambda s, w, c: s.retire(),
        prepare=plant(tab="rewards", _editing_id=lambda w: w.retire_reward_id),
        protected=("rows",),
        effect=lambda ctx: _assert(not get(ctx.engine, Reward, ctx.world.retire_reward_id).is_active),
    ),
    (ProgramState, "restore"): Case(
        ADMIN,
        "admin/program",
        lambda s, w, c: s.restore(),
        prepare=_retired_reward,
        protected=("rows",),
        effect=lambda ctx: _assert(get(ctx.engine, Reward, ctx.world.retire_reward_id).is_active),
    ),
    (ProgramState, "pick_image"): Case(
        ADMIN,
        "admin/program",
        lambda s, w, c: s.pick_image(upload(png_bytes((480, 320)))),
        protected=("image_preview",),
        effect=loaded("image_preview"),
    ),
    (ProgramState, "edit"): Case(UI, "admin/program", lambda s, w, c: s.edit(str(w.retire_reward_id))),
    (ProgramState, "new"): Case(UI, "admin/program", lambda s, w, c: s.new()),
    (ProgramState, "set_variant"): Case(UI, "admin/program", lambda s, w, c: s.set_variant("discount")),
    (ProgramState, "image_rejected"): Case(
        UI, "admin/program", lambda s, w, c: s.image_rejected([{"errors": [{"code": "file-too-large"}]}])
    ),
    (ProgramState, "remove_image"): Case(UI, "admin/program", lambda s, w, c: s.remove_image()),
    (ChangelogState, "load"): Case(
        ADMIN, "admin/program", lambda s, w, c: s.load(), protected=("entries",), effect=loaded("entries")
    ),
    (ChangelogState, "annotate"): Case(
        ADMIN,
        "admin/program",
        lambda s, w, c: s.annotate({"change_id": str(w.change_id), "note": "Thanks for the feedback"}),
        protected=("entries",),
        effect=lambda ctx: _assert(get(ctx.engine, ProgramChange, ctx.world.change_id).note == "Thanks for the feedback"),
    ),
    (ModerationState, "load"): Case(
        ADMIN,
        "admin/program",
        lambda s, w, c: s.load(),
        protected=("reviews", "submissions"),
        effect=loaded("reviews", "submissions"),
    ),
    (ModerationState, "hide"): Case(
        ADMIN,
        "admin/program",
        lambda s, w, c: s.hide({"rating_id": str(w.rating_id), "reason": "Personal data"}),
        protected=("reviews",),
        effect=lambda ctx: _assert(get(ctx.engine, RewardRating, ctx.world.rating_id).hidden_at is not None),
    ),
    (ModerationState, "show"): Case(
        ADMIN,
        "admin/program",
        lambda s, w, c: s.show(str(w.rating_id)),
        prepare=_hidden_rating,
        protected=("reviews",),
        effect=lambda ctx: _assert(get(ctx.engine, RewardRating, ctx.world.rating_id).hidden_at is None),
    ),
    (ModerationState, "approve"): Case(
        ADMIN,
        "admin/program",
        lambda s, w, c: s.approve(str(w.submission_id)),
        protected=("reviews",),
        effect=lambda ctx: _assert(get(ctx.engine, Submission, ctx.world.submission_id).status == "approved"),
    ),
    (ModerationState, "reject"): Case(
        ADMIN,
        "admin/program",
        lambda s, w, c: s.reject({"submission_id": str(w.submission_id), "reason": "Not our shop"}),
        protected=("reviews",),
        effect=lambda ctx: _assert(get(ctx.engine, Submission, ctx.world.submission_id).status == "rejected"),
    ),
    (ThemeEditorState, "load"): Case(
        ADMIN, "admin/theme", lambda s, w, c: s.load(), protected=("versions", "loaded"), effect=loaded("versions", "loaded")
    ),
    (ThemeEditorState, "upload_logo"): Case(
        ADMIN,
        "admin/theme",
        lambda s, w, c: s.upload_logo(upload(png_bytes((256, 256)))),
        protected=("logo_url",),
        effect=db_changed("themeversion"),
    ),
    (ThemeEditorState, "save_draft"): Case(
        ADMIN,
        "admin/theme",
        lambda s, w, c: s.save_draft(),
        prepare=plant(brand_name="Draft Brand"),
        effect=db_changed("themeversion"),
    ),
    (ThemeEditorState, "publish"): Case(
        ADMIN,
        "admin/theme",
        lambda s, w, c: s.publish(),
        prepare=plant(brand_name="Published Brand", dirty=True),
        protected=("versions",),
        effect=lambda ctx: _assert(
            count(ctx.engine, ThemeVersion, ThemeVersion.status == "published") == ctx.before_counts["published"]
        ),
    ),  # type: ignore[attr-defined]
    (ThemeEditorState, "discard"): Case(
        ADMIN,
        "admin/theme",
        lambda s, w, c: s.discard(),
        prepare=_theme_draft,
        effect=lambda ctx: _assert(count(ctx.engine, ThemeVersion, ThemeVersion.status == "draft") == 0),
    ),
    (ThemeEditorState, "revert"): Case(
        ADMIN,
        "admin/theme",
        lambda s, w, c: s.revert(str(w.theme_version)),
        effect=lambda ctx: _assert(count(ctx.engine, ThemeVersion, ThemeVersion.status == "draft") == 1),
    ),
    **{
        (ThemeEditorState, name): Case(UI, "admin/theme", call)
        for name, call in {
            "set_brand_name": lambda s, w, c: s.set_brand_name("Anything"),
            "type_colour": lambda s, w, c: s.type_colour("primary", "#123456"),
            "check_colour": lambda s, w, c: s.check_colour("accent", "#12"),
            "pick_colour": lambda s, w, c: s.pick_colour("background", "#fafafa"),
            "set_radius": lambda s, w, c: s.set_radius("12"),
            "set_mode": lambda s, w, c: s.set_mode("dark"),
            "set_font": lambda s, w, c: s.set_font("Nunito"),
            "apply_preset": lambda s, w, c: s.apply_preset(_a_preset()),
            "apply_suggestion": lambda s, w, c: s.apply_suggestion("primary", "#0f4f3a"),
            "show_screen": lambda s, w, c: s.show_screen("rewards"),
            "remove_logo": lambda s, w, c: s.remove_logo(),
            "logo_rejected": lambda s, w, c: s.logo_rejected([{"errors": [{"code": "file-too-large"}]}]),
            "ask_publish": lambda s, w, c: s.ask_publish(),
            "cancel_publish": lambda s, w, c: s.cancel_publish(),
            "set_publish_note": lambda s, w, c: s.set_publish_note("Spring colours"),
        }.items()
    },
}


# ----------------------------------------------------------------------------- enumeration


def _app_states() -> list[type]:
    found, todo = [], list(State.get_substates())
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if cls.__module__.startswith("loyalty_app."):
            found.append(cls)
    return found


# Reflex's generic setter: it only reaches vars that have an explicit setter handler (auto
# setters are off in Reflex 0.10), and those setters are classified here on their own.
EXCLUDED_HANDLERS = {"setvar"}


def app_handlers() -> set[tuple[type, str]]:
    return {(cls, name) for cls in _app_states() for name in cls.event_handlers if name not in EXCLUDED_HANDLERS}


def test_every_handler_is_classified():
    found = app_handlers()
    missing = sorted(f"{cls.__name__}.{name}" for cls, name in found - set(MATRIX))
    stale = sorted(f"{cls.__name__}.{name}" for cls, name in set(MATRIX) - found)
    assert not missing, "\n".join(f"classify {m} in the matrix (tests/unit/test_authorization_matrix.py MATRIX)" for m in missing)
    assert not stale, f"the matrix lists handlers that no longer exist: {stale}"


def test_matrix_covers_every_kind_of_caller_with_both_outcomes():
    """The table is not trivially all-allowed or all-refused: each protected kind has both."""
    for kind in (MEMBER, STAFF, ADMIN):
        outcomes = {expected(case, caller) for case in MATRIX.values() if case.kind == kind for caller in CALLERS}
        assert outcomes == {"allowed", "refused"}, kind


# ----------------------------------------------------------------------------- the run

_WORLDS: dict[str, Any] = {}


@pytest.fixture
def world(db_engine, monkeypatch) -> tuple[Any, World]:
    """A copy of the prepared world in this test's fresh database."""
    point_app_at(db_engine, monkeypatch)
    import loyalty_app.pages.card as card

    monkeypatch.setattr(card, "REFRESH_SECONDS", card.REFRESH_SECONDS)
    monkeypatch.setattr(card, "MAX_REFRESHES", card.MAX_REFRESHES)
    backend = db_engine.dialect.name
    if backend not in _WORLDS:
        try:
            w = build_world(db_engine)
        except Exception as err:  # built once per backend: do not retry for every handler
            _WORLDS[backend] = err
            raise
        _WORLDS[backend] = (w, capture_rows(db_engine))
        return db_engine, w
    if isinstance(_WORLDS[backend], Exception):
        raise RuntimeError("building the world failed (see the first error)") from _WORLDS[backend]
    w, rows = _WORLDS[backend]
    restore_rows(db_engine, rows)
    return db_engine, w


def _counts(engine, w: World, caller: str) -> dict:
    mine = w.accounts.get(caller, 0)
    return {
        "donation_mine": count(engine, Donation, Donation.account_id == mine),
        "threads_mine": count(engine, InboxThread, InboxThread.account_id == mine),
        "published": count(engine, ThemeVersion, ThemeVersion.status == "published"),
        "vouchers_mine": count(engine, Voucher, Voucher.account_id == mine),
        "submissions_mine": count(engine, Submission, Submission.account_id == mine),
        "thread_messages": count(engine, InboxMessage, InboxMessage.thread_id == w.thread_id),
    }


async def _call(engine, w: World, case: Case, cls: type, name: str, caller: str) -> tuple[Ctx, BaseException | None]:
    root = root_state(page=case.page, cookie=w.cookies[caller], query=case.query(w) if case.query else None)
    session = substate(root, SessionState)
    guard = case.guard if case.guard is not None else GUARD_OF_KIND.get(case.kind, "")
    if guard:
        await drive(getattr(session, guard)())
    state = substate(root, cls)
    if case.prepare:
        case.prepare(state, w, caller, engine)
    before = snapshot(engine)
    ctx = Ctx(state=state, root=root, world=w, caller=caller, engine=engine, before=before, events=[])
    ctx.before_counts = _counts(engine, w, caller)  # type: ignore[attr-defined]
    ctx.before_ledger = {a: count(engine, LedgerEntry, LedgerEntry.account_id == a) for a in w.accounts.values()}  # type: ignore[attr-defined]
    error = None
    try:
        ctx.events = await drive(case.call(state, w, caller))
    except NotAllowed as err:
        error = err
    return ctx, error


def _fresh_value(cls: type, name: str):
    return getattr(substate(root_state(), cls), name)


def _texts(ctx: Ctx, msgids) -> set[str]:
    """The messages in the caller's language (the member guard applies the account's language)."""
    from loyalty_app.i18n import translate

    lang = substate(ctx.root, LanguageState).lang
    return {translate(lang, m) for m in msgids} | set(msgids)


def _check(ctx: Ctx, case: Case, cls: type, name: str, outcome: str, raised) -> None:
    shown = {var: getattr(ctx.state, var) for var in case.errors if hasattr(ctx.state, var)}
    assert not set(shown.values()) & _texts(ctx, [GENERIC]), f"unexpected error: {shown}"
    if outcome == "allowed":
        assert raised is None, f"refused with {raised!r}"
        assert not set(shown.values()) & _texts(ctx, REFUSALS), f"refused: {shown}"
        if case.effect is not None:
            try:
                case.effect(ctx)
            except AssertionError as err:
                raise AssertionError(f"{err} (shown: {shown})") from None
        return
    # refused, or inert (view-only)
    changed = set(changed_tables(ctx.before, snapshot(ctx.engine)))
    assert not changed, f"the database changed: {sorted(changed)}"
    for var in case.protected:
        assert getattr(ctx.state, var) == _fresh_value(cls, var), f"protected var {var} was filled: {getattr(ctx.state, var)!r}"
    if outcome == "refused":
        allowed_texts = {""} | _texts(ctx, [*REFUSALS, *case.refusal_messages])
        for var, value in shown.items():
            assert value in allowed_texts, f"{var} shows {value!r}, not a refusal"


def _params() -> list:
    """Every handler on SQLite; on PostgreSQL the handlers that read or change protected data
    (public and view-only handlers touch nothing the database could treat differently), which
    keeps the CI run short."""
    from tests.conftest import PG_SKIP_REASON, PG_URL

    params = [pytest.param("sqlite", key, id=f"sqlite-{key[0].__name__}.{key[1]}") for key in MATRIX]
    params += [
        pytest.param(
            "postgresql",
            key,
            id=f"postgresql-{key[0].__name__}.{key[1]}",
            marks=pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON),
        )
        for key, case in MATRIX.items()
        if case.kind not in (PUBLIC, UI)
    ]
    return params


@pytest.mark.parametrize("db_backend,key", _params())
def test_handler_authorization(world, db_backend, key):
    engine, w = world
    cls, name = key
    case = MATRIX[key]
    order = sorted(CALLERS, key=lambda c: expected(case, c) == "allowed")  # refusals first: the world is pristine

    async def run_all() -> list[str]:
        failures = []
        for caller in order:
            outcome = expected(case, caller)
            try:
                ctx, raised = await _call(engine, w, case, cls, name, caller)
                _check(ctx, case, cls, name, outcome, raised)
            except AssertionError as err:
                failures.append(f"{cls.__name__}.{name} as {caller} (expected {outcome}): {err}")
        return failures

    failures = asyncio.run(run_all())
    assert not failures, "\n".join(failures)
