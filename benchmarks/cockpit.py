"""The member cockpit, measured the way a member meets it, against baselines from the same run.

1. Server time of the cockpit's main events over a real websocket (benchmarks/ws_client.py):
   the home page's load events (language, session guard, cockpit load) and a cockpit refresh,
   vs the no-op baseline event (PingState.ping) -> ratios.
2. Time to first render of the cockpit in headless Chromium at 390x844: navigation start until
   the balance is on screen (p50 over repeats, warm cache).
3. JavaScript bytes transferred for the cockpit vs a blank Reflex app (``reflex init --template
   blank``) built and served in the same run -> ratio.
4. Lighthouse mobile scores (performance, accessibility, best practices) of the cockpit and of the
   blank app (Lighthouse from the npm registry in tools/bench, CHROME_PATH=/usr/bin/chromium).

    python -m benchmarks.cockpit                       # builds and starts both apps (minutes)
    python -m benchmarks.cockpit --base-url http://localhost:3000 --database-url sqlite:////tmp/inst1/loyalty.db
    python -m benchmarks.cockpit --skip-blank --skip-lighthouse   # server events and first render only
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import http.server
import io
import json
import os
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlmodel import select

from benchmarks.common import percentile, result
from benchmarks.ws_client import ReflexTab, open_session_cookie, state_event
from loyalty_app.db import make_engine, read_session
from loyalty_app.models import Account, Merchant
from loyalty_app.state.cockpit import CockpitState
from loyalty_app.state.language import LanguageState
from loyalty_app.state.ping import PingState
from loyalty_app.state.session import SessionState
from tests.browser import harness

REPO = harness.REPO_ROOT
LIGHTHOUSE = REPO / "tools" / "bench" / "node_modules" / ".bin" / "lighthouse"
SLUG, EMAIL = "cafe", "member@demo.test"


# --- 1. server events ----------------------------------------------------------------------------


async def _time_events(base_url: str, cookie: str, repeats: int) -> dict[str, list[float]]:
    tab = ReflexTab(base_url, cookie=cookie)
    await tab.connect()
    path, query = f"/m/{SLUG}/home", {"slug": SLUG}
    page_load = [
        state_event(LanguageState, "detect"),
        state_event(SessionState, "guard_member_page"),
        state_event(CockpitState, "load"),
    ]
    samples: dict[str, list[float]] = {"ping": [], "page_load": [], "cockpit_refresh": []}
    try:
        for name in page_load:  # warm up: the first events build the state tree
            await tab.send(name, path, query)
        for _ in range(repeats):
            ms, _ = await tab.send(state_event(PingState, "ping"), path, query)
            samples["ping"].append(ms)
            total = 0.0
            for name in page_load:
                with contextlib.suppress(TimeoutError):  # detect may have nothing new to say
                    ms, _ = await _send_short(tab, name, path, query)
                    total += ms
            samples["page_load"].append(total)
            ms, delta = await tab.send(state_event(CockpitState, "load"), path, query)
            assert any("cockpit_state" in key for key in delta), delta.keys()
            samples["cockpit_refresh"].append(ms)
    finally:
        await tab.close()
    return samples


async def _send_short(tab: ReflexTab, name: str, path: str, query: dict) -> tuple[float, dict]:
    old = tab.timeout
    tab.timeout = 2.0 if name.endswith(".detect") else old
    try:
        return await tab.send(name, path, query)
    finally:
        tab.timeout = old


def _p(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), percentile(samples, 0.95)


# --- 2. first render -------------------------------------------------------------------------------


def _first_render(base_url: str, cookie: str, repeats: int) -> tuple[list[float], tuple[int, int]]:
    """(ms from navigation start to the balance on screen, per repeat; JS bytes of one cold load)."""
    from playwright.sync_api import sync_playwright

    name, value = cookie.split("=", 1)
    times: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS, headless=True)
        context = browser.new_context(base_url=base_url, **harness.MOBILE_CONTEXT)
        context.add_cookies([{"name": name, "value": value, "url": base_url}])
        page = context.new_page()
        js_bytes = _js_bytes_of_load(page, f"{base_url}/m/{SLUG}/home", ready="[data-testid=points-balance]")
        for _ in range(repeats):
            page.goto(f"{base_url}/m/{SLUG}/home")
            page.wait_for_function(
                "() => { const e = document.querySelector('[data-testid=points-balance]');"
                " return e && /\\d/.test(e.textContent) && e.textContent.trim() !== '0'; }"
            )
            times.append(page.evaluate("performance.now()"))
        browser.close()
    return times, js_bytes


def _js_bytes_of_load(page, url: str, ready: str | None) -> tuple[int, int]:
    """(bytes on the wire, bytes after decompression) of every script of a cold page load."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    scripts: dict[str, bool] = {}
    sizes: dict[str, float] = {}
    decoded: dict[str, int] = {}
    cdp.on(
        "Network.dataReceived", lambda e: decoded.__setitem__(e["requestId"], decoded.get(e["requestId"], 0) + e["dataLength"])
    )
    cdp.on(
        "Network.responseReceived",
        lambda e: scripts.__setitem__(e["requestId"], e["type"] == "Script" or e["response"]["mimeType"].endswith("javascript")),
    )
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(url, wait_until="networkidle")
    if ready:
        page.wait_for_selector(ready)
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    wire = int(sum(size for rid, size in sizes.items() if scripts.get(rid)))
    return wire, int(sum(size for rid, size in decoded.items() if scripts.get(rid)))


