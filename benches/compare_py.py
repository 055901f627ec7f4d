"""Python worker of benches/compare.py: times one side of each case.

    compare_py.py hat <data dir>              hat-event 0.9.44 as its users call it
    compare_py.py py <data dir> --lib <.so>   our library through cffi (ABI mode)
    compare_py.py hat|py <data dir> --memory <dataset>
                                              bytes per query type (RSS growth)
    compare_py.py hat <data dir> --memory backend-<n>
                                              bytes per event stored in hat's
                                              memory backend (RSS growth)

Requests arrive one JSON object per line on stdin (see compare.py); each
reply is one JSON line: `{"check": ...}` after the untimed warm-up pass,
`{"ns_per_op": ...}` after a timed round.

Forms of the py side: `one` converts each tuple of str and makes one call
per item, as a thin Python wrapper would; `prebuilt` makes one call per
item on views made once; `handle` reuses event type handles made once;
`batch` packs all event types into one buffer per pass and makes one call;
`views` makes that call on a buffer packed once.
"""

import argparse
import array
import asyncio
import gc
import json
import math
import os
import pathlib
import re
import subprocess
import sys
import time


# --- data -------------------------------------------------------------------

class Datasets:
    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.cache = {}

    def types(self, name):
        if name not in self.cache:
            text = (self.dir / f'{name}.types').read_text(encoding='utf-8')
            self.cache[name] = [tuple(line.split('\t'))
                                for line in text.splitlines()]
        return self.cache[name]

    def raw(self, name):
        return (self.dir / name).read_bytes()

    def clear(self):
        self.cache.clear()


def rss_bytes():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


# --- hat-event ----------------------------------------------------------------

