"""hat-event's LmdbBackend (0.9.44), the cases of benches/lmdb.rs, measured
the same way (same events, same configuration, same queries), and hat's
Engine on it (same module, same register calls). Prints one JSON object per
case. Run by benches/lmdb_compare.py.

    python benches/hat_lmdb.py [--events N] [--stored N] [--dir DIR]
"""

import argparse
import asyncio
import json
import os
import pathlib
import resource
import sys
import time
import types

import hat.event.backends.lmdb.backend
import hat.event.server.engine
from hat.event import common

TYPES = 100
SESSION = 100
# Latest queries take microseconds: enough of them that a round lasts
# milliseconds on either side (lmdb.rs uses the same count).
LATEST_ROUNDS = 5000
BASE_S = 1_700_000_000


def conf(path):
    return {'db_path': str(path), 'identifier': 'bench', 'flush_period': 3600, 'cleanup_period': 3600,
            'conditions': [], 'latest': {'subscriptions': [['*']]},
            'timeseries': [{'order_by': 'TIMESTAMP', 'subscriptions': [['*']]}]}


def remove_db(path):
    for p in (path, pathlib.Path(str(path) + '-lock')):
        if p.exists():
            p.unlink()


def register_event(n):
    return common.RegisterEvent(type=('sensor', str(n % TYPES)), source_timestamp=None,
                                payload=common.EventPayloadJson({'value': n}))


def event(n):
    e = register_event(n)
    return common.Event(id=common.EventId(1, n // SESSION + 1, n % SESSION + 1),
                        type=e.type,
                        timestamp=common.Timestamp(BASE_S + n // 1_000_000, n % 1_000_000),
                        source_timestamp=e.source_timestamp,
                        payload=e.payload)


# The engine case's one module is compare_py.py's (hat's test_engine_perf.py
# module: subscribed to what its configuration names, deriving nothing).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from compare_py import _module_info  # noqa: E402

sink_module = types.ModuleType('hat_lmdb_bench_sink')
sink_module.info = _module_info()
sys.modules[sink_module.__name__] = sink_module


async def fill(backend, start, stop):
    t = time.perf_counter()
    n = start
    while n < stop:
        await backend.register([event(i) for i in range(n, min(n + SESSION, stop))])
        n += SESSION
        if (n - start) % 100_000 == 0:
            await backend.flush()
    await backend.flush()
    return time.perf_counter() - t


async def per_query(backend, params, expected, rounds):
    await backend.query(params)
    t = time.perf_counter()
    for _ in range(rounds):
        result = await backend.query(params)
        assert len(result.events) == expected
    return (time.perf_counter() - t) / rounds


async def engine_register(path, events, batch):
    """Events per second through hat's Engine with one module (Sink) on its
    LmdbBackend (a new file at path), batch register events a call (made
    before the clock starts): from the first call until the backend reports
    the last of them flushed (after the backend's flush, as the engine's
    close asks for it in lmdb.rs)."""
    remove_db(path)
    flushed = 0
    flushed_at = None

    def on_flushed(flushed_events):
        nonlocal flushed, flushed_at
        flushed += sum(1 for e in flushed_events if e.type[0] == 'sensor')
        if flushed >= events and flushed_at is None:
            flushed_at = time.perf_counter()

    backend = await hat.event.backends.lmdb.backend.create(conf(path), None, on_flushed)
    engine = await hat.event.server.engine.create_engine(
        backend=backend, eventer_server=None, module_confs=[{'module': sink_module.__name__, 'subscriptions': [['sensor', '*']]}], server_id=1,
        restart_cb=lambda: None, reset_monitor_ready_cb=lambda: None)
    source = common.Source(common.SourceType.EVENTER, 1)
    calls = [[register_event(i) for i in range(n, min(n + batch, events))] for n in range(0, events, batch)]
    start = time.perf_counter()
    for call in calls:
        await engine.register(source, call)
    await backend.flush()
    assert flushed_at is not None
    await engine.async_close()
    await backend.async_close()
    remove_db(path)
    return events / (flushed_at - start)


async def main(args):
    path = pathlib.Path(args.dir) / 'hat.db'
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_db(path)
    backend = await hat.event.backends.lmdb.backend.create(conf(path), None, None)
    seconds = await fill(backend, 0, args.events)
    print(json.dumps({'case': 'register_flush', 'events': args.events,
                      'events_per_s': round(args.events / seconds)}), flush=True)
    stored = max(args.stored, args.events)
    await fill(backend, args.events, stored)
    us = await per_query(backend, common.QueryLatestParams(event_types=None), TYPES, LATEST_ROUNDS) * 1e6
    print(json.dumps({'case': 'latest_all', 'us': round(us, 4)}), flush=True)
    us = await per_query(backend, common.QueryLatestParams(event_types=[('sensor', '7')]), 1, LATEST_ROUNDS) * 1e6
    print(json.dumps({'case': 'latest_one', 'us': round(us, 4)}), flush=True)
    mid = stored // 2
    params = common.QueryTimeseriesParams(t_from=event(mid).timestamp, t_to=event(mid + 999).timestamp,
                                          max_results=1000)
    us = await per_query(backend, params, 1000, 200) * 1e6
    print(json.dumps({'case': 'timeseries_1000', 'stored': stored, 'us': round(us, 1)}), flush=True)
    await backend.async_close()
    print(json.dumps({'case': 'file', 'bytes_per_event': round(os.path.getsize(path) / stored, 1)}))
    print(json.dumps({'case': 'rss', 'peak_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    # After the peak RSS, which is the backend cases'; each in a file of its own.
    for batch in (100, 1):
        events_per_s = await engine_register(path.parent / 'hat-engine.db', args.events, batch)
        print(json.dumps({'case': f'engine_batch_{batch}', 'events': args.events,
                          'events_per_s': round(events_per_s)}), flush=True)
    if not os.environ.get("KEEP"):
        path.unlink()


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--events', type=int, default=100_000)
    parser.add_argument('--stored', type=int, default=1_000_000)
    parser.add_argument('--dir', default='target/bench-data/lmdb')
    asyncio.run(main(parser.parse_args()))