# --- 3. blank app ----------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files like a production server: the build's precompressed ``.gz`` twin when the
    browser accepts gzip (so transferred bytes compare fairly), the SPA fallback for routes."""

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.exists():
            path = Path(self.directory) / "__spa-fallback.html"
        gz = path.with_name(path.name + ".gz")
        if gz.exists() and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gz.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        self.path = "/" + str(path.relative_to(self.directory))
        return super().send_head()

    def log_message(self, format, *args) -> None:
        pass


@contextlib.contextmanager
def blank_app() -> Iterator[str]:
    """Build ``reflex init --template blank`` for production and serve its static frontend."""
    env = {
        **os.environ,
        "PATH": f"{harness.TOOLS_BIN}:{os.environ.get('PATH', '')}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "NPM_CONFIG_REGISTRY": harness.npm_registry(),
    }
    with tempfile.TemporaryDirectory(prefix="blank-reflex-") as tmp:
        app_dir = Path(tmp) / "blankapp"
        app_dir.mkdir()
        reflex = str(harness.VENV_BIN / "reflex")
        subprocess.run(
            [reflex, "init", "--template", "blank"], cwd=app_dir, env=env, check=True, capture_output=True, timeout=900
        )
        subprocess.run(
            [reflex, "export", "--frontend-only", "--no-zip", "--env", "prod"],
            cwd=app_dir,
            env=env,
            check=True,
            capture_output=True,
            timeout=1800,
        )
        root = next(p for p in (app_dir / ".web" / "build" / "client", app_dir / ".web" / "_static") if p.exists())
        handler = functools.partial(_QuietHandler, directory=str(root))
        with socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler) as server:
            threading.Thread(target=server.serve_forever, daemon=True).start()
            try:
                yield f"http://127.0.0.1:{server.server_address[1]}"
            finally:
                server.shutdown()


def _blank_js_bytes(url: str) -> tuple[int, int]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS, headless=True)
        page = browser.new_context(**harness.MOBILE_CONTEXT).new_page()
        size = _js_bytes_of_load(page, url + "/", ready=None)
        browser.close()
    return size


# --- 4. lighthouse ---------------------------------------------------------------------------------


def lighthouse(url: str, cookie: str = "") -> dict[str, int]:
    if not LIGHTHOUSE.exists():
        raise FileNotFoundError("Lighthouse is installed by `make bench-tools` into tools/bench")
    with tempfile.TemporaryDirectory(prefix="lh-") as tmp:
        out = Path(tmp) / "report.json"
        command = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={out}",
            "--form-factor=mobile",
            "--only-categories=performance,accessibility,best-practices",
            "--chrome-flags=--headless=new " + " ".join(harness.CHROMIUM_ARGS),
        ]
        if cookie:
            command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
        subprocess.run(
            command,
            check=True,
            capture_output=True,
            timeout=300,
            env={**os.environ, "CHROME_PATH": harness.CHROMIUM, "PATH": f"{harness.TOOLS_BIN}:{os.environ['PATH']}"},
        )
        report = json.loads(out.read_text())
    return {key: round((cat.get("score") or 0) * 100) for key, cat in report["categories"].items()}


# --- main ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _target(base_url: str | None, database_url: str | None) -> Iterator[tuple[str, str]]:
    if base_url:
        if not database_url:
            raise SystemExit("--database-url is required with --base-url (to open a member session)")
        yield base_url, database_url
        return
    with harness.live_app_server() as app:
        yield app.base_url, app.database_url


def _member_cookie(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        with read_session(engine) as s:
            merchant = s.exec(select(Merchant).where(Merchant.slug == SLUG)).one()
            member = s.exec(select(Account).where(Account.merchant_id == merchant.id, Account.email == EMAIL)).one()
        return open_session_cookie(engine, member.id, SLUG)
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cockpit", description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", help="a running app (default: build and start one)")
    parser.add_argument("--database-url", help="that app's database (with --base-url)")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--render-repeats", type=int, default=10)
    parser.add_argument("--skip-blank", action="store_true", help="no blank-app build (no JS ratio, no blank Lighthouse)")
    parser.add_argument("--skip-lighthouse", action="store_true")
    args = parser.parse_args(argv)

    with _target(args.base_url, args.database_url) as (base_url, database_url):
        cookie = _member_cookie(database_url)
        samples = asyncio.run(_time_events(base_url, cookie, args.repeats))
        ping50, ping95 = _p(samples["ping"])
        print(f"baseline no-op event (PingState.ping): {args.repeats} events, p50 {ping50:.2f} ms, p95 {ping95:.2f} ms")
        for key, label in (
            ("page_load", "home page load events (detect + guard + cockpit load)"),
            ("cockpit_refresh", "cockpit refresh (CockpitState.load)"),
        ):
            p50, p95 = _p(samples[key])
            print(f"{label}: p50 {p50:.2f} ms, p95 {p95:.2f} ms, ratio {p50 / ping50:.1f}x the no-op (p50)")
            result(
                "cockpit (events)",
                label,
                f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
                baseline=f"no-op event p50 {ping50:.1f} ms",
                ratio=p50 / ping50,
                goal="<= 3x" if key == "cockpit_refresh" else "<= 4x",
            )

        times, cockpit_js = _first_render(base_url, _member_cookie(database_url), args.render_repeats)
        print(
            f"time to first render of the cockpit (Chromium, 390x844, warm cache): p50 {statistics.median(times):.0f} ms, "
            f"max {max(times):.0f} ms over {len(times)} loads"
        )
        print(f"cockpit JS (cold load): {cockpit_js[0] / 1024:.0f} KiB transferred, {cockpit_js[1] / 1024:.0f} KiB uncompressed")
        cockpit_scores = None if args.skip_lighthouse else lighthouse(f"{base_url}/m/{SLUG}/home", _member_cookie(database_url))
        if cockpit_scores:
            print("lighthouse mobile, cockpit: " + ", ".join(f"{k} {v}" for k, v in cockpit_scores.items()))

    if not args.skip_blank:
        with blank_app() as blank_url:
            blank_js = _blank_js_bytes(blank_url)
            print(
                f"blank Reflex app JS (cold load): {blank_js[0] / 1024:.0f} KiB transferred, "
                f"{blank_js[1] / 1024:.0f} KiB uncompressed"
            )
            print(
                f"ratio cockpit/blank JS: {cockpit_js[0] / blank_js[0]:.2f}x transferred, "
                f"{cockpit_js[1] / blank_js[1]:.2f}x uncompressed"
            )
            if not args.skip_lighthouse:
                scores = lighthouse(blank_url + "/")
                print("lighthouse mobile, blank Reflex app: " + ", ".join(f"{k} {v}" for k, v in scores.items()))
                if cockpit_scores and scores.get("performance"):
                    result(
                        "cockpit (Lighthouse mobile)",
                        "performance of the signed-in cockpit",
                        str(cockpit_scores.get("performance")),
                        baseline=f"blank Reflex app {scores['performance']}",
                        ratio=cockpit_scores.get("performance", 0) / scores["performance"],
                        goal=">= blank app",
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
