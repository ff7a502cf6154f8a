"""The world the authorization matrix runs in, and the tools to call Reflex handlers as a
given person and to tell whether the database changed.

Why a prepared world copied per test: every handler is tried by eight callers, and an allowed
call changes data (a voucher cancelled, an account deleted). Building the demo data and the
callers' sessions once per backend and restoring its rows before each handler keeps every
test independent and the file fast.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import io
import pkgutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from PIL import Image
from reflex.state import State
from sqlalchemy import LargeBinary, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from sqlmodel import select as sm_select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import (
    Account,
    FraudFlag,
    InboxThread,
    LedgerEntry,
    MemberBalance,
    Merchant,
    ProgramChange,
    Reward,
    RewardRating,
    Role,
    Store,
    Submission,
    Survey,
    ThemeVersion,
    Voucher,
)
from loyalty_app.services.members import accounts, sessions
from loyalty_app.services.platform.permissions import Actor

PASSWORD = "demo-password-1"
CALLERS = (
    "anonymous",
    "member",  # Ana, member of cafe: owns the objects below
    "other_member",  # Sofía, member of cafe: acts on Ana's objects by id where a handler takes one
    "staff_other_store",  # cafe staff assigned to the Riverside store only
    "staff",  # cafe staff assigned to the Old Town store (the store the till cases use)
    "admin",  # cafe's merchant admin
    "books_member",  # member of the other merchant, with their books cookie (and it copied as cafe's)
    "books_admin",  # admin of the other merchant, same
)
REFUSALS = ("Please sign in first.", "You are not allowed to do this.")

# Tables a refused call may legitimately change (everything else must stay byte-identical).
IGNORED_TABLES = {
    "securityevent": "every refusal is logged here",
    "loginattempt": "the sign-in throttle counts attempts",
    "authsession": "every event re-validates the session and may touch its last-seen time",
    "liveclient": "the member page guard registers the open tab for live updates",
}


def png_bytes(size: tuple[int, int] = (64, 64), colour: str = "#1f5f46") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def point_app_at(engine: Engine, monkeypatch) -> None:
    """Point every module's get_engine() at the test database (as tests/unit/test_states.py does)."""
    import loyalty_app.loyalty_app

    for mod in pkgutil.walk_packages(loyalty_app.__path__, "loyalty_app."):
        module = importlib.import_module(mod.name)
        if hasattr(module, "get_engine"):
            monkeypatch.setattr(module, "get_engine", lambda: engine)


# ----------------------------------------------------------------------------- the world


@dataclass
class World:
    """Ids of everything the cases act on, and each caller's cookie header."""

    cafe: int = 0
    books: int = 0
    old_town: int = 0
    riverside: int = 0
    books_store: int = 0
    accounts: dict[str, int] = field(default_factory=dict)  # caller -> account id
    first_names: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)  # caller -> Cookie header
    member_number: str = ""
    third_member: int = 0  # Mihai: owns the pending submission; his spending is on hold
    voucher_id: int = 0  # Ana's issued voucher
    voucher_code: str = ""
    voucher_reward_id: int = 0
    cheap_reward_id: int = 0  # a reward both members can afford
    rated_reward_id: int = 0  # a reward Ana rated
    rating_id: int = 0  # Ana's rating
    thread_id: int = 0  # Ana's inbox thread (answered by the merchant, unread by Ana)
    thread_subject: str = ""
    submission_id: int = 0  # Mihai's pending social link
    flag_id: int = 0  # an open fraud flag of cafe
    survey_id: int = 0
    survey_answers: dict[str, str] = field(default_factory=dict)
    charity_id: int = 0
    change_id: int = 0
    theme_version: int = 0  # an archived theme version to revert to
    retire_reward_id: int = 0
    books_member_id: int = 0
    webhook_id: int = 0  # cafe's CRM webhook (an address that never resolves: nothing leaves the machine)
    webhook_delivery_id: int = 0  # a queued test delivery of it

    def actor(self, caller: str) -> Actor:
        role = {"member": Role.MEMBER, "other_member": Role.MEMBER, "staff": Role.STAFF, "admin": Role.ADMIN}[caller]
        stores = {"staff": frozenset({self.old_town}), "admin": frozenset({self.old_town, self.riverside})}.get(
            caller, frozenset()
        )
        return Actor(account_id=self.accounts[caller], merchant_id=self.cafe, role=role, store_ids=stores)


def _one(s, stmt):
    return s.exec(stmt).first()


