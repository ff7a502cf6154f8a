"""Check-in posters and check-ins: the poster's QR (decoded by zxing-cpp, an independent decoder)
holds the exact signed check-in URL, in the PNG and in the PDF; forged, edited, foreign and
inactive-store tokens are refused and record nothing; once per store and day; key rotation
keeps printed posters valid; only admins get posters (service and HTTP route)."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image, PdfParser
from sqlmodel import func, select
from starlette.applications import Starlette

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette 1.x suggests httpx2 for its TestClient
    from starlette.testclient import TestClient

from loyalty_app.api import poster_routes
from loyalty_app.db import read_session, write_session
from loyalty_app.domain import checkin_tokens
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.domain.theme import Theme
from loyalty_app.models import LedgerEntry, MemberActivity, Merchant, Role, SecurityEvent, Store
from loyalty_app.services.members import accounts, sessions
from loyalty_app.services.members.media import store_image
from loyalty_app.services.operations.demo import CAFE, make_logo
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program import program_admin as admin
from loyalty_app.services.store import checkins, posters
from loyalty_app.settings import get_settings

PW = "correct horse battery"
# 10:00 in Bucharest (UTC+3 in summer): well inside one local day.
MORNING = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def decode_qr(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


def pdf_images(data: bytes) -> list[Image.Image]:
    """The raster images embedded in a PDF, read from its image XObjects (no rasterizer needed)."""
    parser = PdfParser.PdfParser(buf=data)
    images = []
    for number in parser.xref_table.keys():
        generation = parser.xref_table[number][1]
        obj = parser.read_indirect(PdfParser.IndirectReference(number, generation))
        if isinstance(obj, PdfParser.PdfStream) and obj.dictionary.get(b"Subtype") == PdfParser.PdfName(b"Image"):
            images.append(Image.open(io.BytesIO(bytes(obj.buf))))
    return images


def _merchant(engine, slug: str, tz: str, stores: list[str]) -> tuple[int, list[int]]:
    with write_session(engine) as s:
        m = Merchant(
            slug=slug,
            name=f"{slug.title()} Shop",
            short_name=slug.title(),
            timezone=tz,
            theme=Theme(primary="#1f5f46", accent="#f2a33a").to_dict(),
        )
        s.add(m)
        s.flush()
        m.logo_id = store_image(s, merchant_id=m.id, kind="logo", image=make_logo(CAFE, 256)).id
        ids = []
        for code in stores:
            store = Store(merchant_id=m.id, code=code, name=f"{slug.title()} {code.title()}", address=f"{code} street 1")
            s.add(store)
            s.flush()
            ids.append(store.id)
        admin.upsert_earning_rule(s, m.id, "check-in", action="check_in", points=20, limit_count=1, limit_period="day")
        admin.upsert_badge(s, m.id, "regular", name="Regular", kind="check_ins", target=2, icon="pin")
        admin.upsert_challenge(s, m.id, "two-checkins", name="Check in twice", action="check_in", target=2, reward_points=15)
        return m.id, ids


@pytest.fixture
def world(db_engine):
    cafe, (old_town, riverside, closed) = _merchant(db_engine, "cafe", "Europe/Bucharest", ["old-town", "riverside", "closed"])
    books, (centro,) = _merchant(db_engine, "books", "Europe/Madrid", ["centro"])
    with write_session(db_engine) as s:
        s.get(Store, closed).is_active = False
    member = accounts.sign_up_member(db_engine, merchant_id=cafe, email="m@x.test", password=PW, first_name="Ana")
    staff = accounts.create_staff(
        db_engine, merchant_id=cafe, email="s@x.test", password=PW, first_name="Sam", store_ids=[old_town]
    )
    boss = accounts.create_admin(db_engine, merchant_id=cafe, email="a@x.test", password=PW, first_name="Al")
    books_admin = accounts.create_admin(db_engine, merchant_id=books, email="a@x.test", password=PW, first_name="Bo")
    books_member = accounts.sign_up_member(db_engine, merchant_id=books, email="m@x.test", password=PW, first_name="Lu")
    return {
        "engine": db_engine,
        "cafe": cafe,
        "books": books,
        "old_town": old_town,
        "riverside": riverside,
        "closed": closed,
        "centro": centro,
        "member": Actor(member.id, cafe, Role.MEMBER, frozenset(), 1),
        "staff": Actor(staff.id, cafe, Role.STAFF, frozenset({old_town}), 2),
        "admin": Actor(boss.id, cafe, Role.ADMIN, frozenset({old_town, riverside}), 3),
        "books_admin": Actor(books_admin.id, books, Role.ADMIN, frozenset({centro}), 4),
        "books_member": Actor(books_member.id, books, Role.MEMBER, frozenset(), 5),
    }


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["s"][0]


def _counts(engine, account_id: int) -> tuple[int, int]:
    with read_session(engine) as s:
        entries = s.exec(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.account_id == account_id)).one()
        visits = s.exec(
            select(func.count())
            .select_from(MemberActivity)
            .where(MemberActivity.account_id == account_id, MemberActivity.action == "check_in")
        ).one()
    return entries, visits


# ---------------------------------------------------------------------------------- the poster


def test_poster_png_qr_decodes_to_the_exact_signed_checkin_url(world):
    e, boss = world["engine"], world["admin"]
    url = posters.checkin_url(e, boss, store_id=world["old_town"])
    origin = get_settings().app_origin
    assert url.startswith(f"{origin}/m/cafe/checkin?s=c1.{world['cafe']}.{world['old_town']}.")
    png = posters.poster_png(e, boss, store_id=world["old_town"])
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (posters.PAGE_W, posters.PAGE_H)  # A4 portrait, 200 dpi
    assert round(image.info["dpi"][0]) == posters.DPI
    assert decode_qr(image) == [url]
    # The same poster twice: the token is deterministic (reprinting never voids the old one).
    assert posters.checkin_url(e, boss, store_id=world["old_town"]) == url
    assert posters.checkin_url(e, boss, store_id=world["riverside"]) != url


def test_poster_pdf_is_one_a4_page_whose_embedded_image_decodes_to_the_url(world):
    """No PDF rasterizer (pdftoppm, ghostscript, mutool) exists on this machine: the test reads
    the page's image XObject with Pillow's PDF parser and decodes that JPEG with zxing-cpp."""
    e, boss = world["engine"], world["admin"]
    url = posters.checkin_url(e, boss, store_id=world["riverside"])
    pdf = posters.poster_pdf(e, boss, store_id=world["riverside"])
    assert pdf.startswith(b"%PDF-")
    parser = PdfParser.PdfParser(buf=pdf)
    assert len(parser.pages) == 1
    media_box = parser.read_indirect(parser.pages[0])[b"MediaBox"]
    assert abs(media_box[2] - 595) < 2 and abs(media_box[3] - 842) < 2  # A4 in points, portrait
    (image,) = pdf_images(pdf)
    assert decode_qr(image) == [url]


def test_poster_is_translated_into_the_merchants_default_language(world, monkeypatch):
    e, boss = world["engine"], world["admin"]
    with write_session(e) as s:
        s.get(Merchant, world["cafe"]).default_language = "es"
    seen = []
    original = posters.translate
    monkeypatch.setattr(posters, "translate", lambda lang, msgid, **kw: seen.append(lang) or original(lang, msgid, **kw))
    spec = posters.poster_spec(e, boss, store_id=world["old_town"])
    assert set(seen) == {"es"}
    assert spec.store_name == "Cafe Old-Town" and spec.merchant_name == "Cafe Shop" and spec.logo


def test_posters_are_for_admins_of_this_merchant_only(world):
    e = world["engine"]
    for actor in (world["member"], world["staff"], None):
        with pytest.raises(NotAllowed):
            posters.poster_png(e, actor, store_id=world["old_town"])
        with pytest.raises(NotAllowed):
            posters.list_stores(e, actor)
    with pytest.raises(NotFound):  # another merchant's store: as if it did not exist
        posters.poster_png(e, world["books_admin"], store_id=world["old_town"])
    with pytest.raises(NotFound):
        posters.poster_pdf(e, world["admin"], store_id=world["closed"])
    with pytest.raises(NotFound):
        posters.checkin_url(e, world["admin"], store_id=99999)
    names = [s.name for s in posters.list_stores(e, world["admin"])]
    assert names == ["Cafe Old-Town", "Cafe Riverside"]  # active stores of this merchant only
    with read_session(e) as s:
        reasons = s.exec(select(SecurityEvent.reason)).all()
    assert "store_of_other_merchant" in reasons and "role_member_not_allowed" in reasons


def test_poster_filename_is_safe():
    assert posters.poster_filename("Bean & Leaf Old Town", 3, "pdf") == "checkin-poster-bean-leaf-old-town.pdf"
    assert posters.poster_filename("Кафе", 7, "png") == "checkin-poster-store-7.png"


# ------------------------------------------------------------------------------- the check-in


def test_checkin_with_the_decoded_poster_credits_once_per_store_and_day(world):
    e, member = world["engine"], world["member"]
    png = posters.poster_png(e, world["admin"], store_id=world["old_town"])
    (url,) = decode_qr(Image.open(io.BytesIO(png)))
    token = _token(url)

    first = checkins.check_in(e, member, token=token, now=MORNING)
    assert not first.already and first.points == 20 and first.store_name == "Cafe Old-Town"
    assert first.reason == "Checked in at {store}" and first.reason_params == {"store": "Cafe Old-Town"}
    assert first.available == 20
    assert [(c.key, c.count, c.target, c.completed) for c in first.challenge_progress] == [("two-checkins", 1, 2, False)]
    counts = _counts(e, member.account_id)

    # A reload, or a second scan the same local day (late evening, still the same day there).
    for later in (MORNING + timedelta(minutes=1), MORNING + timedelta(hours=13)):
        again = checkins.check_in(e, member, token=token, now=later)
        assert again.already and again.points == 0 and again.bonus_points == 0 and again.available == 20
    assert _counts(e, member.account_id) == counts

    # The next local day: points again, the challenge completes (bonus) and the badge is won.
    next_day = checkins.check_in(e, member, token=token, now=MORNING + timedelta(days=1))
    assert not next_day.already and next_day.points == 20 and next_day.bonus_points == 15
    assert [c.key for c in next_day.challenges_completed] == ["two-checkins"]
    assert [b.key for b in next_day.badges] == ["regular"]
    assert next_day.available == 55
    assert next_day.challenge_progress[0].completed


def test_the_programs_daily_limit_still_applies_across_stores(world):
    e, member = world["engine"], world["member"]
    checkins.check_in(e, member, token=checkins.store_token(world["cafe"], world["old_town"]), now=MORNING)
    with pytest.raises(LoyaltyError) as refused:
        checkins.check_in(e, member, token=checkins.store_token(world["cafe"], world["riverside"]), now=MORNING)
    assert refused.value.code == "limit_reached"


def _edit(token: str, index: int, value) -> str:
    parts = token.split(".")
    assert parts[index] != str(value)
    parts[index] = str(value)
    return ".".join(parts)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t, w: _edit(t, 2, w["riverside"]),  # another store, same signature
        lambda t, w: _edit(t, 1, w["books"]),  # another merchant, same signature
        lambda t, w: _edit(t, 3, "k1"),  # another key id
        lambda t, w: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # edited signature
        lambda t, w: "c1.{}.{}.k0.{}".format(w["cafe"], w["old_town"], "A" * 22),  # made up
        lambda t, w: t.replace("c1.", "c2.", 1),
        lambda t, w: "",
        lambda t, w: "not a token at all",
        lambda t, w: t + "." + t,
        lambda t, w: checkin_tokens.sign(merchant_id=w["cafe"], store_id=w["old_town"], kid="k0", key=b"guessed key"),
    ],
)
def test_forged_or_edited_tokens_are_refused_and_record_nothing(world, tamper):
    e, member = world["engine"], world["member"]
    token = checkins.store_token(world["cafe"], world["old_town"])
    before = _counts(e, member.account_id)
    with pytest.raises(LoyaltyError) as refused:
        checkins.check_in(e, member, token=tamper(token, world), now=MORNING)
    assert refused.value.message == checkin_tokens.INVALID_TOKEN
    assert _counts(e, member.account_id) == before
    with read_session(e) as s:
        logged = s.exec(select(SecurityEvent).where(SecurityEvent.action == "check_in")).all()
    assert logged and logged[-1].account_id == member.account_id


def test_other_merchants_poster_and_inactive_store_are_refused(world):
    e, member = world["engine"], world["member"]
    books_token = checkins.store_token(world["books"], world["centro"])
    with pytest.raises(LoyaltyError) as refused:
        checkins.check_in(e, member, token=books_token, now=MORNING)
    assert refused.value.code == "checkin_other_program" and refused.value.message == checkin_tokens.OTHER_PROGRAM
    # A cafe token naming a books store (cannot be signed by anyone without the key, but the
    # store check holds on its own too).
    odd = checkins.store_token(world["cafe"], world["centro"])
    with pytest.raises(LoyaltyError) as refused:
        checkins.check_in(e, member, token=odd, now=MORNING)
    assert refused.value.code == "checkin_unknown_store"
    with pytest.raises(LoyaltyError) as refused:
        checkins.check_in(e, member, token=checkins.store_token(world["cafe"], world["closed"]), now=MORNING)
    assert refused.value.code == "checkin_store_inactive" and refused.value.message == checkins.STORE_CLOSED
    assert _counts(e, member.account_id) == (0, 0)
    # The books member can use the books poster.
    assert checkins.check_in(e, world["books_member"], token=books_token, now=MORNING).points == 20


def test_only_signed_in_members_check_in(world):
    e = world["engine"]
    token = checkins.store_token(world["cafe"], world["old_town"])
    for actor in (None, world["staff"], world["admin"]):
        with pytest.raises(NotAllowed):
            checkins.check_in(e, actor, token=token, now=MORNING)


def test_key_rotation_keeps_printed_posters_valid(world, monkeypatch):
    e, member = world["engine"], world["member"]
    base = get_settings()

    def use(keys):
        monkeypatch.setattr(checkins, "get_settings", lambda: replace(base, member_code_keys=keys))

    # Printed before any QR_SIGNING_KEYS were configured (key derived from SECRET_KEY).
    use(())
    derived_poster = _token(posters.checkin_url(e, world["admin"], store_id=world["old_town"]))
    # Then keys are configured: k1 signs. Then rotated: k2 signs, k1 stays listed.
    use((("k1", "first secret"),))
    k1_poster = _token(posters.checkin_url(e, world["admin"], store_id=world["riverside"]))
    assert ".k1." in k1_poster
    use((("k2", "second secret"), ("k1", "first secret")))
    k2_poster = _token(posters.checkin_url(e, world["admin"], store_id=world["old_town"]))
    assert ".k2." in k2_poster

    assert checkins.check_in(e, member, token=derived_poster, now=MORNING).points == 20
    assert checkins.check_in(e, member, token=k1_poster, now=MORNING + timedelta(days=1)).points == 20
    assert checkins.check_in(e, member, token=k2_poster, now=MORNING + timedelta(days=2)).points == 20
    # A key renamed in the settings: the token's kid is only a hint, every key is tried.
    use((("k9", "first secret"),))
    assert checkins.check_in(e, member, token=k1_poster, now=MORNING + timedelta(days=3)).points == 20
    # A key taken out of the settings (e.g. leaked) voids the posters signed with it.
    use((("k2", "second secret"),))
    with pytest.raises(LoyaltyError):
        checkins.check_in(e, member, token=k1_poster, now=MORNING + timedelta(days=4))


def test_token_is_short_enough_for_a_big_readable_qr(world):
    token = checkins.store_token(world["cafe"], world["old_town"])
    assert len(token) <= 40
    assert checkin_tokens.verify(token, keys=checkins.verify_keys(), merchant_id=world["cafe"]).store_id == world["old_town"]


# ---------------------------------------------------------------------------- the HTTP route


def _cookie(engine, merchant_id: int, email: str) -> str:
    ticket = accounts.sign_in(
        engine, merchant_id=merchant_id, email=email, password=PW, ip="10.0.0.9", user_agent="pytest"
    ).activation_ticket
    activated = sessions.activate(engine, ticket=ticket)
    return f"ls_{activated.merchant_slug}={activated.secret}"


def test_download_route_serves_admins_and_refuses_everyone_else(world):
    e = world["engine"]
    client = TestClient(Starlette(routes=poster_routes.build_routes(lambda: e)), follow_redirects=False)
    admin_cookie = _cookie(e, world["cafe"], "a@x.test")
    path = f"/m/cafe/admin/posters/{world['old_town']}"

    png = client.get(f"{path}.png", headers={"cookie": admin_cookie})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"] == 'attachment; filename="checkin-poster-cafe-old-town.png"'
    assert "no-store" in png.headers["cache-control"]
    assert decode_qr(Image.open(io.BytesIO(png.content))) == [posters.checkin_url(e, world["admin"], store_id=world["old_town"])]
    pdf = client.get(f"{path}.pdf", headers={"cookie": admin_cookie})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].endswith('.pdf"')

    anonymous = client.get(f"{path}.png")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/m/cafe/signin?next=")
    for email in ("s@x.test", "m@x.test"):
        assert client.get(f"{path}.png", headers={"cookie": _cookie(e, world["cafe"], email)}).status_code == 403
    # Another merchant's store, an unknown one, an inactive one, a bad name: not found.
    for bad in (f"{world['centro']}.png", "99999.pdf", f"{world['closed']}.png", f"{world['old_town']}.gif", "x.png"):
        assert client.get(f"/m/cafe/admin/posters/{bad}", headers={"cookie": admin_cookie}).status_code == 404, bad
    # The cafe admin's cookie means nothing to the books app.
    books_cookie = admin_cookie.replace("ls_cafe=", "ls_books=")
    assert client.get(f"/m/books/admin/posters/{world['centro']}.png", headers={"cookie": books_cookie}).status_code == 303
    assert client.get(f"/m/nowhere/admin/posters/{world['centro']}.png").status_code == 404


# ------------------------------------------------------------------- the page state and guard


@pytest.fixture
def app_world(world, monkeypatch):
    """``world``, with every module's get_engine() pointed at the test database."""
    import importlib
    import pkgutil

    import loyalty_app
    import loyalty_app.loyalty_app

    for mod in pkgutil.walk_packages(loyalty_app.__path__, "loyalty_app."):
        module = importlib.import_module(mod.name)
        if hasattr(module, "get_engine"):
            monkeypatch.setattr(module, "get_engine", lambda: world["engine"])
    return world


