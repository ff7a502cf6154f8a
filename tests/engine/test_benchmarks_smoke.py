"""The ledger benchmark runs end to end at a tiny size and prints every figure it promises."""

from __future__ import annotations

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
