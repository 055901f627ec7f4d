"""hat-event's side of benches/engine.rs: events per second through
hat.event.server.engine.Engine with one module (subscribed to
('sensor', '*'), deriving nothing) and hat's memory backend, registered one
per session and 100 per session. Prints `BENCH <case> ns_per_op=<x>`.

    .venv/bin/python benches/hat_engine.py
"""

import asyncio
import statistics
import sys
import time
import types

from hat.event import common
from hat.event.backends import memory
import hat.event.server.engine

ROUNDS = 7
EVENTS = 20_000


class Sink(common.Module):
    def __init__(self):
        from hat import aio
        self._async_group = aio.Group()

    @property
    def async_group(self):
        return self._async_group

    @property
    def subscription(self):
        return common.create_subscription([('sensor', '*')])

    def process(self, source, event):
        return None


bench_module = types.ModuleType('bench_sink_module')
bench_module.info = common.ModuleInfo(create=lambda conf, engine, source: Sink())
sys.modules['bench_sink_module'] = bench_module


class EventerServer:
    def get_client_names(self):
        return []


async def round_(batch):
    backend = memory.info.create({}, None, None)
    engine = await hat.event.server.engine.create_engine(
        backend=backend, eventer_server=EventerServer(),
        module_confs=[{'module': 'bench_sink_module'}], server_id=1,
        restart_cb=lambda: None, reset_monitor_ready_cb=lambda: None)
    source = common.Source(common.SourceType.EVENTER, 1)
    events = [common.RegisterEvent(type=('sensor', 'temperature'),
                                   source_timestamp=None,
                                   payload=common.EventPayloadJson(21.5))] * batch
    start = time.perf_counter_ns()
    for _ in range(EVENTS // batch):
        await engine.register(source, events)
    elapsed = time.perf_counter_ns() - start
    await engine.async_close()
    await backend.async_close()
    return elapsed / EVENTS


async def main():
    for batch in (1, 100):
        per_op = [await round_(batch) for _ in range(ROUNDS)]
        print(f'BENCH engine_register_batch_{batch} '
              f'ns_per_op={statistics.median(per_op):.1f}')


asyncio.run(main())
