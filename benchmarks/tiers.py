"""Tier evaluation benchmark: ``python -m benchmarks.tiers [--members N] [--entries N] [--database-url URL]``.

Bulk-loads a program (``benchmarks.ledger.bulk_load``: N members, N ledger entries over the last
year) with four tiers, then times, in the same run:

1. the baseline: reading each member's qualifying points alone (``tiers.qualifying_points``,
   one ledger query per window), the way the periodic evaluation read members before it went
   set-based, on a sample of members;
2. the periodic evaluation of every member (``tiers.evaluate_tiers``: per batch, the tier rows in
   one query and the qualifying points in one grouped query per window), run twice: the first
   run writes every member's tier, the second finds nothing to change.

Prints members per second and the ratio; it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from benchmarks.common import private_database, result
from benchmarks.ledger import bulk_load
from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.services.earning import tiers
from loyalty_app.services.program import program_admin

TIERS = [("bronze", 0, 0), ("silver", 1, 500), ("gold", 2, 1500), ("platinum", 3, 4000)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tiers", description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2_000, help="members read one by one for the baseline")
    parser.add_argument("--database-url", help="PostgreSQL URL (a private schema is used); default: SQLite file in a temp dir")
    args = parser.parse_args(list(argv) if argv is not None else None)

    with private_database(args.database_url) as (_url, engine):
        print(
            f"tier benchmark: {engine.dialect.name}, {args.members} members, {args.entries} entries, "
            f"load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        started = time.perf_counter()
        merchant_id, account_ids, _cockpit = bulk_load(engine, members=args.members, entries=args.entries, cockpit_entries=0)
        with write_session(engine) as s:
            for key, rank, threshold in TIERS:
                program_admin.upsert_tier(s, merchant_id, key, name=key.title(), rank=rank, threshold=threshold)
        print(f"bulk load: {time.perf_counter() - started:.1f} s", flush=True)

        now = utcnow()
        sample = account_ids[: args.sample]
        started = time.perf_counter()
        with read_session(engine) as s:
            for account_id in sample:
                tiers.qualifying_points(
                    s, merchant_id=merchant_id, account_id=account_id, window="rolling_12m", now=now, tz="UTC"
                )
        one_by_one = len(sample) / (time.perf_counter() - started)
        print(f"baseline, members read one by one: {len(sample)} members, {one_by_one:,.0f} members/s", flush=True)

        for label in ("first evaluation (writes every tier)", "second evaluation (nothing changes)"):
            started = time.perf_counter()
            report = tiers.evaluate_tiers(engine, merchant_id, now)
            seconds = time.perf_counter() - started
            rate = report.evaluated / seconds
            print(
                f"{label}: {report.evaluated:,} members in {seconds:.1f} s, {rate:,.0f} members/s "
                f"({rate / one_by_one:.1f}x the one-by-one reads); upgraded {report.upgraded:,}",
                flush=True,
            )
            result(
                f"tiers ({engine.dialect.name})",
                f"{label}, {report.evaluated:,} members",
                f"{seconds:.1f} s ({rate:,.0f} members/s)",
                baseline=f"one-by-one reads {one_by_one:,.0f} members/s",
                ratio=rate / one_by_one,
                goal="100,000 members < 60 s",
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
