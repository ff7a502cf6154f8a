"""Analytics benchmark: ``python -m benchmarks.analytics [--members N] [--entries N] [--database-url URL]``.

1. Generates one program in a private database: N members enrolling over 18 months (more
   recently than long ago), each visiting at their own rate until they drop out (half of them do,
   after about 200 days), simulated in time order so ledger ids follow time as in production.
   Every visit is a purchase (earn entry + ``MemberActivity``), some add a check-in; members redeem
   rewards when they can (redeem entry + voucher, a few cancelled and reversed), donate now and
   then, some earns are reversed, a few manual adjustments, and dropped-out members' points expire
   a year after their last earn. Six week-long double-point quests lift visits; challenges,
   ratings, referral codes and referrals, balances follow from the simulation. Rows go in with
   DBAPI ``executemany`` in chunks (no COPY), into tables made by ``SQLModel.metadata.create_all``
   (so with the models' indexes). PostgreSQL then gets VACUUM ANALYZE (what autovacuum does);
   SQLite gets no ANALYZE unless ``--analyze`` (the app never runs it).
2. Times every chart function of ``services.insight.analytics`` for each period (day/week/month): p50
   of ``--repeats`` runs, and the whole dashboard once per period, first live from the base
   tables (``analytics.live_only()``, the baseline; ``--skip-baseline`` leaves it out), then
   builds the rollups of every closed local day (``services.insight.analytics_rollup``, what the CLI's
   ``analytics-rollup`` and the periodic jobs do; its time is reported) and times them all again
   with the rollups. Prints one table with both, and whether both dashboards are equal.
Prints figures only; it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from benchmarks.common import private_database, result
from loyalty_app.db import make_engine
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import (
    Account,
    Challenge,
    Merchant,
    ProgramSettings,
    Quest,
    Reward,
    Role,
    Store,
)
from loyalty_app.services.insight import analytics, analytics_rollup
from loyalty_app.services.platform.permissions import Actor

CHUNK = 50_000
TZ = "Europe/Bucharest"
DAY = 86_400.0
HISTORY_DAYS = 548  # 18 months
ENTRIES_PER_VISIT = 1.39  # purchase + some check-ins, redemptions, donations, reversals (calibration)
REWARDS = (  # (key, name, cost, quality 1-5 for ratings)
    ("espresso", "Espresso", 60, 4.6),
    ("cookie", "Cookie", 80, 3.9),
    ("cappuccino", "Cappuccino", 120, 4.4),
    ("tea", "Pot of tea", 100, 3.5),
    ("muffin", "Muffin", 150, 4.0),
    ("sandwich", "Sandwich", 300, 3.2),
    ("beans", "Bag of beans", 500, 4.8),
    ("mug", "Branded mug", 700, 2.9),
    ("brunch", "Brunch for two", 1000, 4.7),
    ("class", "Barista class", 1500, 4.9),
    ("tote", "Tote bag", 400, 2.5),
    ("cake", "Slice of cake", 200, 4.1),
)

LEDGER_COLUMNS = (
    "id",
    "merchant_id",
    "account_id",
    "kind",
    "points",
    "available_delta",
    "pending_delta",
    "earned_delta",
    "spent_delta",
    "expired_delta",
    "donated_delta",
    "reason",
    "reason_params",
    "rule_id",
    "source",
    "idempotency_key",
    "request_hash",
    "author_id",
    "reverses_entry_id",
    "lot_id",
    "balance_after",
    "created_at",
)
ACTIVITY_COLUMNS = (
    "id",
    "merchant_id",
    "account_id",
    "action",
    "rule_id",
    "store_id",
    "at",
    "local_day",
    "idempotency_key",
    "entry_id",
    "points",
    "breakdown",
    "detail",
)
VOUCHER_COLUMNS = (
    "id",
    "merchant_id",
    "account_id",
    "reward_id",
    "code",
    "status",
    "issued_at",
    "expires_at",
    "used_at",
    "used_store_id",
    "used_by_id",
    "cancelled_at",
    "redeem_entry_id",
    "reversal_entry_id",
    "idempotency_key",
)


class _Writer:
    """Buffers rows per table and writes them with the driver's executemany, in chunks."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"
        self.buffers: dict[str, list[tuple]] = {}
        self.columns: dict[str, Sequence[str]] = {}
        self.extra: dict[str, tuple] = {}
        self.raw = engine.raw_connection()
        self.rows = 0

    def _defaults(self, table: str, columns: Sequence[str]) -> None:
        """Columns this file does not name get their model default (other work adds columns)."""
        names, values = list(columns), []
        for column in SQLModel.metadata.tables[table].columns:
            if column.name in columns or column.default is None:
                continue
            value = column.default.arg
            if callable(value):
                value = value(None) if column.default.is_callable else value
            if isinstance(value, (dict, list)):
                value = json.dumps(value)
            elif isinstance(value, datetime):
                value = self.ts(value.timestamp())
            names.append(column.name)
            values.append(value)
        self.columns[table] = names
        self.extra[table] = tuple(values)

    def ts(self, epoch: float):
        moment = datetime.fromtimestamp(epoch, UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else moment

    def add(self, table: str, columns: Sequence[str], row: tuple) -> None:
        buf = self.buffers.setdefault(table, [])
        if table not in self.columns:
            self._defaults(table, columns)
        extra = self.extra[table]
        buf.append(row + extra if extra else row)
        if len(buf) >= CHUNK:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.buffers):
            rows = self.buffers.get(name) or []
            if not rows:
                continue
            cols = self.columns[name]
            sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join([self.mark] * len(cols))})"
            cur = self.raw.cursor()
            if self.sqlite:  # the engine's connections are in autocommit mode: one transaction per chunk
                cur.execute("BEGIN")
            cur.executemany(sql, rows)
            if self.sqlite:
                cur.execute("COMMIT")
            cur.close()
            if not self.sqlite:
                self.raw.commit()
            self.rows += len(rows)
            self.buffers[name] = []

    def close(self) -> None:
        self.flush()
        self.raw.close()


