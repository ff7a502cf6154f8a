"""The Reflex state lock in Redis survives a cancelled taker (loyalty_app.reflex_patches).

Without the patch, an event cancelled while its ``SET NX`` is in flight leaves the tab's lock held
by nobody for ``redis_lock_expiration`` (10 s): the first test then times out. Needs a Redis
server: TEST_REDIS_URL (``make test`` sets it when one runs on this machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid

import pytest

from loyalty_app.reflex_patches import cancel_safe_state_locks


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("needs Redis: set TEST_REDIS_URL to run the state-lock tests")
    return url


async def _manager(url: str):
    from redis.asyncio import Redis
    from reflex.istate.manager.redis import StateManagerRedis

    cancel_safe_state_locks()
    return StateManagerRedis(redis=Redis.from_url(url))


def test_an_event_cancelled_while_taking_the_lock_gives_it_back(redis_url):
    async def scenario():
        manager = await _manager(redis_url)
        lock_key = f"test-{uuid.uuid4()}_lock".encode()
        real_set = manager.redis.set
        reached_redis = asyncio.Event()

        async def set_then_lose_the_reply(*args, **kwargs):
            result = await real_set(*args, **kwargs)  # the SET NX has landed in Redis ...
            reached_redis.set()
            await asyncio.sleep(30)  # ... and its reply is still on its way when the cancel comes
            return result

        manager.redis.set = set_then_lose_the_reply
        victim = asyncio.create_task(manager._wait_lock(lock_key, b"victim"))
        await asyncio.wait_for(reached_redis.wait(), 5)
        assert await manager.redis.get(lock_key) == b"victim"
        victim.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await victim
        manager.redis.set = real_set

        # The next event of the tab gets the lock at once, not when it expires 10 s later.
        await asyncio.wait_for(manager._wait_lock(lock_key, b"next"), 3)
        assert await manager.redis.get(lock_key) == b"next"
        await manager.redis.delete(lock_key)
        await manager.close()

    asyncio.run(scenario())


def test_a_cancelled_waiter_never_releases_a_lock_it_does_not_hold(redis_url):
    async def scenario():
        manager = await _manager(redis_url)
        lock_key = f"test-{uuid.uuid4()}_lock".encode()
        await manager.redis.set(lock_key, b"holder", px=10_000)
        waiter = asyncio.create_task(manager._wait_lock(lock_key, b"waiter"))
        await asyncio.sleep(0.3)
        assert not waiter.done()
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
        await asyncio.sleep(1.5)  # longer than every release attempt
        assert await manager.redis.get(lock_key) == b"holder"
        await manager.redis.delete(lock_key)
        await manager.close()

    asyncio.run(scenario())
