"""The one path every kind's save, retire and list takes (a ``_Spec`` per kind: parse, upsert,
audit and publish to the changelog in one transaction), the per-kind functions built from a
spec, and the published changelog's list and notes."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, NotFound
from loyalty_app.i18n import translate
from loyalty_app.models import Merchant
from loyalty_app.services.platform import admin_audit
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.platform.tx import run_in_transaction
from loyalty_app.services.program import changelog
from loyalty_app.services.program.program_console.forms import _aware, _Form
from loyalty_app.services.program.program_console.rows import (
    ROW_NOT_FOUND,
    RowView,
    _admin,
    _ctx,
    _merchant,
    _new_key,
    _own_row,
    _row_id,
)

MAX_NOTE = 1000

# Changelog titles (merchant content: written once, in the program's default language).
TITLES: dict[str, tuple[str, str, str, str]] = {
    # kind: (created, updated, retired, available again)
    "reward": (
        N_("New reward: {name}"),
        N_("Reward updated: {name}"),
        N_("Reward retired: {name}"),
        N_("Reward available again: {name}"),
    ),
    "earning": (
        N_("New way to earn: {name}"),
        N_("Way to earn updated: {name}"),
        N_("Way to earn retired: {name}"),
        N_("Way to earn back: {name}"),
    ),
    "tier": (N_("New tier: {name}"), N_("Tier updated: {name}"), N_("Tier retired: {name}"), N_("Tier back: {name}")),
    "badge": (N_("New badge: {name}"), N_("Badge updated: {name}"), N_("Badge retired: {name}"), N_("Badge back: {name}")),
    "challenge": (
        N_("New challenge: {name}"),
        N_("Challenge updated: {name}"),
        N_("Challenge retired: {name}"),
        N_("Challenge back: {name}"),
    ),
    "quest": (
        N_("{name}: ×{multiplier} points from {start}"),
        N_("Changed: {name}, ×{multiplier} points from {start}"),
        N_("Cancelled: {name}"),
        N_("Back on: {name}, ×{multiplier} points from {start}"),
    ),
    "charity": (
        N_("New charity: {name}"),
        N_("Charity updated: {name}"),
        N_("Charity retired: {name}"),
        N_("Charity back: {name}"),
    ),
    "survey": (
        N_("New survey: {name}"),
        N_("Survey updated: {name}"),
        N_("Survey closed: {name}"),
        N_("Survey reopened: {name}"),
    ),
}


def _snapshot(row) -> dict:
    """Every column of ``row`` (copied), to tell whether a save changed anything."""
    return {c.name: copy.deepcopy(getattr(row, c.name)) for c in row.__table__.columns} if row is not None else {}


def _title(lang: str, template: str, **params: Any) -> str:
    title = " ".join(translate(lang, template, **params).split())
    return title if len(title) <= 120 else title[:119].rstrip() + "…"


@dataclass
class _Spec:
    kind: str  # changelog kind
    model: type
    fallback_key: str
    parse: Callable  # (f, session, merchant, row) -> values for the upsert
    upsert: Callable  # (session, merchant_id, key, values) -> row
    view: Callable  # (row, ctx) -> RowView
    start: Callable = field(default=lambda row: None)  # the rule's start (effective date)
    title_params: Callable = field(default=lambda row, lang, tz: {"name": row.name})
    order: tuple = ()
    publish: bool = True  # False: the merchant's own (segments): audited, never on members' "What's new"
    on_set_active: Callable | None = None  # (session, merchant, row, active, now) after the flag changed, same transaction


def _note(f: _Form) -> str:
    return f.text("publish_note", max_len=MAX_NOTE, multiline=True)


def _save(
    engine: Engine,
    actor: Actor | None,
    spec: _Spec,
    form: dict,
    publish_note: str,
    now: datetime | None,
    extra: Callable | None = None,
) -> RowView:
    admin = _admin(engine, actor)
    now = now or utcnow()

    def run(session: Session) -> RowView:
        merchant = _merchant(session, admin.merchant_id)
        tz = merchant.timezone or "UTC"
        f = _Form({**(form or {}), "publish_note": publish_note}, tz)
        row = _own_row(session, spec.model, merchant.id, _row_id(f.s("id")))
        note = _note(f)
        values = spec.parse(f, session, merchant, row)
        f.check()  # every refusal before anything is written
        if extra is not None:
            values.update(extra(session, merchant, row))
        before = _snapshot(row)
        key = (
            row.key
            if row is not None
            else _new_key(session, spec.model, merchant.id, values.get("name") or values.get("title", ""), spec.fallback_key)
        )
        saved = spec.upsert(session, merchant.id, key, values)
        published = row is None or before != _snapshot(saved)
        if published:
            admin_audit.record(
                session,
                admin,
                f"program.{'create' if row is None else 'update'}_{spec.kind}",
                target=f"{spec.kind}:{saved.key}",
                now=now,
            )
        if published and spec.publish:
            _publish(
                session, spec, merchant, admin, saved, TITLES[spec.kind][0 if row is None else 1], spec.start(saved), note, now
            )
        return dataclasses.replace(spec.view(saved, _ctx(session, merchant, now)), published=published)

    return run_in_transaction(engine, run)


def _set_active(
    engine: Engine, actor: Actor | None, spec: _Spec, row_id: int | str, active: bool, publish_note: str, now: datetime | None
) -> RowView:
    admin = _admin(engine, actor)
    now = now or utcnow()

    def run(session: Session) -> RowView:
        merchant = _merchant(session, admin.merchant_id)
        f = _Form({"publish_note": publish_note}, merchant.timezone or "UTC")
        note = _note(f)
        f.check()
        row = _own_row(session, spec.model, merchant.id, _row_id(row_id))
        if row is None:
            raise NotFound(ROW_NOT_FOUND, code="row_not_found", field="id")
        published = row.is_active != active
        if published:
            admin_audit.record(
                session,
                admin,
                f"program.{'restore' if active else 'retire'}_{spec.kind}",
                target=f"{spec.kind}:{row.key}",
                now=now,
            )
            row.is_active = active
            session.add(row)
            session.flush()
            if spec.on_set_active is not None:
                spec.on_set_active(session, merchant, row, active, now)
            if spec.publish:
                start = spec.start(row) if active else None
                _publish(session, spec, merchant, admin, row, TITLES[spec.kind][3 if active else 2], start, note, now)
        return dataclasses.replace(spec.view(row, _ctx(session, merchant, now)), published=published)

    return run_in_transaction(engine, run)


def _publish(
    session: Session,
    spec: _Spec,
    merchant: Merchant,
    admin: Actor,
    row,
    template: str,
    start: datetime | None,
    note: str,
    now: datetime,
) -> None:
    """Tell the members on the changelog, in the program's default language; the change takes
    effect at the rule's start, never before now."""
    lang = merchant.default_language or "en"
    changelog.record_change(
        session,
        merchant_id=merchant.id,
        kind=_change_kind(spec.kind),
        title=_title(lang, template, **spec.title_params(row, lang, merchant.timezone or "UTC")),
        body=note,
        effective_at=max(_aware(start), now) if start is not None else now,
        author_id=admin.account_id,
        now=now,
        segment_key=getattr(row, "segment_key", None),
    )