def generate(engine: Engine, *, members: int, entries: int, now: datetime, seed: int = 7, analyze: bool = False) -> dict:
    """Fill the database; returns counts and the admin actor's ids."""
    rng = random.Random(seed)
    now_epoch = now.timestamp()
    start_epoch = now_epoch - HISTORY_DAYS * DAY
    zone = ZoneInfo(TZ)
    day_cache: dict[int, str | date] = {}
    w = _Writer(engine)

    def local_day(epoch: float):
        hour = int(epoch // 3600)
        got = day_cache.get(hour)
        if got is None:
            d = datetime.fromtimestamp(hour * 3600, UTC).astimezone(zone).date()
            got = day_cache[hour] = d.isoformat() if w.sqlite else d
        return got

    # --- the program: merchant, settings, stores, rewards, quests, challenges, admin.
    with engine.begin() as conn:
        mid = conn.execute(
            insert(Merchant.__table__).values(
                slug="bench", name="Benchmark Cafe", short_name="Bench", timezone=TZ, currency="EUR", theme={}
            )
        ).inserted_primary_key[0]
        conn.execute(insert(ProgramSettings.__table__).values(merchant_id=mid, expiry_policy="after_days", expiry_days=365))
        store_ids = [
            conn.execute(insert(Store.__table__).values(merchant_id=mid, code=f"s{i}", name=f"Store {i}")).inserted_primary_key[0]
            for i in range(3)
        ]
        reward_ids = [
            conn.execute(
                insert(Reward.__table__).values(
                    merchant_id=mid, key=key, name=name, kind="free_product", cost_points=cost, sort_order=i
                )
            ).inserted_primary_key[0]
            for i, (key, name, cost, _q) in enumerate(REWARDS)
        ]
        quest_windows = []
        for i in range(6):  # week-long double points, every ~2 months over the last year
            qs = now_epoch - (20 + 60 * i) * DAY
            quest_windows.append((qs, qs + 7 * DAY))
            conn.execute(
                insert(Quest.__table__).values(
                    merchant_id=mid,
                    key=f"double-{i}",
                    name=f"Double points week {6 - i}",
                    multiplier_pct=200,
                    starts_at=datetime.fromtimestamp(qs, UTC),
                    ends_at=datetime.fromtimestamp(qs + 7 * DAY, UTC),
                    tier_keys=[],
                    actions=["purchase"],
                )
            )
        challenge_ids = {
            key: conn.execute(
                insert(Challenge.__table__).values(
                    merchant_id=mid, key=key, name=name, action=action, target=target, reward_points=50
                )
            ).inserted_primary_key[0]
            for key, name, action, target in (
                ("ten-visits", "Visit 10 times", "visit", 10),
                ("five-checkins", "Check in 5 times", "check_in", 5),
            )
        }

    # --- members: enrolment skewed to recent months, a visit rate, half drop out.
    joins = sorted(now_epoch - HISTORY_DAYS * DAY * (1 - math.sqrt(rng.random())) for _ in range(members))
    ends = []
    for j in joins:
        end = j + rng.expovariate(1 / 200) * DAY if rng.random() < 0.5 else now_epoch
        ends.append(min(end, now_epoch))
    weights = [rng.lognormvariate(0, 0.8) for _ in range(members)]
    active_days = sum(w_ * max(e - j, 0) / DAY for w_, j, e in zip(weights, joins, ends))
    base_rate = entries / ENTRIES_PER_VISIT / max(active_days, 1)  # visits per day at weight 1
    account_rows = [
        {
            "id": i + 1,
            "merchant_id": mid,
            "role": Role.MEMBER,
            "email": f"member{i}@bench.test",
            "password_hash": "x",
            "first_name": f"Member{i}",
            "last_name": "Bench",
            "language": "en",
            "timezone": TZ,
            "member_number": f"B{i:08d}",
            "consents": {},
            "is_active": True,
            "created_at": datetime.fromtimestamp(joins[i], UTC),
        }
        for i in range(members)
    ]
    admin_id = members + 1
    account_rows.append(
        {
            **account_rows[0],
            "id": admin_id,
            "role": Role.ADMIN,
            "email": "admin@bench.test",
            "member_number": "ADMIN",
            "first_name": "Admin",
            "created_at": datetime.fromtimestamp(start_epoch, UTC),
        }
    )
    with engine.begin() as conn:
        for s in range(0, len(account_rows), CHUNK):
            conn.execute(insert(Account.__table__), account_rows[s : s + CHUNK])

    # --- the simulation, in time order (a heap of each member's next event).
    available = [0] * members
    earned = [0] * members
    spent = [0] * members
    expired = [0] * members
    donated = [0] * members
    counts = [0] * members
    last_earn = [0.0] * members
    visits = [0] * members
    checkins = [0] * members
    tenth_visit: dict[int, float] = {}
    fifth_checkin: dict[int, float] = {}
    first_purchase: dict[int, float] = {}
    redeemed_rewards: dict[int, set[int]] = {}
    heap = [(joins[i] + rng.expovariate(base_rate * weights[i] or 1e-9) * DAY, 0, i) for i in range(members)]
    heapq.heapify(heap)
    entry_id = activity_id = voucher_id = 0
    empty = "{}"
    n_entries = n_vouchers = n_activities = 0

    def in_quest(t: float) -> bool:
        return any(a <= t < b for a, b in quest_windows)

    def entry(
        i: int,
        t: float,
        kind: str,
        points: int,
        *,
        av=0,
        earned_d=0,
        spent_d=0,
        expired_d=0,
        donated_d=0,
        reason="Purchase",
        reverses=None,
    ) -> int:
        nonlocal entry_id, n_entries
        entry_id += 1
        n_entries += 1
        counts[i] += 1
        w.add(
            "ledgerentry",
            LEDGER_COLUMNS,
            (
                entry_id,
                mid,
                i + 1,
                kind,
                points,
                av,
                0,
                earned_d,
                spent_d,
                expired_d,
                donated_d,
                reason,
                empty,
                None,
                empty,
                f"b:{entry_id}",
                "bench",
                None,
                reverses,
                None,
                empty,
                w.ts(t),
            ),
        )
        return entry_id

    def activity(i: int, t: float, action: str, eid: int, points: int, store: int) -> None:
        nonlocal activity_id, n_activities
        activity_id += 1
        n_activities += 1
        w.add(
            "memberactivity",
            ACTIVITY_COLUMNS,
            (activity_id, mid, i + 1, action, None, store, w.ts(t), local_day(t), f"a:{activity_id}", eid, points, empty, empty),
        )

    def earn(i: int, t: float, points: int, reason: str) -> int:
        available[i] += points
        earned[i] += points
        last_earn[i] = t
        return entry(i, t, "earn", points, av=points, earned_d=points, reason=reason)

    while heap:
        t, kind, i = heapq.heappop(heap)
        if kind == 1:  # expiry of a dropped-out member's points, a year after the last earn
            if available[i] > 0:
                pts = available[i]
                available[i] = 0
                expired[i] += pts
                entry(i, t, "expire", -pts, av=-pts, expired_d=pts, reason="Points expired")
            continue
        if t >= ends[i]:
            due = last_earn[i] + 365 * DAY
            if available[i] > 0 and last_earn[i] and due < now_epoch:
                heapq.heappush(heap, (due, 1, i))
            continue
        store = store_ids[rng.randrange(3)]
        boost = in_quest(t)
        pts = rng.randint(5, 150) * (2 if boost else 1)
        eid = earn(i, t, pts, "Purchase")
        activity(i, t, "purchase", eid, pts, store)
        visits[i] += 1
        first_purchase.setdefault(i, t)
        if visits[i] == 10:
            tenth_visit[i] = t
        if rng.random() < 0.005:  # a purchase refunded: its earn reversed an hour later
            available[i] -= pts
            earned[i] -= pts
            entry(i, t + 3600, "reversal", -pts, av=-pts, earned_d=-pts, reason="Refund", reverses=eid)
        if rng.random() < 0.2:
            eid = earn(i, t + 60, 10, "Checked in")
            activity(i, t + 60, "check_in", eid, 10, store)
            checkins[i] += 1
            if checkins[i] == 5:
                fifth_checkin[i] = t + 60
        if rng.random() < 0.002:
            adj = rng.choice((-20, 20, 50))
            if available[i] + adj >= 0:
                available[i] += adj
                entry(i, t + 90, "adjustment", adj, av=adj, reason="Manual correction")
        if rng.random() < 0.12:
            affordable = [k for k, r in enumerate(REWARDS) if r[2] <= available[i]]
            if affordable:
                k = rng.choice(affordable[-4:])
                cost = REWARDS[k][2]
                available[i] -= cost
                spent[i] += cost
                rid = entry(i, t + 120, "redeem", -cost, av=-cost, spent_d=cost, reason="Redeemed a reward")
                voucher_id += 1
                n_vouchers += 1
                status = "used" if rng.random() < 0.7 else ("issued" if rng.random() < 0.9 else "cancelled")
                rev = None
                if status == "cancelled":
                    available[i] += cost
                    spent[i] -= cost
                    rev = entry(i, t + 600, "reversal", cost, av=cost, spent_d=-cost, reason="Voucher cancelled", reverses=rid)
                else:
                    redeemed_rewards.setdefault(i, set()).add(k)
                issued = t + 120
                w.add(
                    "voucher",
                    VOUCHER_COLUMNS,
                    (
                        voucher_id,
                        mid,
                        i + 1,
                        reward_ids[k],
                        f"V{voucher_id:09d}",
                        status,
                        w.ts(issued),
                        w.ts(issued + 30 * DAY),
                        w.ts(issued + DAY) if status == "used" else None,
                        store if status == "used" else None,
                        None,
                        w.ts(t + 600) if status == "cancelled" else None,
                        rid,
                        rev,
                        f"v:{voucher_id}",
                    ),
                )
        if rng.random() < 0.015 and available[i] >= 50:
            amount = rng.choice((20, 50))
            available[i] -= amount
            donated[i] += amount
            entry(i, t + 180, "donate", -amount, av=-amount, donated_d=amount, reason="Donation")
        rate = base_rate * weights[i] * (1.4 if boost else 1.0)
        heapq.heappush(heap, (t + rng.expovariate(rate) * DAY + 600, 0, i))
    w.flush()

    # --- what follows from the simulation: balances, challenges, ratings, referrals.
    for i in range(members):
        w.add(
            "memberbalance",
            (
                "account_id",
                "merchant_id",
                "available",
                "pending",
                "lifetime_earned",
                "spent",
                "expired",
                "donated",
                "entry_count",
                "updated_at",
            ),
            (i + 1, mid, available[i], 0, earned[i], spent[i], expired[i], donated[i], counts[i], w.ts(now_epoch)),
        )
    progress_id = 0
    cp_cols = ("id", "merchant_id", "account_id", "challenge_id", "period_key", "count", "completed_at", "updated_at")
    for i in range(members):
        for key, n, target, done in (
            ("ten-visits", visits[i], 10, tenth_visit),
            ("five-checkins", checkins[i], 5, fifth_checkin),
        ):
            if n:
                progress_id += 1
                when = done.get(i)
                w.add(
                    "challengeprogress",
                    cp_cols,
                    (
                        progress_id,
                        mid,
                        i + 1,
                        challenge_ids[key],
                        "once",
                        min(n, target),
                        w.ts(when) if when else None,
                        w.ts(when or now_epoch),
                    ),
                )
    rating_id = 0
    for i, rewards_of in redeemed_rewards.items():
        for k in rewards_of:
            if rng.random() < 0.25:
                rating_id += 1
                stars = max(1, min(5, round(rng.gauss(REWARDS[k][3], 0.9))))
                at = w.ts(now_epoch - rng.random() * 300 * DAY)
                w.add(
                    "rewardrating",
                    ("id", "merchant_id", "account_id", "reward_id", "stars", "review_text", "created_at", "updated_at"),
                    (rating_id, mid, i + 1, reward_ids[k], stars, "", at, at),
                )
    code_owners = [i for i in range(members) if rng.random() < 0.3]
    for n, i in enumerate(code_owners):
        w.add("referralcode", ("id", "merchant_id", "account_id", "code"), (n + 1, mid, i + 1, f"R{n:07d}"))
    referral_id = 0
    owners_by_join = sorted(code_owners, key=lambda i: joins[i])
    for i in range(members):
        if rng.random() < 0.08 and owners_by_join and joins[owners_by_join[0]] < joins[i]:
            referrer = owners_by_join[rng.randrange(max(1, _count_before(owners_by_join, joins, joins[i])))]
            referral_id += 1
            fp = first_purchase.get(i)
            rewarded = fp is not None and fp < now_epoch
            w.add(
                "referral",
                (
                    "id",
                    "merchant_id",
                    "referrer_id",
                    "referee_id",
                    "registered_at",
                    "referee_entry_id",
                    "referrer_rewarded_at",
                    "referrer_entry_id",
                ),
                (referral_id, mid, referrer + 1, i + 1, w.ts(joins[i]), None, w.ts(fp) if rewarded else None, None),
            )
    w.close()

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in (
                "account",
                "ledgerentry",
                "memberactivity",
                "voucher",
                "challengeprogress",
                "rewardrating",
                "referralcode",
                "referral",
            ):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))")
                )
    if engine.dialect.name == "postgresql":  # what autovacuum does to a table this size: statistics, visibility map
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    elif analyze:  # the app never runs ANALYZE on SQLite: by default the queries are timed without statistics
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return {
        "merchant_id": mid,
        "admin_id": admin_id,
        "entries": n_entries,
        "activities": n_activities,
        "vouchers": n_vouchers,
        "ratings": rating_id,
        "referrals": referral_id,
        "codes": len(code_owners),
        "progress": progress_id,
    }


