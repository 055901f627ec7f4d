"""Drivers for the two LMDB backends the LMDB tests compare.

HatLmdb: hat-event's `hat.event.backends.lmdb` instantiated directly on a
private asyncio loop (no server); events are registered with the ids and
timestamps the caller gives.

OurLmdb: ours, through the engine's C API (`hat_event_engine_create` with a
`{"backend": {"module": "lmdb", ...}}` configuration). The engine assigns ids
and timestamps (one session per register call, as hat's engine does), so a
differential test registers through ours first and hands hat's backend the
very events ours returned: both stores then hold identical events, and query
results compare exactly (hat's QueryResult == ours decoded from SBS).
Queries cross the C API as SBS (`hat_event_query_params_decode`,
`hat_event_query_result_encode`), read and written by hat's own encoder.
"""

import asyncio
import json

import hat.event.backends.lmdb.backend
import hat.event.backends.lmdb.common
from hat.event import common
from hat.event.common.subscription.pysubscription import PySubscription

# Deliberate difference (SPEC 6): hat's backend builds its subscriptions with
# the default C implementation, whose isdisjoint is wrong in some cases
# (`[('?',)]` and `[('a', 'b')]` are not disjoint there); it decides which
# partition a timeseries query reads. Ours is exact, so the oracle is hat's
# backend over hat's pure-Python subscriptions (matching is the same in both).
hat.event.backends.lmdb.common.create_subscription = PySubscription


SERVER_ID = 1


def backend_conf(db_path, *, identifier='test', conditions=(), latest=(('*',),), timeseries=None,
                 flush_period=1000, cleanup_period=1000, **extra):
    """hat's lmdb.yaml configuration."""
    if timeseries is None:
        timeseries = [{'order_by': 'TIMESTAMP', 'subscriptions': [['*']]}]
    conf = {'db_path': str(db_path), 'identifier': identifier, 'flush_period': flush_period,
            'cleanup_period': cleanup_period, 'conditions': list(conditions),
            'latest': {'subscriptions': [list(t) for t in latest]}, 'timeseries': timeseries}
    conf.update(extra)
    return conf


def _sbs_event(e):
    return common.sbs_repo.encode('HatEventer.Event', common.event_to_sbs(e))


class HatLmdb:
    """hat's LmdbBackend on its own event loop."""

    def __init__(self, conf):
        self.loop = asyncio.new_event_loop()
        self.flushed = []
        self.backend = self.loop.run_until_complete(
            hat.event.backends.lmdb.backend.create(conf, None, lambda events: self.flushed.extend(events)))
        self.settle()

    def settle(self):
        """Waits for the first pass of hat's cleanup loop, which create
        starts asynchronously (ours runs it before create returns): the loop
        is let run up to its executor call, then a no-op queued behind it on
        the one executor thread returns after it. Exactly one pass: the
        size limit is not idempotent (each pass recomputes the entry size)."""
        async def run():
            for _ in range(10):
                await asyncio.sleep(0)
            await self.backend._env.execute(lambda: None)
        self.loop.run_until_complete(run())

    def register(self, events):
        return self.loop.run_until_complete(self.backend.register(events))

    def query(self, params):
        return self.loop.run_until_complete(self.backend.query(params))

    def flush(self):
        self.loop.run_until_complete(self.backend.flush())

    def last_event_id(self, server_id=SERVER_ID):
        return self.loop.run_until_complete(self.backend.get_last_event_id(server_id))

    def close(self):
        self.loop.run_until_complete(self.backend.async_close())
        self.loop.close()


def events_hooks(hat, hooks_type, init, registered, flushed, to_event, keep):
    """A `hooks_type` struct (the engine's or a backend instance's hooks)
    whose `registered`/`flushed` slots call `registered(events)` /
    `flushed(events)` with hat Events made by `to_event`, or NULL when both
    are None; the cffi callbacks are appended to `keep` (they must outlive
    the hooks' owner)."""
    ffi = hat.ffi
    if registered is None and flushed is None:
        return ffi.NULL
    hooks = ffi.new(f'{hooks_type} *')
    hat.check(init(hooks))
    for slot, fn in (('registered', registered), ('flushed', flushed)):
        if fn is None:
            continue

        def on_events(_user, events, count, fn=fn):
            fn([to_event(events[i]) for i in range(count)])
        cb = ffi.callback('void(void *, const hat_event_event_t *const *, size_t)', on_events)
        setattr(hooks, slot, cb)
        keep.append(cb)
    return hooks


