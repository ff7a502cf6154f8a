"""Images stored in the database (MediaBlob) so every worker can serve them."""

from __future__ import annotations

import hashlib
import io

from PIL import Image
from sqlmodel import Session

from loyalty_app.models import MediaBlob


def png_bytes(image: Image.Image, *, optimize: bool = True) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=optimize)
    return buf.getvalue()


def store_image(session: Session, *, merchant_id: int | None, kind: str, image: Image.Image, fmt: str = "PNG") -> MediaBlob:
    """Encode ``image`` and store it; identical bytes for the same merchant/kind are reused."""
    buf = io.BytesIO()
    if fmt == "WEBP":
        image.save(buf, format="WEBP", quality=85, method=4)
        content_type = "image/webp"
    else:
        image.save(buf, format="PNG", optimize=True)
        content_type = "image/png"
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    existing = (
        session.query(MediaBlob)
        .filter(MediaBlob.merchant_id == merchant_id, MediaBlob.kind == kind, MediaBlob.sha256 == digest)
        .first()
    )
    if existing:
        return existing
    blob = MediaBlob(
        merchant_id=merchant_id,
        kind=kind,
        content_type=content_type,
        sha256=digest,
        width=image.width,
        height=image.height,
        data=data,
    )
    session.add(blob)
    session.flush()
    return blob
