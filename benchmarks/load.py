"""Load on the scaled-out backend: simulated members and cashiers over real websockets.

Each phase starts its own backend (``reflex run --env prod --backend-only``, no frontend build)
on a fresh PostgreSQL database with Reflex state in a private redis-server, with 1 and then N
workers. Then, for a bounded time on loopback:

- M members each open a socket (their own session cookie and client token, as a phone does),
  run the home page's guard and then refresh the cockpit (``CockpitState.load``) every THINK
  seconds (jittered);
- cashiers (several till tabs of ``staff@demo.test``) credit purchases at a steady RATE per
  second: scan a member number, then credit an amount with a unique receipt (the idempotency key
  is store + receipt). Credits are spread round-robin over enough members that the program's
  velocity guard (4 credits per member per hour) is never reached: no guard is lowered.

Latency is send-to-answer (the event's state delta), per kind; errors are refusals (an error
message in the answer), timeouts and dropped sockets; throughput is answered events per second.
After each phase the ledger audit must pass with zero drift, every receipt must be credited at
most once and every credited receipt must be in the ledger.

    python -m benchmarks.load                          # 1 worker, then 2; 45 s each
    python -m benchmarks.load --workers 1,2,4 --duration 60 --members 60 --rate 6
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import percentile, result
from benchmarks.ws_client import ReflexTab, TabDisconnected, has_state, open_session_cookie, state_event

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
SLUG, STAFF_EMAIL = "cafe", "staff@demo.test"
VELOCITY_LIMIT = 4  # the program's default credits per member per hour (models.ProgramRules)


# --- infrastructure: a database, a redis-server and a backend of our own -----------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(_admin(url))
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def fresh_database(admin_url: str, name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    import psycopg

    with psycopg.connect(_admin(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(admin_url, name)
    finally:
        with contextlib.suppress(Exception), psycopg.connect(_admin(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class RedisServer:
    """A private redis-server (no persistence) that can be stopped and started again on the
    same port: restarting it harms nobody else."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if redis.Redis.from_url(self.url).ping():
                    return
            time.sleep(0.05)
        raise TimeoutError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Backend:
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path
    database_url: str
    redis_url: str
    workers: int

    def worker_pids(self) -> list[int]:
        """The granian workers: the server's child processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in children.read_text().split()]
        return []

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def prepare_database(database_url: str, instance_dir: Path) -> None:
    """Migrations and demo data, before any worker starts (as `make run-scaled` does)."""
    env = {**os.environ, "DATABASE_URL": database_url, "LOYALTY_INSTANCE_DIR": str(instance_dir), "DEMO_MODE": "1"}
    env.pop("REFLEX_REDIS_URL", None)
    out = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "loyalty_app.cli", "setup", "--demo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"setup --demo failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")


@contextlib.contextmanager
def backend_server(
    database_url: str, redis_url: str, workers: int, *, respawn: bool = True, start_timeout: float = 120.0
) -> Iterator[Backend]:
    """The backend only (no frontend build: it starts in seconds) on a free port, in its own
    process group; stopped and its files removed afterwards."""
    from tests.browser import harness

    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix=f"loyalty-load-{port}-"))
    log_path = tmp / "backend.log"
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": database_url,
        "REFLEX_REDIS_URL": redis_url,
        "GRANIAN_WORKERS": str(workers),
        "APP_ORIGIN": f"http://localhost:{port}",
        "PORT": str(port),
        # rxconfig sets frontend_port = PORT, which `reflex run --backend-only` refuses; 0 = none.
        "REFLEX_FRONTEND_PORT": "0",
        "REFLEX_WEB_WORKDIR": str(tmp / "web"),
        "LOYALTY_INSTANCE_DIR": str(tmp / "instance"),
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name in ("API_URL", "SECRET_KEY"):
        env.pop(name, None)
    run_args = ["run", "--env", "prod", "--backend-only", "--backend-port", str(port)]
    command = (
        [str(VENV_BIN / "python"), "-m", "loyalty_app.cli", "serve", *run_args]
        if respawn
        else [str(VENV_BIN / "reflex"), *run_args]
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    backend = Backend(f"http://localhost:{port}", port, process, log_path, database_url, redis_url, workers)
    try:
        app = harness.LiveApp(base_url=backend.url, log_path=log_path, process=process)
        deadline = time.monotonic() + start_timeout
        while not (harness.event_socket_accepts(app) and len(backend.worker_pids()) >= workers):
            if process.poll() is not None:
                raise RuntimeError(f"backend exited with {process.returncode}:\n{backend.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"backend not ready after {start_timeout:.0f} s:\n{backend.log_tail()}")
            time.sleep(0.2)
        yield backend
    finally:
        harness.stop_process_group(process)
        shutil.rmtree(tmp, ignore_errors=True)


# --- data: members, sessions ------------------------------------------------------------------


@dataclass
class Cast:
    merchant_id: int
    staff_id: int
    store_id: int
    members: list[tuple[int, str]]  # (account id, member number)


def make_cast(database_url: str, member_count: int, tag: str) -> Cast:
    """The demo merchant's cashier and store, and ``member_count`` new members signed up through
    the accounts service."""
    from sqlmodel import select

    from loyalty_app.db import make_engine, read_session
    from loyalty_app.models import Account, Merchant, StaffStore
    from loyalty_app.services.members import accounts

    engine = make_engine(database_url)
    try:
        with read_session(engine) as s:
            merchant = s.exec(select(Merchant).where(Merchant.slug == SLUG)).one()
            staff = s.exec(select(Account).where(Account.merchant_id == merchant.id, Account.email == STAFF_EMAIL)).one()
            store_id = min(row.store_id for row in s.exec(select(StaffStore).where(StaffStore.account_id == staff.id)))
        members = []
        for i in range(member_count):
            account = accounts.sign_up_member(
                engine,
                merchant_id=merchant.id,
                email=f"load-{tag}-{i}@load.test",
                password="load-password-1",
                first_name=f"Load{i}",
            )
            members.append((account.id, account.member_number))
        return Cast(merchant.id, staff.id, store_id, members)
    finally:
        engine.dispose()


def session_cookies(database_url: str, account_ids: Sequence[int]) -> list[str]:
    from loyalty_app.db import make_engine

    engine = make_engine(database_url)
    try:
        return [open_session_cookie(engine, account_id, SLUG) for account_id in account_ids]
    finally:
        engine.dispose()


# --- the workload --------------------------------------------------------------------------------


def _events():
    """Wire names, imported late (the app's states pull in Reflex)."""
    from loyalty_app.pages.staff import TillState
    from loyalty_app.state.cockpit import CockpitState
    from loyalty_app.state.live import LiveState
    from loyalty_app.state.session import SessionState

    cockpit_key, live_key = CockpitState.get_full_name(), LiveState.get_full_name()
    return {
        "guard_member": state_event(SessionState, "guard_member_page"),
        "cockpit": state_event(CockpitState, "load"),
        "cockpit_answer": lambda d: cockpit_key in d and live_key not in d,
        "cockpit_key": cockpit_key,
        "guard_staff": state_event(SessionState, "guard_staff_page"),
        "till_load": state_event(TillState, "load"),
        "choose_store": state_event(TillState, "choose_store"),
        "scan": state_event(TillState, "scan"),
        "credit": state_event(TillState, "credit"),
        "till_answer": has_state(TillState),
        "till_key": TillState.get_full_name(),
    }


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    credited: set[str] = field(default_factory=set)  # receipts answered "+N points"
    replayed: set[str] = field(default_factory=set)  # receipts answered "Already credited"
    unanswered: set[str] = field(default_factory=set)  # credits whose answer was lost
    pushes: int = 0
    disconnects: int = 0
    reconnects: list[float] = field(default_factory=list)

    def add(self, kind: str, ms: float) -> None:
        self.latencies.setdefault(kind, []).append(ms)

    def answered(self) -> int:
        return sum(len(v) for v in self.latencies.values())


MEMBER_PATH, STAFF_PATH, QUERY = f"/m/{SLUG}/home", f"/m/{SLUG}/staff", {"slug": SLUG}


async def open_member_tab(url: str, cookie: str, ev: dict) -> ReflexTab:
    tab = ReflexTab(url, cookie=cookie, timeout=30)
    await tab.connect()
    await tab.send(ev["guard_member"], MEMBER_PATH, QUERY)
    return tab


async def open_till_tab(url: str, cookie: str, ev: dict, store_id: int) -> ReflexTab:
    """A till tab as the page loads it (guard, stores), with the cashier's store chosen."""
    tab = ReflexTab(url, cookie=cookie, timeout=30)
    await tab.connect()
    await till_page_load(tab, ev, store_id)
    return tab


async def till_page_load(tab: ReflexTab, ev: dict, store_id: int) -> None:
    await tab.send(ev["guard_staff"], STAFF_PATH, QUERY)
    await tab.send(ev["till_load"], STAFF_PATH, QUERY, expect=ev["till_answer"])
    with contextlib.suppress(TimeoutError):  # no delta when the store was already the chosen one
        old, tab.timeout = tab.timeout, 3
        try:
            await tab.send(ev["choose_store"], STAFF_PATH, QUERY, {"store_id": str(store_id)}, expect=ev["till_answer"])
        finally:
            tab.timeout = old


def till_outcome(delta: dict, ev: dict) -> tuple[str, str]:
    """("credited" | "replayed" | "refused" | "none", text) from a till answer."""
    till = delta.get(ev["till_key"], {})
    error = till.get("error_rx_state_", "")
    result = till.get("result_rx_state_", "")
    if error:
        return "refused", error
    if result.startswith("Already credited"):
        return "replayed", result
    if result.startswith("+"):
        return "credited", result
    return "none", result


async def credit_once(tab: ReflexTab, ev: dict, member_number: str, amount: str, receipt: str, stats: Stats) -> str:
    """Scan, then credit, on one till tab. Returns the outcome; raises on a lost answer."""
    ms, delta = await tab.send(ev["scan"], STAFF_PATH, QUERY, {"form": {"code": member_number}}, expect=ev["till_answer"])
    stats.add("till scan", ms)
    outcome, text = till_outcome(delta, ev)
    if outcome == "refused":
        stats.errors[f"refused: {text}"] += 1
        return outcome
    ms, delta = await tab.send(
        ev["credit"], STAFF_PATH, QUERY, {"form": {"amount": amount, "receipt": receipt}}, expect=ev["till_answer"]
    )
    stats.add("till credit", ms)
    outcome, text = till_outcome(delta, ev)
    if outcome == "credited":
        stats.credited.add(receipt)
    elif outcome == "replayed":
        stats.replayed.add(receipt)
    else:
        stats.errors[f"refused: {text}"] += 1
    return outcome


async def member_loop(tab: ReflexTab, ev: dict, until: float, think: float, stats: Stats, rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, think))  # members do not all tap at once
    while time.monotonic() < until:
        try:
            ms, _ = await tab.send(ev["cockpit"], MEMBER_PATH, QUERY, expect=ev["cockpit_answer"])
            stats.add("cockpit load", ms)
        except TimeoutError:
            stats.errors["timeout"] += 1
        except TabDisconnected:
            stats.errors["disconnect"] += 1
            return
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def run_phase(
    backend: Backend, cast: Cast, *, sockets: int, till_tabs: int, duration: float, rate: float, think: float, tag: str
) -> tuple[Stats, float]:
    ev = _events()
    stats = Stats()
    rng = random.Random(7)
    member_cookies = session_cookies(backend.database_url, [a for a, _ in cast.members[:sockets]])
    staff_cookies = session_cookies(backend.database_url, [cast.staff_id] * till_tabs)
    members = await asyncio.gather(*(open_member_tab(backend.url, c, ev) for c in member_cookies))
    tills = [await open_till_tab(backend.url, c, ev, cast.store_id) for c in staff_cookies]
    idle: asyncio.Queue[ReflexTab] = asyncio.Queue()
    for tab in tills:
        idle.put_nowait(tab)

    started = time.monotonic()
    until = started + duration
    member_tasks = [asyncio.create_task(member_loop(t, ev, until, think, stats, rng)) for t in members]

    async def one_credit(i: int) -> None:
        tab = await idle.get()
        receipt = f"{tag}-{i}"
        _account_id, number = cast.members[i % len(cast.members)]
        try:
            await credit_once(tab, ev, number, f"{rng.randint(3, 60)}.{rng.randint(0, 99):02d}", receipt, stats)
        except TimeoutError:
            stats.errors["timeout"] += 1
            stats.unanswered.add(receipt)
        except TabDisconnected:
            stats.errors["disconnect"] += 1
            stats.unanswered.add(receipt)
        finally:
            idle.put_nowait(tab)

    credit_tasks = []
    i = 0
    while (now := time.monotonic()) < until:
        credit_tasks.append(asyncio.create_task(one_credit(i)))
        i += 1
        await asyncio.sleep(max(0.0, started + i / rate - now))
    await asyncio.gather(*member_tasks, *credit_tasks)
    elapsed = time.monotonic() - started
    stats.pushes = sum(t.pushes for t in members)
    stats.disconnects = sum(t.disconnects for t in (*members, *tills))
    for tab in (*members, *tills):
        await tab.close()
    return stats, elapsed


