"""What members and cashiers see when part of the scaled-out deployment fails, and that the
ledger stays right: a backend worker killed mid-load, the database connection cut and
restored, Redis restarted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest

from benchmarks import load
from benchmarks.ws_client import ReflexTab, TabDisconnected
from loyalty_app.i18n import translate
from loyalty_app.state.forms import UNAVAILABLE_ERROR
from tests.faults.conftest import through

pytestmark = pytest.mark.faults

RETRY_TEXT = translate("en", UNAVAILABLE_ERROR)


def _ledger_balance(database_url: str, account_id: int) -> int:
    import psycopg

    with psycopg.connect(load._admin(database_url)) as conn:
        return conn.execute(
            "SELECT coalesce(sum(available_delta), 0) FROM ledgerentry WHERE account_id = %s", (account_id,)
        ).fetchone()[0]


def _credit_entries(database_url: str, prefix: str) -> int:
    return sum(load.receipt_credits(database_url, prefix).values())


# --- kill -9 ---------------------------------------------------------------------------------------


async def _credit_until_answered(
    tab: ReflexTab, ev: dict, store_id: int, number: str, receipt: str, stats: load.Stats, log: list[str]
) -> str:
    """A cashier whose screen froze: reconnect, reload the till, scan again and credit the SAME
    receipt until an answer comes back."""
    for attempt in range(6):
        try:
            if attempt:
                seconds = await tab.reconnect(within=30)
                stats.reconnects.append(seconds)
                await load.till_page_load(tab, ev, store_id)
            return await load.credit_once(tab, ev, number, "12.30", receipt, stats)
        except (TimeoutError, TabDisconnected) as lost:
            log.append(f"{receipt}: answer lost ({lost.__class__.__name__}), retrying")
            stats.unanswered.add(receipt)
    raise AssertionError(f"{receipt} never got an answer: {log[-3:]}")


async def _member_keeps_using(tab: ReflexTab, ev: dict, until: float, stats: load.Stats) -> int:
    """A member refreshing the cockpit; on a dropped socket, reconnect and reload the page."""
    answered = 0
    while time.monotonic() < until:
        try:
            ms, _ = await tab.send(ev["cockpit"], load.MEMBER_PATH, load.QUERY, expect=ev["cockpit_answer"])
            stats.add("cockpit load", ms)
            answered += 1
        except (TimeoutError, TabDisconnected):
            stats.reconnects.append(await tab.reconnect(within=30))
            await tab.send(ev["guard_member"], load.MEMBER_PATH, load.QUERY)
        await asyncio.sleep(0.3)
    return answered


async def _kill_mid_load(backend: load.Backend, cast: load.Cast, tag: str) -> tuple[load.Stats, list, dict, list[str]]:
    ev = load._events()
    stats, log = load.Stats(), []
    member_cookies = load.session_cookies(backend.database_url, [a for a, _ in cast.members[:8]])
    members = await asyncio.gather(*(load.open_member_tab(backend.url, c, ev) for c in member_cookies))
    tills = [
        await load.open_till_tab(backend.url, c, ev, cast.store_id)
        for c in load.session_cookies(backend.database_url, [cast.staff_id] * 4)
    ]
    until = time.monotonic() + 14
    member_tasks = [asyncio.create_task(_member_keeps_using(t, ev, until, stats)) for t in members]
    idle: asyncio.Queue = asyncio.Queue()
    for tab in tills:
        idle.put_nowait(tab)

    async def one(i: int) -> None:
        tab = await idle.get()
        try:
            _account, number = cast.members[i % len(cast.members)]
            await _credit_until_answered(tab, ev, cast.store_id, number, f"{tag}-{i}", stats, log)
        finally:
            idle.put_nowait(tab)

    pids_before = backend.worker_pids()
    tasks, killed = [], None
    for i in range(40):  # 4 credits a second for 10 s; one worker killed after 4 s
        tasks.append(asyncio.create_task(one(i)))
        if i == 16:
            killed = pids_before[0]
            os.kill(killed, signal.SIGKILL)
            log.append(f"killed worker {killed}")
        await asyncio.sleep(0.25)
    await asyncio.gather(*tasks)
    answered = await asyncio.gather(*member_tasks)
    info = {
        "killed": killed,
        "pids_before": pids_before,
        "members_answered": answered,
        "member_disconnects": sum(t.disconnects for t in members),
        "till_disconnects": sum(t.disconnects for t in tills),
        "new_tokens": sum(t.new_tokens for t in (*members, *tills)),
    }
    for tab in (*members, *tills):
        await tab.close()
    return stats, [f"{tag}-{i}" for i in range(40)], info, log


def test_kill_a_worker_mid_load_clients_reconnect_and_each_receipt_is_credited_once(pg_database, redis_server):
    tag = f"K{os.getpid()}"
    cast = load.make_cast(pg_database, 12, tag)
    with load.backend_server(pg_database, redis_server.url, 2, respawn=True) as backend:
        stats, receipts, info, log = asyncio.run(_kill_mid_load(backend, cast, tag))
        print(info, "\n".join(log[-10:]), f"reconnect seconds: {stats.reconnects}")
        assert backend.process.poll() is None, "the backend must survive the loss of one worker"
        time.sleep(1)
        pids_after = backend.worker_pids()
        assert len(pids_after) == 2 and info["killed"] not in pids_after, "the killed worker is replaced"
        # The sockets held by the killed worker dropped, and every one of them came back.
        assert info["member_disconnects"] + info["till_disconnects"] >= 1, info
        assert len(stats.reconnects) >= 1
        assert all(n > 0 for n in info["members_answered"]), info
    # Every receipt was answered: credited once (fresh or as a replay of the lost answer).
    assert stats.credited | stats.replayed == set(receipts), (
        sorted(set(receipts) - stats.credited - stats.replayed),
        stats.errors,
    )
    counts = load.receipt_credits(pg_database, tag + "-")
    assert set(counts) == set(receipts), "nothing is lost"
    assert all(n == 1 for n in counts.values()), {r: n for r, n in counts.items() if n != 1}
    assert _credit_entries(pg_database, tag + "-") == len(set(receipts))
    ok, line = load.run_audit(pg_database)
    assert ok, line


# --- PostgreSQL connection cut and restored --------------------------------------------------------


async def _through_a_cut(backend: load.Backend, cast: load.Cast, proxy, tag: str, direct_url: str) -> dict:
    ev = load._events()
    member_id, number = cast.members[0]
    member = await load.open_member_tab(backend.url, load.session_cookies(backend.database_url, [member_id])[0], ev)
    till = await load.open_till_tab(
        backend.url, load.session_cookies(backend.database_url, [cast.staff_id])[0], ev, cast.store_id
    )
    _, delta = await till.send(ev["scan"], load.STAFF_PATH, load.QUERY, {"form": {"code": number}}, expect=ev["till_answer"])
    assert load.till_outcome(delta, ev)[0] == "none" and delta[ev["till_key"]]["member_name_rx_state_"]
    out = {}
    proxy.cut()
    try:
        _, delta = await till.send(
            ev["credit"],
            load.STAFF_PATH,
            load.QUERY,
            {"form": {"amount": "20.00", "receipt": f"{tag}-1"}},
            expect=ev["till_answer"],
        )
        out["credit_cut"] = load.till_outcome(delta, ev)
        _, delta = await member.send(ev["cockpit"], load.MEMBER_PATH, load.QUERY, expect=ev["cockpit_answer"])
        out["cockpit_cut"] = delta[ev["cockpit_key"]].get("error_rx_state_")
        out["entries_while_cut"] = _credit_entries(direct_url, tag)
    finally:
        proxy.restore()
    _, delta = await till.send(
        ev["credit"], load.STAFF_PATH, load.QUERY, {"form": {"amount": "20.00", "receipt": f"{tag}-1"}}, expect=ev["till_answer"]
    )
    out["credit_after"] = load.till_outcome(delta, ev)
    _, delta = await member.send(ev["cockpit"], load.MEMBER_PATH, load.QUERY, expect=ev["cockpit_answer"])
    out["cockpit_after"] = delta[ev["cockpit_key"]]
    for tab in (member, till):
        await tab.close()
    return out


def test_database_cut_gives_a_retry_message_changes_nothing_then_works(pg_database, redis_server, pg_proxy):
    tag = f"P{os.getpid()}"
    cast = load.make_cast(pg_database, 2, tag)
    with load.backend_server(through(pg_database, pg_proxy), redis_server.url, 2) as backend:
        out = asyncio.run(_through_a_cut(backend, cast, pg_proxy, tag, pg_database))
        assert backend.process.poll() is None
    print(out)
    assert out["credit_cut"] == ("refused", RETRY_TEXT)
    assert out["cockpit_cut"] == RETRY_TEXT
    assert out["entries_while_cut"] == 0, "a failed credit changes nothing"
    assert out["credit_after"][0] == "credited", out["credit_after"]
    assert out["cockpit_after"].get("error_rx_state_") == ""
    assert out["cockpit_after"]["available_rx_state_"] == _ledger_balance(pg_database, cast.members[0][0])
    assert load.receipt_credits(pg_database, tag + "-") == {f"{tag}-1": 1}
    ok, line = load.run_audit(pg_database)
    assert ok, line


# --- Redis restarted --------------------------------------------------------------------------------


async def _through_a_redis_restart(backend: load.Backend, cast: load.Cast, redis_server) -> dict:
    ev = load._events()
    member_id, _number = cast.members[0]
    tab = await load.open_member_tab(backend.url, load.session_cookies(backend.database_url, [member_id])[0], ev)
    till = await load.open_till_tab(
        backend.url, load.session_cookies(backend.database_url, [cast.staff_id])[0], ev, cast.store_id
    )
    assert await load.credit_once(till, ev, _number, "31.00", "redis-1", load.Stats()) == "credited"
    await till.close()
    tab.timeout = 8
    _, delta = await tab.send(ev["cockpit"], load.MEMBER_PATH, load.QUERY, expect=ev["cockpit_answer"])
    out = {"before": delta[ev["cockpit_key"]]["available_rx_state_"]}
    redis_server.stop()
    tab.client_events.clear()
    try:  # the cockpit's own answer (a late live push of the credit above is not one)
        _, delta = await tab.send(ev["cockpit"], load.MEMBER_PATH, load.QUERY, expect=ev["cockpit_answer"])
        out["while_down"] = delta
    except (TimeoutError, TabDisconnected) as err:
        out["while_down"] = err.__class__.__name__
    out["connected_while_down"] = tab.connected
    out["events_while_down"] = json.dumps(tab.client_events, ensure_ascii=False)
    redis_server.start()
    # The next event after the restart: Redis is empty, so the tab's state starts anew.
    try:
        _, delta = await tab.send(ev["cockpit"], load.MEMBER_PATH, load.QUERY, expect=ev["cockpit_answer"])
        out["next_event"] = delta
    except (TimeoutError, TabDisconnected) as err:
        out["next_event"] = err.__class__.__name__
    if not tab.connected:
        await tab.reconnect(within=20)
    # What a browser does on reconnect or reload: the page's load events, then the cockpit.
    await tab.send(ev["guard_member"], load.MEMBER_PATH, load.QUERY)
    _, delta = await tab.send(ev["cockpit"], load.MEMBER_PATH, load.QUERY, expect=ev["cockpit_answer"])
    out["after"] = delta[ev["cockpit_key"]]
    out["disconnects"] = tab.disconnects
    await tab.close()
    return out


def test_redis_restart_degrades_cleanly_and_state_rehydrates_from_the_ledger(pg_database, redis_server):
    cast = load.make_cast(pg_database, 1, f"R{os.getpid()}")
    with load.backend_server(pg_database, redis_server.url, 2) as backend:
        out = asyncio.run(_through_a_redis_restart(backend, cast, redis_server))
        print(out)
        assert backend.process.poll() is None
    balance = _ledger_balance(pg_database, cast.members[0][0])
    assert balance > 0 and out["before"] == balance
    # While Redis is down the event cannot load its state: no state answer, the socket stays open,
    # and the app's backend exception handler sends the tab a translated "try again" toast.
    assert out["while_down"] == "TimeoutError" and out["connected_while_down"]
    assert "We could not reach our records just now" in out["events_while_down"], out["events_while_down"]
    assert "Traceback" not in out["events_while_down"] and "Contact the website administrator" not in out["events_while_down"]
    # After the restart Redis is empty: the tab's next answer is a fresh, un-hydrated state
    # (zeros, ``loaded`` false), never a wrong balance; the page's load events (a navigation,
    # a reload, a reconnect) fill it again from the database.
    root = out["next_event"]["reflex___state____state"]
    assert root["is_hydrated_rx_state_"] is False
    assert out["next_event"][load._events()["cockpit_key"]]["loaded_rx_state_"] is False
    # Re-hydrated from the database: the balance is the ledger's.
    assert out["after"]["available_rx_state_"] == balance
    assert out["after"].get("error_rx_state_", "") == ""
    ok, line = load.run_audit(pg_database)
    assert ok, line
