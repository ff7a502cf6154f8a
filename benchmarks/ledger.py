"""Ledger benchmark: ``python -m benchmarks.ledger [--members N] [--entries N] [--database-url URL]``.

1. Bulk-loads a program (executemany): N members and N ledger entries, each earn with its lot
   and every member's balance row, consistent enough for the audit to pass.
2. Times credits through the service (``ledger.credit``, each its own write transaction via
   ``run_in_transaction``) and bare single-row INSERTs into the same ledger table (each its own
   transaction), and prints both rates, p50/p95 latencies and their ratio.
3. Times a cockpit-style summary (balance + points expiring in 30 days + last 20 history rows)
   for a member with many entries, then runs the audit over everything.
Prints figures only; it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import select

from benchmarks.common import Timing, private_database, result, time_calls
from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import Account, LedgerEntry, MemberBalance, Merchant, PointLot, ProgramSettings, Role
from loyalty_app.services import ledger
from loyalty_app.services.platform.tx import run_in_transaction

CHUNK = 20_000
EXPIRY_DAYS = 365


_EMPTY: dict = {}  # shared by a million rows (never mutated): the JSON columns' empty value


def _member_row(account_id: int, merchant_id: int, email: str, number: str, now) -> dict:
    return {
        "id": account_id,
        "merchant_id": merchant_id,
        "role": Role.MEMBER,
        "email": email,
        "password_hash": "x",
        "first_name": "",
        "last_name": "",
        "language": "en",
        "timezone": "UTC",
        "member_number": number,
        "consents": {},
        "is_active": True,
        "created_at": now,
    }


def _earn_rows(entry_id: int, merchant_id: int, account_id: int, points: int, created) -> tuple[dict, dict]:
    """One earn entry and its lot, as the ledger would have written them (ids given here, so the
    lot points at its entry without reading anything back)."""
    entry = {
        "id": entry_id,
        "merchant_id": merchant_id,
        "account_id": account_id,
        "kind": "earn",
        "points": points,
        "available_delta": points,
        "pending_delta": 0,
        "earned_delta": points,
        "spent_delta": 0,
        "expired_delta": 0,
        "donated_delta": 0,
        "reason": "Purchase",
        "reason_params": _EMPTY,
        "rule_id": None,
        "source": _EMPTY,
        "idempotency_key": f"bulk:{entry_id}",
        "request_hash": "bulk",
        "author_id": None,
        "reverses_entry_id": None,
        "lot_id": None,
        "balance_after": _EMPTY,
        "created_at": created,
    }
    lot = {
        "id": entry_id,
        "merchant_id": merchant_id,
        "account_id": account_id,
        "source_entry_id": entry_id,
        "original_points": points,
        "remaining": points,
        "is_pending": False,
        "is_revoked": False,
        "available_at": created,
        "expires_at": created + timedelta(days=EXPIRY_DAYS),
        "created_at": created,
    }
    return entry, lot


def _balance_row(account_id: int, merchant_id: int, total: int, count: int, now) -> dict:
    return {
        "account_id": account_id,
        "merchant_id": merchant_id,
        "available": total,
        "pending": 0,
        "lifetime_earned": total,
        "spent": 0,
        "expired": 0,
        "donated": 0,
        "entry_count": count,
        "updated_at": now,
    }


def _move_sequences(conn) -> None:
    """Ids were given explicitly: move PostgreSQL's sequences past them."""
    if conn.dialect.name == "postgresql":
        for table in ("account", "ledgerentry", "pointlot"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def bulk_load(engine: Engine, *, members: int, entries: int, cockpit_entries: int, seed: int = 7) -> tuple[int, list[int], int]:
    """Create one merchant, ``members`` accounts and ``entries`` earn entries with their lots.

    Returns (merchant_id, account ids, the cockpit member's id). Ids are assigned here so
    lots can point at their entries without reading anything back.
    """
    rng = random.Random(seed)
    now = utcnow()
    with write_session(engine) as session:
        merchant = Merchant(slug="bench", name="Benchmark Cafe", short_name="Bench")
        session.add(merchant)
        session.flush()
        merchant_id = merchant.id
        session.add(ProgramSettings(merchant_id=merchant_id, expiry_policy="after_days", expiry_days=EXPIRY_DAYS))

    account_rows = [_member_row(i + 1, merchant_id, f"member{i}@bench.test", f"B{i:08d}", now) for i in range(members)]
    with engine.begin() as conn:
        for start in range(0, len(account_rows), CHUNK):
            conn.execute(insert(Account.__table__), account_rows[start : start + CHUNK])
    account_ids = [row["id"] for row in account_rows]
    cockpit_id = account_ids[0]

    totals: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    with engine.begin() as conn:
        entry_rows: list[dict] = []
        lot_rows: list[dict] = []
        for i in range(entries):
            account_id = cockpit_id if i < min(cockpit_entries, entries) else rng.choice(account_ids)
            points = rng.randint(1, 200)
            created = now - timedelta(days=rng.uniform(0, EXPIRY_DAYS - 5))
            entry_id = i + 1
            totals[account_id] += points
            counts[account_id] += 1
            entry, lot = _earn_rows(entry_id, merchant_id, account_id, points, created)
            entry_rows.append(entry)
            lot_rows.append(lot)
            if len(entry_rows) >= CHUNK:
                conn.execute(insert(LedgerEntry.__table__), entry_rows)
                conn.execute(insert(PointLot.__table__), lot_rows)
                entry_rows, lot_rows = [], []
        if entry_rows:
            conn.execute(insert(LedgerEntry.__table__), entry_rows)
            conn.execute(insert(PointLot.__table__), lot_rows)
        balance_rows = [_balance_row(a, merchant_id, totals[a], counts[a], now) for a in totals]
        for start in range(0, len(balance_rows), CHUNK):
            conn.execute(insert(MemberBalance.__table__), balance_rows[start : start + CHUNK])
        _move_sequences(conn)
    return merchant_id, account_ids, cockpit_id


def time_service_credits(engine: Engine, merchant_id: int, account_ids: Sequence[int], count: int, seed: int = 11) -> Timing:
    rng = random.Random(seed)
    targets = [rng.choice(account_ids) for _ in range(count)]

    def one(i: int) -> None:
        run_in_transaction(
            engine,
            lambda s: ledger.credit(
                s,
                merchant_id=merchant_id,
                account_id=targets[i],
                points=10,
                idempotency_key=f"bench:service:{i}",
                reason="Purchase",
                source={"store_id": 1, "receipt": f"R{i}"},
            ),
        )

    return time_calls(one, count)


def time_bare_inserts(engine: Engine, merchant_id: int, account_ids: Sequence[int], count: int, seed: int = 13) -> Timing:
    """Single-row INSERTs into the ledger table, one transaction each (same write-lock mode)."""
    rng = random.Random(seed)
    targets = [rng.choice(account_ids) for _ in range(count)]
    table = LedgerEntry.__table__
    write_engine = engine
    if engine.dialect.name == "sqlite":
        from loyalty_app.db import _IMMEDIATE

        write_engine = engine.execution_options(**{_IMMEDIATE: True})

    def one(i: int) -> None:
        with write_engine.begin() as conn:
            conn.execute(
                insert(table).values(
                    merchant_id=merchant_id,
                    account_id=targets[i],
                    kind="earn",
                    points=0,
                    reason="Bare insert",
                    reason_params={},
                    source={"store_id": 1, "receipt": f"R{i}"},
                    idempotency_key=f"bench:bare:{i}",
                    request_hash="bare",
                    balance_after={},
                    created_at=utcnow(),
                )
            )

    timing = time_calls(one, count)
    # The rows stay (the ledger is append-only: the database refuses deletes). They carry zero
    # points and zero deltas; counting them on their members' balance rows keeps the audit below
    # an honest proof of every balance.
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE memberbalance SET entry_count = entry_count + bare.n FROM "
                "(SELECT account_id, count(*) AS n FROM ledgerentry WHERE request_hash = 'bare' GROUP BY account_id) AS bare "
                "WHERE memberbalance.account_id = bare.account_id"
            )
        )
    return timing


