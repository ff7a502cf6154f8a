"""The analytics benchmark runs end to end at a tiny size and prints every figure it promises."""

from __future__ import annotations

import re
import subprocess
import sys

from loyalty_app.services.insight.analytics import CHARTS
from loyalty_app.settings import PROJECT_ROOT


def test_analytics_benchmark_prints_its_figures():
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.analytics", "--members", "300", "--entries", "5000", "--repeats", "1"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "analytics benchmark: sqlite, 300 members, about 5000 ledger entries over 18 months" in out
    generated = re.search(
        r"generated: (\d+) ledger entries, (\d+) activities, (\d+) vouchers, \d+ ratings, "
        r"\d+ referral codes, \d+ referrals, 300 members in [\d.]+ s",
        out,
    )
    assert generated, out
    assert 3000 < int(generated.group(1)) < 8000 and int(generated.group(2)) > 0 and int(generated.group(3)) > 0
    assert "| chart (p50 of 1, ms; live -> with rollups) | day | week | month |" in out
    assert re.search(r"^rollup backfill: \d+ local days in [\d.]+ s$", out, re.M), out
    for name, _fn in CHARTS:
        for label in ("live", "rollups"):
            assert re.search(rf"^{label} chart {name}: day p50 [\d.]+ ms, week p50 [\d.]+ ms, month p50 [\d.]+ ms$", out, re.M), (
                name
            )
        assert re.search(rf"^\| {name} \| [\d.]+ -> [\d.]+ \| [\d.]+ -> [\d.]+ \| [\d.]+ -> [\d.]+ \|$", out, re.M), name
    assert re.search(
        r"^\| whole dashboard \| [\d.]+ s -> [\d.]+ s \| [\d.]+ s -> [\d.]+ s \| [\d.]+ s -> [\d.]+ s \|$", out, re.M
    ), out
    for period in ("day", "week", "month"):
        for label in ("live", "rollups"):
            assert re.search(
                rf"^{label} dashboard \({period}\): \d+ ms, \d+ active members, redemption rate [\d.]+, "
                rf"liability \d+ points, \d+ at risk$",
                out,
                re.M,
            ), period
        assert f"dashboard ({period}) with rollups == live: True" in out
