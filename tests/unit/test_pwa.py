"""PWA shell: manifest, icons, service worker, offline page and head tags, per merchant."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import shutil
import subprocess

import pytest
from PIL import Image, ImageColor
from starlette.applications import Starlette
from starlette.testclient import TestClient

from loyalty_app.db import write_session
from loyalty_app.i18n import translate
from loyalty_app.models import MediaBlob, Merchant
from loyalty_app.pwa import head_components, routes
from loyalty_app.pwa.brand import brand_from_merchant, safe_colour
from loyalty_app.pwa.documents import OFFLINE_MESSAGES, offline_texts
from loyalty_app.pwa.endpoints import LruCache, PwaEndpoints
from loyalty_app.pwa.head import REGISTER_SCRIPT
from loyalty_app.pwa.icons import ICON_SPECS, MASKABLE_SAFE_RADIUS

CAFE_THEME = {"primary": "#1f5f46", "accent": "#f2a33a", "background": "#faf6ef"}
BOOKS_THEME = {"primary": "#3b2f8f", "accent": "#e4572e", "background": "#f6f4ff"}
LOGO_RED = (220, 30, 30)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _add_merchant(engine, *, slug, name, short_name, theme, logo: Image.Image | None = None, language="en") -> int:
    with write_session(engine) as s:
        merchant = Merchant(
            slug=slug,
            name=name,
            short_name=short_name,
            description=f"{name} rewards",
            theme=theme,
            default_language=language,
        )
        s.add(merchant)
        s.flush()
        if logo is not None:
            data = _png(logo)
            blob = MediaBlob(
                merchant_id=merchant.id,
                kind="logo",
                content_type="image/png",
                sha256=hashlib.sha256(data).hexdigest(),
                width=logo.width,
                height=logo.height,
                data=data,
            )
            s.add(blob)
            s.flush()
            merchant.logo_id = blob.id
        return merchant.id


@pytest.fixture
def shop(db_engine):
    """Two merchants: 'cafe' with a solid red square logo, 'books' without a logo."""
    _add_merchant(
        db_engine,
        slug="cafe",
        name="Bean & Leaf Café",
        short_name="Bean & Leaf",
        theme=CAFE_THEME,
        logo=Image.new("RGBA", (300, 300), LOGO_RED + (255,)),
    )
    _add_merchant(
        db_engine, slug="books", name="Paper Lantern Books", short_name="paper lantern", theme=BOOKS_THEME, language="ro"
    )
    return db_engine


@pytest.fixture
def client(shop):
    with TestClient(Starlette(routes=routes(shop))) as test_client:
        yield test_client


def _icon(client, slug: str, name: str) -> Image.Image:
    response = client.get(f"/m/{slug}/icons/{name}.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def _pixels_outside_safe_zone(image: Image.Image, is_mark) -> int:
    """How many pixels of the mark lie outside the maskable safe circle."""
    rgba = image.convert("RGBA")
    size = rgba.width
    centre = (size - 1) / 2
    limit = MASKABLE_SAFE_RADIUS * size
    count = 0
    for y in range(size):
        for x in range(size):
            if is_mark(rgba.getpixel((x, y))) and math.hypot(x - centre, y - centre) > limit:
                count += 1
    return count


# --- manifest -------------------------------------------------------------------------------


def test_manifest_has_the_merchants_identity_colours_and_icons(client):
    response = client.get("/m/cafe/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/manifest+json"
    assert response.headers["cache-control"] == "public, max-age=300"
    data = response.json()
    assert data["name"] == "Bean & Leaf Café"
    assert data["short_name"] == "Bean & Leaf"
    assert data["description"] == "Bean & Leaf Café rewards"
    assert data["id"] == "/m/cafe/"
    assert data["start_url"] == "/m/cafe/home"
    assert data["scope"] == "/m/cafe/"
    assert data["display"] == "standalone"
    assert data["orientation"] == "portrait"
    assert data["theme_color"] == "#1f5f46"
    assert data["background_color"] == "#faf6ef"
    assert data["lang"] == "en"
    by_purpose = {(icon["purpose"], icon["sizes"]) for icon in data["icons"]}
    assert by_purpose == {("any", "192x192"), ("any", "512x512"), ("maskable", "192x192"), ("maskable", "512x512")}
    for icon in data["icons"]:
        assert icon["type"] == "image/png"
        assert re.fullmatch(r"/m/cafe/icons/(icon|maskable)-(192|512)\.png\?v=1\.[0-9a-f]{8}\.\d+", icon["src"])
        assert client.get(icon["src"]).status_code == 200


def test_each_merchant_gets_its_own_manifest(client):
    cafe = client.get("/m/cafe/manifest.webmanifest").json()
    books = client.get("/m/books/manifest.webmanifest").json()
    assert books["name"] == "Paper Lantern Books"
    assert books["scope"] == "/m/books/" and books["start_url"] == "/m/books/home"
    assert books["theme_color"] == "#3b2f8f"
    assert books["lang"] == "ro"
    assert cafe["id"] != books["id"]
    assert not {i["src"] for i in cafe["icons"]} & {i["src"] for i in books["icons"]}


def test_theme_publish_changes_manifest_icon_urls_and_icon_etags(client, shop):
    before = client.get("/m/cafe/manifest.webmanifest").json()
    old_etag = client.get("/m/cafe/icons/icon-192.png").headers["etag"]
    with write_session(shop) as s:
        merchant = s.query(Merchant).filter(Merchant.slug == "cafe").one()
        merchant.theme = {**CAFE_THEME, "primary": "#aa0000"}
        merchant.theme_version = 2
    after = client.get("/m/cafe/manifest.webmanifest").json()
    assert after["theme_color"] == "#aa0000"
    assert all("?v=2." in icon["src"] for icon in after["icons"])
    assert {i["src"] for i in before["icons"]}.isdisjoint(i["src"] for i in after["icons"])
    assert client.get("/m/cafe/icons/icon-192.png").headers["etag"] != old_etag


def test_unsafe_theme_colours_fall_back_to_defaults(db_engine):
    _add_merchant(
        db_engine, slug="evil", name="Evil", short_name="Evil", theme={"primary": "red;}body{display:none", "background": "#ABC"}
    )
    with TestClient(Starlette(routes=routes(db_engine))) as c:
        data = c.get("/m/evil/manifest.webmanifest").json()
        page = c.get("/m/evil/offline.html").text
    assert data["theme_color"] == "#0f766e"  # Theme() default
    assert data["background_color"] == "#aabbcc"
    assert "display:none" not in page
    assert safe_colour("#12345", "#000000") == "#000000"


# --- icons ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["cafe", "books"])
def test_every_icon_has_its_exact_size(client, slug):
    for spec in ICON_SPECS.values():
        image = _icon(client, slug, spec.name)
        assert image.size == (spec.size, spec.size), spec.name
        assert image.format == "PNG"


def test_apple_touch_icon_is_180_and_opaque(client):
    for slug in ("cafe", "books"):
        image = _icon(client, slug, "apple-touch-icon")
        assert image.size == (180, 180)
        assert image.mode == "RGB"


def test_logo_fills_the_any_icon_but_sits_inside_the_safe_zone_on_maskable(client):
    def is_logo(px):
        return px[3] > 0 and abs(px[0] - LOGO_RED[0]) < 40 and px[1] < 80 and px[2] < 80

    any_icon = _icon(client, "cafe", "icon-512").convert("RGBA")
    assert is_logo(any_icon.getpixel((2, 2))) and is_logo(any_icon.getpixel((509, 509)))

    for name in ("maskable-192", "maskable-512"):
        maskable = _icon(client, "cafe", name).convert("RGBA")
        background = ImageColor.getrgb(CAFE_THEME["background"])
        # Full-bleed, opaque background (launchers crop it), logo only in the safe circle.
        for corner in ((0, 0), (maskable.width - 1, 0), (0, maskable.height - 1)):
            assert maskable.getpixel(corner) == background + (255,)
        assert is_logo(maskable.getpixel((maskable.width // 2, maskable.height // 2)))
        assert _pixels_outside_safe_zone(maskable, is_logo) == 0, name


def test_monogram_without_logo_uses_primary_and_first_letter_inside_the_safe_zone(client):
    primary = ImageColor.getrgb(BOOKS_THEME["primary"]) + (255,)
    maskable = _icon(client, "books", "maskable-512").convert("RGBA")
    assert maskable.getpixel((0, 0)) == primary
    not_background = lambda px: px != primary
    assert _pixels_outside_safe_zone(maskable, not_background) == 0
    # The letter is there: a real share of the safe zone is white ink.
    white = sum(1 for px in maskable.getdata() if px[0] > 200 and px[1] > 200 and px[2] > 200)
    assert white > 0.03 * 512 * 512
    any_icon = _icon(client, "books", "icon-192").convert("RGBA")
    assert any_icon.getpixel((0, 0))[3] == 0  # rounded corner: transparent
    assert any_icon.getpixel((96, 5)) == primary


def test_monogram_letter_is_first_letter_upper_cased():
    from loyalty_app.pwa.icons import monogram_letter

    merchant = Merchant(id=1, slug="x", name="éclair", short_name="  éclair", theme={})
    assert monogram_letter(brand_from_merchant(merchant)) == "É"
    merchant = Merchant(id=1, slug="x", name="Кофе", short_name="★ кофе", theme={})
    assert monogram_letter(brand_from_merchant(merchant)) == "К"


def test_logo_of_another_merchant_is_never_used(shop):
    with write_session(shop) as s:
        cafe = s.query(Merchant).filter(Merchant.slug == "cafe").one()
        books = s.query(Merchant).filter(Merchant.slug == "books").one()
        books.logo_id = cafe.logo_id  # a bug or a malicious edit elsewhere
    with TestClient(Starlette(routes=routes(shop))) as c:
        image = Image.open(io.BytesIO(c.get("/m/books/icons/maskable-192.png").content)).convert("RGBA")
    assert image.getpixel((96, 96))[:3] != LOGO_RED
    assert image.getpixel((0, 0)) == ImageColor.getrgb(BOOKS_THEME["primary"]) + (255,)


def test_icons_are_rendered_once_per_theme_version(shop, monkeypatch):
    from loyalty_app.pwa import endpoints as endpoints_module

    calls = []
    real = endpoints_module.icon_png
    monkeypatch.setattr(endpoints_module, "icon_png", lambda *a: calls.append(a[0].name) or real(*a))
    endpoints = PwaEndpoints(shop)
    with TestClient(Starlette(routes=endpoints.routes())) as c:
        for _ in range(3):
            assert c.get("/m/cafe/icons/icon-512.png").status_code == 200
        assert calls == ["icon-512"]
        with write_session(shop) as s:
            s.query(Merchant).filter(Merchant.slug == "cafe").one().theme_version = 5
        assert c.get("/m/cafe/icons/icon-512.png").status_code == 200
    assert calls == ["icon-512", "icon-512"]


def test_lru_cache_evicts_the_least_recently_used_entry():
    cache = LruCache(2)
    cache.get_or_create("a", lambda: b"A")
    cache.get_or_create("b", lambda: b"B")
    cache.get_or_create("a", lambda: b"never")  # touch a
    cache.get_or_create("c", lambda: b"C")
    assert len(cache) == 2
    assert cache.get_or_create("a", lambda: b"new a") == b"A"
    assert cache.get_or_create("b", lambda: b"new b") == b"new b"


# --- 404, ETag ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/m/nope/manifest.webmanifest",
        "/m/nope/sw.js",
        "/m/nope/offline.html",
        "/m/nope/icons/icon-192.png",
        "/m/cafe/icons/favicon-16.png",
        "/m/ca%20fe/manifest.webmanifest",
    ],
)
def test_unknown_merchant_or_icon_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "path", ["/m/cafe/manifest.webmanifest", "/m/cafe/icons/maskable-512.png", "/m/cafe/sw.js", "/m/cafe/offline.html"]
)
def test_etag_revalidation_answers_304_without_a_body(client, path):
    first = client.get(path)
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{20}"', etag)
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert client.get(path, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_icons_are_cacheable_for_a_day(client):
    assert client.get("/m/cafe/icons/icon-192.png").headers["cache-control"] == "public, max-age=86400"


# --- service worker -------------------------------------------------------------------------


def _sw_config(text: str) -> dict:
    match = re.search(r"const CONFIG = (\{.*?\});\n", text)
    assert match, "CONFIG not filled in"
    return json.loads(match.group(1))


def test_service_worker_is_javascript_never_http_cached_and_scoped_to_the_merchant(client):
    response = client.get("/m/cafe/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["cache-control"] == "no-cache"
    config = _sw_config(response.text)
    assert config["scope"] == "/m/cafe/"
    assert config["cachePrefix"] == "loyalty-pwa:cafe:"
    assert config["cache"].startswith("loyalty-pwa:cafe:1.")
    assert config["offline"].startswith("/m/cafe/offline.html?v=1.")
    assert config["offline"] in config["shell"]
    icon_srcs = {i["src"] for i in client.get("/m/cafe/manifest.webmanifest").json()["icons"]}
    assert icon_srcs <= set(config["shell"])
    assert "/m/cafe/card" in config["warm"]
    assert "/api/" in config["neverCache"] and "/_event" in config["neverCache"]
    assert config["brandFiles"] == ["/m/cafe/theme.css", "/m/cafe/media/"]
    for url in config["shell"]:
        assert client.get(url).status_code == 200, url


def test_service_worker_cache_name_follows_theme_version_and_merchant(client, shop):
    cafe = _sw_config(client.get("/m/cafe/sw.js").text)
    books = _sw_config(client.get("/m/books/sw.js").text)
    assert cafe["cache"] != books["cache"]
    with write_session(shop) as s:
        s.query(Merchant).filter(Merchant.slug == "cafe").one().theme_version = 7
    republished = _sw_config(client.get("/m/cafe/sw.js").text)
    assert republished["cache"].startswith("loyalty-pwa:cafe:7.")
    assert republished["cache"] != cafe["cache"]


def test_service_worker_deletes_only_its_own_old_caches_and_skips_the_api(client):
    text = client.get("/m/cafe/sw.js").text
    assert "name.startsWith(CONFIG.cachePrefix) && name !== CONFIG.cache" in text
    assert "CONFIG.neverCache.some" in text
    assert 'request.mode === "navigate"' in text
    assert 'request.method !== "GET"' in text


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_service_worker_is_valid_javascript(client, tmp_path):
    script = tmp_path / "sw.js"
    script.write_bytes(client.get("/m/books/sw.js").content)
    result = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# --- offline page ---------------------------------------------------------------------------


def test_offline_page_is_branded_per_merchant(client):
    cafe = client.get("/m/cafe/offline.html")
    assert cafe.status_code == 200
    assert cafe.headers["content-type"] == "text/html; charset=utf-8"
    assert "Bean &amp; Leaf Café" in cafe.text
    assert "--primary: #1f5f46" in cafe.text and "--background: #faf6ef" in cafe.text
    assert 'id="offline-retry"' in cafe.text and ">Try again<" in cafe.text
    assert "location.reload()" in cafe.text
    assert '<html lang="en">' in cafe.text
    assert "<link" not in cafe.text and 'rel="stylesheet"' not in cafe.text  # self-contained
    books = client.get("/m/books/offline.html").text
    assert "Paper Lantern Books" in books and "--primary: #3b2f8f" in books
    # Merchant default language (ro) is the server-side text; the browser may switch it.
    assert '<html lang="ro">' in books and f">{translate('ro', 'Try again')}<" in books
    for language in ("en", "es", "ru"):
        assert translate(language, "Try again") in books


def test_offline_page_escapes_merchant_text(db_engine):
    _add_merchant(db_engine, slug="xss", name="</script><img src=x onerror=alert(1)>", short_name="X<", theme={})
    with TestClient(Starlette(routes=routes(db_engine))) as c:
        page = c.get("/m/xss/offline.html").text
    assert "<img src=x" not in page
    assert page.count("</script>") == 1


def test_offline_texts_come_from_the_catalogs_in_every_language():
    for language in ("en", "es", "ro", "ru"):
        texts = offline_texts(language, "Bean & Leaf")
        assert set(texts) == set(OFFLINE_MESSAGES)
        for key, msgid in OFFLINE_MESSAGES.items():
            assert texts[key] == translate(language, msgid, name="Bean & Leaf")
        assert "Bean & Leaf" in texts["body"]
        if language != "en":  # translated, not the English msgid
            assert texts["retry"] != "Try again" and texts["title"] != "You are offline", language


# --- head tags ------------------------------------------------------------------------------


def test_head_components_render_the_pwa_tags():
    from reflex.compiler.utils import create_document_root

    rendered = json.dumps([c.render() for c in head_components()])
    assert 'href:\\"manifest.webmanifest\\"' in rendered
    assert 'href:\\"icons/apple-touch-icon.png\\"' in rendered
    for name in (
        "theme-color",
        "mobile-web-app-capable",
        "apple-mobile-web-app-capable",
        "apple-mobile-web-app-status-bar-style",
    ):
        assert f'name:\\"{name}\\"' in rendered
    assert "viewport-fit=cover" in rendered
    # Our viewport replaces Reflex's default one instead of adding a second.
    document = str(create_document_root(head_components()))
    assert document.count("width=device-width") == 1


def test_register_script_is_safe_to_inline_and_scoped_to_the_merchant_path():
    assert not set("<>&") & set(REGISTER_SCRIPT)
    assert 'register(base + "sw.js", { scope: base })' in REGISTER_SCRIPT
    assert r"/^\/m\/([A-Za-z0-9][A-Za-z0-9_-]*)\//" in REGISTER_SCRIPT