def time_cockpit(engine: Engine, merchant_id: int, account_id: int, repeats: int) -> tuple[Timing, dict]:
    shown: dict = {}

    def one(_i: int) -> None:
        now = utcnow()
        with read_session(engine) as s:
            shown["balance"] = ledger.get_balance(s, merchant_id=merchant_id, account_id=account_id)
            shown["expiring"] = ledger.expiring_points(s, merchant_id=merchant_id, account_id=account_id, now=now, within_days=30)
            shown["history"] = ledger.history(s, merchant_id=merchant_id, account_id=account_id, limit=20)

    return time_calls(one, repeats), shown


def add_histories(engine: Engine, merchant_id: int, sizes: Sequence[int], seed: int = 17) -> dict[int, int]:
    """One new member per size, with that many earn entries (and lots) over the last year:
    {size: account id}. For the cockpit's curve as a member's history grows."""
    rng = random.Random(seed)
    now = utcnow()
    with engine.begin() as conn:
        next_account = conn.execute(text("SELECT max(id) FROM account")).scalar_one() + 1
        next_entry = conn.execute(text("SELECT max(id) FROM ledgerentry")).scalar_one() + 1
        members: dict[int, int] = {}
        for size in sizes:
            account_id = next_account
            next_account += 1
            members[size] = account_id
            conn.execute(
                insert(Account.__table__),
                [_member_row(account_id, merchant_id, f"history{size}@bench.test", f"H{size:08d}", now)],
            )
            total = 0
            for start in range(0, size, CHUNK):
                entries, lots = [], []
                for entry_id in range(next_entry + start, next_entry + min(size, start + CHUNK)):
                    points = rng.randint(1, 200)
                    created = now - timedelta(days=rng.uniform(0, EXPIRY_DAYS - 5))
                    total += points
                    entry, lot = _earn_rows(entry_id, merchant_id, account_id, points, created)
                    entries.append(entry)
                    lots.append(lot)
                conn.execute(insert(LedgerEntry.__table__), entries)
                conn.execute(insert(PointLot.__table__), lots)
            next_entry += size
            conn.execute(insert(MemberBalance.__table__), [_balance_row(account_id, merchant_id, total, size, now)])
        _move_sequences(conn)
    return members


