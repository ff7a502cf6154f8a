"""Every QR the app produces is read back by an independent decoder (zxing-cpp) to exactly the
text the app meant: the member card code (PNG and the SVG the card shows), the voucher code
(PNG and the SVG the voucher page shows), the check-in poster and the invite (referral) link.

No SVG rasterizer (cairosvg, rsvg-convert, ImageMagick, Inkscape) exists on this machine, so
``rasterize_qr_svg`` below draws the SVG's own path data with Pillow: qrcode's SvgPathImage
writes one ``M x,y H x V y H x z`` rectangle per dark module, in a ``viewBox`` of modules. That
reads the bytes the browser gets, not a second rendering from the same text.
"""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from loyalty_app.db import write_session
from loyalty_app.domain import member_codes
from loyalty_app.models import Merchant, Role, Store
from loyalty_app.services.catalog import rewards
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.members import accounts
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.platform.qr import qr_png, qr_svg, qr_svg_data_uri
from loyalty_app.services.program import program_admin as admin
from loyalty_app.services.store import posters
from loyalty_app.services.store.member_codes import issue_member_code
from loyalty_app.settings import get_settings

PW = "correct horse battery"
SVG_NS = "{http://www.w3.org/2000/svg}"


def decode(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


def decode_png(data: bytes) -> list[str]:
    return decode(Image.open(io.BytesIO(data)))


def rasterize_qr_svg(svg: bytes, scale: int = 8) -> Image.Image:
    """Fill every subpath of the SVG's <path> elements (absolute M/H/V/L/Z commands)."""
    root = ET.fromstring(svg)
    _x, _y, width, height = (float(v) for v in root.attrib["viewBox"].replace(",", " ").split())
    image = Image.new("L", (int(width * scale), int(height * scale)), 255)
    draw = ImageDraw.Draw(image)
    paths = root.iter(f"{SVG_NS}path")
    count = 0
    for path in paths:
        tokens = re.findall(r"[MmHhVvLlZz]|-?\d*\.?\d+", path.attrib["d"])
        assert not any(t in "mhvl" for t in tokens if t.isalpha()), "relative commands are not expected"
        points: list[tuple[float, float]] = []
        x = y = 0.0
        command = ""
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.isalpha():
                command = token
                i += 1
                if command in "Zz":
                    if points:
                        draw.polygon([(px * scale, py * scale) for px, py in points], fill=0)
                        count += 1
                    points = []
                continue
            if command in ("M", "L"):
                x, y = float(tokens[i]), float(tokens[i + 1])
                i += 2
            elif command == "H":
                x = float(token)
                i += 1
            elif command == "V":
                y = float(token)
                i += 1
            else:
                raise AssertionError(f"unexpected path command {command!r}")
            points.append((x, y))
    assert count > 0, "no filled shapes in the SVG"
    return image


def svg_from_data_uri(uri: str) -> bytes:
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    return base64.b64decode(uri[len(prefix) :])


@pytest.fixture
def shop(db_engine):
    with write_session(db_engine) as s:
        m = Merchant(slug="cafe", name="Cafe", short_name="Cafe")
        s.add(m)
        s.flush()
        store = Store(merchant_id=m.id, code="main", name="Main street")
        s.add(store)
        s.flush()
        admin.upsert_earning_rule(
            s, m.id, "newsletter", action="subscribe_newsletter", points=500, limit_count=1, limit_period="ever"
        )
        reward = admin.upsert_reward(s, m.id, "espresso", name="Free espresso", kind="free_product", cost_points=80)
        merchant_id, store_id, reward_id = m.id, store.id, reward.id
    member = accounts.sign_up_member(db_engine, merchant_id=merchant_id, email="m@x.test", password=PW, first_name="Ana")
    boss = accounts.create_admin(db_engine, merchant_id=merchant_id, email="a@x.test", password=PW, first_name="Al")
    return {
        "engine": db_engine,
        "merchant": merchant_id,
        "store": store_id,
        "reward": reward_id,
        "member": Actor(member.id, merchant_id, Role.MEMBER, frozenset(), 1),
        "admin": Actor(boss.id, merchant_id, Role.ADMIN, frozenset({store_id}), 2),
    }


def test_the_svg_rasterizer_is_faithful():
    """Sanity check of the helper itself on a known text."""
    assert decode(rasterize_qr_svg(qr_svg("hello, zxing"))) == ["hello, zxing"]


def test_member_card_code_png_and_svg_decode_to_the_issued_code(shop):
    code, _expires = issue_member_code(shop["engine"], shop["member"])
    assert member_codes.looks_like_member_code(code)
    assert decode_png(qr_png(code)) == [code]
    # What the card tab shows: an SVG data URI (pages/card.py).
    assert decode(rasterize_qr_svg(svg_from_data_uri(qr_svg_data_uri(code)))) == [code]
    # And the decoded text is a code the till accepts for this member.
    claims = member_codes.verify(
        decode_png(qr_png(code))[0],
        keys=get_settings().code_keys(),
        merchant_id=shop["merchant"],
        now=_expires - timedelta(seconds=1),
    )
    assert claims.account_id == shop["member"].account_id


def test_voucher_code_png_and_svg_decode_to_the_voucher_code(shop):
    e, member = shop["engine"], shop["member"]
    earning.record_action(
        e, merchant_id=shop["merchant"], account_id=member.account_id, action="subscribe_newsletter", idempotency_key="nl-1"
    )
    outcome = rewards.redeem_reward(
        e, merchant_id=shop["merchant"], account_id=member.account_id, reward_id=shop["reward"], idempotency_key="redeem-1"
    )
    assert outcome.code
    assert decode_png(qr_png(outcome.code)) == [outcome.code]
    # What the voucher page shows (pages/vouchers.py): the SVG data URI of the code.
    assert decode(rasterize_qr_svg(svg_from_data_uri(qr_svg_data_uri(outcome.code)))) == [outcome.code]
    # Small renders too (a voucher on a phone screen): box size 4.
    assert decode_png(qr_png(outcome.code, box_size=4)) == [outcome.code]


def test_checkin_poster_decodes_to_its_checkin_url(shop):
    url = posters.checkin_url(shop["engine"], shop["admin"], store_id=shop["store"])
    assert decode_png(posters.poster_png(shop["engine"], shop["admin"], store_id=shop["store"])) == [url]


def test_referral_qr_decodes_to_the_referral_link(shop):
    """The invite page's QR (InviteState: qr_svg_data_uri of referral_link) opens sign-up with
    the member's own code."""
    from loyalty_app.services.earning import referrals

    mine = referrals.member_referrals(shop["engine"], shop["member"])
    link = referrals.referral_link("cafe", mine.code)
    assert link.endswith(f"/m/cafe/signup?ref={mine.code}") or f"ref={mine.code}" in link
    assert decode(rasterize_qr_svg(svg_from_data_uri(qr_svg_data_uri(link)))) == [link]
    assert decode_png(qr_png(link, box_size=4)) == [link]