def _root(path: str, query: dict, cookie: str = ""):
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    router_data = {
        "pathname": "/m/[slug]/checkin",
        "asPath": path,
        "query": {"slug": "cafe", **query},
        "headers": {"cookie": cookie, "origin": "http://localhost:3000", "user-agent": "pytest"},
        "ip": "127.0.0.1",
        "token": "test-token",
        "sid": "test-sid",
    }
    root.router_data = root._update_router_vars(router_data, {})
    return root


def _sub(root, cls):
    return root.get_substate(cls.get_full_name().split(".")[1:])


def test_signed_out_scan_goes_to_sign_in_and_comes_back_to_the_same_checkin(app_world):
    import asyncio
    from urllib.parse import unquote

    from loyalty_app.api.session_routes import safe_next
    from loyalty_app.pages.checkin import CheckinState
    from loyalty_app.state.session import SessionState

    token = checkins.store_token(app_world["cafe"], app_world["old_town"])
    path = checkins.checkin_path("cafe", token)
    root = _root(path, {"s": token})
    redirect = asyncio.run(_sub(root, SessionState).guard_member_page())
    target = str(redirect)
    match = re.search(r"/m/cafe/signin\?next=([^\"'\s]+)", target)
    assert match, target
    nxt = unquote(match.group(1))
    assert nxt == path and safe_next("cafe", nxt) == path  # the query string (token) survives sign-in
    asyncio.run(_sub(root, CheckinState).load())
    assert _sub(root, CheckinState).status == ""  # nothing recorded for a signed-out visitor
    assert _counts(app_world["engine"], app_world["member"].account_id) == (0, 0)


def test_checkin_page_state_shows_points_then_already(app_world):
    import asyncio

    from loyalty_app.pages.checkin import CheckinState
    from loyalty_app.state.session import SessionState

    e = app_world["engine"]
    cookie = _cookie(e, app_world["cafe"], "m@x.test")
    token = checkins.store_token(app_world["cafe"], app_world["old_town"])

    def visit(query_token: str):
        root = _root(checkins.checkin_path("cafe", query_token), {"s": query_token}, cookie)
        assert asyncio.run(_sub(root, SessionState).guard_member_page()) is None
        state = _sub(root, CheckinState)
        asyncio.run(state.load())
        return state

    first = visit(token)
    assert (first.status, first.points, first.store_name) == ("done", 20, "Cafe Old-Town")
    assert first.reason == "Checked in at Cafe Old-Town"
    assert first.challenges == [{"name": "Check in twice", "progress": "1/2", "pct": "50", "done": "", "just_done": ""}]
    second = visit(token)
    assert (second.status, second.points, second.available) == ("already", 0, 20)
    forged = visit(token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert forged.status == "error" and forged.error == checkin_tokens.INVALID_TOKEN
