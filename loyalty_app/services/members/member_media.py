"""A member's own pictures: the avatar and the cockpit background.

Uploads are untrusted bytes. What is accepted, and why:
- the size is checked on the raw bytes BEFORE anything is decoded (``MAX_UPLOAD_BYTES``);
- the format is detected from the bytes by Pillow, never from the file name or the browser's
  content type, and only JPEG, PNG and WebP decoders are even tried (GIF, SVG, HEIC, text... are
  refused);
- the pixel count is read from the header and checked before decoding (``MAX_PIXELS``, well
  below Pillow's own decompression-bomb warning threshold, so a small file claiming a huge
  canvas never gets decoded); Pillow's ``DecompressionBombError``/``Warning`` are refused too;
- ``verify()`` checks the file's structure, then it is re-opened and fully decoded, so a
  truncated or damaged file is refused instead of stored half-grey;
- the EXIF orientation is applied, then every piece of metadata (EXIF with GPS position,
  XMP, comments, colour profile) is dropped by copying only the pixels into a new image
  (colours are first converted to sRGB when the photo carries another profile);
- the picture is resized (avatar: 256x256 centre crop; background: at most 1280 wide) and
  re-encoded as WebP, so what the app serves is always an image we produced.

Anything refused raises a translated ``LoyaltyError`` and nothing is stored: the decoding
happens before the write transaction, and the blob and the account change commit together.
Avatars and backgrounds are private: ``api/member_media_routes.py`` serves them to their owner.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy import func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.models import Account, MediaBlob, Role
from loyalty_app.services.members.media import store_image
from loyalty_app.services.platform.permissions import Action, Actor, authorize

ImageKind = Literal["avatar", "background"]
KINDS: tuple[str, ...] = ("avatar", "background")
_ACCOUNT_FIELD = {"avatar": "avatar_id", "background": "background_id"}

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # raw upload, checked before decoding
MAX_UPLOAD_MB = 5
# 36 megapixels (6000x6000): more than any phone photo under 5 MB, and ~110 MB of RGB at most
# once decoded. Pillow warns at 89 MP and refuses at 179 MP; this limit comes first.
MAX_PIXELS = 36_000_000
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
AVATAR_SIZE = 256
BACKGROUND_MAX_WIDTH = 1280
BACKGROUND_MAX_HEIGHT = 2560
# A merchant's logo (services/program/theme_admin.py) goes through the same checks; it keeps its aspect
# ratio and transparency and is kept at most this big (the largest icon drawn from it is 512).
LOGO_KIND = "logo"
LOGO_MAX_SIZE = 512
# A reward picture (services/program/program_console/catalog.py) is cleaned like a background (at most 1280 wide).
REWARD_KIND = "reward"
DECODE_KINDS: tuple[str, ...] = (*KINDS, LOGO_KIND, REWARD_KIND)

BAD_FORMAT = N_("Choose a JPEG, PNG or WebP image.")
TOO_LARGE = N_("This image is larger than {limit} MB. Choose a smaller one.")
TOO_MANY_PIXELS = N_("This image is too big to process. Choose a smaller one.")
DAMAGED = N_("This image file is damaged. Choose another one.")
EMPTY = N_("Choose an image first.")
GENERIC = N_("Something went wrong. Please try again.")


@dataclass(frozen=True)
class MemberImage:
    """What the private image route needs to answer."""

    blob_id: int
    content_type: str
    data: bytes
    sha256: str


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise LoyaltyError(GENERIC, code="bad_image_kind")
    return kind


# ----------------------------------------------------------------------------- decoding (pure)


def _open_checked(data: bytes) -> Image.Image:
    """Open ``data`` lazily (header only) and refuse anything not a small-enough JPEG/PNG/WebP."""
    try:
        image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LoyaltyError(TOO_MANY_PIXELS, code="image_too_many_pixels") from None
    except UnidentifiedImageError:
        raise LoyaltyError(BAD_FORMAT, code="image_format") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise LoyaltyError(DAMAGED, code="image_damaged") from None
    if image.format not in ACCEPTED_FORMATS:  # belt and braces: formats= already limits the decoders
        raise LoyaltyError(BAD_FORMAT, code="image_format")
    width, height = image.size
    if width <= 0 or height <= 0:
        raise LoyaltyError(DAMAGED, code="image_damaged")
    if width * height > MAX_PIXELS:
        raise LoyaltyError(TOO_MANY_PIXELS, code="image_too_many_pixels")
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert to sRGB when the file carries another colour profile (best effort)."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except Exception:  # noqa: BLE001 - a broken profile only costs colour accuracy
        return image
    return converted or image


def decode_upload(data: bytes, kind: str) -> Image.Image:
    """Validate ``data`` and return a clean, resized image without any metadata.

    Raises LoyaltyError (code image_empty / image_too_large / image_format /
    image_too_many_pixels / image_damaged) for anything it will not store.
    """
    if kind not in DECODE_KINDS:
        raise LoyaltyError(GENERIC, code="bad_image_kind")
    if not data:
        raise LoyaltyError(EMPTY, code="image_empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise LoyaltyError(TOO_LARGE, code="image_too_large", limit=MAX_UPLOAD_MB)
    probe = _open_checked(data)
    try:
        probe.verify()  # structure and checksums; the object is unusable afterwards
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LoyaltyError(TOO_MANY_PIXELS, code="image_too_many_pixels") from None
    except Exception:  # noqa: BLE001 - Pillow raises many types for broken files
        raise LoyaltyError(DAMAGED, code="image_damaged") from None
    image = _open_checked(data)
    try:
        if image.format == "JPEG":
            # Decode big JPEGs at a reduced scale straight away (much less memory and time),
            # still at least twice the final size. Square request: the orientation may swap sides.
            wanted = {"avatar": AVATAR_SIZE * 2, LOGO_KIND: LOGO_MAX_SIZE * 2}.get(kind, BACKGROUND_MAX_WIDTH)
            image.draft("RGB", (wanted, wanted))
        image.load()  # full decode: a truncated file fails here
        try:
            image = ImageOps.exif_transpose(image)
        except Exception:  # noqa: BLE001 - odd EXIF: keep the picture as stored rather than refuse it
            pass
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            mode = "RGBA"
        else:
            mode = "RGB"
        icc = image.info.get("icc_profile")
        image = image.convert(mode)
        if icc:
            image.info["icc_profile"] = icc
            image = _to_srgb(image)
    except LoyaltyError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LoyaltyError(TOO_MANY_PIXELS, code="image_too_many_pixels") from None
    except Exception:  # noqa: BLE001
        raise LoyaltyError(DAMAGED, code="image_damaged") from None
    if kind == "avatar":
        image = ImageOps.fit(image, (AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    elif kind == LOGO_KIND:
        image = image.copy()
        image.thumbnail((LOGO_MAX_SIZE, LOGO_MAX_SIZE), Image.Resampling.LANCZOS)
    else:
        image = image.copy()
        image.thumbnail((BACKGROUND_MAX_WIDTH, BACKGROUND_MAX_HEIGHT), Image.Resampling.LANCZOS)
    # Only the pixels travel on: no EXIF (GPS), XMP, comments or profile survive.
    return Image.frombytes(image.mode, image.size, image.tobytes())


# ----------------------------------------------------------------------------- storage


def _lock_own_account(session: Session, actor: Actor) -> Account:
    account = session.exec(select(Account).where(Account.id == actor.account_id).with_for_update()).first()
    if (
        account is None
        or account.merchant_id != actor.merchant_id
        or Role(account.role) is not Role.MEMBER
        or account.deleted_at is not None
        or not account.is_active
    ):
        raise NotFound(N_("Account not found."), code="account_not_found")
    return account


def drop_blob_if_unused(session: Session, blob_id: int | None) -> bool:
    """Delete a member picture nobody points at any more (identical uploads share one blob)."""
    if not blob_id:
        return False
    blob = session.get(MediaBlob, blob_id)
    if blob is None or blob.kind not in KINDS:
        return False
    users = session.exec(
        select(func.count()).select_from(Account).where(or_(Account.avatar_id == blob_id, Account.background_id == blob_id))
    ).one()
    if users:
        return False
    session.delete(blob)
    session.flush()
    return True


def set_member_image(engine: Engine, actor: Actor, *, kind: str, data: bytes, filename: str = "") -> int:
    """Validate, clean and store the member's new avatar or background; returns the MediaBlob id.

    ``filename`` is informational only (never used to decide the format). The previous picture
    is replaced (and deleted when no one else uses the same blob). Nothing is written when the
    upload is refused.
    """
    _check_kind(kind)
    authorize(engine, actor, Action.EDIT_OWN_PROFILE, merchant_id=actor.merchant_id if actor else 0)
    image = decode_upload(data, kind)  # slow part, outside the write transaction
    field = _ACCOUNT_FIELD[kind]
    with write_session(engine) as s:
        account = _lock_own_account(s, actor)
        blob = store_image(s, merchant_id=account.merchant_id, kind=kind, image=image, fmt="WEBP")
        previous = getattr(account, field)
        setattr(account, field, blob.id)
        s.add(account)
        s.flush()
        if previous and previous != blob.id:
            drop_blob_if_unused(s, previous)
        return blob.id


def remove_member_image(engine: Engine, actor: Actor, *, kind: str) -> bool:
    """Remove the member's avatar or background; True when there was one."""
    _check_kind(kind)
    authorize(engine, actor, Action.EDIT_OWN_PROFILE, merchant_id=actor.merchant_id if actor else 0)
    field = _ACCOUNT_FIELD[kind]
    with write_session(engine) as s:
        account = _lock_own_account(s, actor)
        previous = getattr(account, field)
        if not previous:
            return False
        setattr(account, field, None)
        s.add(account)
        s.flush()
        drop_blob_if_unused(s, previous)
        return True