def _change_kind(kind: str) -> str:
    return kind if kind in changelog.KINDS else "program"


def _list(engine: Engine, actor: Actor | None, spec: _Spec, now: datetime | None) -> list[RowView]:
    admin = _admin(engine, actor)
    now = now or utcnow()
    with read_session(engine) as session:
        merchant = _merchant(session, admin.merchant_id)
        ctx = _ctx(session, merchant, now)
        rows = session.exec(select(spec.model).where(spec.model.merchant_id == merchant.id).order_by(*spec.order)).all()
        return [spec.view(r, ctx) for r in rows]


# ---------------------------------------------------------------- the per-kind functions
# ``list_X``, ``save_X`` and ``retire_X`` of most kinds differ only by their spec: each kind's
# module builds them from its spec with these three, each with the signature, name and docstring
# a hand-written one would have. A kind whose function does more writes it out (``save_reward``,
# ``list_segments``).


class ListRows(Protocol):
    def __call__(self, engine: Engine, admin: Actor | None, *, now: datetime | None = None) -> list[RowView]: ...


class SaveRow(Protocol):
    def __call__(
        self, engine: Engine, admin: Actor | None, form: dict, *, publish_note: str = "", now: datetime | None = None
    ) -> RowView: ...


class RetireRow(Protocol):
    def __call__(
        self, engine: Engine, admin: Actor | None, row_id: int | str, *, publish_note: str = "", now: datetime | None = None
    ) -> RowView: ...


def _named(function: Any, spec: _Spec, name: str, doc: str) -> Any:
    """Name the generated function as if written out in the kind's module (tracebacks, help())."""
    function.__name__ = function.__qualname__ = name
    function.__module__ = spec.view.__module__
    function.__doc__ = doc
    return function


def list_function(spec: _Spec, name: str, doc: str = "") -> ListRows:
    """``name(engine, admin, *, now=None)``: every row of ``spec``'s kind in the admin's program."""

    def list_rows(engine: Engine, admin: Actor | None, *, now: datetime | None = None) -> list[RowView]:
        return _list(engine, admin, spec, now)

    return _named(
        list_rows, spec, name, doc or f"Every row of kind ``{spec.kind}`` in the admin's program, as the editor lists them."
    )


def save_function(spec: _Spec, name: str, doc: str = "") -> SaveRow:
    """``name(engine, admin, form, *, publish_note="", now=None)``: create or update a row of ``spec``'s kind."""

    def save_row(
        engine: Engine, admin: Actor | None, form: dict, *, publish_note: str = "", now: datetime | None = None
    ) -> RowView:
        return _save(engine, admin, spec, form, publish_note, now)

    return _named(save_row, spec, name, doc or f"Create or update a row of kind ``{spec.kind}`` (see the package doc).")


def retire_function(spec: _Spec, name: str, doc: str = "") -> RetireRow:
    """``name(engine, admin, row_id, *, publish_note="", now=None)``: switch a row of ``spec``'s kind off."""

    def retire_row(
        engine: Engine, admin: Actor | None, row_id: int | str, *, publish_note: str = "", now: datetime | None = None
    ) -> RowView:
        return _set_active(engine, admin, spec, row_id, False, publish_note, now)

    return _named(retire_row, spec, name, doc or f"Retire a row of kind ``{spec.kind}`` (``set_active`` brings it back).")


# ---------------------------------------------------------------- the published changelog


def list_changes(engine: Engine, admin: Actor | None, *, limit: int = 100) -> list[changelog.ChangeView]:
    _admin(engine, admin)
    return changelog.published_changes(engine, admin, limit=limit)


def annotate_change(engine: Engine, admin: Actor | None, change_id: int | str, note: str) -> changelog.ChangeView:
    _admin(engine, admin)
    text = str(change_id or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise NotFound(N_("This change cannot be found."), code="change_not_found")
    return changelog.annotate(engine, admin, change_id=int(text), note=note)