def _count_before(owners_by_join: list[int], joins: list[float], t: float) -> int:
    lo, hi = 0, len(owners_by_join)
    while lo < hi:
        mid = (lo + hi) // 2
        if joins[owners_by_join[mid]] < t:
            lo = mid + 1
        else:
            hi = mid
    return lo


def time_charts(engine: Engine, actor: Actor, now: datetime, repeats: int, label: str) -> list[tuple[str, dict[str, float]]]:
    """p50 wall time (ms) of each chart function per period."""
    table = []
    for name, fn in analytics.CHARTS:
        cells = {}
        for period in analytics.PERIODS:
            samples = []
            for _ in range(repeats):
                t = time.perf_counter()
                fn(engine, actor, period=period, now=now)
                samples.append((time.perf_counter() - t) * 1000)
            cells[period] = statistics.median(samples)
        table.append((name, cells))
        print(f"{label} chart {name}: " + ", ".join(f"{p} p50 {cells[p]:.1f} ms" for p in analytics.PERIODS), flush=True)
    return table


def time_dashboards(engine: Engine, actor: Actor, now: datetime, label: str) -> dict[str, tuple[float, analytics.Dashboard]]:
    """The whole dashboard once per period: (ms, the dashboard)."""
    out = {}
    for period in analytics.PERIODS:
        t = time.perf_counter()
        board = analytics.dashboard(engine, actor, period=period, now=now)
        ms = (time.perf_counter() - t) * 1000
        out[period] = (ms, board)
        print(
            f"{label} dashboard ({period}): {ms:.0f} ms, {board.active.active_30d} active members, "
            f"redemption rate {board.redemption.rate}, liability {board.liability.points} points, "
            f"{board.rfm.segments['at_risk']} at risk",
            flush=True,
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=10_000_000, help="ledger entries to generate (about)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per chart and period (p50 reported)")
    parser.add_argument("--database-url", help="PostgreSQL URL (a private schema is used); default: SQLite file in a temp dir")
    parser.add_argument(
        "--analyze", action="store_true", help="SQLite: run ANALYZE after loading (PostgreSQL always gets VACUUM ANALYZE)"
    )
    parser.add_argument("--sqlite-path", help="keep the generated SQLite file here; reuse it when it exists (skips generation)")
    parser.add_argument("--skip-baseline", action="store_true", help="time with rollups only (no live baseline)")
    args = parser.parse_args(list(argv) if argv is not None else None)

    now = utcnow().replace(microsecond=0)
    if args.sqlite_path:
        path = Path(args.sqlite_path)
        reuse = path.exists()
        engine = make_engine(f"sqlite:///{path}")
        SQLModel.metadata.create_all(engine)  # a reused file may predate newer tables (the rollups)
        return _run(engine, args, now, reuse=reuse)
    with private_database(args.database_url) as (_url, engine):
        return _run(engine, args, now, reuse=False)


