"""The theme editor's use cases: one draft per merchant, publish, revert, the logo upload.

What members see is ``Merchant.theme`` / ``theme_version`` / ``logo_id`` (theme.css, the
manifest's theme colour, the icons drawn from the logo, the brand name in the top bar). Editing
never touches them: the editor works on a ``ThemeVersion`` row with status ``draft``. Publishing
copies the draft onto the merchant in one transaction and bumps ``theme_version``, which every
cache of the PWA shell is keyed by, so members get the new look on their next request.
Published themes are kept (``archived``) so an older one can be brought back as a draft.

Every entry point authorizes ``Action.ADMIN_EDIT_THEME`` and works on the actor's own merchant;
a version number or logo id is only ever looked up inside that merchant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.text import one_line
from loyalty_app.domain.theme import EDITABLE_FIELDS, Theme, validate_theme
from loyalty_app.models import Account, MediaBlob, Merchant, ThemeVersion
from loyalty_app.services.members.media import store_image
from loyalty_app.services.members.member_media import LOGO_KIND, decode_upload
from loyalty_app.services.platform import admin_audit
from loyalty_app.services.platform.permissions import Action, Actor, authorize
from loyalty_app.services.platform.tx import run_in_transaction

NO_DRAFT = N_("There is no draft to publish.")
VERSION_NOT_FOUND = N_("That theme version was not found.")
LOGO_NOT_FOUND = N_("That logo was not found. Upload it again.")
NOTE_MAX = 200
HISTORY_LIMIT = 30


@dataclass(frozen=True)
class EditorView:
    """What the editor opens with: the draft when there is one, else the published theme."""

    slug: str
    theme: Theme
    logo_id: int | None
    has_draft: bool
    draft_updated_at: datetime | None
    published_theme: Theme
    published_logo_id: int | None
    published_version: int


@dataclass(frozen=True)
class VersionInfo:
    version: int
    status: str  # published | archived
    theme: Theme
    logo_id: int | None
    published_at: datetime | None
    author: str
    note: str


def logo_url(slug: str, logo_id: int | None) -> str:
    """Public URL of a logo blob (api/merchant_routes.py serves kind "logo")."""
    return f"/m/{slug}/media/{logo_id}" if slug and logo_id else ""


def _authorize(engine: Engine, actor: Actor | None) -> Actor:
    return authorize(engine, actor, Action.ADMIN_EDIT_THEME, merchant_id=actor.merchant_id if actor else 0)


# ------------------------------------------------------------------------------ reading


def _merchant(session: Session, merchant_id: int, *, lock: bool = False) -> Merchant:
    query = select(Merchant).where(Merchant.id == merchant_id)
    if lock:
        query = query.with_for_update()
    merchant = session.exec(query).first()
    if merchant is None:  # the session resolved, so this is a deleted merchant
        raise NotFound(VERSION_NOT_FOUND, code="merchant_not_found")
    return merchant


def _draft(session: Session, merchant_id: int) -> ThemeVersion | None:
    return session.exec(
        select(ThemeVersion).where(ThemeVersion.merchant_id == merchant_id, ThemeVersion.status == "draft")
    ).first()


def _view(session: Session, merchant: Merchant) -> EditorView:
    published = Theme.from_dict(merchant.theme)
    draft = _draft(session, merchant.id)
    return EditorView(
        slug=merchant.slug,
        theme=Theme.from_dict(draft.theme) if draft else published,
        logo_id=draft.logo_id if draft else merchant.logo_id,
        has_draft=draft is not None,
        draft_updated_at=draft.updated_at if draft else None,
        published_theme=published,
        published_logo_id=merchant.logo_id,
        published_version=int(merchant.theme_version or 1),
    )


def get_editor(engine: Engine, actor: Actor | None) -> EditorView:
    admin = _authorize(engine, actor)
    with read_session(engine) as s:
        return _view(s, _merchant(s, admin.merchant_id))


def list_versions(engine: Engine, actor: Actor | None, *, limit: int = HISTORY_LIMIT) -> list[VersionInfo]:
    """Published themes, newest first. Before the first publish from the editor, the theme the
    merchant started with is listed as the current one."""
    admin = _authorize(engine, actor)
    with read_session(engine) as s:
        merchant = _merchant(s, admin.merchant_id)
        rows = s.exec(
            select(ThemeVersion, Account.first_name, Account.email)
            .join(Account, Account.id == ThemeVersion.author_id, isouter=True)
            .where(ThemeVersion.merchant_id == merchant.id, ThemeVersion.status != "draft")
            .order_by(ThemeVersion.version.desc())  # type: ignore[attr-defined]
            .limit(max(1, min(limit, 200)))
        ).all()
        out = [
            VersionInfo(v.version, v.status, Theme.from_dict(v.theme), v.logo_id, v.published_at, first or email or "", v.note)
            for v, first, email in rows
        ]
        if not any(v.status == "published" for v in out):
            out.insert(
                0,
                VersionInfo(
                    int(merchant.theme_version or 1), "published", Theme.from_dict(merchant.theme), merchant.logo_id, None, "", ""
                ),
            )
        return out


# ------------------------------------------------------------------------------ writing


def _check_logo(session: Session, merchant_id: int, logo_id: object) -> int | None:
    if logo_id in (None, "", 0):
        return None
    try:
        blob_id = int(logo_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise NotFound(LOGO_NOT_FOUND, code="theme_logo_not_found") from None
    blob = session.get(MediaBlob, blob_id)
    if blob is None or blob.merchant_id != merchant_id or blob.kind != LOGO_KIND:
        raise NotFound(LOGO_NOT_FOUND, code="theme_logo_not_found")
    return blob_id


def _snapshot_published(session: Session, merchant: Merchant) -> None:
    """Keep the theme members see now as a version row (once), so it can be brought back."""
    current = int(merchant.theme_version or 1)
    exists = session.exec(
        select(ThemeVersion.id).where(ThemeVersion.merchant_id == merchant.id, ThemeVersion.version == current)
    ).first()
    if exists is None:
        session.add(
            ThemeVersion(
                merchant_id=merchant.id,
                version=current,
                theme=Theme.from_dict(merchant.theme).to_dict(),
                logo_id=merchant.logo_id,
                status="published",
                created_at=merchant.created_at,
                published_at=None,
            )
        )
        session.flush()


def _next_version(session: Session, merchant: Merchant) -> int:
    highest = session.exec(
        select(func.max(ThemeVersion.version)).where(ThemeVersion.merchant_id == merchant.id, ThemeVersion.status != "draft")
    ).one()
    return max(int(merchant.theme_version or 1), int(highest or 0)) + 1


def _write_draft(session: Session, merchant: Merchant, actor: Actor, theme: Theme, logo_id: int | None) -> ThemeVersion:
    _snapshot_published(session, merchant)
    draft = _draft(session, merchant.id)
    now = utcnow()
    if draft is None:
        draft = ThemeVersion(merchant_id=merchant.id, version=_next_version(session, merchant), status="draft", created_at=now)
    draft.theme = theme.to_dict()
    draft.logo_id = logo_id
    draft.updated_at = now
    draft.author_id = actor.account_id
    session.add(draft)
    session.flush()
    return draft


def save_draft(engine: Engine, actor: Actor | None, fields: dict) -> EditorView:
    """Validate ``fields`` (any of brand_name, primary, accent, background, radius, mode, font,
    logo_id) over the current draft (or the published theme) and store them as the draft.

    All or nothing: the first bad field raises a translated LoyaltyError and nothing is written.
    """
    admin = _authorize(engine, actor)

    def work(s: Session) -> EditorView:
        merchant = _merchant(s, admin.merchant_id, lock=True)
        current = _view(s, merchant)
        theme = validate_theme({k: v for k, v in fields.items() if k in EDITABLE_FIELDS}, current.theme)
        logo_id = _check_logo(s, merchant.id, fields["logo_id"]) if "logo_id" in fields else current.logo_id
        _write_draft(s, merchant, admin, theme, logo_id)
        return _view(s, merchant)

    return run_in_transaction(engine, work)


def discard_draft(engine: Engine, actor: Actor | None) -> bool:
    """Drop the draft (the editor goes back to the published theme); False when there was none."""
    admin = _authorize(engine, actor)

    def work(s: Session) -> bool:
        merchant = _merchant(s, admin.merchant_id, lock=True)
        draft = _draft(s, merchant.id)
        if draft is None:
            return False
        s.delete(draft)
        s.flush()
        return True

    return run_in_transaction(engine, work)


def publish(engine: Engine, actor: Actor | None, *, note: str = "") -> EditorView:
    """Make the draft what members see, at once: the merchant's theme, brand name (the
    home-screen label too), logo and a new ``theme_version`` (theme.css, manifest and icons
    follow it). The previous published version is archived, kept for revert."""
    admin = _authorize(engine, actor)
    note = one_line(note)[:NOTE_MAX]

    def work(s: Session) -> EditorView:
        merchant = _merchant(s, admin.merchant_id, lock=True)
        draft = _draft(s, merchant.id)
        if draft is None:
            raise LoyaltyError(NO_DRAFT, code="theme_no_draft")
        # Re-checked: the row may predate a rule, and what members get must be clean.
        theme = validate_theme({k: getattr(Theme.from_dict(draft.theme), k) for k in EDITABLE_FIELDS})
        logo_id = _check_logo(s, merchant.id, draft.logo_id)
        _snapshot_published(s, merchant)
        for row in s.exec(
            select(ThemeVersion).where(ThemeVersion.merchant_id == merchant.id, ThemeVersion.status == "published")
        ).all():
            row.status = "archived"
            s.add(row)
        s.flush()
        now = utcnow()
        draft.version = _next_version(s, merchant)
        draft.status = "published"
        draft.published_at = now
        draft.updated_at = now
        draft.author_id = admin.account_id
        draft.note = note
        draft.theme = theme.to_dict()
        s.add(draft)
        merchant.theme = theme.to_dict()
        merchant.theme_version = draft.version
        merchant.logo_id = logo_id
        merchant.short_name = theme.brand_name
        s.add(merchant)
        s.flush()
        admin_audit.record(s, admin, "theme.publish", target=f"v{draft.version}", detail={"note": note}, now=now)
        return _view(s, merchant)

    return run_in_transaction(engine, work)


def revert(engine: Engine, actor: Actor | None, version: int) -> EditorView:
    """Bring a published (or archived) version back as the draft, replacing any draft; publish
    it to make it live again."""
    admin = _authorize(engine, actor)

    def work(s: Session) -> EditorView:
        merchant = _merchant(s, admin.merchant_id, lock=True)
        _snapshot_published(s, merchant)
        old = s.exec(
            select(ThemeVersion).where(
                ThemeVersion.merchant_id == merchant.id,
                ThemeVersion.version == int(version),
                ThemeVersion.status != "draft",
            )
        ).first()
        if old is None:
            raise NotFound(VERSION_NOT_FOUND, code="theme_version_not_found")
        theme = Theme.from_dict(old.theme)
        logo = old.logo_id
        if logo is not None and s.get(MediaBlob, logo) is None:
            logo = None
        _write_draft(s, merchant, admin, theme, logo)
        admin_audit.record(s, admin, "theme.revert", target=f"v{old.version}")
        return _view(s, merchant)

    return run_in_transaction(engine, work)


def upload_logo(engine: Engine, actor: Actor | None, data: bytes, filename: str = "") -> int:
    """Check and clean an uploaded logo (JPEG/PNG/WebP, see services/members/member_media.py), store it
    as a PNG (transparency kept, at most 512 px) and point the draft at it; returns the blob id.

    ``filename`` is informational only. The icons are drawn from it when the draft is published.
    """
    admin = _authorize(engine, actor)
    image = decode_upload(data, LOGO_KIND)  # slow, and may refuse: before the transaction

    def work(s: Session) -> int:
        merchant = _merchant(s, admin.merchant_id, lock=True)
        blob = store_image(s, merchant_id=merchant.id, kind=LOGO_KIND, image=image, fmt="PNG")
        current = _view(s, merchant)
        _write_draft(s, merchant, admin, current.theme, blob.id)
        return int(blob.id)

    return run_in_transaction(engine, work)
