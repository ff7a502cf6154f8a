"""The periodic tier evaluation reads members set-based (a batch's tier rows in one query, their
qualifying points in one grouped query per window). It must decide exactly what the member-by-
member evaluation decided: twin programs get the same history; one is evaluated by the service,
the other by the one-by-one reference below (the algorithm the service replaced); every member's
tier row, every tier change and the reports must match, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain import tiers as tier_rules
from loyalty_app.models import Account, MemberTier, MemberTierChange, Merchant, Role
from loyalty_app.services import ledger
from loyalty_app.services.earning import tiers
from tests.engine.test_rules_support import T0, make_program

MEMBERS = 23


def _history(engine, p, seed: int) -> None:
    """Earns spread over two years (both sides of every window edge), some reversed, some
    members already holding a tier (with or without a running grace)."""
    rng = random.Random(seed)
    with write_session(engine) as s:
        for index, account_id in enumerate(p.member_ids):
            for n in range(rng.randint(0, 6)):
                at = T0 - timedelta(days=rng.choice([0, 1, 30, 180, 364, 365, 366, 400, 500]), minutes=rng.randint(0, 90))
                result = ledger.credit(
                    s,
                    merchant_id=p.merchant_id,
                    account_id=account_id,
                    points=rng.choice([50, 120, 400, 900, 1600]),
                    idempotency_key=f"earn-{index}-{n}",
                    reason="purchase",
                    now=at,
                )
                if rng.random() < 0.2:
                    ledger.reverse(
                        s,
                        merchant_id=p.merchant_id,
                        entry_id=result.entry_id,
                        idempotency_key=f"undo-{index}-{n}",
                        reason="returned",
                        now=at + timedelta(hours=1),
                    )
            held = rng.choice([None, "bronze", "silver", "gold"])
            if held is not None:
                grace = rng.choice([None, T0 - timedelta(days=1), T0 + timedelta(days=10)])
                s.add(
                    MemberTier(
                        merchant_id=p.merchant_id,
                        account_id=account_id,
                        tier_id=p.tier_ids[held],
                        since=T0 - timedelta(days=200),
                        grace_until=grace,
                        qualifying_points=0,
                    )
                )


def _evaluate_one_by_one(engine, merchant_id: int, now: datetime) -> tuple[int, int, int, int]:
    """The reference: each member read alone (``tiers.qualifying_points``: one query per window)."""
    counts = [0, 0, 0, 0]  # evaluated, upgraded, downgraded, grace started
    with write_session(engine) as s:
        merchant = s.get(Merchant, merchant_id)
        settings = ledger.get_program_settings(s, merchant_id)
        specs = tiers.load_tiers(s, merchant_id)
        for account_id in sorted(_member_ids(s, merchant_id)):
            counts[0] += 1
            row = tiers.member_tier_row(s, merchant_id, account_id)
            current, _stale = tiers._held(s, specs, row)
            points = tiers.qualifying_points(
                s, merchant_id=merchant_id, account_id=account_id, window=settings.tier_window, now=now, tz=merchant.timezone
            )
            decision = tier_rules.evaluate(
                current,
                tier_rules.qualifying_tier(specs, points),
                grace_until=row.grace_until if row else None,
                now=now,
                grace_days=settings.tier_grace_days,
            )
            if decision.outcome in (tier_rules.EvaluationOutcome.UPGRADE, tier_rules.EvaluationOutcome.DOWNGRADE):
                upgraded = decision.outcome is tier_rules.EvaluationOutcome.UPGRADE
                tiers._set_tier(
                    s,
                    merchant_id=merchant_id,
                    account_id=account_id,
                    row=row,
                    old=current,
                    new=decision.tier,
                    points=points,
                    reason="evaluation" if upgraded else "grace_expired",
                    now=now,
                )
                counts[1 if upgraded else 2] += 1
            elif row is not None and (row.grace_until != decision.grace_until or row.qualifying_points != points):
                counts[3] += decision.outcome is tier_rules.EvaluationOutcome.GRACE_STARTED
                row.grace_until, row.qualifying_points, row.evaluated_at = decision.grace_until, points, now
                s.add(row)
    return tuple(counts)  # type: ignore[return-value]


def _member_ids(s, merchant_id: int) -> list[int]:
    return list(s.exec(select(Account.id).where(Account.merchant_id == merchant_id, Account.role == Role.MEMBER)).all())


def _outcome(engine, p) -> list[tuple]:
    """Per member (by position): the tier key held, grace, qualifying points; then the changes."""
    keys = {tier_id: key for key, tier_id in p.tier_ids.items()}
    with read_session(engine) as s:
        rows = {r.account_id: r for r in s.exec(select(MemberTier).where(MemberTier.merchant_id == p.merchant_id))}
        changes = s.exec(
            select(MemberTierChange).where(MemberTierChange.merchant_id == p.merchant_id).order_by(MemberTierChange.id)
        ).all()
        position = {account_id: i for i, account_id in enumerate(p.member_ids)}
        held = [
            (keys.get(rows[a].tier_id), rows[a].grace_until, rows[a].qualifying_points) if a in rows else None
            for a in p.member_ids
        ]
        moves = sorted(
            (position[c.account_id], keys.get(c.from_tier_id), keys.get(c.to_tier_id), c.reason, c.qualifying_points)
            for c in changes
        )
    return [held, moves]


@pytest.mark.parametrize("window", ["rolling_12m", "calendar_year"])
@pytest.mark.parametrize("batch_size", [1, 4, 1000])
def test_set_based_evaluation_decides_what_one_by_one_did(db_engine, window, batch_size):
    service = make_program(db_engine, "svc", members=MEMBERS, tier_window=window)
    reference = make_program(db_engine, "ref", members=MEMBERS, tier_window=window)
    for p in (service, reference):
        _history(db_engine, p, seed=7)
    for now in (T0, T0 + timedelta(days=20), T0 + timedelta(days=400)):  # grace starts, then ends
        report = tiers.evaluate_tiers(db_engine, service.merchant_id, now, batch_size=batch_size)
        expected = _evaluate_one_by_one(db_engine, reference.merchant_id, now)
        assert (report.evaluated, report.upgraded, report.downgraded, report.grace_started) == expected
        assert _outcome(db_engine, service) == _outcome(db_engine, reference)
    moved = _outcome(db_engine, service)[1]
    assert {reason for *_x, reason, _p in moved} >= {"evaluation", "grace_expired"}  # both paths exercised


def test_grouped_earned_points_equal_the_single_member_query(db_engine):
    p = make_program(db_engine, "sum", members=MEMBERS)
    other = make_program(db_engine, "other", members=3)  # never counted in p's sums
    _history(db_engine, p, seed=11)
    _history(db_engine, other, seed=12)
    start, end = T0 - timedelta(days=365), T0 + timedelta(microseconds=1)
    with read_session(db_engine) as s:
        grouped = ledger.earned_between_by_member(s, account_ids=p.member_ids, start=start, end=end)
        for account_id in p.member_ids:
            alone = ledger.lifetime_earned_between(s, merchant_id=p.merchant_id, account_id=account_id, start=start, end=end)
            assert grouped.get(account_id, 0) == alone
        assert ledger.earned_between_by_member(s, account_ids=[], start=start, end=end) == {}
    assert any(grouped.values())
