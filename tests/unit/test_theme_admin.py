"""Theme editor service (services/program/theme_admin.py): draft, publish, revert, logo upload, who may
do it, and that a publish reaches what members load (theme.css, manifest, icons) at once."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from loyalty_app import pwa
from loyalty_app.api import merchant_routes
from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.domain.theme import Theme
from loyalty_app.models import AdminAuditEntry, MediaBlob, Merchant, Role, SecurityEvent, Store, ThemeVersion
from loyalty_app.services.members import accounts
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program import theme_admin

PW = "correct horse battery"
CAFE = Theme(brand_name="Bean & Leaf", primary="#1f5f46", accent="#f2a33a", background="#faf6ef", radius=18, font="Nunito")


@pytest.fixture
def world(db_engine, monkeypatch):
    monkeypatch.setattr("loyalty_app.db.get_engine", lambda: db_engine)  # theme.css reads the app's engine
    with write_session(db_engine) as s:
        cafe = Merchant(slug="cafe", name="Bean & Leaf Café", short_name="Bean & Leaf", theme=CAFE.to_dict())
        books = Merchant(slug="books", name="Paper Lantern", short_name="Paper", theme=Theme(primary="#3b2f8f").to_dict())
        s.add(cafe)
        s.add(books)
        s.flush()
        store = Store(merchant_id=cafe.id, code="a", name="A")
        s.add(store)
        s.flush()
        ids = {"cafe": cafe.id, "books": books.id, "store": store.id}
    admin = accounts.create_admin(db_engine, merchant_id=ids["cafe"], email="boss@x.test", password=PW, first_name="Bo")
    books_admin = accounts.create_admin(db_engine, merchant_id=ids["books"], email="boss@x.test", password=PW, first_name="Bk")
    staff = accounts.create_staff(
        db_engine, merchant_id=ids["cafe"], email="sam@x.test", password=PW, first_name="Sam", store_ids=[ids["store"]]
    )
    member = accounts.sign_up_member(db_engine, merchant_id=ids["cafe"], email="ana@x.test", password=PW, first_name="Ana")
    return {
        **ids,
        "engine": db_engine,
        "admin": Actor(admin.id, ids["cafe"], Role.ADMIN),
        "books_admin": Actor(books_admin.id, ids["books"], Role.ADMIN),
        "staff": Actor(staff.id, ids["cafe"], Role.STAFF, frozenset({ids["store"]})),
        "member": Actor(member.id, ids["cafe"], Role.MEMBER),
    }


@pytest.fixture
def client(world):
    app = Starlette(routes=[*merchant_routes.routes, *pwa.routes(world["engine"])])
    with TestClient(app) as test_client:
        yield test_client


def _png(size=(600, 300), colour=(200, 20, 60, 255)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _merchant(world) -> Merchant:
    with read_session(world["engine"]) as s:
        return s.get(Merchant, world["cafe"])


def _rows(world) -> list[ThemeVersion]:
    with read_session(world["engine"]) as s:
        return list(s.exec(select(ThemeVersion).where(ThemeVersion.merchant_id == world["cafe"]).order_by(ThemeVersion.version)))


# ------------------------------------------------------------------ draft


def test_editor_opens_on_the_published_theme_and_a_saved_draft_changes_nothing_members_see(world, client):
    e, admin = world["engine"], world["admin"]
    view = theme_admin.get_editor(e, admin)
    assert view.theme == CAFE and not view.has_draft and view.published_version == 1
    css_before = client.get("/m/cafe/theme.css").text
    view = theme_admin.save_draft(e, admin, {"primary": "#AA3355", "brand_name": " Bean  Bar "})
    assert view.has_draft and view.theme.primary == "#aa3355" and view.theme.brand_name == "Bean Bar"
    assert view.published_theme == CAFE and view.published_version == 1
    merchant = _merchant(world)
    assert merchant.theme == CAFE.to_dict() and merchant.theme_version == 1 and merchant.short_name == "Bean & Leaf"
    assert client.get("/m/cafe/theme.css").text == css_before
    assert client.get("/m/cafe/manifest.webmanifest").json()["theme_color"] == "#1f5f46"
    # The editor reopens on the draft; saving again edits the same single draft.
    assert theme_admin.get_editor(e, admin).theme.primary == "#aa3355"
    theme_admin.save_draft(e, admin, {"accent": "#ffb703"})
    drafts = [r for r in _rows(world) if r.status == "draft"]
    assert len(drafts) == 1 and drafts[0].theme["primary"] == "#aa3355" and drafts[0].theme["accent"] == "#ffb703"


def test_a_bad_field_saves_nothing(world):
    e, admin = world["engine"], world["admin"]
    with pytest.raises(LoyaltyError) as info:
        theme_admin.save_draft(e, admin, {"primary": "#000000", "accent": "not a colour"})
    assert info.value.code == "theme_colour"
    assert not _rows(world)  # no draft, not even the good field
    theme_admin.save_draft(e, admin, {"primary": "#123456"})
    with pytest.raises(LoyaltyError):
        theme_admin.save_draft(e, admin, {"primary": "#654321", "radius": 99})
    assert theme_admin.get_editor(e, admin).theme.primary == "#123456"


def test_discard_goes_back_to_the_published_theme(world):
    e, admin = world["engine"], world["admin"]
    theme_admin.save_draft(e, admin, {"primary": "#aa3355"})
    assert theme_admin.discard_draft(e, admin) is True
    view = theme_admin.get_editor(e, admin)
    assert not view.has_draft and view.theme == CAFE
    assert theme_admin.discard_draft(e, admin) is False


# ------------------------------------------------------------------ publish and revert


def test_publish_changes_theme_css_manifest_and_icons_at_once(world, client):
    e, admin = world["engine"], world["admin"]
    css = client.get("/m/cafe/theme.css")
    assert css.headers["cache-control"] == "no-cache"  # revalidated every time: a publish shows at once
    icon_before = client.get("/m/cafe/icons/icon-192.png")
    manifest_before = client.get("/m/cafe/manifest.webmanifest").json()
    with pytest.raises(LoyaltyError) as info:
        theme_admin.publish(e, admin)
    assert info.value.code == "theme_no_draft"

    theme_admin.save_draft(e, admin, {"primary": "#0b5cab", "brand_name": "Bean Bar", "mode": "dark"})
    view = theme_admin.publish(e, admin, note="  Blue for winter  ")
    assert view.published_version == 2 and not view.has_draft and view.published_theme.primary == "#0b5cab"
    merchant = _merchant(world)
    assert merchant.theme_version == 2 and merchant.theme["primary"] == "#0b5cab" and merchant.short_name == "Bean Bar"

    css_after = client.get("/m/cafe/theme.css", headers={"If-None-Match": css.headers["etag"]})
    assert css_after.status_code == 200 and css_after.headers["etag"] != css.headers["etag"]
    assert "color-scheme:dark" in css_after.text and "--brand-light-primary:#0b5cab" in css_after.text
    manifest = client.get("/m/cafe/manifest.webmanifest").json()
    assert manifest["theme_color"] == "#0b5cab" != manifest_before["theme_color"]
    assert manifest["short_name"] == "Bean Bar"
    assert manifest["icons"][0]["src"] != manifest_before["icons"][0]["src"]  # new ?v=, so no stale icon
    icon_after = client.get("/m/cafe/icons/icon-192.png", headers={"If-None-Match": icon_before.headers["etag"]})
    assert icon_after.status_code == 200 and icon_after.content != icon_before.content

    versions = theme_admin.list_versions(e, admin)
    assert [(v.version, v.status) for v in versions] == [(2, "published"), (1, "archived")]
    assert versions[0].note == "Blue for winter" and versions[0].author == "Bo" and versions[0].published_at
    with read_session(e) as s:
        audit = s.exec(select(AdminAuditEntry).where(AdminAuditEntry.merchant_id == world["cafe"])).all()
    assert [(a.action, a.target) for a in audit] == [("theme.publish", "v2")]


def test_revert_makes_an_old_version_the_draft_and_publishing_it_brings_it_back(world, client):
    e, admin = world["engine"], world["admin"]
    theme_admin.save_draft(e, admin, {"primary": "#aa3355"})
    theme_admin.publish(e, admin)
    assert client.get("/m/cafe/manifest.webmanifest").json()["theme_color"] == "#aa3355"
    view = theme_admin.revert(e, admin, 1)
    assert view.has_draft and view.theme == CAFE and view.published_theme.primary == "#aa3355"
    assert _merchant(world).theme_version == 2  # nothing live changed yet
    view = theme_admin.publish(e, admin)
    assert view.published_version == 3 and _merchant(world).theme == CAFE.to_dict()
    assert client.get("/m/cafe/manifest.webmanifest").json()["theme_color"] == "#1f5f46"
    statuses = [(r.version, r.status) for r in _rows(world)]
    assert statuses == [(1, "archived"), (2, "archived"), (3, "published")]
    with pytest.raises(NotFound):
        theme_admin.revert(e, admin, 42)


# ------------------------------------------------------------------ logo


def test_logo_upload_is_cleaned_stored_and_becomes_the_icon_when_published(world, client):
    e, admin = world["engine"], world["admin"]
    icon_before = client.get("/m/cafe/icons/icon-512.png").content
    blob_id = theme_admin.upload_logo(e, admin, _png(size=(1200, 600)), "logo.png")
    with read_session(e) as s:
        blob = s.get(MediaBlob, blob_id)
        assert blob.kind == "logo" and blob.merchant_id == world["cafe"] and blob.content_type == "image/png"
        assert (blob.width, blob.height) == (512, 256)  # at most 512, aspect kept
    view = theme_admin.get_editor(e, admin)
    assert view.has_draft and view.logo_id == blob_id and view.published_logo_id is None
    assert client.get(f"/m/cafe/media/{blob_id}").status_code == 200
    assert client.get("/m/cafe/icons/icon-512.png").content == icon_before  # not live yet
    theme_admin.publish(e, admin)
    assert _merchant(world).logo_id == blob_id
    icon = Image.open(io.BytesIO(client.get("/m/cafe/icons/icon-512.png").content)).convert("RGBA")
    assert icon.getpixel((256, 256))[:3] == (200, 20, 60)  # drawn from the new logo


@pytest.mark.parametrize(
    "data, code",
    [
        (b"", "image_empty"),
        (b"GIF89a not really", "image_format"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image_format"),
    ],
)
def test_bad_logo_files_are_refused_and_nothing_is_stored(world, data, code):
    with pytest.raises(LoyaltyError) as info:
        theme_admin.upload_logo(world["engine"], world["admin"], data, "evil.png")
    assert info.value.code == code
    with read_session(world["engine"]) as s:
        assert not s.exec(select(MediaBlob)).all()
    assert not _rows(world)


def test_a_draft_cannot_point_at_another_merchants_or_a_non_logo_blob(world):
    e = world["engine"]
    cafe_logo = theme_admin.upload_logo(e, world["admin"], _png(), "a.png")
    with pytest.raises(NotFound):
        theme_admin.save_draft(e, world["books_admin"], {"logo_id": cafe_logo})
    with write_session(e) as s:
        avatar = MediaBlob(merchant_id=world["cafe"], kind="avatar", content_type="image/webp", sha256="x", data=b"x")
        s.add(avatar)
        s.flush()
        avatar_id = avatar.id
    with pytest.raises(NotFound):
        theme_admin.save_draft(e, world["admin"], {"logo_id": avatar_id})
    theme_admin.save_draft(e, world["admin"], {"logo_id": None})
    assert theme_admin.get_editor(e, world["admin"]).logo_id is None


# ------------------------------------------------------------------ who may do it


@pytest.mark.parametrize("who", ["staff", "member", "anonymous"])
def test_only_the_merchants_admins_may_edit_the_theme(world, who):
    e = world["engine"]
    actor = None if who == "anonymous" else world[who]
    calls = [
        lambda: theme_admin.get_editor(e, actor),
        lambda: theme_admin.list_versions(e, actor),
        lambda: theme_admin.save_draft(e, actor, {"primary": "#000000"}),
        lambda: theme_admin.publish(e, actor),
        lambda: theme_admin.revert(e, actor, 1),
        lambda: theme_admin.discard_draft(e, actor),
        lambda: theme_admin.upload_logo(e, actor, _png(), "x.png"),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
    assert not _rows(world) and _merchant(world).theme == CAFE.to_dict()
    with read_session(e) as s:
        refusals = s.exec(select(SecurityEvent).where(SecurityEvent.action == "admin_edit_theme")).all()
    assert len(refusals) == len(calls)


def test_an_admin_of_another_merchant_only_ever_touches_their_own(world):
    e = world["engine"]
    theme_admin.save_draft(e, world["admin"], {"primary": "#aa3355"})
    theme_admin.publish(e, world["admin"])  # cafe now has versions 1 and 2
    theme_admin.save_draft(e, world["books_admin"], {"primary": "#222222"})
    with pytest.raises(NotFound):
        theme_admin.revert(e, world["books_admin"], 2)  # cafe's version number, not books'
    theme_admin.publish(e, world["books_admin"])
    assert _merchant(world).theme["primary"] == "#aa3355"
    with read_session(e) as s:
        books = s.get(Merchant, world["books"])
    assert books.theme["primary"] == "#222222" and books.theme_version == 2


# ------------------------------------------------------------------ the editor's state (as the websocket calls it)


@pytest.fixture
def app_world(world, monkeypatch):
    import importlib
    import pkgutil

    import loyalty_app
    import loyalty_app.loyalty_app

    for mod in pkgutil.walk_packages(loyalty_app.__path__, "loyalty_app."):
        module = importlib.import_module(mod.name)
        if hasattr(module, "get_engine"):
            monkeypatch.setattr(module, "get_engine", lambda: world["engine"])
    return world


def _editor(world, account_id: int | None):
    from loyalty_app.pages.admin_theme import ThemeEditorState
    from tests.unit.test_states import cookie_for, root_state, substate

    cookie = cookie_for(world["engine"], account_id, "cafe") if account_id else ""
    return substate(root_state(page="admin-theme", cookie=cookie), ThemeEditorState)


def test_editor_state_previews_edits_flags_contrast_and_publishes(app_world):
    import asyncio

    from tests.unit.test_states import run

    w = app_world
    editor = _editor(w, w["admin"].account_id)
    asyncio.run(run(editor.load()))
    assert editor.loaded and editor.error == "" and editor.primary == "#1f5f46" and not editor.dirty
    assert editor.light_vars["--brand-primary"] == "#1f5f46" and editor.dark_vars["--surface"] != "#ffffff"
    assert editor.warnings == [] and editor.passed_count == len(editor.checks)

    asyncio.run(run(editor.type_colour("primary", "#0B5CAB")))
    assert editor.primary == "#0b5cab" and editor.light_vars["--brand-primary"] == "#0b5cab" and editor.dirty
    assert _merchant(w).theme["primary"] == "#1f5f46"  # only the preview changed
    asyncio.run(run(editor.type_colour("primary", "#0b5")))  # 3 digits is a colour too
    asyncio.run(run(editor.type_colour("primary", "#0b5c")))  # half typed: kept as text, preview unchanged
    assert editor.primary == "#00bb55" and editor.hex_text["primary"] == "#0b5c" and "primary" not in editor.field_errors
    asyncio.run(run(editor.check_colour("primary", "#0b5c")))
    assert editor.field_errors["primary"] == "The primary colour must be a hex colour like #1f5f46."

    asyncio.run(run(editor.type_colour("accent", "#777777")))
    bad = [x for x in editor.warnings if x["key"] == "light-on_accent"]
    assert bad and bad[0]["text"] == "Text on the accent colour (tier badge, chips): 4.4:1, needs 4.5:1"
    assert bad[0]["field"] == "accent" and bad[0]["suggestion"].startswith("#")
    asyncio.run(run(editor.apply_suggestion("accent", bad[0]["suggestion"])))
    assert not [x for x in editor.warnings if x["key"] == "light-on_accent"]

    asyncio.run(run(editor.apply_preset("ocean")))
    assert editor.primary == "#0b5cab" and editor.brand_name == "Bean & Leaf"
    asyncio.run(run(editor.publish()))
    assert editor.error == "" and editor.published_version == 2 and not editor.dirty and not editor.has_draft
    assert _merchant(w).theme["primary"] == "#0b5cab"
    assert [v["version"] for v in editor.versions] == ["2", "1"]


@pytest.mark.parametrize("who", ["staff", "member", None])
def test_editor_state_refuses_everyone_but_admins(app_world, who):
    import asyncio

    from tests.unit.test_states import run

    w = app_world
    editor = _editor(w, w[who].account_id if who else None)
    asyncio.run(run(editor.load()))
    assert not editor.loaded and editor.error in ("You are not allowed to do this.", "Please sign in first.")
    asyncio.run(run(editor.type_colour("primary", "#000000")))
    asyncio.run(run(editor.publish()))
    assert editor.error and _merchant(w).theme == CAFE.to_dict() and not _rows(w)
