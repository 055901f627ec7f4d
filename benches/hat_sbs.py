"""SBS encode/decode benchmarks of the reference, hat-event (the oracle),
called as its users call it: `sbs_repo.encode('HatEventer.<Type>',
common.<type>_to_sbs(value))` and `common.<type>_from_sbs(
sbs_repo.decode('HatEventer.<Type>', data))`. The same data and cases as
benches/sbs.rs; each case runs several rounds and prints the median ns/op
as `HAT sbs_<case> ns_per_op=<x>`.

    /tmp/venv/bin/python benches/hat_sbs.py             # all cases
    /tmp/venv/bin/python benches/hat_sbs.py query       # cases whose name contains "query"

It also prints the encoded sizes, the typical event's bytes as hex and an
FNV-1a 64 hash of the QueryResult's bytes: benches/sbs.rs hard-codes both
(generated once with this script) and asserts that our encoding equals them.
"""

import statistics
import sys
import time

from hat.event import common

ROUNDS = 7


def typical_event(i=None):
    """The typical event; with `i`, event `i` of the QueryResult (last type
    segment, value, instance and timestamp vary)."""
    if i is None:
        return common.Event(
            id=common.EventId(1, 2, 3),
            type=('gateway', 'device1', 'measurement', 'temperature'),
            timestamp=common.Timestamp(1700000000, 123456),
            source_timestamp=common.Timestamp(1700000000, 100000),
            payload=common.EventPayloadJson(
                {'value': 21.5, 'quality': 'good', 'ts': 1700000000.123}))
    return common.Event(
        id=common.EventId(1, 2, 3 + i),
        type=('gateway', 'device1', 'measurement', f'temperature{i}'),
        timestamp=common.Timestamp(1700000000 + i, 123456),
        source_timestamp=common.Timestamp(1700000000 + i, 100000),
        payload=common.EventPayloadJson(
            {'value': 20.0 + i / 100, 'quality': 'good',
             'ts': 1700000000.123}))


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def measure(name, flt, iterations, op):
    if flt and flt not in name:
        return
    per_op = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(iterations):
            op()
        per_op.append((time.perf_counter_ns() - start) / iterations)
    print(f'HAT {name} ns_per_op={statistics.median(per_op):.1f}',
          flush=True)


def main():
    flt = next((a for a in sys.argv[1:] if not a.startswith('-')), None)
    repo = common.sbs_repo

    event = typical_event()
    event_bytes = repo.encode('HatEventer.Event', common.event_to_sbs(event))
    # A stream: the event followed by the next message's bytes (here the
    # same event again); the reference's decode ignores what follows.
    stream = event_bytes + event_bytes
    result = common.QueryResult(
        events=[typical_event(i) for i in range(1000)], more_follows=False)
    result_bytes = repo.encode('HatEventer.QueryResult',
                               common.query_result_to_sbs(result))

    assert common.event_from_sbs(
        repo.decode('HatEventer.Event', event_bytes)) == event
    assert common.event_from_sbs(
        repo.decode('HatEventer.Event', stream)) == event
    assert common.query_result_from_sbs(
        repo.decode('HatEventer.QueryResult', result_bytes)) == result

    print(f'HAT sbs_event_size bytes={len(event_bytes)}')
    print(f'HAT sbs_query_result_size events=1000 bytes={len(result_bytes)}')
    print(f'HAT sbs_event_hex={event_bytes.hex()}')
    print(f'HAT sbs_query_result_fnv1a64={fnv1a64(result_bytes):#018x}',
          flush=True)

    measure('sbs_event_encode', flt, 20_000,
            lambda: repo.encode('HatEventer.Event',
                                common.event_to_sbs(event)))
    measure('sbs_event_decode', flt, 20_000,
            lambda: common.event_from_sbs(
                repo.decode('HatEventer.Event', event_bytes)))
    measure('sbs_query_result_encode', flt, 20,
            lambda: repo.encode('HatEventer.QueryResult',
                                common.query_result_to_sbs(result)))
    measure('sbs_query_result_decode', flt, 20,
            lambda: common.query_result_from_sbs(
                repo.decode('HatEventer.QueryResult', result_bytes)))
    # The reference has no prefix decode: its decode reads one value at
    # the start and ignores the rest, which is what a prefix decode does.
    measure('sbs_event_decode_prefix', flt, 20_000,
            lambda: common.event_from_sbs(
                repo.decode('HatEventer.Event', stream)))


if __name__ == '__main__':
    main()
