"""The ledger benchmark runs end to end at a tiny size and prints every figure it promises."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from loyalty_app.settings import PROJECT_ROOT


def test_ledger_benchmark_prints_its_figures():
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.ledger",
            "--members",
            "200",
            "--entries",
            "2000",
            "--timed",
            "50",
            "--cockpit-entries",
            "300",
            "--cockpit-repeats",
            "5",
            "--curve",
            "",  # no extra members: the audit below counts the bulk-loaded entries only
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert re.search(r"bulk load: 2000 entries \+ lots, 200 members in [\d.]+ s", out)
    assert re.search(r"service credit: 50 credits, \d+ credits/s, p50 [\d.]+ ms, p95 [\d.]+ ms", out)
    assert re.search(r"bare insert: 50 inserts, \d+ inserts/s, p50 [\d.]+ ms, p95 [\d.]+ ms", out)
    assert re.search(r"ratio: bare insert is [\d.]+x the service credit rate", out)
    assert re.search(r"cockpit summary \(member with 300 entries: .*20 history rows\): p50 [\d.]+ ms, p95 [\d.]+ ms", out)
    assert re.search(
        r"full cockpit summary \(services.member_app.cockpit.member_summary, same member\): p50 [\d.]+ ms, p95 [\d.]+ ms", out
    )
    assert re.search(r"audit: 2100 entries, \d+ members in [\d.]+ s: OK", out)


def test_scan_benchmark_prints_its_figures():
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.scan", "--members", "100", "--entries", "1000", "--scans", "20"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert re.search(r"bare ledger credit \(baseline\): 20 credits, p50 [\d.]+ ms, p95 [\d.]+ ms", out)
    assert re.search(r"scan \(verify \+ consume code, member lookup\): p50 [\d.]+ ms", out)
    assert re.search(r"scan-to-credit: 20 scans, p50 [\d.]+ ms, p95 [\d.]+ ms, \d+ scans/s", out)
    assert re.search(r"ratio: scan-to-credit is [\d.]+x \(p50\) and [\d.]+x \(p95\) the bare ledger credit", out)


def _run(*args: str) -> str:
    run = subprocess.run([sys.executable, "-m", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_ledger_benchmark_prints_the_cockpit_curve_and_its_table_rows():
    out = _run(
        "benchmarks.ledger", "--members", "100", "--entries", "500", "--timed", "10", "--cockpit-entries", "50",
        "--cockpit-repeats", "3", "--curve", "10,200", "--skip-audit",
    )  # fmt: skip
    assert re.search(r"full cockpit summary p50 as a member's history grows: 10: [\d.]+ ms, 200: [\d.]+ ms", out)
    rows = [json.loads(line[len("RESULT ") :]) for line in out.splitlines() if line.startswith("RESULT ")]
    assert [r["goal"] for r in rows] == ["<= 1.5x", "<= 10 ms (SQLite), 15 ms (PostgreSQL)", "flat"]
    assert all(r["value"] for r in rows) and rows[0]["ratio"].endswith("x")


def test_tier_benchmark_evaluates_everyone_and_compares_with_one_by_one():
    out = _run("benchmarks.tiers", "--members", "300", "--entries", "3000", "--sample", "50")
    assert re.search(r"baseline, members read one by one: 50 members, [\d,]+ members/s", out)
    assert re.search(r"first evaluation \(writes every tier\): 300 members in [\d.]+ s, .*upgraded \d+", out)
    assert re.search(r"second evaluation \(nothing changes\): 300 members in [\d.]+ s, .*upgraded 0", out)


def test_make_bench_writes_one_table(tmp_path, monkeypatch):
    from benchmarks import run_all

    monkeypatch.setattr(run_all, "RESULTS", tmp_path / "RESULTS.md")
    (tmp_path / "RESULTS.md").write_text("# Benchmark results\n\nEarlier narrative.\n")
    rows = [{"benchmark": "tiers (sqlite)", "figure": "f", "value": "1 s", "baseline": "b", "ratio": "2.00x", "goal": "g"}]
    for _ in range(2):  # a second run replaces the table, never stacks another
        run_all.write(run_all.table([("tiers (SQLite)", 0, rows, 60.0, 0.5), ("load", 1, [], 3.0, 0.7)]))
    text = (tmp_path / "RESULTS.md").read_text()
    assert text.count(run_all.START) == 1 and "Earlier narrative." in text
    assert "| tiers (sqlite) | f | 1 s | b | 2.00x | g | 0.50 | 1.0 min |" in text
    assert "| load | **did not finish** (exit 1) |" in text
