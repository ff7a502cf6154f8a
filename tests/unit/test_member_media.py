"""Member pictures (avatar, cockpit background): only real JPEG/PNG/WebP get in, cleaned of
metadata and resized; everything else is refused with a clear error and nothing is stored. The
private route serves a member's own pictures only."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import pytest
from PIL import Image, ImageOps
from sqlmodel import func, select

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from starlette.applications import Starlette

from loyalty_app.api import member_media_routes
from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import LoyaltyError, NotAllowed
from loyalty_app.i18n import translate_error
from loyalty_app.models import Account, MediaBlob, Merchant, Role
from loyalty_app.services.members import member_media, sessions
from loyalty_app.services.platform.permissions import Actor

# --------------------------------------------------------------------------- fixtures and files


@pytest.fixture
def people(db_engine) -> dict:
    """Two merchants; cafe has two members and a staff member; books has one member."""
    out = {}
    with write_session(db_engine) as s:
        for slug in ("cafe", "books"):
            merchant = Merchant(slug=slug, name=slug.title(), short_name=slug)
            s.add(merchant)
            s.flush()
            out[slug] = merchant.id
        for key, slug, role in (
            ("ana", "cafe", Role.MEMBER),
            ("bob", "cafe", Role.MEMBER),
            ("sam", "cafe", Role.STAFF),
            ("eve", "books", Role.MEMBER),
        ):
            account = Account(
                merchant_id=out[slug],
                role=role,
                email=f"{key}@example.com",
                password_hash="x",
                first_name=key.title(),
                member_number=f"1000000{len(out)}",
            )
            s.add(account)
            s.flush()
            out[key] = Actor(account_id=account.id, merchant_id=out[slug], role=role)
    return out


def jpeg_with_exif(size=(400, 200), *, orientation: int | None = 6, quality: int = 92) -> bytes:
    """Left half red, right half blue, with GPS coordinates, a camera model and an orientation."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[0x0110] = "Secret Phone 3000"  # Model
    if orientation:
        exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (44.0, 25.0, 36.0), 3: "E", 4: (26.0, 6.0, 12.0)}  # GPS IFD: Bucharest
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes(), quality=quality)
    return buf.getvalue()


