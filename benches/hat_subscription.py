"""hat-event's side of benches/subscription.rs: the same cases, timed the
way its users call it (Python, with its C extensions), printing
`HAT <case> ns_per_op=<x>` with the same case names.

    .venv/bin/python benches/hat_subscription.py [filter]
"""

import math
import random
import statistics
import sys
import time

from hat.event import common

ROUNDS = 7


def hat_event_types(size, count):
    # hat-event test_subscription_perf.py get_event_types
    base = max(math.ceil(math.log(count, size)) if size > 1 else count, 1)
    out = []
    for i in range(count):
        rest, t = i, []
        for j in range(size - 1, -1, -1):
            digit = rest // (base ** j)
            rest -= digit * base ** j
            t.append(f'segment {digit}')
        out.append(tuple(t))
    return out


def measure(name, filt, fn, ops):
    if filt and filt not in name:
        return
    per_op = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        fn()
        per_op.append((time.perf_counter_ns() - start) / ops)
    print(f'HAT {name} ns_per_op={statistics.median(per_op):.1f}', flush=True)


def main():
    filt = sys.argv[1] if len(sys.argv) > 1 else None
    rng = random.Random(0xbe4c4e2026)
    for size in (1, 3, 5, 10):
        for count in (10_000, 100_000):
            if filt and 'subscription_' not in filt and filt not in 'subscription_':
                continue
            types = hat_event_types(size, count)
            measure(f'subscription_create size={size} count={count}', filt,
                    lambda: common.create_subscription(types), count)
            sub = common.create_subscription(types)
            shuffled = list(types)
            rng.shuffle(shuffled)
            for order, queries in (('generated', types), ('shuffled', shuffled)):
                def run(queries=queries):
                    m = sub.matches
                    for q in queries:
                        m(q)
                measure(f'subscription_matches size={size} count={count} order={order}', filt, run, count)
    for series in (100, 14_000):
        types = [('a', 'b', 'c', str(i)) for i in range(series)]
        coll = common.create_event_type_collection()
        for i, t in enumerate(types):
            coll.add(common.create_subscription([t]), i)
        shuffled = list(types)
        rng.shuffle(shuffled)
        for order, queries in (('generated', types), ('shuffled', shuffled)):
            def run(queries=queries):
                get = coll.get
                for q in queries:
                    for _ in get(q):
                        pass
            measure(f'collection_get series={series} order={order}', filt, run, series)


if __name__ == '__main__':
    main()
