"""The in-process engine with its memory backend against hat-event's
(`hat.event.server.engine` over `hat.event.backends.memory`): the same
register calls from the same sources must give the same events (ids,
types, source timestamps, payloads; one timestamp per session) and latest
queries must find the same events, through the engine and through
`hat_event_query_evaluate` over the engine's events. Each random case runs a fresh pair of
engines through a sequence of register calls and queries.

Only latest queries are compared: hat's memory backend fails on
timeseries and server queries (see the README), which the C tests cover
with hand-checked expectations instead."""

import asyncio
import json
import random

import hat.event.backends.memory
import hat.event.server.engine
from hat.event import common

from conftest import Failures
from test_data import rand_event, read_event, json_same, rand_str
from test_messages import make_register_event

SERVER_ID = 7
TYPES = [('a',), ('a', 'b'), ('a', 'c'), ('b',), ('a', 'b', 'c'), ('x', 'y')]
QUERIES = [None, [('*',)], [('a', '*')], [('a', '?')], [('b',), ('x', '*')], [('?',)], []]


class HatEngine:
    """hat-event's engine and memory backend on a private event loop."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()

        async def create():
            backend = hat.event.backends.memory.MemoryBackend(None, None, None)
            return await hat.event.server.engine.create_engine(
                backend=backend, eventer_server=None, module_confs=[], server_id=SERVER_ID,
                restart_cb=lambda: None, reset_monitor_ready_cb=lambda: None)
        self.engine = self.loop.run_until_complete(create())

    def register(self, source, events):
        register_events = [common.RegisterEvent(
            type=e.type, source_timestamp=e.source_timestamp,
            payload=(common.EventPayloadJson(json.loads(e.payload)) if isinstance(e.payload, str)
                     else e.payload)) for e in events]
        result = self.loop.run_until_complete(self.engine.register(source, register_events))
        return None if result is None else [readback(e) for e in result]

    def query_latest(self, event_types):
        result = self.loop.run_until_complete(
            self.engine.query(common.QueryLatestParams(event_types=event_types)))
        return [readback(e) for e in result.events]

    def close(self):
        self.loop.run_until_complete(self.engine.async_close())
        self.loop.close()


class OurEngine:
    """Ours through the C ABI, configured as hat's server is."""

    def __init__(self, hat):
        self.hat = hat
        conf = json.dumps({'server_id': SERVER_ID, 'backend': {'module': 'hat.event.backends.memory'},
                           'modules': []})
        view, self._keep = hat.str_view(conf)
        out = hat.ffi.new('hat_event_engine_t **')
        hat.check(hat.lib.hat_event_engine_create(view, hat.ffi.NULL, out))
        self.engine = out[0]

    def register(self, source, events):
        hat, lib, ffi = self.hat, self.hat.lib, self.hat.ffi
        handles = [make_register_event(hat, e) for e in events]
        ptrs = ffi.new('hat_event_register_event_t *[]', handles or [ffi.NULL])
        src = ffi.new('hat_event_source_t *')
        src.type = getattr(lib, f'HAT_EVENT_SOURCE_TYPE_{source.type.name}')
        src.id = source.id
        out = ffi.new('hat_event_event_list_t **')
        hat.check(lib.hat_event_engine_register(self.engine, src[0], ptrs, len(handles), out))
        if out[0] == ffi.NULL:
            return None
        try:
            return [read_event(hat, lib.hat_event_event_list_get(out[0], i))
                    for i in range(lib.hat_event_event_list_len(out[0]))]
        finally:
            lib.hat_event_event_list_destroy(out[0])

    def query_latest(self, event_types, evaluate=False):
        """The engine's answer, or with evaluate=True that of
        hat_event_query_evaluate over every event the engine stored (read
        back with a server query, in id order: registration order here)."""
        hat, lib, ffi = self.hat, self.hat.lib, self.hat.ffi
        out = ffi.new('hat_event_query_params_t **')
        hat.check(lib.hat_event_query_params_create_latest(out))
        params = ffi.gc(out[0], lib.hat_event_query_params_destroy)
        if event_types is not None:
            arrays = [hat.str_array(t) for t in event_types]
            views = ffi.new('hat_event_event_type_view_t[]', max(1, len(arrays)))
            for i, a in enumerate(arrays):
                views[i].segments, views[i].len = a.ptr, a.len
            hat.check(lib.hat_event_query_params_set_event_types(params, views, len(arrays)))
        rout = ffi.new('hat_event_query_result_t **')
        if evaluate:
            sout = ffi.new('hat_event_query_params_t **')
            hat.check(lib.hat_event_query_params_create_server(SERVER_ID, sout))
            server = ffi.gc(sout[0], lib.hat_event_query_params_destroy)
            hat.check(lib.hat_event_engine_query(self.engine, server, rout))
            stored = ffi.gc(rout[0], lib.hat_event_query_result_destroy)
            n = lib.hat_event_query_result_len(stored)
            ptrs = ffi.new('hat_event_event_t *[]', [lib.hat_event_query_result_event(stored, i)
                                                     for i in range(n)] or [ffi.NULL])
            hat.check(lib.hat_event_query_evaluate(params, ptrs, n, rout))
        else:
            hat.check(lib.hat_event_engine_query(self.engine, params, rout))
        result = ffi.gc(rout[0], lib.hat_event_query_result_destroy)
        return [read_event(hat, lib.hat_event_query_result_event(result, i))
                for i in range(lib.hat_event_query_result_len(result))]

    def close(self):
        self.hat.lib.hat_event_engine_destroy(self.engine)