class HatSide:
    def __init__(self, data):
        from hat import json as hat_json
        from hat.event import common
        from hat.event.manager import common as manager
        self.data = data
        self.common = common
        self.hat_json = hat_json
        self.manager = manager
        self.cleanups = []     # of the current case

    def release(self):
        for cleanup in reversed(self.cleanups):
            cleanup()
        self.cleanups.clear()

    def create_subscription(self, types):
        return self.common.create_subscription(types)

    def setup(self, req, form):
        """(timed pass, operations per pass, check)."""
        common, data, kind = self.common, self.data, req['kind']
        repo = common.sbs_repo

        if kind == 'sub_create':
            types = data.types(req['types'])
            create = common.create_subscription
            check = len(list(create(types).get_query_types()))
            return lambda: create(types), len(types), check

        if kind == 'sub_matches':
            sub = common.create_subscription(data.types(req['sub']))
            queries = data.types(req['queries'])

            def run():
                m = sub.matches
                for q in queries:
                    m(q)
            return run, len(queries), sum(map(sub.matches, queries))

        if kind in ('sub_union', 'sub_intersection', 'sub_isdisjoint'):
            a = common.create_subscription(data.types(req['a']))
            b = common.create_subscription(data.types(req['b']))
            fn = getattr(a, kind[4:])
            res = fn(b)
            check = res if kind == 'sub_isdisjoint' else len(list(res.get_query_types()))
            return lambda: fn(b), 1, check

        if kind in ('fanout_match', 'fanout_coll'):
            types, per = data.types(req['clients']), req['per_client']
            subs = [common.create_subscription(types[i:i + per]) for i in range(0, len(types), per)]
            events = data.types(req['events'])
            if kind == 'fanout_match':
                def run():
                    for t in events:
                        for s in subs:
                            s.matches(t)
                return run, len(events), sum(s.matches(t) for t in events for s in subs)
            coll = common.create_event_type_collection()
            for i, s in enumerate(subs):
                coll.add(s, i)
            get = coll.get

            def run():
                for t in events:
                    for _ in get(t):
                        pass
            return run, len(events), sum(len(list(get(t))) for t in events)

        if kind in ('coll_get', 'coll_churn'):
            coll = common.create_event_type_collection()
            for i, t in enumerate(data.types(req['subs'])):
                coll.add(common.create_subscription([t]), i)
            queries = data.types(req['queries'])
            repeat = req.get('repeat', 1)
            get = coll.get
            if kind == 'coll_get':
                def run():
                    for _ in range(repeat):
                        for q in queries:
                            for _ in get(q):
                                pass
                check = repeat * sum(len(list(get(q))) for q in queries)
                return run, repeat * len(queries), check
            extra = common.create_subscription(data.types(req['extra']))

            def run():
                for i, q in enumerate(queries):
                    if i % 100 == 0:
                        coll.add(extra, 1 << 40)
                        coll.remove(1 << 40)
                    for _ in get(q):
                        pass
            check = sum(len(list(get(q))) for q in queries)
            return run, len(queries), check

        if kind in ('sbs_event_encode', 'sbs_event_decode'):
            raw = data.raw('event.sbs')
            event = common.event_from_sbs(repo.decode('HatEventer.Event', raw))
            if kind == 'sbs_event_encode':
                def run():
                    return repo.encode('HatEventer.Event', common.event_to_sbs(event))
                assert run() == raw
                return run, 1, len(raw)
            return (lambda: common.event_from_sbs(repo.decode('HatEventer.Event', raw)),
                    1, 1)

        if kind in ('sbs_result_encode', 'sbs_result_decode', 'json_result_encode'):
            raw = data.raw('result.sbs')
            result = common.query_result_from_sbs(repo.decode('HatEventer.QueryResult', raw))
            if kind == 'sbs_result_encode':
                def run():
                    return repo.encode('HatEventer.QueryResult',
                                       common.query_result_to_sbs(result))
                assert run() == raw
                return run, 1, len(raw)
            if kind == 'sbs_result_decode':
                def run():
                    return common.query_result_from_sbs(
                        repo.decode('HatEventer.QueryResult', raw))
                return run, 1, len(run().events)

            def run():
                return self.hat_json.encode(self.manager.query_result_to_json(result))
            text = run()
            assert text.encode() == data.raw('result.json')
            return run, 1, len(text.encode())

        if kind == 'engine_register':
            return self.engine(req['events'])

        raise ValueError(f'unknown kind {kind}')

    def make_engine(self):
        """hat's Engine with its memory backend and one module subscribed
        to ('a', 'b', '*'), on a new event loop: (loop, engine)."""
        import hat.event.backends.memory
        import hat.event.server.engine
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        async def create():
            backend = hat.event.backends.memory.MemoryBackend(None, None, None)
            return await hat.event.server.engine.create_engine(
                backend=backend, eventer_server=None,
                module_confs=[{'module': __name__,
                               'subscriptions': [['a', 'b', '*']]}],
                server_id=1, restart_cb=lambda: None,
                reset_monitor_ready_cb=lambda: None)
        engine = loop.run_until_complete(create())

        def close():
            loop.run_until_complete(engine.async_close())
            loop.close()
        self.cleanups.append(close)
        return loop, engine

    def engine(self, count):
        """Each pass registers `count` events of ('a', 'b', str(i)) in one
        call (one session), as its eventer server would."""
        common = self.common
        loop, engine = self.make_engine()
        source = common.Source(type=common.SourceType.EVENTER, id=1)
        events = [common.RegisterEvent(type=('a', 'b', str(i)),
                                       source_timestamp=None,
                                       payload=common.EventPayloadJson(i))
                  for i in range(count)]

        def run():
            return loop.run_until_complete(engine.register(source, events))
        return run, count, len(run())


def _module_info():
    """hat's module interface for the engine case's one module: subscribed
    to the registered event types, it processes each event and registers
    nothing (hat's test_engine_perf.py Module with recursion_count 0)."""
    from hat import aio
    from hat.event import common

    class EngineModule(common.Module):

        def __init__(self, conf, engine, source):
            self._async_group = aio.Group()
            self._subscription = common.create_subscription(
                tuple(s) for s in conf['subscriptions'])

        @property
        def async_group(self):
            return self._async_group

        @property
        def subscription(self):
            return self._subscription

        def process(self, source, event):
            return None

    return common.ModuleInfo(EngineModule)


# --- ours through cffi ----------------------------------------------------------

_DEFINE_RE = re.compile(r'^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)\s+'
                        r'(-?(?:0[xX][0-9A-Fa-f]+|[0-9]+))[uUlL]*\s*$')


def load_ffi(lib_path):
    """tests/conformance/conftest.py's recipe: the committed header without
    its #include lines, through `cc -E -P`, plus its integer #defines."""
    import cffi
    header = pathlib.Path(__file__).resolve().parents[1] / 'include' / 'hat' / 'event.h'
    lines = header.read_text(encoding='utf-8').splitlines(keepends=True)
    body = ''.join(line for line in lines if not re.match(r'^\s*#\s*include\b', line))
    cdef = subprocess.run([os.environ.get('CC', 'cc'), '-E', '-P', '-'], input=body,
                          capture_output=True, text=True, check=True).stdout
    defines = [f'#define {m.group(1)} {m.group(2)}'
               for m in map(_DEFINE_RE.match, lines) if m]
    ffi = cffi.FFI()
    ffi.cdef(cdef + '\n' + '\n'.join(defines) + '\n')
    return ffi, ffi.dlopen(lib_path)


