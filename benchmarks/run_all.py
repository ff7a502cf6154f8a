"""``make bench``: every benchmark at its default size, then one table of their figures.

Each benchmark runs as its own process (its output streams through) and prints ``RESULT``
lines (``benchmarks.common.result``); this collects them into one table with the machine, the
load average and the time taken, and writes it at the top of ``benchmarks/RESULTS.md`` (the
narrative of earlier runs stays below it). A benchmark that fails is named in the table; the
others still run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- make bench: start -->", "<!-- make bench: end -->"
PG = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def runs(pg: str | None) -> list[tuple[str, list[str]]]:
    out = [
        ("ledger (SQLite)", ["benchmarks.ledger"]),
        ("tiers (SQLite)", ["benchmarks.tiers"]),
        ("scan (SQLite)", ["benchmarks.scan"]),
        ("analytics (SQLite)", ["benchmarks.analytics"]),
        ("cockpit events and Lighthouse", ["benchmarks.cockpit"]),
    ]
    if pg:
        out += [
            ("ledger (PostgreSQL)", ["benchmarks.ledger", "--database-url", pg]),
            ("tiers (PostgreSQL)", ["benchmarks.tiers", "--database-url", pg]),
            ("analytics (PostgreSQL)", ["benchmarks.analytics", "--database-url", pg]),
            ("load (PostgreSQL + Redis)", ["benchmarks.load", "--database-url", pg]),
        ]
    return out


def run_one(args: list[str]) -> tuple[int, list[dict], float, float]:
    started, load = time.perf_counter(), os.getloadavg()[0]
    proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    rows = []
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        if line.startswith("RESULT "):
            rows.append(json.loads(line[len("RESULT ") :]))
    return proc.wait(), rows, time.perf_counter() - started, load


def table(results: list[tuple[str, int, list[dict], float, float]]) -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line), ""
    )
    lines = [
        START,
        f"## Latest `make bench` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.platform()}. "
        "Ratios compare figures measured in the same run.",
        "",
        "| benchmark | figure | value | baseline (same run) | ratio | goal | load avg at start | run time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, code, rows, seconds, load in results:
        if code != 0 or not rows:
            lines.append(f"| {label} | **did not finish** (exit {code}) | | | | | {load:.2f} | {seconds / 60:.1f} min |")
        for row in rows:
            lines.append(
                f"| {row['benchmark']} | {row['figure']} | {row['value']} | {row['baseline']} | {row['ratio']} | "
                f"{row['goal']} | {load:.2f} | {seconds / 60:.1f} min |"
            )
    lines += ["", END, ""]
    return "\n".join(lines)


def write(text: str) -> None:
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if START in old and END in old:
        old = old[: old.index(START)] + old[old.index(END) + len(END) :].lstrip("\n")
    head, _, rest = old.partition("\n")
    RESULTS.write_text(f"{head}\n\n{text}\n{rest.lstrip()}")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    only = set(args)
    results = []
    for label, command in runs(PG if os.environ.get("BENCH_SKIP_POSTGRES") != "1" else None):
        if only and not any(o in label for o in only):
            continue
        print(f"\n=== {label}: python -m {' '.join(command)}", flush=True)
        code, rows, seconds, load = run_one(command)
        results.append((label, code, rows, seconds, load))
    write(table(results))
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0 if all(code == 0 for _l, code, *_r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
