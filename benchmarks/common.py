"""Shared benchmark helpers: a private database, timing and percentiles."""

from __future__ import annotations

import contextlib
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import loyalty_app.models  # noqa: F401  (registers every table)
from loyalty_app.db import is_sqlite, make_engine, normalise_url


@contextlib.contextmanager
def private_database(database_url: str | None, *, keep: bool = False) -> Iterator[tuple[str, Engine]]:
    """A fresh database with every table: an SQLite file in a temp dir, or a private schema
    in the given PostgreSQL database (dropped afterwards unless ``keep``)."""
    if not database_url or is_sqlite(database_url):
        with tempfile.TemporaryDirectory(prefix="loyalty-bench-") as tmp:
            url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            engine = make_engine(url)
            SQLModel.metadata.create_all(engine)
            try:
                yield url, engine
            finally:
                engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in database_url else "?"
    url = f"{normalise_url(database_url)}{sep}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    try:
        yield url, engine
    finally:
        engine.dispose()
        if not keep:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@dataclass(frozen=True)
class Timing:
    count: int
    total_s: float
    p50_ms: float
    p95_ms: float

    @property
    def per_second(self) -> float:
        return self.count / self.total_s if self.total_s else float("inf")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def time_calls(fn: Callable[[int], object], count: int) -> Timing:
    """Call ``fn(i)`` ``count`` times; wall time and per-call latency percentiles."""
    latencies: list[float] = []
    started = time.perf_counter()
    for i in range(count):
        t = time.perf_counter()
        fn(i)
        latencies.append((time.perf_counter() - t) * 1000)
    total = time.perf_counter() - started
    return Timing(count, total, statistics.median(latencies) if latencies else 0.0, percentile(latencies, 0.95))


def result(benchmark: str, figure: str, value: str, *, baseline: str = "", ratio: float | None = None, goal: str = "") -> None:
    """One row of ``make bench``'s table (``benchmarks.run_all`` collects these lines)."""
    row = {"benchmark": benchmark, "figure": figure, "value": value, "baseline": baseline, "goal": goal}
    row["ratio"] = f"{ratio:.2f}x" if ratio is not None else ""
    print("RESULT " + json.dumps(row, ensure_ascii=False), flush=True)
