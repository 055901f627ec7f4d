"""Any of our registered backends behind hat-event's backend interface.

`create(hat, name, conf, registered_events_cb, flushed_events_cb)` gives an
object with what hat's tests use of a `hat.event.common.Backend`: async
`get_last_event_id(server_id)`, `register(events)`, `query(params)`,
`flush()`, `async_close()`, and `is_open`. Underneath: the C API's backend
instances (`hat_event_backend_instance_*`), so events are stored with the
ids and timestamps the caller gives, as hat's tests expect.

Values cross the C API as SBS, with the conversions lmdb_support already has
(hat's encoder on one side, `hat_event_*_decode`/`_encode` on the other).
The C calls run on the calling (event loop) thread: `registered_events_cb`
is called there, inside `register`, as hat's backends do; our lmdb calls
`flushed_events_cb` from its own flush thread (hat calls it in the loop).
"""

import json

from hat.event import common

from lmdb_support import OurLmdb, events_hooks


class BackendInstance:
    """A backend instance through the C API, with hat's Backend methods."""

    # The SBS conversions of lmdb_support's engine driver (they use only
    # self.hat).
    _buffer = OurLmdb._buffer
    _bytes = OurLmdb._bytes
    _event = OurLmdb._event
    _query_with = OurLmdb._query_with

    def __init__(self, hat, name, conf, registered_events_cb=None, flushed_events_cb=None):
        self.hat = hat
        ffi, lib = hat.ffi, hat.lib
        name_view, self._keep_name = hat.str_view(name)
        conf_view, self._keep_conf = hat.str_view(json.dumps(conf))
        self._callbacks = []
        hooks = events_hooks(hat, 'hat_event_backend_instance_hooks_t', lib.hat_event_backend_instance_hooks_init,
                             registered_events_cb, flushed_events_cb, self._event, self._callbacks)
        out = ffi.new('hat_event_backend_instance_t **')
        hat.check(lib.hat_event_backend_instance_create(name_view, conf_view, hooks, out))
        self._instance = out[0]

    @property
    def is_open(self):
        return self._instance is not None

    def _handle(self, event):
        """A new handle (garbage-collected) of a hat Event."""
        ffi, lib = self.hat.ffi, self.hat.lib
        data = common.sbs_repo.encode('HatEventer.Event', common.event_to_sbs(event))
        view, keep = self._bytes(data)
        out = ffi.new('hat_event_event_t **')
        self.hat.check(lib.hat_event_event_decode(view, out))
        return ffi.gc(out[0], lib.hat_event_event_destroy)

    async def get_last_event_id(self, server_id):
        out = self.hat.ffi.new('hat_event_event_id_t *')
        self.hat.check(self.hat.lib.hat_event_backend_instance_get_last_event_id(self._instance, server_id, out))
        return common.EventId(out.server, out.session, out.instance)

    async def register(self, events):
        """hat's register: stores `events` (hat Events) as they are; returns
        them (hat's backends return the events registered)."""
        events = list(events)
        handles = [self._handle(e) for e in events]
        ptrs = self.hat.ffi.new('hat_event_event_t *[]', handles or [self.hat.ffi.NULL])
        self.hat.check(self.hat.lib.hat_event_backend_instance_register(self._instance, ptrs, len(handles)))
        return events

    async def query(self, params):
        return self._query_with(
            params, lambda p, out: self.hat.lib.hat_event_backend_instance_query(self._instance, p, out))

    async def flush(self):
        self.hat.check(self.hat.lib.hat_event_backend_instance_flush(self._instance))

    async def async_close(self):
        """Closes (flush, then finalise) and releases the instance; again: nothing."""
        if self._instance is None:
            return
        instance, self._instance = self._instance, None
        try:
            self.hat.check(self.hat.lib.hat_event_backend_instance_close(instance))
        finally:
            self.hat.lib.hat_event_backend_instance_destroy(instance)


async def create(hat, name, conf, registered_events_cb=None, flushed_events_cb=None):
    """As hat's `BackendInfo.create(conf, registered_events_cb,
    flushed_events_cb)`, for our backend registered as `name`."""
    return BackendInstance(hat, name, conf, registered_events_cb, flushed_events_cb)