class PySide:
    def __init__(self, data, lib_path):
        self.data = data
        self.ffi, self.lib = load_ffi(lib_path)
        assert self.ffi.sizeof('hat_event_str_t') == 16
        assert self.ffi.sizeof('hat_event_event_type_view_t') == 16
        self.owned = []        # (destroy, handle) of the current case

    def ok(self, status):
        if status != self.lib.HAT_EVENT_OK:
            msg = self.ffi.string(self.lib.hat_event_last_error_message()).decode()
            raise RuntimeError(f'status {status}: {msg}')

    def own(self, destroy, handle):
        self.owned.append((destroy, handle))
        return handle

    def release(self):
        for destroy, handle in reversed(self.owned):
            destroy(handle)
        self.owned.clear()

    # Conversions a Python binding of the library would make.

    def views_one(self, event_type):
        """One event type as a hat_event_str_t array; keep the second
        value alive while the array is in use."""
        ffi = self.ffi
        encoded = [s.encode() for s in event_type]
        arr = ffi.new('hat_event_str_t[]', [(ffi.from_buffer(b), len(b)) for b in encoded])
        return arr, encoded

    def pack(self, event_types):
        """Many event types in one packed buffer: all segment bytes in one
        block, all segment views and all event type views in one array
        each (built as raw 64-bit words). Returns (type views, keep)."""
        ffi = self.ffi
        encoded = [s.encode() for t in event_types for s in t]
        block = b''.join(encoded)
        base = int(ffi.cast('uintptr_t', ffi.from_buffer(block))) if block else 0
        words = array.array('Q', bytes(16 * len(encoded)))
        at = 0
        for i, b in enumerate(encoded):
            words[2 * i] = base + at
            words[2 * i + 1] = len(b)
            at += len(b)
        strs = ffi.from_buffer('hat_event_str_t[]', words)
        sbase = int(ffi.cast('uintptr_t', strs))
        tv_words = array.array('Q', bytes(16 * len(event_types)))
        seg = 0
        for i, t in enumerate(event_types):
            tv_words[2 * i] = sbase + 16 * seg
            tv_words[2 * i + 1] = len(t)
            seg += len(t)
        tv = ffi.from_buffer('hat_event_event_type_view_t[]', tv_words)
        return tv, (block, words, strs, tv_words)

    def subscription(self, types):
        tv, keep = self.pack(types)
        out = self.ffi.new('hat_event_subscription_t **')
        self.ok(self.lib.hat_event_subscription_create(tv, len(types), out))
        return out[0]

    def collection(self):
        """A tree collection and a values buffer, both released with the case."""
        ffi, lib = self.ffi, self.lib
        cout = ffi.new('hat_event_collection_t **')
        self.ok(lib.hat_event_collection_create(lib.HAT_EVENT_COLLECTION_TREE, cout))
        vout = ffi.new('hat_event_values_t **')
        self.ok(lib.hat_event_values_create(vout))
        return (self.own(lib.hat_event_collection_destroy, cout[0]),
                self.own(lib.hat_event_values_destroy, vout[0]))

    def bytes_view(self, raw):
        keep = self.ffi.from_buffer(raw)
        v = self.ffi.new('hat_event_bytes_t *')
        v.ptr = keep
        v.len = len(raw)
        return v[0], keep

    def take(self, buf):
        """A library buffer's bytes as Python bytes; releases the buffer."""
        lib = self.lib
        data = self.ffi.buffer(lib.hat_event_buffer_data(buf), lib.hat_event_buffer_len(buf))[:]
        lib.hat_event_buffer_destroy(buf)
        return data

    def setup(self, req, form):
        ffi, lib, data, kind = self.ffi, self.lib, self.data, req['kind']

        if kind == 'sub_create':
            types = data.types(req['types'])
            out = ffi.new('hat_event_subscription_t **')

            def run():
                tv, keep = self.pack(types)
                self.ok(lib.hat_event_subscription_create(tv, len(types), out))
                lib.hat_event_subscription_destroy(out[0])
            sub = self.own(lib.hat_event_subscription_destroy, self.subscription(types))
            return run, len(types), lib.hat_event_subscription_len(sub)

        if kind == 'sub_matches':
            sub = self.own(lib.hat_event_subscription_destroy,
                           self.subscription(data.types(req['sub'])))
            queries = data.types(req['queries'])
            matches = lib.hat_event_subscription_matches
            out = ffi.new('bool *')
            if form == 'one':
                views_one = self.views_one

                def match(q):
                    arr, keep = views_one(q)
                    matches(sub, arr, len(q), out)
                    return out[0]

                def run():
                    for q in queries:
                        match(q)
                return run, len(queries), sum(map(match, queries))
            if form == 'handle':
                handles = []
                hout = ffi.new('hat_event_event_type_t **')
                for q in queries:
                    arr, keep = self.views_one(q)
                    self.ok(lib.hat_event_event_type_create(arr, len(q), hout))
                    handles.append(self.own(lib.hat_event_event_type_destroy, hout[0]))
                matches_type = lib.hat_event_subscription_matches_type

                def match(h):
                    matches_type(sub, h, out)
                    return out[0]

                def run():
                    for h in handles:
                        match(h)
                return run, len(queries), sum(map(match, handles))
            outs = ffi.new('bool[]', max(len(queries), 1))
            many = lib.hat_event_subscription_matches_many
            if form == 'batch':
                def run():
                    tv, keep = self.pack(queries)
                    self.ok(many(sub, tv, len(queries), outs))
                    return ffi.unpack(outs, len(queries))
            else:
                packed = self.pack(queries)     # (views, what they point into)

                def run():
                    self.ok(many(sub, packed[0], len(queries), outs))
                    return ffi.unpack(outs, len(queries))
            return run, len(queries), sum(run())

        if kind in ('sub_union', 'sub_intersection', 'sub_isdisjoint'):
            a = self.own(lib.hat_event_subscription_destroy, self.subscription(data.types(req['a'])))
            b = self.own(lib.hat_event_subscription_destroy, self.subscription(data.types(req['b'])))
            if kind == 'sub_isdisjoint':
                out = ffi.new('bool *')

                def run():
                    self.ok(lib.hat_event_subscription_isdisjoint(a, b, out))
                    return out[0]
                return run, 1, run()
            fn = getattr(lib, f'hat_event_subscription_{kind[4:]}')
            others = ffi.new('hat_event_subscription_t *[]', [b])
            out = ffi.new('hat_event_subscription_t **')

            def run():
                self.ok(fn(a, others, 1, out))
                n = lib.hat_event_subscription_len(out[0])
                lib.hat_event_subscription_destroy(out[0])
                return n
            return run, 1, run()

        if kind in ('fanout_match', 'fanout_coll'):
            # A server's fan-out from Python: each event's type converted
            # once ('one': views per pass; 'handle': an event type handle
            # made once, as a server holds its decoded events' types), then
            # matched against every client's subscription, or looked up in
            # a collection of them.
            types, per = data.types(req['clients']), req['per_client']
            subs = [self.own(lib.hat_event_subscription_destroy, self.subscription(types[i:i + per]))
                    for i in range(0, len(types), per)]
            events = data.types(req['events'])
            if form == 'handle':
                hout = ffi.new('hat_event_event_type_t **')
                handles = []
                for t in events:
                    arr, keep = self.views_one(t)
                    self.ok(lib.hat_event_event_type_create(arr, len(t), hout))
                    handles.append(self.own(lib.hat_event_event_type_destroy, hout[0]))
            out = ffi.new('bool *')
            if kind == 'fanout_match':
                matches, matches_type = lib.hat_event_subscription_matches, lib.hat_event_subscription_matches_type
                if form == 'handle':
                    def event_hits(h):
                        hits = 0
                        for s in subs:
                            matches_type(s, h, out)
                            hits += out[0]
                        return hits
                    items = handles
                else:
                    def event_hits(t):
                        arr, keep = self.views_one(t)
                        hits = 0
                        for s in subs:
                            matches(s, arr, len(t), out)
                            hits += out[0]
                        return hits
                    items = events

                def run():
                    for item in items:
                        event_hits(item)
                return run, len(events), sum(map(event_hits, items))
            coll, values = self.collection()
            for i, sub in enumerate(subs):
                self.ok(lib.hat_event_collection_add(coll, sub, i))
            vlen, vdata = lib.hat_event_values_len, lib.hat_event_values_data
            if form == 'handle':
                get_type = lib.hat_event_collection_get_type

                def get_values(h):
                    get_type(coll, h, values)
                    return ffi.unpack(vdata(values), vlen(values))
                items = handles
            else:
                get = lib.hat_event_collection_get

                def get_values(t):
                    arr, keep = self.views_one(t)
                    get(coll, arr, len(t), values)
                    return ffi.unpack(vdata(values), vlen(values))
                items = events

            def run():
                for item in items:
                    for _ in get_values(item):
                        pass
            return run, len(events), sum(len(get_values(item)) for item in items)

        if kind in ('coll_get', 'coll_churn'):
            coll, values = self.collection()
            for i, t in enumerate(data.types(req['subs'])):
                sub = self.subscription([t])
                self.ok(lib.hat_event_collection_add(coll, sub, i))
                lib.hat_event_subscription_destroy(sub)
            queries = data.types(req['queries'])
            repeat = req.get('repeat', 1)
            views_one, get = self.views_one, lib.hat_event_collection_get
            vlen, vdata = lib.hat_event_values_len, lib.hat_event_values_data

            def get_values(q):
                arr, keep = views_one(q)
                get(coll, arr, len(q), values)
                return ffi.unpack(vdata(values), vlen(values))

            if kind == 'coll_get' and form == 'prebuilt':
                # Views made once and reused: the crossing without the conversion.
                prebuilt = [(views_one(q), len(q)) for q in queries]

                def get_prebuilt(item):
                    (arr, keep), n = item
                    get(coll, arr, n, values)
                    return ffi.unpack(vdata(values), vlen(values))

                def run():
                    for _ in range(repeat):
                        for item in prebuilt:
                            for _ in get_prebuilt(item):
                                pass
                check = repeat * sum(len(get_prebuilt(item)) for item in prebuilt)
                return run, repeat * len(queries), check
            if kind == 'coll_get' and form in ('batch', 'views'):
                # hat_event_collection_get_many: one call for every event
                # type, packed each pass ('batch') or once ('views').
                many = lib.hat_event_collection_get_many
                offsets = ffi.new('size_t[]', len(queries) + 1)
                packed = self.pack(queries) if form == 'views' else None

                def get_all():
                    views = packed or self.pack(queries)   # (views, what they point into): keep both
                    self.ok(many(coll, views[0], len(queries), values, offsets))
                    data_ = ffi.unpack(vdata(values), vlen(values))
                    # Both arrays become Python lists in one call each;
                    # indexing a cffi array per item would cost more.
                    offs = ffi.unpack(offsets, len(queries) + 1)
                    return [data_[a:b] for a, b in zip(offs, offs[1:])]

                def run():
                    for _ in range(repeat):
                        for per_type in get_all():
                            for _ in per_type:
                                pass
                check = repeat * sum(len(v) for v in get_all())
                return run, repeat * len(queries), check
            if kind == 'coll_get':
                def run():
                    for _ in range(repeat):
                        for q in queries:
                            for _ in get_values(q):
                                pass
                check = repeat * sum(len(get_values(q)) for q in queries)
                return run, repeat * len(queries), check
            extra = self.own(lib.hat_event_subscription_destroy,
                             self.subscription(data.types(req['extra'])))
            add, remove = lib.hat_event_collection_add, lib.hat_event_collection_remove

            def run():
                for i, q in enumerate(queries):
                    if i % 100 == 0:
                        add(coll, extra, 1 << 40)
                        remove(coll, 1 << 40)
                    for _ in get_values(q):
                        pass
            return run, len(queries), sum(len(get_values(q)) for q in queries)

        if kind.startswith('sbs_event'):
            raw = data.raw('event.sbs')
            view, keep = self.bytes_view(raw)
            out = ffi.new('hat_event_event_t **')
            self.ok(lib.hat_event_event_decode(view, out))
            event = self.own(lib.hat_event_event_destroy, out[0])
            if kind == 'sbs_event_encode':
                bout = ffi.new('hat_event_buffer_t **')

                def run():
                    self.ok(lib.hat_event_event_encode(event, bout))
                    return self.take(bout[0])
                assert run() == raw
                return run, 1, len(raw)

            def run():
                v, k = self.bytes_view(raw)
                self.ok(lib.hat_event_event_decode(v, out))
                lib.hat_event_event_destroy(out[0])
            return run, 1, 1

        if kind in ('sbs_result_encode', 'sbs_result_decode', 'json_result_encode'):
            raw = data.raw('result.sbs')
            view, keep = self.bytes_view(raw)
            out = ffi.new('hat_event_query_result_t **')
            self.ok(lib.hat_event_query_result_decode(view, out))
            result = self.own(lib.hat_event_query_result_destroy, out[0])
            bout = ffi.new('hat_event_buffer_t **')
            if kind == 'sbs_result_encode':
                def run():
                    self.ok(lib.hat_event_query_result_encode(result, bout))
                    return self.take(bout[0])
                assert run() == raw
                return run, 1, len(raw)
            if kind == 'sbs_result_decode':
                def run():
                    v, k = self.bytes_view(raw)
                    self.ok(lib.hat_event_query_result_decode(v, out))
                    n = lib.hat_event_query_result_len(out[0])
                    lib.hat_event_query_result_destroy(out[0])
                    return n
                return run, 1, run()

            def run():
                self.ok(lib.hat_event_query_result_to_json(result, bout))
                return self.take(bout[0]).decode()
            text = run()
            assert text.encode() == data.raw('result.json')
            return run, 1, len(text.encode())

        if kind == 'engine_register':
            return self.engine(req['events'], form)

        raise ValueError(f'unknown kind {kind}')

    def register_module(self):
        """Registers the engine case's module, written in Python as hat's
        is: subscribed to ('a', 'b', '*'), it processes each event and
        registers nothing. Registered once per process; the callbacks and
        the info stay alive with the process."""
        ffi, lib = self.ffi, self.lib
        if _py_module:
            return _py_module['name']

        @ffi.callback('hat_event_status_t(void *, hat_event_source_t, '
                      'const hat_event_event_t *, hat_event_register_event_list_t *)')
        def process(instance, source, event, out):
            return 0

        @ffi.callback('hat_event_status_t(void *, hat_event_str_t, hat_event_engine_t *, '
                      'hat_event_source_t, hat_event_module_t *)')
        def create(user_data, conf, engine, source, out):
            tv, keep = self.pack([('a', 'b', '*')])
            sub = ffi.new('hat_event_subscription_t **')
            status = lib.hat_event_subscription_create(tv, 1, sub)
            if status == lib.HAT_EVENT_OK:
                out.struct_size = ffi.sizeof('hat_event_module_t')
                out.subscription = sub[0]
                out.process = process
            return status

        info = ffi.new('hat_event_module_info_t *')
        info.abi_version = lib.HAT_EVENT_PLUGIN_ABI_VERSION
        info.struct_size = ffi.sizeof('hat_event_module_info_t')
        info.create = create
        name = b'bench.py_sink'
        self.ok(lib.hat_event_module_register((ffi.from_buffer(name), len(name)), info))
        _py_module.update(name=name, keep=(process, create, info))
        return name

    def engine(self, count, form):
        """Each pass registers `count` events of ('a', 'b', str(i)) with
        JSON payload i in one call (one session), as hat's side does.
        'prebuilt': the register events are made once, as hat's side makes
        its RegisterEvent objects once; 'one': each pass makes them from
        Python values first (what converting hat objects would cost)."""
        ffi, lib = self.ffi, self.lib
        name = self.register_module().decode()
        conf = json.dumps({'server_id': 1, 'backend': {'module': 'memory'},
                           'modules': [{'module': name}]}).encode()
        out = ffi.new('hat_event_engine_t **')
        self.ok(lib.hat_event_engine_create((ffi.from_buffer(conf), len(conf)), ffi.NULL, out))
        engine = self.own(lib.hat_event_engine_destroy, out[0])
        source = ffi.new('hat_event_source_t *', (lib.HAT_EVENT_SOURCE_TYPE_EVENTER, 1))[0]
        payload_out = ffi.new('hat_event_payload_t **')
        event_out = ffi.new('hat_event_register_event_t **')
        list_out = ffi.new('hat_event_event_list_t **')

        def make(i):
            segments, keep = self.views_one(('a', 'b', str(i)))
            text = str(i).encode()
            self.ok(lib.hat_event_payload_create_json((ffi.from_buffer(text), len(text)), payload_out))
            status = lib.hat_event_register_event_create(segments, 3, ffi.NULL, payload_out[0], event_out)
            lib.hat_event_payload_destroy(payload_out[0])
            self.ok(status)
            return event_out[0]

        def register(events):
            self.ok(lib.hat_event_engine_register(engine, source, events, count, list_out))
            n = lib.hat_event_event_list_len(list_out[0])
            lib.hat_event_event_list_destroy(list_out[0])
            return n

        if form == 'prebuilt':
            events = ffi.new('hat_event_register_event_t *[]', [make(i) for i in range(count)])
            for e in events:
                self.own(lib.hat_event_register_event_destroy, e)

            def run():
                return register(events)
            return run, count, run()

        def run():
            events = ffi.new('hat_event_register_event_t *[]', [make(i) for i in range(count)])
            try:
                return register(events)
            finally:
                for e in events:
                    lib.hat_event_register_event_destroy(e)
        return run, count, run()


