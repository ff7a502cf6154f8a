"""Command line: ``python -m loyalty_app.cli <command>``.

setup [--demo]  apply Alembic migrations, then (with --demo) load idempotent demo data
migrate         apply Alembic migrations only
seed-demo       load the demo data (idempotent)
audit           prove balance == sum of ledger entries for every member (non-zero exit on drift)
jobs            run the periodic jobs once (release pending points, expire points, tier evaluation)
analytics-rollup [--rebuild] [--merchant SLUG]
                roll up the analytics of every closed local day not rolled up yet (the periodic
                jobs do it too); --rebuild starts again from scratch (after a bulk import of old rows)
banner          print the URL and the demo logins
serve ARGS...   ``reflex ARGS...`` with failed backend workers restarted (what ``make run`` and
                ``make run-scaled`` start)
test            run the whole test suite (unit/engine, browser, and with PostgreSQL + Redis the scaled-out
                browser and fault runs) with one summary line
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

from loyalty_app.settings import PROJECT_ROOT, get_settings


def migrate() -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    command.upgrade(cfg, "head")


def seed_demo() -> None:
    from loyalty_app.services.operations.demo import seed_demo_data

    summary = seed_demo_data()
    print(summary)


def analytics_rollup(rebuild: bool, slug: str | None) -> int:
    import time

    from sqlmodel import select

    from loyalty_app.db import get_engine, read_session
    from loyalty_app.models import Merchant
    from loyalty_app.services.insight.analytics_rollup import run_rollups

    engine = get_engine()
    ids = None
    if slug:
        with read_session(engine) as s:
            ids = [i for i in s.exec(select(Merchant.id).where(Merchant.slug == slug)).all() if i is not None]
        if not ids:
            print(f"no merchant {slug!r}", file=sys.stderr)
            return 1
    started = time.perf_counter()
    days = run_rollups(engine, rebuild=rebuild, merchant_ids=ids)
    print(f"analytics rollup: {days} local days added in {time.perf_counter() - started:.1f} s")
    return 0


def banner(port: int) -> None:
    from loyalty_app.services.operations.demo import DEMO_LOGINS, DEMO_PASSWORD

    origin = os.environ.get("APP_ORIGIN", f"http://localhost:{port}")
    print("\n" + "=" * 64)
    print(f" Loyalty app: {origin}/")
    for slug, logins in DEMO_LOGINS.items():
        print(f"   {origin}/m/{slug}/home")
        for role, email in logins:
            print(f"     {role:<8} {email}")
    print(f"   password for every demo login: {DEMO_PASSWORD}")
    print("=" * 64 + "\n", flush=True)


# pytest's closing line, with or without the "====" border (-q drops it).
_CLOSING = re.compile(r"\d+ (passed|failed|skipped|errors?|deselected)\b.* in [\d.]+s")
_SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|error|errors|xfailed|xpassed|deselected)")


def _run_pytest(args: list[str], extra_env: dict[str, str] | None = None) -> tuple[int, dict[str, int]]:
    """Run pytest in a subprocess, echo its output, and parse its closing line."""
    cmd = [sys.executable, "-m", "pytest", *args]
    print("$", " ".join(f"{k}={v}" for k, v in (extra_env or {}).items()), " ".join(cmd), flush=True)
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(extra_env or {})},
    )
    last = ""
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        if _CLOSING.search(line) or "no tests ran" in line:
            last = line
    return proc.wait(), parse_closing_line(last)


def parse_closing_line(line: str) -> dict[str, int]:
    """{"passed": 553, "deselected": 20, ...} from pytest's closing line."""
    counts: dict[str, int] = {}
    for n, word in _SUMMARY.findall(line):
        key = "error" if word.startswith("error") else word
        counts[key] = counts.get(key, 0) + int(n)
    return counts


def unit_workers() -> str:
    """pytest-xdist workers for the unit and engine tests: one per core, at most 4 (each has its
    own SQLite files and its own PostgreSQL schema); ``TEST_WORKERS`` overrides."""
    return os.environ.get("TEST_WORKERS") or str(max(1, min(4, os.cpu_count() or 1)))


def run_tests() -> int:
    """Unit/engine tests and browser tests run as two pytest processes (Playwright's sync API
    must not share a thread with pytest-asyncio's loop); one combined closing line."""
    total: dict[str, int] = {}
    codes = []
    runs: list[tuple[list[str], dict[str, str]]] = [
        (["-m", "not browser and not faults", "-q", "-n", unit_workers()], {}),
        (["-m", "browser", "-q", "-p", "no:asyncio"], {}),
    ]
    if os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL"):
        # The same browser tests against the scaled-out set-up: PostgreSQL, Redis, 2 workers.
        runs.append((["-m", "browser", "-q", "-p", "no:asyncio"], {"BROWSER_SCALED": "1"}))
        # Faults on that set-up: a worker killed, the database cut, Redis restarted (own servers).
        runs.append((["tests/faults", "-m", "faults", "-q", "-p", "no:cacheprovider"], {}))
    else:
        print("scaled-out browser and fault runs skipped: set TEST_DATABASE_URL and TEST_REDIS_URL to run them", flush=True)
    for args, extra_env in runs:
        code, counts = _run_pytest(args, extra_env)
        codes.append(code)
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    failed = total.get("failed", 0) + total.get("error", 0)
    ok = all(c in (0, 5) for c in codes) and failed == 0 and total.get("passed", 0) > 0
    print(f"{total.get('passed', 0)} passed, {failed} failed, {total.get('skipped', 0)} skipped")
    return 0 if ok else 1


def serve(reflex_args: list[str]) -> None:
    """``reflex <args>`` with Granian's failed workers respawned (see loyalty_app.reflex_patches)."""
    from loyalty_app.reflex_patches import respawn_failed_workers

    respawn_failed_workers()
    from reflex.reflex import cli

    sys.argv = ["reflex", *reflex_args]
    cli()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        serve(argv[1:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m loyalty_app.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    p_setup = sub.add_parser("setup")
    p_setup.add_argument("--demo", action="store_true")
    sub.add_parser("migrate")
    sub.add_parser("seed-demo")
    sub.add_parser("audit")
    sub.add_parser("jobs")
    p_rollup = sub.add_parser("analytics-rollup")
    p_rollup.add_argument("--rebuild", action="store_true")
    p_rollup.add_argument("--merchant", help="one merchant's slug (default: every merchant)")
    p_banner = sub.add_parser("banner")
    p_banner.add_argument("--port", type=int, default=3000)
    sub.add_parser("test")
    args = parser.parse_args(argv)

    if args.command == "setup":
        migrate()
        if args.demo and get_settings().demo_mode:
            seed_demo()
        elif args.demo:
            print("DEMO_MODE is off: no demo data loaded")
        return 0
    if args.command == "migrate":
        migrate()
        return 0
    if args.command == "seed-demo":
        seed_demo()
        return 0
    if args.command == "audit":
        from loyalty_app.services.ledger import main_audit

        return main_audit([])
    if args.command == "jobs":
        from loyalty_app.services.operations.jobs import run_periodic_jobs

        print(run_periodic_jobs())
        return 0
    if args.command == "analytics-rollup":
        return analytics_rollup(args.rebuild, args.merchant)
    if args.command == "banner":
        if get_settings().demo_mode:
            banner(args.port)
        return 0
    if args.command == "test":
        return run_tests()
    return 2


if __name__ == "__main__":
    sys.exit(main())
