"""hat-event's LmdbBackend (0.9.44), the cases of benches/lmdb.rs, measured
the same way (same events, same configuration, same queries). Prints one
JSON object per case. Run by benches/lmdb_compare.py.

    python benches/hat_lmdb.py [--events N] [--stored N] [--dir DIR]
"""

import argparse
import asyncio
import json
import os
import pathlib
import resource
import time

import hat.event.backends.lmdb.backend
from hat.event import common

TYPES = 100
SESSION = 100
# Latest queries take microseconds: enough of them that a round lasts
# milliseconds on either side (lmdb.rs uses the same count).
LATEST_ROUNDS = 5000
BASE_S = 1_700_000_000


def event(n):
    return common.Event(id=common.EventId(1, n // SESSION + 1, n % SESSION + 1),
                        type=('sensor', str(n % TYPES)),
                        timestamp=common.Timestamp(BASE_S + n // 1_000_000, n % 1_000_000),
                        source_timestamp=None,
                        payload=common.EventPayloadJson({'value': n}))


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


async def main(args):
    path = pathlib.Path(args.dir) / 'hat.db'
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, pathlib.Path(str(path) + '-lock')):
        if p.exists():
            p.unlink()
    conf = {'db_path': str(path), 'identifier': 'bench', 'flush_period': 3600, 'cleanup_period': 3600,
            'conditions': [], 'latest': {'subscriptions': [['*']]},
            'timeseries': [{'order_by': 'TIMESTAMP', 'subscriptions': [['*']]}]}
    backend = await hat.event.backends.lmdb.backend.create(conf, None, None)
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
    if not os.environ.get("KEEP"):
        path.unlink()


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--events', type=int, default=100_000)
    parser.add_argument('--stored', type=int, default=1_000_000)
    parser.add_argument('--dir', default='target/bench-data/lmdb')
    asyncio.run(main(parser.parse_args()))