class OurLmdb:
    """Our engine over our lmdb backend, through the C API."""

    def __init__(self, hat, conf, server_id=SERVER_ID, registered=None, flushed=None):
        """registered/flushed: called with the events (hat Events) of each
        batch the backend reports (registered: on the calling thread, in
        create, register and close; flushed: on the backend's flush
        thread)."""
        self.hat = hat
        ffi, lib = hat.ffi, hat.lib
        text = json.dumps({'server_id': server_id, 'backend': {'module': 'lmdb', **conf}, 'modules': []})
        view, self._keep = hat.str_view(text)
        self._callbacks = []
        self._hooks = events_hooks(hat, 'hat_event_engine_hooks_t', lib.hat_event_engine_hooks_init,
                                   registered, flushed, self._event, self._callbacks)
        out = ffi.new('hat_event_engine_t **')
        hat.check(lib.hat_event_engine_create(view, self._hooks, out))
        self.engine = out[0]

    def _buffer(self, out):
        ffi, lib = self.hat.ffi, self.hat.lib
        buf = ffi.gc(out[0], lib.hat_event_buffer_destroy)
        return bytes(ffi.buffer(lib.hat_event_buffer_data(buf), lib.hat_event_buffer_len(buf)))

    def _event(self, ptr):
        out = self.hat.ffi.new('hat_event_buffer_t **')
        self.hat.check(self.hat.lib.hat_event_event_encode(ptr, out))
        return common.event_from_sbs(common.sbs_repo.decode('HatEventer.Event', self._buffer(out)))

    def _bytes(self, data):
        b = self.hat.ffi.new('hat_event_bytes_t *')
        buf = self.hat.ffi.from_buffer(data)
        b.ptr, b.len = buf, len(data)
        return b[0], buf

    def register(self, register_events, source_id=1):
        """The events the engine made of `register_events` (hat RegisterEvents)."""
        ffi, lib, hat = self.hat.ffi, self.hat.lib, self.hat
        handles = []
        for e in register_events:
            data = common.sbs_repo.encode('HatEventer.RegisterEvent', common.register_event_to_sbs(e))
            view, keep = self._bytes(data)
            out = ffi.new('hat_event_register_event_t **')
            hat.check(lib.hat_event_register_event_decode(view, out))
            handles.append(ffi.gc(out[0], lib.hat_event_register_event_destroy))
        ptrs = ffi.new('hat_event_register_event_t *[]', handles or [ffi.NULL])
        src = ffi.new('hat_event_source_t *')
        src.type = lib.HAT_EVENT_SOURCE_TYPE_EVENTER
        src.id = source_id
        out = ffi.new('hat_event_event_list_t **')
        hat.check(lib.hat_event_engine_register(self.engine, src[0], ptrs, len(handles), out))
        if out[0] == ffi.NULL:
            return None
        try:
            return [self._event(lib.hat_event_event_list_get(out[0], i))
                    for i in range(lib.hat_event_event_list_len(out[0]))]
        finally:
            lib.hat_event_event_list_destroy(out[0])

    def query(self, params):
        return self._query_with(params, lambda p, out: self.hat.lib.hat_event_engine_query(self.engine, p, out))

    def _query_with(self, params, call):
        """hat's `params` as our handle, given to `call(params, out)`; the
        result it writes back as hat's QueryResult (both through SBS)."""
        ffi, lib, hat = self.hat.ffi, self.hat.lib, self.hat
        data = common.sbs_repo.encode('HatEventer.QueryParams', common.query_params_to_sbs(params))
        view, keep = self._bytes(data)
        pout = ffi.new('hat_event_query_params_t **')
        hat.check(lib.hat_event_query_params_decode(view, pout))
        p = ffi.gc(pout[0], lib.hat_event_query_params_destroy)
        rout = ffi.new('hat_event_query_result_t **')
        hat.check(call(p, rout))
        r = ffi.gc(rout[0], lib.hat_event_query_result_destroy)
        bout = ffi.new('hat_event_buffer_t **')
        hat.check(lib.hat_event_query_result_encode(r, bout))
        return common.query_result_from_sbs(common.sbs_repo.decode('HatEventer.QueryResult', self._buffer(bout)))

    def flush(self):
        """A source-timestamp timeseries query: both backends flush first."""
        self.query(common.QueryTimeseriesParams(order_by=common.OrderBy.SOURCE_TIMESTAMP, max_results=0))

    def close(self):
        self.hat.check(self.hat.lib.hat_event_engine_close(self.engine))
        self.hat.lib.hat_event_engine_destroy(self.engine)
        self.engine = None