# --- checks after a run -------------------------------------------------------------------------


def run_audit(database_url: str) -> tuple[bool, str]:
    """`python -m loyalty_app.cli audit` against the run's database."""
    env = {**os.environ, "DATABASE_URL": database_url}
    out = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "loyalty_app.cli", "audit"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return out.returncode == 0, (out.stdout + out.stderr).strip().splitlines()[-1] if (out.stdout + out.stderr).strip() else ""


def receipt_credits(database_url: str, prefix: str) -> Counter:
    """How many ledger entries each receipt starting with ``prefix`` has (must be at most 1)."""
    import psycopg

    with psycopg.connect(_admin(database_url)) as conn:
        rows = conn.execute(
            "SELECT source->>'receipt', count(*) FROM ledgerentry WHERE idempotency_key LIKE 'receipt:%%' "
            "AND source->>'receipt' LIKE %s GROUP BY 1",
            (prefix + "%",),
        ).fetchall()
    return Counter({receipt: n for receipt, n in rows})


# --- report ----------------------------------------------------------------------------------------


def _fmt(samples: list[float]) -> str:
    if not samples:
        return "-"
    return f"{statistics.median(samples):.0f} / {percentile(samples, 0.95):.0f} / {percentile(samples, 0.99):.0f}"


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in process group ``pgid`` (the backend:
    the respawning launcher, Granian and its workers), read from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: the process group
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def report_phase(workers: int, stats: Stats, elapsed: float, audit: tuple[bool, str], receipts: Counter) -> list[str]:
    all_ms = [ms for v in stats.latencies.values() for ms in v]
    errors = sum(stats.errors.values())
    twice = sorted(r for r, n in receipts.items() if n > 1)
    lost = sorted(stats.credited - set(receipts))
    lines = [
        f"## {workers} worker{'s' if workers > 1 else ''}: {stats.answered()} events answered in {elapsed:.1f} s "
        f"= {stats.answered() / elapsed:.1f} events/s; {errors} errors",
        "| event | count | p50 / p95 / p99 ms |",
        "| --- | --- | --- |",
    ]
    for kind in sorted(stats.latencies):
        lines.append(f"| {kind} | {len(stats.latencies[kind])} | {_fmt(stats.latencies[kind])} |")
    lines.append(f"| all | {len(all_ms)} | {_fmt(all_ms)} |")
    lines.append(
        f"credits: {len(stats.credited)} credited ({len(stats.credited) / elapsed:.2f}/s), "
        f"{len(stats.replayed)} replayed, {len(stats.unanswered)} unanswered; "
        f"live pushes received by open member tabs: {stats.pushes}; sockets dropped: {stats.disconnects}"
    )
    if stats.errors:
        lines.append("errors: " + ", ".join(f"{k} x{v}" for k, v in stats.errors.most_common()))
    lines.append(
        f"audit: {'OK' if audit[0] else 'FAILED'} ({audit[1]}); receipts credited twice: {len(twice)}; "
        f"credited receipts missing from the ledger: {len(lost)}"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2", help="worker counts, one phase each (default 1,2)")
    parser.add_argument("--duration", type=float, default=45.0, help="seconds of load per phase")
    parser.add_argument("--members", type=int, default=40, help="member sockets")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between a member's cockpit refreshes (mean)")
    parser.add_argument("--rate", type=float, default=4.0, help="till credits per second")
    parser.add_argument("--till-tabs", type=int, default=4, help="till tabs sharing the credits")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_PG),
        help="a PostgreSQL server (its admin database) to create the run's databases on",
    )
    args = parser.parse_args(argv)

    print(
        f"load: {args.members} member sockets (a cockpit refresh every ~{args.think:g} s each), "
        f"{args.rate:g} till credits/s over {args.till_tabs} till tabs, {args.duration:g} s per phase; "
        f"{os.cpu_count()} CPU cores; load average before: {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    failed = False
    for workers in [int(w) for w in args.workers.split(",") if w.strip()]:
        tag = f"L{os.getpid()}w{workers}"
        credits = math.ceil(args.rate * args.duration) + 1
        member_count = max(args.members, math.ceil(credits / (VELOCITY_LIMIT - 1)))
        with fresh_database(args.database_url, f"loyalty_load_{os.getpid()}_{workers}") as db_url, private_redis() as redis:
            with tempfile.TemporaryDirectory(prefix="loyalty-load-") as instance_dir:
                prepare_database(db_url, Path(instance_dir))
            cast = make_cast(db_url, member_count, tag)
            with backend_server(db_url, redis.url, workers) as backend:
                load_before = os.getloadavg()[0]
                cpu_before = group_cpu_seconds(backend.process.pid)
                stats, elapsed = asyncio.run(
                    run_phase(
                        backend,
                        cast,
                        sockets=args.members,
                        till_tabs=args.till_tabs,
                        duration=args.duration,
                        rate=args.rate,
                        think=args.think,
                        tag=tag,
                    )
                )
                load_after = os.getloadavg()[0]
                cpu_seconds = group_cpu_seconds(backend.process.pid) - cpu_before
            audit = run_audit(db_url)
            receipts = receipt_credits(db_url, tag + "-")
        for line in report_phase(workers, stats, elapsed, audit, receipts):
            print(line)
        answered = stats.answered()
        cpu_ms = 1000 * cpu_seconds / answered if answered else float("nan")
        print(
            f"backend CPU: {cpu_seconds:.1f} s over {answered} events = {cpu_ms:.1f} ms per event "
            f"({workers} worker{'s' if workers > 1 else ''})",
            flush=True,
        )
        print(f"load average (1 min) before / after the phase: {load_before:.2f} / {load_after:.2f}\n", flush=True)
        all_ms = [ms for v in stats.latencies.values() for ms in v]
        result(
            f"load ({workers} worker{'s' if workers > 1 else ''}, PostgreSQL + Redis)",
            "backend CPU per event; throughput; p95 of all events",
            f"{cpu_ms:.1f} ms; {answered / elapsed:.1f} events/s; p95 {percentile(all_ms, 0.95):.0f} ms",
            goal="<= 8 ms per event; >= 100 events/s with p95 < 100 ms",
        )
        failed |= not audit[0] or any(n > 1 for n in receipts.values()) or bool(stats.credited - set(receipts))
    if failed:
        print("LEDGER CHECK FAILED: see above")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
