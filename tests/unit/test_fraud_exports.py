"""Fraud view, spending hold, CSV exports and the admin audit log."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.models import Account, AdminAuditEntry, AuthSession, Merchant, ProgramRules, Role, Store
from loyalty_app.services.catalog import donations, rewards
from loyalty_app.services.crm import exports
from loyalty_app.services.insight import fraud
from loyalty_app.services.members import accounts, sessions
from loyalty_app.services.platform import admin_audit
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program import program_admin
from loyalty_app.services.store import till

PW = "correct horse battery"


@pytest.fixture
def world(db_engine):
    with write_session(db_engine) as s:
        m, other = Merchant(slug="cafe", name="Cafe", short_name="Cafe"), Merchant(slug="books", name="Books", short_name="B")
        s.add(m)
        s.add(other)
        s.flush()
        store = Store(merchant_id=m.id, code="a", name="Old Town")
        s.add(store)
        s.flush()
        s.add(ProgramRules(merchant_id=m.id, till_credits_per_member_hour=1))
        reward = program_admin.upsert_reward(s, m.id, "coffee", name='=HYPERLINK("x")', kind="free_product", cost_points=10)
        charity = program_admin.upsert_charity(s, m.id, "shelter", name="Shelter")
        ids = dict(cafe=m.id, books=other.id, store=store.id, reward=reward.id, charity=charity.id)
    ana = accounts.sign_up_member(
        db_engine, merchant_id=ids["cafe"], email="ana@x.test", password=PW, first_name="Ana", last_name="Pop"
    )
    twin = accounts.sign_up_member(db_engine, merchant_id=ids["cafe"], email="ana+2@x.test", password=PW, first_name="Anna")
    staff = accounts.create_staff(
        db_engine, merchant_id=ids["cafe"], email="sam@x.test", password=PW, first_name="Sam", store_ids=[ids["store"]]
    )
    admin = accounts.create_admin(db_engine, merchant_id=ids["cafe"], email="boss@x.test", password=PW, first_name="Bo")
    books_admin = accounts.create_admin(db_engine, merchant_id=ids["books"], email="boss@x.test", password=PW, first_name="Bk")
    with write_session(db_engine) as s:  # Ana gave email consent; her twin did not
        row = s.get(Account, ana.id)
        row.consents = {"email": {"granted": True, "at": "2026-11-01T10:00:00+00:00"}}
        s.add(row)
    return {
        **ids,
        "engine": db_engine,
        "ana": ana,
        "twin": twin,
        "ana_actor": Actor(ana.id, ids["cafe"], Role.MEMBER),
        "staff": Actor(staff.id, ids["cafe"], Role.STAFF, frozenset({ids["store"]})),
        "admin": Actor(admin.id, ids["cafe"], Role.ADMIN),
        "books_admin": Actor(books_admin.id, ids["books"], Role.ADMIN),
    }


def _credit(w, receipt):
    return till.credit_purchase_at_till(
        w["engine"], w["staff"], store_id=w["store"], member_account_id=w["ana"].id, amount_text="50", receipt=receipt
    )


def test_velocity_flag_is_listed_resolved_once_and_audited(world):
    e = world["engine"]
    _credit(world, "R1")
    with pytest.raises(LoyaltyError):
        _credit(world, "R2")
    view = fraud.fraud_overview(e, world["admin"])
    assert [(f.kind, f.member_id, f.resolved) for f in view.flags] == [("velocity", world["ana"].id, False)]
    assert view.flags[0].staff == "Sam" and view.flags[0].store == "Old Town"
    with pytest.raises(LoyaltyError):
        fraud.resolve_flag(e, world["admin"], flag_id=view.flags[0].flag_id, note="   ")
    with pytest.raises(NotFound):
        fraud.resolve_flag(e, world["books_admin"], flag_id=view.flags[0].flag_id, note="not mine")
    with pytest.raises(NotAllowed):
        fraud.resolve_flag(e, world["staff"], flag_id=view.flags[0].flag_id, note="staff cannot")
    fraud.resolve_flag(e, world["admin"], flag_id=view.flags[0].flag_id, note="Two receipts, checked the till roll")
    fraud.resolve_flag(e, world["admin"], flag_id=view.flags[0].flag_id, note="again")  # no second decision
    flag = fraud.fraud_overview(e, world["admin"]).flags[0]
    assert flag.resolved and flag.note == "Two receipts, checked the till roll"
    actions = [r.action for r in admin_audit.recent(e, world["admin"])]
    assert actions == ["fraud.resolve_flag"]


def test_shared_mailbox_and_shared_ip_clusters(world):
    e, now = world["engine"], utcnow()
    view = fraud.fraud_overview(e, world["admin"])
    assert [sorted(i for i, _ in c.members) for c in view.shared_mailboxes] == [sorted([world["ana"].id, world["twin"].id])]
    third = accounts.sign_up_member(e, merchant_id=world["cafe"], email="zed@y.test", password=PW, first_name="Zed")
    with write_session(e) as s:
        for account_id in (world["ana"].id, world["twin"].id, third.id):
            s.add(
                AuthSession(
                    account_id=account_id,
                    merchant_id=world["cafe"],
                    ip="203.0.113.9",
                    idle_timeout_s=60,
                    expires_at=now + timedelta(days=1),
                    created_at=now,
                )
            )
    clusters = fraud.fraud_overview(e, world["admin"]).shared_ips
    assert [(c.key, len(c.members)) for c in clusters] == [("203.0.113.9", 3)]


def test_spending_hold_blocks_redeem_and_donate_but_not_earning(world):
    e = world["engine"]
    _credit(world, "R1")
    with pytest.raises(LoyaltyError):
        fraud.set_spending_hold(e, world["admin"], account_id=world["ana"].id, hold=True, reason="")
    with pytest.raises(NotAllowed):
        fraud.set_spending_hold(e, world["books_admin"], account_id=world["ana"].id, hold=True, reason="x")
    fraud.set_spending_hold(e, world["admin"], account_id=world["ana"].id, hold=True, reason="Shared card ring")
    with pytest.raises(NotAllowed) as redeem:
        rewards.redeem_reward(
            e, merchant_id=world["cafe"], account_id=world["ana"].id, reward_id=world["reward"], idempotency_key="k1"
        )
    assert redeem.value.code == "spending_suspended"
    with pytest.raises(NotAllowed):
        donations.donate(
            e, merchant_id=world["cafe"], account_id=world["ana"].id, charity_id=world["charity"], points=10, idempotency_key="d1"
        )
    assert fraud.fraud_overview(e, world["admin"]).suspended[0].reason == "Shared card ring"
    fraud.set_spending_hold(e, world["admin"], account_id=world["ana"].id, hold=False)
    assert (
        rewards.redeem_reward(
            e, merchant_id=world["cafe"], account_id=world["ana"].id, reward_id=world["reward"], idempotency_key="k2"
        ).points
        == 10
    )
    assert [r.action for r in admin_audit.recent(e, world["admin"])] == ["fraud.restore_spending", "fraud.hold_spending"]


def _csv(world, kind, actor=None):
    export = exports.export_csv(world["engine"], actor or world["admin"], kind)
    return list(csv.reader(io.StringIO("".join(export.rows)))), export.filename


def test_exports_have_their_columns_consented_fields_only_and_no_formulas(world):
    e = world["engine"]
    _credit(world, "R1")
    rewards.redeem_reward(
        e, merchant_id=world["cafe"], account_id=world["ana"].id, reward_id=world["reward"], idempotency_key="k"
    )
    donations.donate(
        e, merchant_id=world["cafe"], account_id=world["ana"].id, charity_id=world["charity"], points=5, idempotency_key="d"
    )
    rows, filename = _csv(world, "members")
    assert filename.startswith("cafe-members-") and filename.endswith(".csv")
    assert rows[0] == exports.COLUMNS["members"]
    by_name = {r[1]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert by_name["Ana"]["email"] == "ana@x.test" and by_name["Ana"]["last_name"] == "Pop"
    assert by_name["Anna"]["email"] == "" and by_name["Anna"]["email_consent_at"] == "", "no consent: no email"
    assert "password" not in ",".join(rows[0]) and "birthday" not in ",".join(rows[0])
    ledger_rows, _ = _csv(world, "ledger")
    assert ledger_rows[0] == exports.COLUMNS["ledger"] and len(ledger_rows) == 4  # earn, redeem, donate
    assert ledger_rows[1][5].startswith("Purchase 50.00")
    redemptions, _ = _csv(world, "redemptions")
    assert redemptions[0] == exports.COLUMNS["redemptions"]
    assert redemptions[1][3].startswith("'="), "a formula-looking reward name is neutralised"
    assert len(redemptions[1][8]) == 4, "voucher codes are masked"
    gifts, _ = _csv(world, "donations")
    assert gifts[1][3:] == ["Shelter", "5"]
    with pytest.raises(NotAllowed):
        exports.export_csv(e, world["staff"], "members")
    with pytest.raises(NotFound):
        exports.export_csv(e, world["admin"], "passwords")
    assert [r.target for r in admin_audit.recent(e, world["admin"])] == ["donations", "redemptions", "ledger", "members"]


def test_export_route_needs_the_admins_cookie(world):
    from loyalty_app.api.export_routes import build_routes

    e = world["engine"]
    client = TestClient(Starlette(routes=build_routes(lambda: e)))
    assert client.get("/m/cafe/admin-export/members.csv", follow_redirects=False).status_code == 303
    with write_session(e) as s:
        boss = s.get(Account, world["admin"].account_id)
        _row, ticket = sessions.create_session(s, account=boss, ip="", user_agent="", now=utcnow())
    secret = sessions.activate(e, ticket=ticket).secret
    response = client.get("/m/cafe/admin-export/members.csv", cookies={"ls_cafe": secret})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0] == ",".join(exports.COLUMNS["members"])
    assert "attachment" in response.headers["content-disposition"]
    assert client.get("/m/cafe/admin-export/nope.csv", cookies={"ls_cafe": secret}).status_code == 404
    with read_session(e) as s:
        assert s.exec(select(AdminAuditEntry)).all()
