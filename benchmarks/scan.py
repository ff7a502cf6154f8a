"""Scan-to-credit at the till: server time from a scanned member QR to the credited purchase.

What is timed, per scan (one member code each, issued beforehand as the member's phone would):
  scan    = till.scan: verify the signed code, consume its nonce, load name, tier and balance
  credit  = till.credit_purchase_at_till: parse amount, authorize, velocity guard, earning rules,
            ledger credit, tier/badge/challenge follow-ups
and, as the baseline in the same run and database, the bare ledger credit of the engine
benchmark (services.ledger.credit in one transaction). Prints p50/p95 and ratios.

    python -m benchmarks.scan                    # 1M ledger entries, SQLite file
    python -m benchmarks.scan --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence

from benchmarks.common import Timing, percentile, private_database, result, time_calls
from benchmarks.ledger import bulk_load, time_service_credits
from loyalty_app.db import write_session
from loyalty_app.models import ProgramRules, Role, StaffStore, Store
from loyalty_app.services.members import accounts
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.store import member_codes, till


def prepare_till(engine, merchant_id: int) -> tuple[Actor, int]:
    """A store, a cashier assigned to it and program rules that do not throttle a benchmark."""
    with write_session(engine) as s:
        store = Store(merchant_id=merchant_id, code="main", name="Main street")
        s.add(store)
        s.flush()
        s.add(ProgramRules(merchant_id=merchant_id, till_credits_per_member_hour=1_000_000))
        store_id = store.id
    staff = accounts.create_staff(
        engine,
        merchant_id=merchant_id,
        email="cashier@bench.test",
        password="bench-password-1",
        first_name="Cashier",
        store_ids=[store_id],
    )
    with write_session(engine) as s:
        assert s.get(StaffStore, (staff.id, store_id)) is not None
    return Actor(staff.id, merchant_id, Role.STAFF, frozenset({store_id}), 0), store_id


def issue_codes(engine, merchant_id: int, account_ids: Sequence[int], count: int, seed: int = 17) -> list[tuple[int, str]]:
    rng = random.Random(seed)
    members = rng.sample(list(account_ids), k=min(count, len(account_ids)))
    while len(members) < count:
        members.append(rng.choice(account_ids))
    return [
        (account_id, member_codes.issue_member_code(engine, Actor(account_id, merchant_id, Role.MEMBER))[0])
        for account_id in members
    ]


def time_scan_to_credit(engine, staff: Actor, store_id: int, codes: list[tuple[int, str]]) -> tuple[Timing, Timing, Timing]:
    scan_ms: list[float] = []
    credit_ms: list[float] = []

    def one(i: int) -> None:
        account_id, code = codes[i]
        t0 = time.perf_counter()
        found = till.scan(engine, staff, store_id=store_id, text=code)
        t1 = time.perf_counter()
        assert isinstance(found, till.MemberAtTill) and found.account_id == account_id
        done = till.credit_purchase_at_till(
            engine, staff, store_id=store_id, member_account_id=account_id, amount_text="12.40", receipt=f"B-{i}"
        )
        t2 = time.perf_counter()
        assert done.outcome.points > 0 and not done.outcome.replayed
        scan_ms.append((t1 - t0) * 1000)
        credit_ms.append((t2 - t1) * 1000)

    total = time_calls(one, len(codes))
    return total, _timing(scan_ms), _timing(credit_ms)


def _timing(samples: list[float]) -> Timing:
    return Timing(len(samples), sum(samples) / 1000, statistics.median(samples) if samples else 0.0, percentile(samples, 0.95))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scan", description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--scans", type=int, default=500)
    parser.add_argument("--database-url", help="PostgreSQL URL (a private schema is used); default: SQLite file in a temp dir")
    args = parser.parse_args(argv)

    with private_database(args.database_url) as (url, engine):
        backend = engine.dialect.name
        started = time.perf_counter()
        merchant_id, account_ids, _cockpit = bulk_load(engine, members=args.members, entries=args.entries, cockpit_entries=0)
        print(f"[{backend}] bulk load: {args.entries} entries, {args.members} members in {time.perf_counter() - started:.1f} s")
        staff, store_id = prepare_till(engine, merchant_id)
        codes = issue_codes(engine, merchant_id, account_ids, args.scans)

        bare = time_service_credits(engine, merchant_id, account_ids, args.scans)
        total, scan, credit = time_scan_to_credit(engine, staff, store_id, codes)
        print(f"bare ledger credit (baseline): {bare.count} credits, p50 {bare.p50_ms:.2f} ms, p95 {bare.p95_ms:.2f} ms")
        print(f"scan (verify + consume code, member lookup): p50 {scan.p50_ms:.2f} ms, p95 {scan.p95_ms:.2f} ms")
        print(f"credit at till (rules + ledger + follow-ups): p50 {credit.p50_ms:.2f} ms, p95 {credit.p95_ms:.2f} ms")
        print(
            f"scan-to-credit: {total.count} scans, p50 {total.p50_ms:.2f} ms, p95 {total.p95_ms:.2f} ms, "
            f"{total.per_second:.0f} scans/s"
        )
        ratio50 = total.p50_ms / bare.p50_ms if bare.p50_ms else float("inf")
        ratio95 = total.p95_ms / bare.p95_ms if bare.p95_ms else float("inf")
        print(f"ratio: scan-to-credit is {ratio50:.1f}x (p50) and {ratio95:.1f}x (p95) the bare ledger credit")
        result(
            f"scan ({backend})",
            "scan-to-credit at the till (p50)",
            f"{total.p50_ms:.2f} ms ({total.per_second:.0f}/s)",
            baseline=f"ledger credit {bare.p50_ms:.2f} ms",
            ratio=ratio50,
            goal="<= 2x",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
