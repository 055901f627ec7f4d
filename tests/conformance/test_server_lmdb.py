"""Our eventer server on our LMDB backend, and the file moving between our
server and hat's: `hat-event-c-server` with `hat.event.backends.lmdb` keeps
what it acknowledged across a restart, and the same file then serves
`hat-event-server` (hat-event 0.9.44's own LMDB backend) and back, with
event ids continuing on each side. Everything is checked with hat's own
client."""

import asyncio

import pytest

from hat.drivers import net
from hat.event import common
from hat.event import eventer

from test_server import Server


def lmdb_backend(db_path):
    return {'module': 'hat.event.backends.lmdb',
            'db_path': str(db_path),
            'identifier': None,
            'flush_period': 0.05,
            'cleanup_period': 60,
            'conditions': [],
            'latest': {'subscriptions': [['*']]},
            'timeseries': [{'order_by': 'TIMESTAMP',
                            'subscriptions': [['sensor', '*']]}]}


def register_events(n, tag):
    return [common.RegisterEvent(
                type=('sensor', str(i % 3)),
                source_timestamp=common.Timestamp(1000 + i, 0),
                payload=common.EventPayloadJson({'tag': tag, 'i': i}))
            for i in range(n)]


async def session(srv, register=()):
    """Registers (waiting for the response) and then queries, with hat's
    client; returns (registered, timeseries, latest, server query)."""
    client = await eventer.connect(net.TcpAddress('127.0.0.1', srv.port), 'lmdb-test')
    try:
        registered = (await client.register(list(register), with_response=True)) if register else []
        assert registered is not None, 'the server failed the register'
        ts = await client.query(common.QueryTimeseriesParams(
            event_types=[('sensor', '*')], order=common.Order.ASCENDING, max_results=10_000))
        latest = await client.query(common.QueryLatestParams(event_types=[('sensor', '*')]))
        server = await client.query(common.QueryServerParams(server_id=1, persisted=False,
                                                             max_results=10_000))
        return list(registered), list(ts.events), list(latest.events), list(server.events)
    finally:
        await client.async_close()


def run_session(tmp_path, kind, db, register):
    """Starts a server of `kind` on the LMDB file `db`, runs `session` with
    `register`, and stops it (ours must exit cleanly: the flush at close
    is what a restart relies on)."""
    srv = Server(tmp_path, kind, backend=lmdb_backend(db))
    try:
        return asyncio.run(session(srv, register))
    finally:
        code = srv.stop()
        if kind == 'ours':
            assert code == 0, srv.log_text()


def by_id(events):
    return sorted(events, key=lambda e: tuple(e.id))


def test_our_server_keeps_acknowledged_events_across_a_restart(tmp_path):
    db = tmp_path / 'events.db'
    registered, ts, latest, _ = run_session(tmp_path, 'ours', db, register_events(30, 'first'))
    assert [e.payload for e in registered] == [e.payload for e in register_events(30, 'first')]
    assert ts == registered  # ascending by timestamp: one session, in id order
    assert by_id(latest) == registered[-3:]

    more, ts2, latest2, server2 = run_session(tmp_path, 'ours', db, register_events(3, 'second'))
    # everything acknowledged before the restart is there, timestamps included
    assert ts2[:30] == registered
    assert ts2[30:] == more
    # ids continue: the new session is numbered after every earlier one
    assert min(e.id.session for e in more) > max(e.id.session for e in registered)
    assert by_id(latest2) == more
    assert [e for e in server2 if e.type[0] == 'sensor'] == registered + more


def test_the_file_moves_between_our_server_and_hats_both_ways(tmp_path):
    db = tmp_path / 'events.db'
    from_ours, _, _, _ = run_session(tmp_path, 'ours', db, register_events(10, 'ours'))

    from_hat, ts_hat, latest_hat, _ = run_session(tmp_path, 'hat', db, register_events(4, 'hat'))
    # hat's server reads what ours wrote, and continues its ids
    assert ts_hat[:10] == from_ours
    assert ts_hat[10:] == from_hat
    assert min(e.id.session for e in from_hat) > max(e.id.session for e in from_ours)
    assert by_id(latest_hat) == by_id(from_hat[-3:])

    from_ours2, ts_back, latest_back, _ = run_session(tmp_path, 'ours', db, register_events(2, 'back'))
    # and ours reads what hat wrote on top, and continues after it
    assert ts_back == from_ours + from_hat + from_ours2
    assert min(e.id.session for e in from_ours2) > max(e.id.session for e in from_hat)
    newest = {}
    for e in from_ours + from_hat + from_ours2:
        newest[e.type] = e
    assert by_id(latest_back) == by_id(newest.values())