def member_image(engine: Engine, actor: Actor, *, kind: str) -> MemberImage | None:
    """The member's own avatar or background, or None when there is none."""
    _check_kind(kind)
    authorize(engine, actor, Action.VIEW_OWN_MEMBER_DATA, merchant_id=actor.merchant_id if actor else 0)
    with read_session(engine) as s:
        account = s.get(Account, actor.account_id)
        if account is None or account.merchant_id != actor.merchant_id:
            return None
        blob_id = getattr(account, _ACCOUNT_FIELD[kind])
        blob = s.get(MediaBlob, blob_id) if blob_id else None
        if blob is None or blob.kind != kind or blob.merchant_id != actor.merchant_id:
            return None
        return MemberImage(blob_id=blob.id, content_type=blob.content_type, data=blob.data, sha256=blob.sha256)


def image_ids(engine: Engine, actor: Actor) -> tuple[int | None, int | None]:
    """(avatar_id, background_id) of the member, for cache-busting URLs."""
    authorize(engine, actor, Action.VIEW_OWN_MEMBER_DATA, merchant_id=actor.merchant_id if actor else 0)
    with read_session(engine) as s:
        account = s.get(Account, actor.account_id)
        if account is None or account.merchant_id != actor.merchant_id:
            return None, None
        return account.avatar_id, account.background_id


def image_url(slug: str, kind: str, blob_id: int | None) -> str:
    """The private URL of a member's picture; the blob id in the query busts caches on change."""
    if not blob_id or not slug:
        return ""
    return f"/m/{slug}/me/{_check_kind(kind)}?v={blob_id}"