def build_world(engine: Engine) -> World:
    """Demo data for both merchants plus the callers, their sessions and Ana's objects."""
    from loyalty_app.services.catalog import rewards
    from loyalty_app.services.earning import engagement
    from loyalty_app.services.members import inbox, member_media
    from loyalty_app.services.operations.demo import seed_demo_data
    from loyalty_app.services.program import theme_admin

    seed_demo_data(engine)
    w = World()
    with read_session(engine) as s:
        w.cafe = _one(s, sm_select(Merchant).where(Merchant.slug == "cafe")).id
        w.books = _one(s, sm_select(Merchant).where(Merchant.slug == "books")).id
        w.old_town = _one(s, sm_select(Store).where(Store.merchant_id == w.cafe, Store.code == "old-town")).id
        w.riverside = _one(s, sm_select(Store).where(Store.merchant_id == w.cafe, Store.code == "riverside")).id
        w.books_store = _one(s, sm_select(Store).where(Store.merchant_id == w.books)).id

        def account(merchant_id: int, email: str) -> Account:
            return _one(s, sm_select(Account).where(Account.merchant_id == merchant_id, Account.email == email))

        ana, sofia, mihai = (account(w.cafe, e) for e in ("member@demo.test", "sofia@demo.test", "mihai@demo.test"))
        admin = account(w.cafe, "admin@demo.test")
        books_member, books_admin = account(w.books, "member@demo.test"), account(w.books, "admin@demo.test")
    staff_here = accounts.create_staff(
        engine, merchant_id=w.cafe, email="till.oldtown@staff.test", password=PASSWORD, first_name="Olga", store_ids=[w.old_town]
    )
    staff_there = accounts.create_staff(
        engine,
        merchant_id=w.cafe,
        email="till.riverside@staff.test",
        password=PASSWORD,
        first_name="Radu",
        store_ids=[w.riverside],
    )
    w.accounts = {
        "member": ana.id,
        "other_member": sofia.id,
        "staff_other_store": staff_there.id,
        "staff": staff_here.id,
        "admin": admin.id,
        "books_member": books_member.id,
        "books_admin": books_admin.id,
    }
    w.first_names = {"member": ana.first_name, "other_member": sofia.first_name}
    w.member_number = ana.member_number
    w.third_member = mihai.id
    w.books_member_id = books_member.id
    with write_session(engine) as s:  # complete profiles: the claim and survey cases need them
        for account_id in (ana.id, sofia.id):
            row = s.get(Account, account_id)
            row.birthday = date(1990, (utcnow().month % 12) + 1, 15)
            row.last_name = row.last_name or "Test"

    member = w.actor("member")
    with read_session(engine) as s:
        balances = {b.account_id: b.available for b in s.exec(sm_select(MemberBalance)).all()}
        cafe_rewards = s.exec(
            sm_select(Reward).where(Reward.merchant_id == w.cafe, Reward.is_active).order_by(Reward.cost_points)
        ).all()
    affordable = [r for r in cafe_rewards if r.min_tier_id is None and r.cost_points <= 200 and r.per_member_limit is None]
    assert affordable, "the demo program needs a cheap reward"
    w.cheap_reward_id = affordable[0].id
    for reward in affordable:  # Ana's voucher: the first reward she can still redeem
        try:
            outcome = rewards.redeem_reward(
                engine, merchant_id=w.cafe, account_id=ana.id, reward_id=reward.id, idempotency_key=f"authz-world-{reward.id}"
            )
        except Exception:  # noqa: BLE001 - per-member limit or stock: try the next one
            continue
        with read_session(engine) as s:
            voucher = s.get(Voucher, outcome.voucher_id)
        w.voucher_id, w.voucher_code, w.voucher_reward_id = voucher.id, voucher.code, voucher.reward_id
        break
    assert w.voucher_id, f"Ana could not redeem any cheap reward (balance {balances.get(ana.id)})"
    with read_session(engine) as s:
        rating = _one(s, sm_select(RewardRating).where(RewardRating.account_id == ana.id))
        if rating is None:
            used = _one(s, sm_select(Voucher).where(Voucher.account_id == ana.id, Voucher.status == "used"))
            assert used is not None, "Ana needs a used voucher to rate"
    if rating is None:
        rewards.rate_reward(engine, merchant_id=w.cafe, account_id=ana.id, reward_id=used.reward_id, stars=4, review_text="Nice")
        with read_session(engine) as s:
            rating = _one(s, sm_select(RewardRating).where(RewardRating.account_id == ana.id))
    w.rated_reward_id, w.rating_id = rating.reward_id, rating.id

    w.thread_subject = "Where is my latte?"
    w.thread_id = inbox.start_thread(
        engine,
        member,
        topic="question",
        subject=w.thread_subject,
        body="Ana's own question",
        store_id=w.old_town,
        voucher_id=w.voucher_id,
    )
    inbox.reply(engine, w.actor("admin"), thread_id=w.thread_id, body="We are on it")
    member_media.set_member_image(engine, member, kind="avatar", data=png_bytes(), filename="ana.png")
    mihai_actor = Actor(account_id=mihai.id, merchant_id=w.cafe, role=Role.MEMBER)
    w.submission_id = engagement.submit_social_link(engine, mihai_actor, "https://www.instagram.com/p/authzworld1/").submission_id
    from loyalty_app.services.insight import fraud

    fraud.set_spending_hold(engine, w.actor("admin"), account_id=mihai.id, hold=True, reason="Checking receipts")
    with write_session(engine) as s:
        flag = FraudFlag(
            merchant_id=w.cafe,
            kind="velocity",
            member_account_id=ana.id,
            staff_account_id=staff_here.id,
            store_id=w.old_town,
            detail={"credits": 9},
        )
        s.add(flag)
        s.flush()
        w.flag_id = flag.id
    with read_session(engine) as s:
        survey = _one(s, sm_select(Survey).where(Survey.merchant_id == w.cafe))
        w.survey_id = survey.id
        w.survey_answers = {f"q_{q['id']}": _answer(q) for q in survey.questions}
        from loyalty_app.models import Charity

        w.charity_id = _one(s, sm_select(Charity).where(Charity.merchant_id == w.cafe, Charity.is_active)).id
        w.change_id = _one(s, sm_select(ProgramChange).where(ProgramChange.merchant_id == w.cafe)).id
        retire = [r for r in cafe_rewards if r.id not in (w.cheap_reward_id, w.voucher_reward_id, w.rated_reward_id)]
        w.retire_reward_id = retire[-1].id
    admin_actor = w.actor("admin")
    theme_admin.save_draft(engine, admin_actor, {"brand_name": "Bean and Leaf"})
    theme_admin.publish(engine, admin_actor, note="authz world")
    with read_session(engine) as s:
        archived = _one(
            s,
            sm_select(ThemeVersion)
            .where(ThemeVersion.merchant_id == w.cafe, ThemeVersion.status != "published")
            .order_by(ThemeVersion.version),
        )
    w.theme_version = archived.version

    from loyalty_app.services.crm import webhooks

    hook, _secret = webhooks.save_endpoint(
        engine, admin_actor, {"url": "https://crm.example.invalid/loyalty", "events": ["consent.changed"]}
    )
    w.webhook_id = hook.endpoint_id
    w.webhook_delivery_id = webhooks.send_test_event(engine, admin_actor, hook.endpoint_id)

    for caller in CALLERS[1:]:
        slug = "books" if caller.startswith("books") else "cafe"
        cookie = _cookie(engine, w.accounts[caller], slug)
        if slug == "books":  # the same secret offered as cafe's cookie too: it must not count there
            cookie = f"{cookie}; {cookie.replace('ls_books=', 'ls_cafe=')}"
        w.cookies[caller] = cookie
    w.cookies["anonymous"] = ""
    return w


