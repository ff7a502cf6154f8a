"""Shared builders for the rules-engine tests (no tests here).

``make_program`` creates one merchant with two stores, members, a staff member and an admin,
plus a small program: three tiers, earning rules, a charity and rewards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import write_session
from loyalty_app.models import Account, Merchant, ProgramSettings, Role, StaffStore, Store
from loyalty_app.services import ledger
from loyalty_app.services.program import program_admin as admin

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, 12:00 in Bucharest


@dataclass
class Program:
    merchant_id: int
    store_ids: list[int]
    member_ids: list[int]
    staff_id: int
    admin_id: int
    tier_ids: dict = field(default_factory=dict)
    reward_ids: dict = field(default_factory=dict)
    charity_ids: dict = field(default_factory=dict)


def make_program(
    engine: Engine, slug: str = "cafe", *, members: int = 3, tz: str = "Europe/Bucharest", with_rules: bool = True, **settings
) -> Program:
    """A merchant with stores and people; ``with_rules`` adds the small test program."""
    with write_session(engine) as s:
        merchant = Merchant(slug=slug, name=slug.title(), short_name=slug, timezone=tz, currency="EUR")
        s.add(merchant)
        s.flush()
        stores = [Store(merchant_id=merchant.id, code=f"{slug}-s{i}", name=f"{slug} store {i}") for i in range(2)]
        s.add_all(stores)
        s.flush()

        def person(i: int, role: Role) -> Account:
            acc = Account(
                merchant_id=merchant.id,
                role=role,
                email=f"{role.value}{i}@{slug}.test",
                password_hash="x",
                first_name=f"First{i}",
                last_name="Last",
                birthday=date(1990, 11, 15),
                member_number=f"{slug[:3]}{role.value[0]}{i}",
                created_at=T0 - timedelta(days=400),
            )
            s.add(acc)
            s.flush()
            return acc

        member_rows = [person(i, Role.MEMBER) for i in range(members)]
        staff = person(0, Role.STAFF)
        boss = person(0, Role.ADMIN)
        s.add(StaffStore(account_id=staff.id, store_id=stores[0].id))
        row = ledger.get_program_settings(s, merchant.id)
        for key, value in {"tier_grace_days": 30, "donation_daily_limit": 500, **settings}.items():
            setattr(row, key, value)
        s.add(row)
        program = Program(merchant.id, [st.id for st in stores], [m.id for m in member_rows], staff.id, boss.id)
        if not with_rules:
            return program
        for key, name, rank, threshold, mult in [
            ("bronze", "Bronze", 0, 0, {}),
            ("silver", "Silver", 1, 500, {"purchase": 150}),
            ("gold", "Gold", 2, 1500, {"purchase": 200, "refer_friend": 200}),
        ]:
            program.tier_ids[key] = admin.upsert_tier(
                s, merchant.id, key, name=name, rank=rank, threshold=threshold, multipliers=mult
            ).id
        admin.upsert_earning_rule(s, merchant.id, "check-in", action="check_in", points=10, limit_count=1, limit_period="day")
        admin.upsert_earning_rule(s, merchant.id, "review", action="write_review", points=25, limit_count=2, limit_period="week")
        admin.upsert_earning_rule(
            s, merchant.id, "profile", action="complete_profile", points=50, limit_count=1, limit_period="ever"
        )
        admin.upsert_earning_rule(s, merchant.id, "rate", action="rate_reward", points=5, limit_count=3, limit_period="month")
        admin.upsert_earning_rule(s, merchant.id, "event", action="attend_event", points=40, params={"event_codes": ["JAZZ"]})
        program.charity_ids["trees"] = admin.upsert_charity(s, merchant.id, "trees", name="Plant trees").id
        program.reward_ids["coffee"] = admin.upsert_reward(
            s, merchant.id, "coffee", name="Free coffee", kind="free_product", cost_points=100
        ).id
        program.reward_ids["mug"] = admin.upsert_reward(
            s, merchant.id, "mug", name="Mug", kind="free_product", cost_points=50, stock=1, per_member_limit=1
        ).id
        program.reward_ids["vip"] = admin.upsert_reward(
            s, merchant.id, "vip", name="VIP evening", kind="event_ticket", cost_points=10, min_tier_key="gold"
        ).id
    return program


def settings_row(engine: Engine, merchant_id: int) -> ProgramSettings:
    with write_session(engine) as s:
        return s.exec(select(ProgramSettings).where(ProgramSettings.merchant_id == merchant_id)).one()