def encoded(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny file whose header claims a huge canvas (a decompression bomb's calling card)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def stored(engine, blob_id: int) -> tuple[MediaBlob, Image.Image]:
    with read_session(engine) as s:
        blob = s.get(MediaBlob, blob_id)
    return blob, Image.open(io.BytesIO(blob.data))


def blob_count(engine) -> int:
    with read_session(engine) as s:
        return s.exec(select(func.count()).select_from(MediaBlob)).one()


def account(engine, actor: Actor) -> Account:
    with read_session(engine) as s:
        return s.get(Account, actor.account_id)


# --------------------------------------------------------------------------- accepted pictures


def test_jpeg_with_gps_is_rotated_stripped_cropped_and_stored_as_webp(db_engine, people):
    data = jpeg_with_exif()
    assert b"Exif" in data and b"Secret Phone" in data
    blob_id = member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=data, filename="me.jpg")
    blob, image = stored(db_engine, blob_id)
    assert (blob.kind, blob.content_type, blob.merchant_id) == ("avatar", "image/webp", people["cafe"])
    assert image.format == "WEBP" and image.size == (256, 256) == (blob.width, blob.height)
    assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
    assert b"Exif" not in blob.data and b"Secret Phone" not in blob.data and b"GPS" not in blob.data
    # Orientation 6 = rotate 90° clockwise for display: the red left half ends up on top.
    expected = ImageOps.fit(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"), (256, 256))
    rgb = image.convert("RGB")
    top, bottom = rgb.getpixel((128, 40)), rgb.getpixel((128, 215))
    assert top[0] > 150 and top[2] < 100, top  # red
    assert bottom[2] > 150 and bottom[0] < 100, bottom  # blue
    assert expected.getpixel((128, 40))[0] > 150  # same as Pillow's own transpose says
    assert account(db_engine, people["ana"]).avatar_id == blob_id


def test_background_is_limited_to_1280_wide_and_keeps_its_shape(db_engine, people):
    data = jpeg_with_exif((3000, 2000), orientation=None)
    blob_id = member_media.set_member_image(db_engine, people["ana"], kind="background", data=data, filename="x.jpg")
    blob, image = stored(db_engine, blob_id)
    assert blob.kind == "background" and image.format == "WEBP"
    assert image.size == (1280, 853)
    assert not image.getexif()
    assert account(db_engine, people["ana"]).background_id == blob_id


def test_small_background_is_not_enlarged(db_engine, people):
    data = encoded(Image.new("RGB", (640, 360), (10, 120, 40)), "PNG")
    blob_id = member_media.set_member_image(db_engine, people["ana"], kind="background", data=data, filename="x.png")
    assert stored(db_engine, blob_id)[1].size == (640, 360)


@pytest.mark.parametrize(
    "fmt,mode,kw",
    [
        ("PNG", "RGBA", {}),
        ("PNG", "P", {}),
        ("WEBP", "RGB", {"quality": 80}),
        ("WEBP", "RGBA", {"lossless": True}),
        ("JPEG", "CMYK", {}),
        ("JPEG", "L", {}),
    ],
)
def test_png_and_webp_and_other_modes_are_accepted(db_engine, people, fmt, mode, kw):
    image = Image.new("RGB", (300, 500), (30, 140, 200)).convert(mode)
    blob_id = member_media.set_member_image(
        db_engine, people["ana"], kind="avatar", data=encoded(image, fmt, **kw), filename="ignored.bin"
    )
    blob, out = stored(db_engine, blob_id)
    assert out.format == "WEBP" and out.size == (256, 256) and out.mode in ("RGB", "RGBA")


def test_the_file_name_is_never_trusted(db_engine, people):
    png = encoded(Image.new("RGB", (64, 64), (1, 2, 3)), "PNG")
    blob_id = member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=png, filename="virus.exe")
    assert stored(db_engine, blob_id)[1].format == "WEBP"


# --------------------------------------------------------------------------- refused uploads

GIF = encoded(Image.new("RGB", (40, 40), (200, 0, 0)), "GIF")
PNG = encoded(Image.new("RGB", (300, 300), (0, 90, 0)), "PNG")
JPEG = jpeg_with_exif((800, 600))
BAD_UPLOADS = {
    "text_renamed_png": (b"Hello, I am definitely a PNG file.\n" * 10, "image_format"),
    "html": (b"<!doctype html><script>alert(1)</script>", "image_format"),
    "gif": (GIF, "image_format"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>', "image_format"),
    "bmp": (encoded(Image.new("RGB", (20, 20)), "BMP"), "image_format"),
    "png_magic_then_garbage": (b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "image_format"),  # Pillow: unidentified
    "truncated_jpeg": (JPEG[: len(JPEG) // 2], "image_damaged"),
    "truncated_png": (PNG[: len(PNG) - 30], "image_damaged"),
    # One flipped byte inside the pixel data (IDAT), just before its checksum and IEND.
    "png_bad_crc": (PNG[:-18] + bytes([PNG[-18] ^ 0xFF]) + PNG[-17:], "image_damaged"),
    "too_big": (b"\xff\xd8\xff\xe0" + b"\0" * member_media.MAX_UPLOAD_BYTES, "image_too_large"),
    "bomb_30000x30000": (png_claiming(30000, 30000), "image_too_many_pixels"),
    "bomb_just_over_limit": (png_claiming(6001, 6000), "image_too_many_pixels"),
    "empty": (b"", "image_empty"),
}


@pytest.mark.parametrize("name", list(BAD_UPLOADS))
def test_refused_uploads_store_nothing_and_keep_the_old_picture(db_engine, people, name):
    previous = member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=PNG, filename="ok.png")
    blobs_before = blob_count(db_engine)
    data, code = BAD_UPLOADS[name]
    with pytest.raises(LoyaltyError) as refused:
        member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=data, filename="picture.png")
    assert refused.value.code == code
    assert translate_error("en", refused.value)  # a sentence for the member, not a traceback
    assert blob_count(db_engine) == blobs_before
    assert account(db_engine, people["ana"]).avatar_id == previous


def test_too_big_is_refused_before_decoding(monkeypatch, db_engine, people):
    def must_not_decode(*_a, **_k):
        raise AssertionError("decoded an oversized upload")

    monkeypatch.setattr(member_media.Image, "open", must_not_decode)
    with pytest.raises(LoyaltyError) as refused:
        member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=b"\0" * (member_media.MAX_UPLOAD_BYTES + 1))
    assert refused.value.code == "image_too_large" and refused.value.params == {"limit": 5}


def test_the_size_limit_itself_is_allowed(db_engine, people):
    padded = PNG + b"\0" * (member_media.MAX_UPLOAD_BYTES - len(PNG))  # trailing bytes after IEND
    assert len(padded) == member_media.MAX_UPLOAD_BYTES
    assert member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=padded)


def test_the_bomb_is_not_decoded(db_engine, people):
    """The header is read, the 900-megapixel canvas never allocated (this test would need GBs)."""
    with pytest.raises(LoyaltyError):
        member_media.decode_upload(png_claiming(30000, 30000), "background")


# --------------------------------------------------------------------------- replace, remove, sharing, permissions


def test_replacing_deletes_the_old_blob_and_remove_clears_it(db_engine, people):
    first = member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=PNG)
    second = member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=JPEG)
    assert first != second
    with read_session(db_engine) as s:
        assert s.get(MediaBlob, first) is None
    assert member_media.remove_member_image(db_engine, people["ana"], kind="avatar") is True
    assert account(db_engine, people["ana"]).avatar_id is None
    with read_session(db_engine) as s:
        assert s.get(MediaBlob, second) is None
    assert member_media.remove_member_image(db_engine, people["ana"], kind="avatar") is False