def _answer(question: dict) -> str:
    kind = question.get("kind")
    if kind == "stars":
        return "4"
    if kind in ("choice", "single", "select"):
        return str((question.get("options") or ["yes"])[0])
    if kind in ("yes_no", "yesno", "bool"):
        return "yes"
    return "Good coffee"


def _cookie(engine: Engine, account_id: int, slug: str) -> str:
    with write_session(engine) as s:
        account = s.get(Account, account_id)
        _row, ticket = sessions.create_session(s, account=account, ip="127.0.0.1", user_agent="pytest", now=utcnow())
    activated = sessions.activate(engine, ticket=ticket)
    return f"{sessions.cookie_name(slug)}={activated.secret}"


# ----------------------------------------------------------------------------- rows: copy, restore, compare


def capture_rows(engine: Engine) -> dict[str, list[dict]]:
    with engine.connect() as conn:
        return {t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in SQLModel.metadata.sorted_tables}


def restore_rows(engine: Engine, rows: dict[str, list[dict]]) -> None:
    """Write captured rows into an empty database of the same backend (sequences follow)."""
    with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if rows.get(table.name):
                conn.execute(insert(table), rows[table.name])
        if engine.dialect.name == "postgresql":
            for table in SQLModel.metadata.sorted_tables:
                if "id" in table.c and table.c.id.primary_key and rows.get(table.name):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                            f'(SELECT MAX(id) FROM "{table.name}"))'
                        )
                    )