_py_module = {}


# --- the request loop ---------------------------------------------------------

def serve(side):
    states = {}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req['op'] == 'done':
                states.clear()
                side.release()
                side.data.clear()
                gc.collect()
                reply = {}
            else:
                key = (req['case'], req.get('form'))
                if req.get('warmup'):
                    run, ops, check = side.setup(req, req.get('form'))
                    start = time.perf_counter_ns()
                    run()
                    once = time.perf_counter_ns() - start
                    reps = max(1, math.ceil(req['target_ms'] * 1e6 / max(once, 1)))
                    states[key] = (run, ops, reps)
                    reply = {'check': check}
                else:
                    run, ops, reps = states[key]
                    start = time.perf_counter_ns()
                    for _ in range(reps):
                        run()
                    reply = {'ns_per_op': (time.perf_counter_ns() - start) / (reps * ops)}
        except Exception as e:  # reported to the driver, which stops
            reply = {'error': f'{type(e).__name__}: {e}'}
        print(json.dumps(reply), flush=True)


def backend_memory(side, count=100_000, batch=1000):
    """RSS growth per event stored in hat's memory backend through its
    engine (one module), the register events made batch by batch in the
    measured span and dropped after registering: what remains is what the
    engine and backend keep (events share type and payload objects with
    the register events they came from)."""
    common = side.common
    loop, engine = side.make_engine()
    source = common.Source(type=common.SourceType.EVENTER, id=1)
    gc.collect()
    malloc_trim()
    before = rss_bytes()
    for start in range(0, count, batch):
        events = [common.RegisterEvent(
            type=('gateway', 'device1', 'measurement', f'temperature{i}'),
            source_timestamp=common.Timestamp(1700000000 + i, 100000),
            payload=common.EventPayloadJson(
                {'value': 20.0 + i / 100, 'quality': 'good', 'ts': 1700000000.123}))
            for i in range(start, start + batch)]
        loop.run_until_complete(engine.register(source, events))
    del events
    gc.collect()
    malloc_trim()
    after = rss_bytes()
    print(json.dumps({'bytes_per_event': (after - before) / count}), flush=True)
    side.release()