def _run(engine: Engine, args, now: datetime, *, reuse: bool) -> int:
    backend = engine.dialect.name
    print(
        f"analytics benchmark: {backend}, {args.members} members, about {args.entries} ledger entries over 18 months", flush=True
    )
    meta_path = Path(str(engine.url.database or "") + ".json") if backend == "sqlite" and args.sqlite_path else None
    if reuse and meta_path and meta_path.exists():
        info = json.loads(meta_path.read_text())
        now = datetime.fromisoformat(info["now"])
        print(f"reusing {args.sqlite_path} generated at {now.isoformat()}", flush=True)
    else:
        started = time.perf_counter()
        info = generate(engine, members=args.members, entries=args.entries, now=now, analyze=args.analyze)
        info["now"] = now.isoformat()
        if meta_path:
            meta_path.write_text(json.dumps(info))
        print(
            f"generated: {info['entries']} ledger entries, {info['activities']} activities, {info['vouchers']} vouchers, "
            f"{info['ratings']} ratings, {info['codes']} referral codes, {info['referrals']} referrals, {args.members} members "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    actor = Actor(info["admin_id"], info["merchant_id"], Role.ADMIN)
    base_rows, base_boards = [], {}
    if not args.skip_baseline:
        with analytics.live_only():
            base_rows = time_charts(engine, actor, now, args.repeats, "live")
            base_boards = time_dashboards(engine, actor, now, "live")
    started = time.perf_counter()
    days = analytics_rollup.run_rollups(engine, now=now, rebuild=True)
    backfill_s = time.perf_counter() - started
    with engine.connect() as conn:
        rollup_rows = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("analyticsdailypoints", "analyticsmemberperiod")
        }
    print(f"rollup backfill: {days} local days in {backfill_s:.1f} s ({rollup_rows})", flush=True)
    rows = time_charts(engine, actor, now, args.repeats, "rollups")
    boards = time_dashboards(engine, actor, now, "rollups")
    base = dict(base_rows)
    print("", flush=True)
    print(f"rollup backfill: {days} local days in {backfill_s:.1f} s", flush=True)
    print(f"| chart (p50 of {args.repeats}, ms; live -> with rollups) | day | week | month |", flush=True)
    print("| --- | --- | --- | --- |", flush=True)

    def cell(name: str, period: str, value: float) -> str:
        before = base.get(name, {}).get(period)
        return f"{before:.1f} -> {value:.1f}" if before is not None else f"{value:.1f}"

    for name, cells in rows:
        print(f"| {name} | " + " | ".join(cell(name, p, cells[p]) for p in analytics.PERIODS) + " |", flush=True)
    whole = []
    for p in analytics.PERIODS:
        before = base_boards.get(p)
        whole.append(f"{before[0] / 1000:.2f} s -> {boards[p][0] / 1000:.2f} s" if before else f"{boards[p][0] / 1000:.2f} s")
    print("| whole dashboard | " + " | ".join(whole) + " |", flush=True)
    slowest = max((cells[p], name) for name, cells in rows for p in analytics.PERIODS) if rows else (0.0, "")
    for p in analytics.PERIODS:
        before = base_boards.get(p)
        result(
            f"analytics ({backend}, {args.members:,} members, {info['entries']:,} entries)",
            f"whole dashboard ({p}) with rollups; slowest chart {slowest[1]} {slowest[0]:.0f} ms",
            f"{boards[p][0] / 1000:.2f} s",
            baseline=f"live {before[0] / 1000:.2f} s" if before else "",
            ratio=boards[p][0] / before[0] if before else None,
            goal="< 2 s; every chart < 300 ms",
        )
    for p in analytics.PERIODS:
        if p in base_boards:
            print(f"dashboard ({p}) with rollups == live: {boards[p][1] == base_boards[p][1]}", flush=True)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