def program_seeded(engine: Engine, merchant_id: int) -> bool:
    from loyalty_app.models import Tier

    with read_session(engine) as s:
        return s.exec(select(Tier.id).where(Tier.merchant_id == merchant_id)).first() is not None


def time_full_cockpit(engine: Engine, merchant_id: int, account_id: int, repeats: int) -> Timing:
    """The member home's real call (services.member_app.cockpit.member_summary): balance, tier progress,
    expiring points, quests, challenges, badges and recommended rewards, on a program defined
    like the demo one (4 tiers, ~12 rewards, badges, challenges, a live quest)."""
    from loyalty_app.models import Store
    from loyalty_app.services.member_app import cockpit
    from loyalty_app.services.operations.demo_program import seed_demo_program

    if not program_seeded(engine, merchant_id):
        with write_session(engine) as s:
            store = Store(merchant_id=merchant_id, code="bench", name="Bench store")
            s.add(store)
            s.flush()
            store_id = store.id
        seed_demo_program(engine, merchant_id, [], [store_id], utcnow())
    return time_calls(lambda _i: cockpit.member_summary(engine, merchant_id=merchant_id, account_id=account_id), repeats)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ledger", description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--timed", type=int, default=2_000, help="service credits and bare inserts to time")
    parser.add_argument("--cockpit-entries", type=int, default=5_000, help="entries of the member whose summary is timed")
    parser.add_argument("--cockpit-repeats", type=int, default=50)
    parser.add_argument("--database-url", help="PostgreSQL URL (a private schema is used); default: SQLite file in a temp dir")
    parser.add_argument("--skip-audit", action="store_true")
    parser.add_argument(
        "--curve", default="100,1000,10000,100000", help="history sizes of the members whose full cockpit is timed (the curve)"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)

    with private_database(args.database_url) as (_url, engine):
        backend = engine.dialect.name
        print(f"ledger benchmark: {backend}, {args.members} members, {args.entries} entries", flush=True)
        started = time.perf_counter()
        merchant_id, account_ids, cockpit_id = bulk_load(
            engine, members=args.members, entries=args.entries, cockpit_entries=args.cockpit_entries
        )
        load_s = time.perf_counter() - started
        print(f"bulk load: {args.entries} entries + lots, {args.members} members in {load_s:.1f} s", flush=True)

        service = time_service_credits(engine, merchant_id, account_ids, args.timed)
        print(
            f"service credit: {service.count} credits, {service.per_second:.0f} credits/s, "
            f"p50 {service.p50_ms:.2f} ms, p95 {service.p95_ms:.2f} ms",
            flush=True,
        )
        bare = time_bare_inserts(engine, merchant_id, account_ids, args.timed)
        print(
            f"bare insert: {bare.count} inserts, {bare.per_second:.0f} inserts/s, "
            f"p50 {bare.p50_ms:.2f} ms, p95 {bare.p95_ms:.2f} ms",
            flush=True,
        )
        ratio = bare.per_second / service.per_second
        print(f"ratio: bare insert is {ratio:.1f}x the service credit rate", flush=True)
        result(
            f"ledger ({backend})",
            "service credit (own write transaction)",
            f"{service.per_second:,.0f}/s, p50 {service.p50_ms:.2f} ms",
            baseline=f"bare INSERT + commit {bare.per_second:,.0f}/s",
            ratio=ratio,
            goal="<= 1.5x",
        )

        cockpit, shown = time_cockpit(engine, merchant_id, cockpit_id, args.cockpit_repeats)
        print(
            f"cockpit summary (member with {args.cockpit_entries} entries: balance {shown['balance'].available}, "
            f"{len(shown['expiring'])} expiry dates in 30 days, {len(shown['history'])} history rows): "
            f"p50 {cockpit.p50_ms:.2f} ms, p95 {cockpit.p95_ms:.2f} ms",
            flush=True,
        )
        full = time_full_cockpit(engine, merchant_id, cockpit_id, args.cockpit_repeats)
        print(
            f"full cockpit summary (services.member_app.cockpit.member_summary, same member): "
            f"p50 {full.p50_ms:.2f} ms, p95 {full.p95_ms:.2f} ms",
            flush=True,
        )
        result(
            f"ledger ({backend})",
            f"full cockpit summary, member with {args.cockpit_entries:,} entries among {args.entries:,}",
            f"p50 {full.p50_ms:.1f} ms, p95 {full.p95_ms:.1f} ms",
            goal="<= 10 ms (SQLite), 15 ms (PostgreSQL)",
        )
        sizes = [int(n) for n in args.curve.split(",") if n.strip()]
        if sizes:
            members = add_histories(engine, merchant_id, sizes)
            curve = {size: time_full_cockpit(engine, merchant_id, members[size], args.cockpit_repeats) for size in sizes}
            line = ", ".join(f"{size:,}: {t.p50_ms:.1f} ms" for size, t in curve.items())
            print(f"full cockpit summary p50 as a member's history grows: {line}", flush=True)
            first, last = curve[sizes[0]], curve[sizes[-1]]
            result(
                f"ledger ({backend})",
                f"full cockpit p50 by member history ({', '.join(f'{n:,}' for n in sizes)} entries)",
                ", ".join(f"{t.p50_ms:.1f}" for t in curve.values()) + " ms",
                baseline=f"{sizes[0]:,} entries",
                ratio=last.p50_ms / first.p50_ms if first.p50_ms else None,
                goal="flat",
            )
        if not args.skip_audit:
            started = time.perf_counter()
            report = ledger.audit(engine)
            status = "OK" if report.ok else f"FAILED ({len(report.drifts)} drifts)"
            print(
                f"audit: {report.entries_checked} entries, {report.members_checked} members in {time.perf_counter() - started:.1f} s: {status}",
                flush=True,
            )
            if not report.ok:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
