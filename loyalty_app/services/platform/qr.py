"""QR images the app shows (member card; later vouchers, posters, referral links)."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def qr_svg(text: str) -> bytes:
    """A crisp, scalable SVG (paths, no external refs), quiet zone included."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=10, image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(text)
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image().save(buf)
    return buf.getvalue()


def qr_svg_data_uri(text: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(text)).decode()


def qr_png(text: str, *, box_size: int = 10) -> bytes:
    """A PNG of the same code (tests decode it with an independent decoder)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=box_size)
    qr.add_data(text)
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buf, format="PNG")
    return buf.getvalue()