def malloc_trim():
    """glibc: returns free heap memory to the system."""
    import ctypes
    ctypes.CDLL(None).malloc_trim(0)


def memory(side, dataset):
    """RSS growth from creating one subscription of the dataset's types,
    after they are loaded: right after creation (transient peaks included)
    and after malloc_trim (what stays). The same measurement as compare.rs's."""
    types = side.data.types(dataset)
    gc.collect()
    malloc_trim()
    before = rss_bytes()
    if isinstance(side, PySide):
        sub = side.subscription(types)
    else:
        sub = side.create_subscription(types)
    after = rss_bytes()
    gc.collect()
    malloc_trim()
    trimmed = rss_bytes()
    print(json.dumps({'bytes_per_type': (after - before) / len(types),
                      'trimmed_bytes_per_type': (trimmed - before) / len(types)}),
          flush=True)
    return sub


def main():
    p = argparse.ArgumentParser()
    p.add_argument('side', choices=['hat', 'py'])
    p.add_argument('data')
    p.add_argument('--lib')
    p.add_argument('--memory')
    args = p.parse_args()
    data = Datasets(args.data)
    side = HatSide(data) if args.side == 'hat' else PySide(data, args.lib)
    if args.memory and args.memory.startswith('backend-'):
        backend_memory(side, int(args.memory.split('-')[1]))
    elif args.memory:
        memory(side, args.memory)
    else:
        serve(side)


if __name__ == '__main__':
    info = _module_info()
    main()
else:
    info = None
