"""Start the production build of the app for browser tests, and drive Debian's Chromium.

Why a harness of our own and not pytest-playwright: its event loop clashes with
pytest-asyncio, and Playwright's own browser download (``playwright install``) is never used;
Debian's /usr/bin/chromium is driven through Playwright's sync API instead.

The server is ``reflex run --env prod --single-port`` on a free port, with its own temporary
instance folder and database, its own build folder (``.web-test``, so it never fights with
``make run``'s ``.web``), in its own process group so teardown kills bun and vite too.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
LOG_DIR = ARTIFACTS / "logs"
SCREENSHOT_DIR = ARTIFACTS / "screenshots"
VENV_BIN = REPO_ROOT / ".venv" / "bin"
TOOLS_BIN = REPO_ROOT / "tools" / "node_modules" / ".bin"
WEB_WORKDIR = ".web-test"  # relative to the repo root; git-ignored like .web

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A phone: what members use. Keep in step with the `page` fixture.
MOBILE_CONTEXT = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-US",
}
DEMO_MERCHANTS = ("cafe", "books")
DEMO_PASSWORD = "demo-password-1"
DEFAULT_START_TIMEOUT = 600.0  # seconds; a cold production build on 2 cores takes minutes


@dataclass
class LiveApp:
    """A running app: where it is, and where its log goes."""

    base_url: str
    log_path: Path | None = None
    process: subprocess.Popen | None = None
    instance_dir: Path | None = None
    database_url: str = ""  # the server's database, for tests that prepare data through the services

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines) if self.log_path else "(server not started by the tests)"


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def npm_registry() -> str:
    """The registry npm is configured with (bun reads NPM_CONFIG_REGISTRY)."""
    if os.environ.get("NPM_CONFIG_REGISTRY"):
        return os.environ["NPM_CONFIG_REGISTRY"]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return ""  # npm is required to build, so its config always names the registry


@contextlib.contextmanager
def web_workdir() -> Iterator[str]:
    """The Reflex build folder for this test session.

    Normally the shared ``.web-test`` (its node_modules make the next build fast). When another
    test session on this tree holds it (helpers and CI jobs run side by side), a private
    ``.web-test-<pid>`` is used and removed afterwards: a second ``reflex run`` rebuilding the
    folder under a running server would break that server's pages.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / ".web-test.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            private = f"{WEB_WORKDIR}-{os.getpid()}"
            try:
                yield private
            finally:
                shutil.rmtree(REPO_ROOT / private, ignore_errors=True)
            return
        yield WEB_WORKDIR


def server_env(port: int, database_url: str, instance_dir: Path, workdir: str = WEB_WORKDIR) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PORT": str(port),
            "APP_ORIGIN": f"http://localhost:{port}",
            "DATABASE_URL": database_url,
            "LOYALTY_INSTANCE_DIR": str(instance_dir),
            "PATH": f"{TOOLS_BIN}{os.pathsep}{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "REFLEX_USE_SYSTEM_BUN": "1",
            "NPM_CONFIG_REGISTRY": npm_registry(),
            "REFLEX_CHECK_LATEST_VERSION": "false",
            "REFLEX_WEB_WORKDIR": workdir,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    # The server's own settings must not leak in from the developer's shell.
    for name in ("API_URL", "SECRET_KEY", "REFLEX_REDIS_URL"):
        env.pop(name, None)
    return env