def readback(event):
    """An oracle Event as read_event reads ours."""
    p = event.payload
    if p is None:
        payload = None
    elif isinstance(p, common.EventPayloadBinary):
        payload = ('binary', p.type, bytes(p.data))
    else:
        payload = ('json', p.data)
    return (tuple(event.id), tuple(event.type), tuple(event.timestamp),
            tuple(event.source_timestamp) if event.source_timestamp else None, payload)


def same_events(ours, theirs):
    """Equal but for the registration timestamps (each side reads its own
    clock); JSON payloads equal as data."""
    def key(r):
        return r[0], r[1], r[3]
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if len(ours) != len(theirs):
        return False
    for a, b in zip(sorted(ours, key=key), sorted(theirs, key=key)):
        if key(a) != key(b):
            return False
        pa, pb = a[4], b[4]
        if (pa is None) != (pb is None):
            return False
        if pa is not None and (pa[0] != pb[0] or not (pa[1:] == pb[1:] if pa[0] == 'binary'
                                                      else json_same(pa[1], pb[1]))):
            return False
    return True


def check_engine_case(hat, case):
    """case: a list of steps, ('register', source_id, [events]) or
    ('latest', event types or None)."""
    theirs, ours = HatEngine(), OurEngine(hat)
    try:
        for i, step in enumerate(case):
            if step[0] == 'register':
                source = common.Source(type=common.SourceType.EVENTER, id=step[1])
                a, b = ours.register(source, step[2]), theirs.register(source, step[2])
                if not same_events(a, b):
                    return f'step {i} register: ours {a!r:.400}, hat {b!r:.400}'
                if a and len({r[2] for r in a}) != 1:
                    return f'step {i} register: one session, several timestamps {a!r:.300}'
            else:
                a, b = ours.query_latest(step[1]), theirs.query_latest(step[1])
                if not same_events(a, b):
                    return f'step {i} latest {step[1]!r}: ours {a!r:.400}, hat {b!r:.400}'
                c = ours.query_latest(step[1], evaluate=True)
                if not same_events(c, b):
                    return f'step {i} latest {step[1]!r} by hat_event_query_evaluate: ours {c!r:.400}, hat {b!r:.400}'
        return None
    finally:
        ours.close()
        theirs.close()


def rand_step(rng):
    if rng.random() < 0.3:
        q = rng.choice(QUERIES)
        return ('latest', None if q is None else list(q))
    events = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        e = rand_event(rng)
        events.append(e._replace(type=rng.choice(TYPES) if rng.random() < 0.9
                                 else (rand_str(rng, 3),)))
    return ('register', rng.randint(1, 3), events)


def test_engine_with_memory_backend_agrees_with_hat(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/engine')
    fails = Failures('engine + memory backend')
    steps = 0
    while steps < cases:
        case = [rand_step(rng) for _ in range(rng.randint(1, 25))]
        fails.run(case, lambda c: check_engine_case(hat, c))
        steps += len(case)
        counter.add('engine register sessions', sum(1 for s in case if s[0] == 'register'))
        counter.add('engine latest queries', sum(1 for s in case if s[0] == 'latest'))
    fails.check()
