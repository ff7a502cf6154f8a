"""Fault tests: each starts its own scaled-out backend (backend only, 2 workers) on a private
PostgreSQL database, with Reflex state in a private redis-server, then breaks something.

Nothing shared is ever stopped: the database is reached through a TCP proxy the test can cut,
and the redis-server is a child of the test. They need TEST_DATABASE_URL (PostgreSQL) and the
``redis-server`` binary; without them they are skipped with the reason."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import urllib.parse
import uuid
from collections.abc import Iterator

import pytest

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    reason = None
    if not PG_URL.startswith(("postgresql", "postgres")):
        reason = "fault tests skipped: TEST_DATABASE_URL (PostgreSQL) is not set"
    elif shutil.which("redis-server") is None:
        reason = "fault tests skipped: redis-server is not installed"
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.faults)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


class TcpProxy:
    """A TCP proxy on a free loopback port in front of ``target``. ``cut()`` closes every open
    connection and refuses new ones (the port stops listening); ``restore()`` listens again on
    the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.port = 0
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            with self._lock:
                self._open.discard(src)
                self._open.discard(dst)

    def cut(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            victims = list(self._open)
        for sock in victims:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self.cut()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database (migrated, demo data), dropped afterwards."""
    import tempfile
    from pathlib import Path

    from benchmarks.load import fresh_database, prepare_database

    with fresh_database(PG_URL, f"loyalty_faults_{os.getpid()}_{uuid.uuid4().hex[:8]}") as url:
        with tempfile.TemporaryDirectory(prefix="loyalty-faults-") as instance_dir:
            prepare_database(url, Path(instance_dir))
        yield url


@pytest.fixture
def redis_server():
    from benchmarks.load import private_redis

    with private_redis() as server:
        yield server


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    parts = urllib.parse.urlsplit(PG_URL)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    try:
        yield proxy
    finally:
        proxy.close()


def through(url: str, proxy: TcpProxy) -> str:
    """The same database URL, reached through ``proxy``."""
    parts = urllib.parse.urlsplit(url)
    userinfo, _, _host = parts.netloc.rpartition("@")
    netloc = (f"{userinfo}@" if userinfo else "") + f"127.0.0.1:{proxy.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
