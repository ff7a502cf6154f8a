"""Reward stock under concurrency: two processes race for the last item; exactly one wins."""

from __future__ import annotations

import multiprocessing

import pytest
from sqlmodel import SQLModel, func, select

from loyalty_app.db import make_engine, read_session
from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.models import Reward, Voucher
from loyalty_app.services.catalog import rewards
from loyalty_app.services.earning import actions as earning
from tests.engine.test_rules_support import T0, make_program


def _redeem_worker(url: str, merchant_id: int, account_id: int, reward_id: int, barrier, results) -> None:
    engine = make_engine(url)
    try:
        barrier.wait(timeout=60)
        rewards.redeem_reward(
            engine,
            merchant_id=merchant_id,
            account_id=account_id,
            reward_id=reward_id,
            idempotency_key=f"race-{account_id}",
            now=T0,
        )
        results.put(("won", account_id))
    except LoyaltyError as refused:
        results.put((refused.code, account_id))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((f"error: {exc!r}", account_id))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_last_item_goes_to_exactly_one_process(db_url):
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    p = make_program(engine)
    for i, member in enumerate(p.member_ids[:2]):
        earning.credit_purchase(
            engine,
            merchant_id=p.merchant_id,
            account_id=member,
            store_id=p.store_ids[0],
            amount_cents=10000,
            receipt=f"r{i}",
            now=T0,
        )
    engine.dispose()
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_redeem_worker, args=(db_url, p.merchant_id, member, p.reward_ids["mug"], barrier, results))
        for member in p.member_ids[:2]
    ]
    for proc in procs:
        proc.start()
    outcomes = sorted(results.get(timeout=120)[0] for _ in procs)
    for proc in procs:
        proc.join(timeout=60)
    assert outcomes == ["out_of_stock", "won"]
    engine = make_engine(db_url)
    with read_session(engine) as s:
        assert s.get(Reward, p.reward_ids["mug"]).stock == 0
        assert s.exec(select(func.count()).select_from(Voucher)).one() == 1
    engine.dispose()