def prepare_database(env: dict[str, str], log_path: Path) -> None:
    """Migrate and load the demo data with the project's CLI (idempotent)."""
    if not (REPO_ROOT / "loyalty_app" / "cli.py").exists():
        _fallback_demo_schema(env["DATABASE_URL"])
        return
    with log_path.open("ab") as log:
        log.write(b"$ python -m loyalty_app.cli setup --demo\n")
        log.flush()
        result = subprocess.run(
            [str(VENV_BIN / "python"), "-m", "loyalty_app.cli", "setup", "--demo"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    if result.returncode != 0:
        raise RuntimeError(f"`loyalty_app.cli setup --demo` failed ({result.returncode}):\n{tail(log_path)}")


def _fallback_demo_schema(database_url: str) -> None:
    """FALLBACK, only while loyalty_app/cli.py does not exist: tables from the models and two
    bare merchants, so the PWA shell can be tested before the real setup command lands."""
    from sqlmodel import SQLModel, select

    import loyalty_app.models  # noqa: F401
    from loyalty_app.db import make_engine, write_session
    from loyalty_app.models import Merchant

    engine = make_engine(database_url)
    SQLModel.metadata.create_all(engine)
    with write_session(engine) as s:
        for slug, name, short, primary in (
            ("cafe", "Bean & Leaf Café", "Bean & Leaf", "#1f5f46"),
            ("books", "Paper Lantern Books", "Paper Lantern", "#3b2f8f"),
        ):
            if s.exec(select(Merchant).where(Merchant.slug == slug)).first() is None:
                s.add(Merchant(slug=slug, name=name, short_name=short, theme={"primary": primary}))
    engine.dispose()


def _get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read(200_000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (urllib.error.URLError, OSError):
        return 0, ""


def event_socket_accepts(app: LiveApp) -> bool:
    """True when the backend upgrades /_event to a websocket for our own Origin.

    That is the channel every click goes through, so it being up means "interactive".
    """
    parsed = urllib.parse.urlsplit(app.base_url)
    request = (
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {parsed.netloc}\r\n"
        f"Origin: {parsed.scheme}://{parsed.netloc}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 80), timeout=5) as sock:
            sock.sendall(request.encode())
            status_line = sock.recv(256).split(b"\r\n", 1)[0]
    except OSError:
        return False
    return b" 101 " in status_line + b" "


def wait_until_ready(app: LiveApp, timeout: float) -> None:
    """Wait until GET / answers the app's HTML, /ping answers and the event websocket opens.

    Fails fast when the server process exits, and always with the log tail in the message.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process is not None and app.process.poll() is not None:
            raise RuntimeError(
                f"The app server exited with code {app.process.returncode} before it was ready.\n"
                f"Log {app.log_path}:\n{app.log_tail()}"
            )
        status, body = _get(app.url("/"))
        if status == 200 and "<script" in body:
            ping_status, _ = _get(app.url("/ping"))
            if ping_status == 200 and event_socket_accepts(app):
                return
        time.sleep(1.0)
    raise TimeoutError(
        f"The app at {app.base_url} was not ready after {timeout:.0f} s "
        f"(set BROWSER_APP_START_TIMEOUT to wait longer).\nLog {app.log_path}:\n{app.log_tail()}"
    )


def stop_process_group(process: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM the server's whole process group (reflex, bun, workers), then SIGKILL."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)


@contextlib.contextmanager
def live_app_server() -> Iterator[LiveApp]:
    """The app under test: BROWSER_BASE_URL when set, else a fresh production server."""
    reuse = os.environ.get("BROWSER_BASE_URL")
    if reuse:
        app = LiveApp(base_url=reuse.rstrip("/"), database_url=os.environ.get("BROWSER_TEST_DATABASE_URL", ""))
        wait_until_ready(app, timeout=60)
        yield app
        return

    with web_workdir() as workdir:
        yield from _start_server(workdir)


SCALED_WORKERS = 2


def scaled_setup() -> tuple[str, str] | None:
    """BROWSER_SCALED=1 (set by the test command when TEST_DATABASE_URL and TEST_REDIS_URL are
    set): the server runs like the scaled-out deployment, on a fresh PostgreSQL database, with
    Reflex state in Redis and several backend workers. Returns (database URL, Redis URL)."""
    if os.environ.get("BROWSER_SCALED") != "1":
        return None
    pg, redis_url = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    if not pg or not redis_url:
        raise RuntimeError("BROWSER_SCALED=1 needs TEST_DATABASE_URL and TEST_REDIS_URL")
    import psycopg
    import redis

    name = f"loyalty_browser_{os.getpid()}"
    admin_url = pg.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(admin_url)
    redis_parts = urllib.parse.urlsplit(redis_url)
    redis_db = urllib.parse.urlunsplit(redis_parts._replace(path="/7"))  # a database of its own, emptied first
    redis.Redis.from_url(redis_db).flushdb()
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}")), redis_db


def _start_server(workdir: str) -> Iterator[LiveApp]:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    instance_dir = Path(tempfile.mkdtemp(prefix="loyalty-browser-"))
    scaled = scaled_setup()
    database_url = (
        (scaled[0] if scaled else None)
        or os.environ.get("BROWSER_TEST_DATABASE_URL")
        or f"sqlite:///{instance_dir / 'loyalty.db'}"
    )
    env = server_env(port, database_url, instance_dir, workdir)
    if scaled:
        env.update({"REFLEX_REDIS_URL": scaled[1], "GRANIAN_WORKERS": str(SCALED_WORKERS)})
    log_path = LOG_DIR / f"reflex-{port}.log"
    log_path.write_text("")
    # What `make run` starts: reflex run through loyalty_app.cli serve (failed workers restart).
    command = [
        str(VENV_BIN / "python"),
        "-m",
        "loyalty_app.cli",
        "serve",
        "run",
        "--env",
        "prod",
        "--single-port",
        "--frontend-port",
        str(port),
        "--backend-port",
        str(port),
    ]
    previous_handler = _interrupt_on_sigterm()
    process = None
    try:
        prepare_database(env, log_path)
        with log_path.open("ab") as log:
            log.write(("$ " + " ".join(command) + "\n").encode())
            log.flush()
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # own process group
            )
        app = LiveApp(
            base_url=f"http://localhost:{port}",
            log_path=log_path,
            process=process,
            instance_dir=instance_dir,
            database_url=database_url,
        )
        started = time.monotonic()
        wait_until_ready(app, float(os.environ.get("BROWSER_APP_START_TIMEOUT", DEFAULT_START_TIMEOUT)))
        print(
            f"\n[browser harness] app ready at {app.base_url} after {time.monotonic() - started:.0f} s (log: {log_path})",
            file=sys.stderr,
        )
        yield app
    finally:
        if process is not None:
            stop_process_group(process)
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
        shutil.rmtree(instance_dir, ignore_errors=True)
        if scaled:
            _drop_database(scaled[0])


def _drop_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with contextlib.suppress(Exception), psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _interrupt_on_sigterm():
    """Turn SIGTERM (a CI timeout, `kill`) into KeyboardInterrupt, so the server is still torn
    down; only when nobody else handles SIGTERM. Returns the handler to restore, or None."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, interrupt)
    return signal.SIG_DFL


def launch_browser(playwright):
    """Headless Debian Chromium (never Playwright's downloaded browsers)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def launch_persistent(playwright, user_data_dir: Path, **context_options):
    """A persistent-profile context: Chromium's installability check refuses incognito ones."""
    options = {**MOBILE_CONTEXT, **context_options}
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **options
    )


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
