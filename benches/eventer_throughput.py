"""Eventer throughput: events per second registered through our client
(hat_event_client_*, called from Python through cffi) and through hat's
Python client (hat.event.eventer), against the same hat-event-server
(memory backend) started here, one event per register request.

- `wait`: each register waits for the server's response (one round trip
  per event).
- `nowait`: N registers sent without waiting, then one register that waits:
  the server answers in order, so its response means all were processed.
- `batch100`: 100 events per request, each request waiting.

Each case prints `<who> eventer_<case> events_per_s=<x> client_cpu_us_per_event=<y>`:
wall-clock throughput (the server is one Python process, so it bounds
both clients), and the client process's CPU time per event (getrusage,
all threads: our reader thread included), which is the client's own cost.

    HAT_EVENT_LIB=target/release/libhat_event.so .venv/bin/python benches/eventer_throughput.py [N]
"""

import asyncio
import pathlib
import resource
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'tests' / 'conformance'))

from hat.drivers import net  # noqa: E402
from hat.event import common  # noqa: E402
from hat.event import eventer  # noqa: E402

from conftest import Hat as hat  # noqa: E402
from eventer_support import EventServer, CClient, register_event  # noqa: E402


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def report(who, case, n, wall, cpu_s):
    print(f'{who} eventer_{case} events_per_s={n / wall:.0f} '
          f'client_cpu_us_per_event={cpu_s / n * 1e6:.1f}', flush=True)


def bench_ours(port, n):
    c = CClient(hat, port, 'bench-ours')
    lib, ffi = hat.lib, hat.ffi
    try:
        one = [register_event(hat, ('bench', 'ours', str(i % 100)), '{"value": %d}' % i) for i in range(n)]
        arrays = [ffi.new('hat_event_register_event_t *[1]', [e]) for e in one]
        out = ffi.new('hat_event_msg_t **')

        def wait(arr, count=1):
            hat.check(lib.hat_event_client_register_wait(c.ptr, arr, count, 30.0, out))
            assert not lib.hat_event_msg_register_res_failed(out[0])
            lib.hat_event_msg_destroy(out[0])

        wait(arrays[0])  # warm-up

        t, p = time.perf_counter(), cpu()
        for arr in arrays:
            wait(arr)
        report('OURS', 'wait', n, time.perf_counter() - t, cpu() - p)

        t, p = time.perf_counter(), cpu()
        for arr in arrays[:-1]:
            hat.check(lib.hat_event_client_register(c.ptr, arr, 1))
        wait(arrays[-1])
        report('OURS', 'nowait', n, time.perf_counter() - t, cpu() - p)

        batches = [ffi.new('hat_event_register_event_t *[]', one[i:i + 100]) for i in range(0, n, 100)]
        t, p = time.perf_counter(), cpu()
        for b in batches:
            wait(b, len(b))
        report('OURS', 'batch100', n, time.perf_counter() - t, cpu() - p)
    finally:
        c.destroy()


def bench_hat(port, n):
    async def run():
        client = await eventer.connect(net.TcpAddress('127.0.0.1', port), 'bench-hat')
        try:
            events = [common.RegisterEvent(type=('bench', 'hat', str(i % 100)), source_timestamp=None,
                                           payload=common.EventPayloadJson({'value': i}))
                      for i in range(n)]
            await client.register(events[:1], with_response=True)

            t, p = time.perf_counter(), cpu()
            for e in events:
                assert await client.register([e], with_response=True) is not None
            report('HAT', 'wait', n, time.perf_counter() - t, cpu() - p)

            t, p = time.perf_counter(), cpu()
            for e in events[:-1]:
                await client.register([e])
            assert await client.register(events[-1:], with_response=True) is not None
            report('HAT', 'nowait', n, time.perf_counter() - t, cpu() - p)

            t, p = time.perf_counter(), cpu()
            for i in range(0, n, 100):
                assert await client.register(events[i:i + 100], with_response=True) is not None
            report('HAT', 'batch100', n, time.perf_counter() - t, cpu() - p)
        finally:
            await client.async_close()

    asyncio.run(run())


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        server = EventServer(tmp)
        try:
            print(f'# {n} events per case; server pid {server.proc.pid}', flush=True)
            bench_ours(server.port, n)
            bench_hat(server.port, n)
        finally:
            server.stop()


if __name__ == '__main__':
    main()
