"""The demo program: complete, consistent with the ledger, and idempotent."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import text
from sqlmodel import SQLModel, func, select

from loyalty_app.db import read_session
from loyalty_app.models import Badge, Challenge, Charity, EarningRule, MediaBlob, Quest, Reward, Tier, Voucher
from loyalty_app.services import ledger
from loyalty_app.services.member_app.cockpit import member_summary
from loyalty_app.services.operations.demo_program import ACTION_RULES, seed_demo_program
from tests.engine.test_rules_support import T0, make_program


def _row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() for name in SQLModel.metadata.tables}


def _check_seeded(engine, p, *, rewards: int) -> None:
    with read_session(engine) as s:
        mid = p.merchant_id
        assert s.exec(select(func.count()).select_from(Tier).where(Tier.merchant_id == mid)).one() == 4
        reward_rows = s.exec(select(Reward).where(Reward.merchant_id == mid, Reward.image_id.is_not(None))).all()
        assert len(reward_rows) == rewards
        blob = s.get(MediaBlob, reward_rows[0].image_id)
        assert blob.kind == "reward" and Image.open(io.BytesIO(blob.data)).size == (480, 320)
        actions = set(s.exec(select(EarningRule.action).where(EarningRule.merchant_id == mid)).all())
        assert {a for a, *_ in ACTION_RULES} | {"purchase"} <= actions
        assert s.exec(select(func.count()).select_from(Charity).where(Charity.merchant_id == mid)).one() == 3
        assert s.exec(select(Challenge).where(Challenge.merchant_id == mid, Challenge.hidden)).first() is not None
        assert s.exec(select(func.count()).select_from(Badge).where(Badge.merchant_id == mid)).one() >= 7
        quest = s.exec(select(Quest).where(Quest.merchant_id == mid)).one()
        assert quest.starts_at <= T0 < quest.ends_at
        assert s.exec(select(func.count()).select_from(Voucher).where(Voucher.merchant_id == mid)).one() >= 1
        for member in p.member_ids:
            balance = ledger.get_balance(s, merchant_id=mid, account_id=member)
            assert balance.lifetime_earned > 0 and balance.available >= 0
    assert ledger.audit(engine).ok


@pytest.mark.slow
def test_full_demo_program_is_consistent_and_idempotent(sqlite_engine):
    p = make_program(sqlite_engine, "demo", with_rules=False)
    seed_demo_program(sqlite_engine, p.merchant_id, p.member_ids, p.store_ids, T0)
    _check_seeded(sqlite_engine, p, rewards=12)
    summary = member_summary(sqlite_engine, merchant_id=p.merchant_id, account_id=p.member_ids[0], now=T0)
    assert summary.active_quests and summary.recommended_rewards and summary.newest_badges
    assert summary.expiring_30d > 0  # history reaches back past the expiry horizon
    before = _row_counts(sqlite_engine)
    seed_demo_program(sqlite_engine, p.merchant_id, p.member_ids, p.store_ids, T0)
    assert _row_counts(sqlite_engine) == before


def test_small_demo_program_idempotent(db_engine):
    p = make_program(db_engine, "books", members=2, with_rules=False)
    seed_demo_program(db_engine, p.merchant_id, p.member_ids, p.store_ids, T0, size="small")
    _check_seeded(db_engine, p, rewards=6)
    before = _row_counts(db_engine)
    seed_demo_program(db_engine, p.merchant_id, p.member_ids, p.store_ids, T0, size="small")
    assert _row_counts(db_engine) == before