def test_identical_pictures_share_a_blob_that_survives_one_removal(db_engine, people):
    a = member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=PNG)
    b = member_media.set_member_image(db_engine, people["bob"], kind="avatar", data=PNG)
    assert a == b
    member_media.remove_member_image(db_engine, people["ana"], kind="avatar")
    assert member_media.member_image(db_engine, people["bob"], kind="avatar").blob_id == b
    assert member_media.member_image(db_engine, people["ana"], kind="avatar") is None


def test_avatar_and_background_are_independent(db_engine, people):
    avatar = member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=PNG)
    background = member_media.set_member_image(db_engine, people["ana"], kind="background", data=PNG)
    row = account(db_engine, people["ana"])
    assert (row.avatar_id, row.background_id) == (avatar, background) and avatar != background


def test_only_members_change_their_own_pictures(db_engine, people):
    with pytest.raises(NotAllowed):
        member_media.set_member_image(db_engine, people["sam"], kind="avatar", data=PNG)
    with pytest.raises(NotAllowed):
        member_media.set_member_image(db_engine, None, kind="avatar", data=PNG)
    forged = Actor(account_id=people["ana"].account_id, merchant_id=people["books"], role=Role.MEMBER)
    with pytest.raises(LoyaltyError):
        member_media.set_member_image(db_engine, forged, kind="avatar", data=PNG)
    with pytest.raises(LoyaltyError):
        member_media.set_member_image(db_engine, people["ana"], kind="logo", data=PNG)
    assert blob_count(db_engine) == 0


def test_image_url_busts_caches_with_the_blob_id():
    assert member_media.image_url("cafe", "avatar", 42) == "/m/cafe/me/avatar?v=42"
    assert member_media.image_url("cafe", "background", None) == ""


# --------------------------------------------------------------------------- the private route


def session_cookie(engine, actor: Actor, slug: str) -> str:
    with write_session(engine) as s:
        row = s.get(Account, actor.account_id)
        _session, ticket = sessions.create_session(s, account=row, ip="10.0.0.9", user_agent="pytest", now=utcnow())
    return f"{sessions.cookie_name(slug)}={sessions.activate(engine, ticket=ticket).secret}"


@pytest.fixture
def client(db_engine) -> TestClient:
    return TestClient(Starlette(routes=member_media_routes.build_routes(lambda: db_engine)), follow_redirects=False)


def test_route_serves_each_member_only_their_own_pictures_privately(db_engine, people, client):
    ana = member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=PNG)
    bob_png = encoded(Image.new("RGB", (80, 80), (250, 250, 0)), "PNG")
    member_media.set_member_image(db_engine, people["bob"], kind="avatar", data=bob_png)
    ana_cookie = session_cookie(db_engine, people["ana"], "cafe")

    response = client.get(f"/m/cafe/me/avatar?v={ana}", headers={"cookie": ana_cookie})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert "no-store" in response.headers["cache-control"] and "private" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"
    with read_session(db_engine) as s:
        assert response.content == s.get(MediaBlob, ana).data

    # Bob's cookie gets Bob's picture whatever id is asked for; no cookie gets nothing.
    bob_response = client.get(f"/m/cafe/me/avatar?v={ana}", headers={"cookie": session_cookie(db_engine, people["bob"], "cafe")})
    assert bob_response.status_code == 200 and bob_response.content != response.content
    assert client.get("/m/cafe/me/avatar").status_code == 404
    assert client.get("/m/cafe/me/background", headers={"cookie": ana_cookie}).status_code == 404  # none yet
    assert client.get("/m/cafe/me/passwords", headers={"cookie": ana_cookie}).status_code == 404
    # The cafe cookie means nothing to the books app, and staff have no member pictures here.
    assert client.get("/m/books/me/avatar", headers={"cookie": ana_cookie.replace("ls_cafe", "ls_books")}).status_code == 404
    assert (
        client.get("/m/cafe/me/avatar", headers={"cookie": session_cookie(db_engine, people["sam"], "cafe")}).status_code == 404
    )
    assert client.get("/m/nope/me/avatar", headers={"cookie": ana_cookie}).status_code == 404


def test_route_stops_serving_after_sign_out(db_engine, people, client):
    member_media.set_member_image(db_engine, people["ana"], kind="avatar", data=PNG)
    cookie = session_cookie(db_engine, people["ana"], "cafe")
    assert client.get("/m/cafe/me/avatar", headers={"cookie": cookie}).status_code == 200
    sessions.revoke(db_engine, merchant_id=people["cafe"], cookie_header=cookie, slug="cafe")
    assert client.get("/m/cafe/me/avatar", headers={"cookie": cookie}).status_code == 404