def snapshot(engine: Engine) -> dict[str, str]:
    """Row count and a hash of every row, per table (except IGNORED_TABLES)."""
    out = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in IGNORED_TABLES:
                continue
            # Binary columns (images) by length: they are written once, and hashing them is slow.
            columns = [func.length(c) if isinstance(c.type, LargeBinary) else c for c in table.columns]
            found = conn.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            out[table.name] = f"{len(found)}:{hashlib.sha256(repr(found).encode()).hexdigest()[:16]}"
    return out


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


def count(engine: Engine, model, *where) -> int:
    with engine.connect() as conn:
        stmt = select(func.count()).select_from(model)
        for clause in where:
            stmt = stmt.where(clause)
        return conn.execute(stmt).scalar_one()


def get(engine: Engine, model, key):
    with read_session(engine) as s:
        return s.get(model, key)


# ----------------------------------------------------------------------------- calling handlers


def root_state(*, slug: str = "cafe", page: str = "home", cookie: str = "", query: dict[str, str] | None = None) -> State:
    """A fresh root state as a websocket from this browser tab would have it."""
    from urllib.parse import urlencode

    query = {k: str(v) for k, v in (query or {}).items()}
    root = State(_reflex_internal_init=True)
    search = f"?{urlencode(query)}" if query else ""
    router_data = {
        "pathname": f"/m/[slug]/{page}",
        "asPath": f"/m/{slug}/{page}{search}",
        "query": {"slug": slug, **query},
        "headers": {"cookie": cookie, "origin": "http://localhost:3000", "user-agent": "pytest"},
        "ip": "127.0.0.1",
        "token": "authz-token",
        "sid": "authz-sid",
    }
    root.router_data = root._update_router_vars(router_data, {})
    return root


def substate(root: State, cls):
    return root.get_substate(cls.get_full_name().split(".")[1:])


async def drive(result) -> list[Any]:
    """Run a handler (plain, coroutine or async generator) to the end; return what it emitted."""
    emitted: list[Any] = []
    if inspect.isasyncgen(result):
        async for item in result:
            if item is not None:
                emitted.append(item)
    elif inspect.iscoroutine(result):
        value = await result
        if value is not None:
            emitted.append(value)
    elif result is not None:
        emitted.append(result)
    flat: list[Any] = []
    for item in emitted:
        flat.extend(item if isinstance(item, (list, tuple)) else [item])
    return flat


def redirect_target(events: list[Any]) -> str:
    """The path of a redirect among the emitted events ('' when none)."""
    for event in events:
        handler = getattr(event, "handler", None)
        if handler is not None and getattr(handler, "fn", None) is not None and "redirect" in str(handler.fn.__name__):
            for name, value in event.args:
                if str(getattr(name, "_js_expr", name)).strip('"') == "path":
                    return str(getattr(value, "_var_value", value)).strip('"')
        text_form = str(event)
        if "_redirect" in text_form or "redirect" in text_form:
            return text_form
    return ""


class BackgroundProxy:
    """Stands in for Reflex's StateProxy when a background handler is called directly:
    ``async with self`` is a no-op and attributes go to the real state."""

    def __init__(self, state: State) -> None:
        object.__setattr__(self, "_state", state)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *_exc) -> bool:
        return False

    def __getattr__(self, name: str):
        return getattr(object.__getattribute__(self, "_state"), name)

    def __setattr__(self, name: str, value) -> None:
        setattr(object.__getattribute__(self, "_state"), name, value)


def days_ago(days: int):
    return utcnow() - timedelta(days=days)


__all__ = [
    "CALLERS",
    "IGNORED_TABLES",
    "PASSWORD",
    "REFUSALS",
    "BackgroundProxy",
    "LedgerEntry",
    "Submission",
    "InboxThread",
    "World",
    "build_world",
    "capture_rows",
    "changed_tables",
    "count",
    "drive",
    "get",
    "png_bytes",
    "point_app_at",
    "redirect_target",
    "restore_rows",
    "root_state",
    "snapshot",
    "substate",
]
