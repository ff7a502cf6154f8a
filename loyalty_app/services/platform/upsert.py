"""Definitions kept by their natural key ``(merchant_id, key)``: ``upsert_by_key`` creates the row
or writes only the fields that differ, so saving an unchanged definition writes nothing."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, SQLModel, select

Row = TypeVar("Row", bound=SQLModel)


def upsert_by_key(session: Session, model: type[Row], merchant_id: int, key: str, **values) -> Row:
    """Create or update the row ``(merchant_id, key)``; only differing fields are assigned."""
    row = session.exec(select(model).where(model.merchant_id == merchant_id, model.key == key)).first()
    if row is None:
        row = model(merchant_id=merchant_id, key=key, **values)
        session.add(row)
        session.flush()
        return row
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        session.add(row)
        session.flush()
    return row
