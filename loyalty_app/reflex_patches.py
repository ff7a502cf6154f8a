"""Two fixes to Reflex 0.10.1 that the scaled-out set-up needs, in one place.

Both wrap a Reflex or Granian method without changing its behaviour otherwise, both are applied
once (idempotent), and both have tests that fail without them:
- ``respawn_failed_workers``: tests/faults/test_faults.py (kill a worker);
- ``cancel_safe_state_locks``: tests/unit/test_reflex_patches.py.
Check them again when Reflex is upgraded: if Reflex fixes either, drop the patch.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

# Compare-and-delete: only the holder's own lock id releases the lock.
_RELEASE_IF_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
# A SET sent just before the cancel may reach Redis after our first check: look again a little later.
_RELEASE_RETRY_DELAYS = (0.0, 0.2, 1.0)
_release_tasks: set[asyncio.Task] = set()


def respawn_failed_workers() -> None:
    """Granian with ``respawn_failed_workers`` on.

    Reflex 0.10.1 builds its Granian server without it, so one backend worker that dies (kill -9,
    out of memory) stops the whole backend, every member's app with it. With it, the other
    workers keep serving and Granian starts a new one; the dropped sockets reconnect by themselves.
    Applied in the process that starts Granian (``python -m loyalty_app.cli serve``)."""
    from granian.server import common

    original = common.AbstractServer.__init__
    if getattr(original, "_loyalty_patched", False):
        return

    def init(self, *args, **kwargs):
        kwargs.setdefault("respawn_failed_workers", True)
        original(self, *args, **kwargs)

    init._loyalty_patched = True  # type: ignore[attr-defined]
    common.AbstractServer.__init__ = init  # type: ignore[method-assign]


def cancel_safe_state_locks() -> None:
    """A Redis state lock taken by an event that is cancelled at that moment is given back.

    With state in Redis (several workers), Reflex cancels a tab's unfinished page-load chain when
    the tab navigates or reconnects. If the cancel lands while ``_wait_lock`` is taking the lock
    (the ``SET NX`` has reached Redis, its reply has not reached us), nobody owns the lock and
    nobody releases it: every event of that tab, the next page's hydrate included, waits until the
    lock expires (``redis_lock_expiration``, 10 s), and the page shows "Loading…" meanwhile. Seen
    as 1 stalled page load in about 200 on two workers (the card's ``keep_fresh`` loop is a
    typical victim). Here the cancelled waiter deletes the lock if, and only if, it holds its own
    id, so the next event gets it at once."""
    from reflex.istate.manager.redis import StateManagerRedis

    original = StateManagerRedis._wait_lock
    if getattr(original, "_loyalty_patched", False):
        return

    async def _wait_lock(self, lock_key: bytes, lock_id: bytes) -> None:
        try:
            await original(self, lock_key, lock_id)
        except asyncio.CancelledError:
            task = asyncio.get_running_loop().create_task(_release_if_ours(self.redis, lock_key, lock_id))
            _release_tasks.add(task)
            task.add_done_callback(_release_tasks.discard)
            raise

    _wait_lock._loyalty_patched = True  # type: ignore[attr-defined]
    StateManagerRedis._wait_lock = _wait_lock  # type: ignore[method-assign]


async def _release_if_ours(redis, lock_key: bytes, lock_id: bytes) -> None:
    for delay in _RELEASE_RETRY_DELAYS:
        await asyncio.sleep(delay)
        try:
            if await redis.eval(_RELEASE_IF_OURS, 1, lock_key, lock_id):
                log.info("released the state lock %s left by a cancelled event", lock_key.decode(errors="replace"))
                return
        except Exception:
            log.warning("could not release a cancelled event's state lock", exc_info=True)
            return
