"""Helpers of the eventer client tests: a real hat-event-server on a free
loopback port, our C client driven through cffi, and fake servers built
from hat's own chatter and eventer encoders."""

import asyncio
import contextlib
import json
import pathlib
import queue
import socket
import subprocess
import sys
import threading
import time

from hat import json as hat_json
from hat.drivers import chatter
from hat.drivers import net
from hat.event import common
from hat.event import eventer
from hat.event.manager import common as manager


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Probe:
    """A client named 'probe' that connected once the server on `port` was
    OPERATIONAL (retrying while it is not listening yet, or not yet
    operational; fails early, with `describe()`, if the process exits),
    kept connected until `close()` on a thread of its own (hat's client
    answers the server's pings there). Kept open so that its session is
    the same on every server a test compares: STARTED, then the probe's
    CONNECTED, and no DISCONNECTED at a moment that depends on when the
    server notices a close."""

    def __init__(self, proc, port, token, describe, limit=30):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name='probe', daemon=True)
        self._thread.start()
        self.client = None
        deadline = time.monotonic() + limit
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f'{describe()} exited with {proc.returncode}')
                try:
                    client = self._run(eventer.connect(net.TcpAddress('127.0.0.1', port), 'probe',
                                                       client_token=token))
                    if client.status == common.Status.OPERATIONAL:
                        self.client = client
                        return
                    # Connected before the engine ran (so no CONNECTED was
                    # registered): leave and come back once it runs.
                    self._run(client.async_close())
                except (ConnectionError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f'{describe()} not operational within {limit} s')
                time.sleep(0.05)
        except BaseException:
            self.close()
            raise

    def _run(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def close(self):
        """Disconnects the probe (its DISCONNECTED follows) and ends its thread."""
        if self._loop.is_closed():
            return
        if self.client is not None:
            with contextlib.suppress(Exception):
                self._run(self.client.async_close())
            self.client = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


class EventServer:
    """`hat-event-server` (memory backend, no monitor, no modules) as a child
    process on a free loopback port."""

    def __init__(self, tmp_path, server_id=1, server_token=None):
        self.port = free_port()
        self.server_id = server_id
        conf = {'name': 'test', 'server_id': server_id,
                'backend': {'module': 'hat.event.backends.memory'},
                'modules': [],
                'eventer_server': {'host': '127.0.0.1', 'port': self.port}}
        if server_token is not None:
            conf['server_token'] = server_token
        path = pathlib.Path(tmp_path) / f'event-{self.port}.json'
        path.write_text(json.dumps(conf))
        self.log = open(pathlib.Path(tmp_path) / f'event-{self.port}.log', 'w')
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'hat.event.server', '--conf', str(path)],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.probe = None
        try:
            self.probe = Probe(self.proc, self.port, server_token, lambda: 'hat-event-server')
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if self.probe is not None:
            self.probe.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --- our client through cffi ---------------------------------------------------

def manager_json(event):
    """hat's manager JSON text of a hat.event.common.Event."""
    return hat_json.encode(manager.event_to_json(event))


def our_json(hat, event_ptr):
    out = hat.ffi.new('hat_event_buffer_t **')
    hat.check(hat.lib.hat_event_event_to_json(event_ptr, out))
    buf = out[0]
    try:
        return hat.ffi.unpack(hat.ffi.cast('char *', hat.lib.hat_event_buffer_data(buf)),
                              hat.lib.hat_event_buffer_len(buf)).decode('utf-8')
    finally:
        hat.lib.hat_event_buffer_destroy(buf)


def register_event(hat, event_type, json_text=None):
    """An owned hat_event_register_event_t * (garbage-collected)."""
    ffi, lib = hat.ffi, hat.lib
    seg = hat.str_array(event_type)
    payload = ffi.NULL
    if json_text is not None:
        view, keep = hat.str_view(json_text)
        p = ffi.new('hat_event_payload_t **')
        hat.check(lib.hat_event_payload_create_json(view, p))
        payload = ffi.gc(p[0], lib.hat_event_payload_destroy)
    out = ffi.new('hat_event_register_event_t **')
    hat.check(lib.hat_event_register_event_create(seg.ptr, seg.len, ffi.NULL, payload, out))
    return ffi.gc(out[0], lib.hat_event_register_event_destroy)


class CClient:
    """hat_event_client_t with Python callbacks: events arrive in `events`
    (manager JSON texts, one list per notification), statuses in `statuses`,
    the closing reason in `closed` as (status, message)."""

    def __init__(self, hat, port, name='c', subscriptions=(), token=None, host='127.0.0.1',
                 server_id=None, on_events_hook=None, **options):
        ffi, lib = hat.ffi, hat.lib
        self.hat = hat
        self.events = queue.Queue()
        self.statuses = queue.Queue()
        self.closed = queue.Queue()
        self.callback_threads = set()
        keep = []
        o = ffi.new('hat_event_client_options_t *')
        hat.check(lib.hat_event_client_options_init(o))
        for field, text in (('host', host), ('client_name', name)):
            view, k = hat.str_view(text)
            keep.append(k)
            setattr(o, field, view)
        o.port = port
        if token is not None:
            view, k = hat.str_view(token)
            tp = ffi.new('hat_event_str_t *', view)
            keep += [k, tp]
            o.client_token = tp
        if subscriptions:
            arrays = [hat.str_array(s) for s in subscriptions]
            views = ffi.new('hat_event_event_type_view_t[]', len(arrays))
            for v, a in zip(views, arrays):
                v.segments = a.ptr
                v.len = a.len
            keep += [arrays, views]
            o.subscriptions = views
            o.subscriptions_len = len(arrays)
        if server_id is not None:
            sp = ffi.new('int64_t *', server_id)
            keep.append(sp)
            o.server_id = sp
        for k, v in options.items():
            setattr(o, k, v)

        def on_status(_, status):
            self.callback_threads.add(threading.get_ident())
            self.statuses.put(status)

        def on_events(_, events, count):
            self.callback_threads.add(threading.get_ident())
            self.events.put([our_json(hat, events[i]) for i in range(count)])
            if on_events_hook is not None:
                on_events_hook(self)

        def on_closed(_, status, message):
            self.callback_threads.add(threading.get_ident())
            self.closed.put((status, hat.read_str(message)))

        self._callbacks = [ffi.callback('hat_event_client_status_cb_t', on_status),
                           ffi.callback('hat_event_client_events_cb_t', on_events),
                           ffi.callback('hat_event_client_closed_cb_t', on_closed)]
        o.status_cb, o.events_cb, o.closed_cb = self._callbacks
        out = ffi.new('hat_event_client_t **')
        hat.check(lib.hat_event_client_connect(o, out))
        self.ptr = out[0]

    def register(self, events):
        self.hat.check(self.hat.lib.hat_event_client_register(self.ptr, events, len(events)))

    def register_wait(self, events, timeout=10.0):
        """Registered events as manager JSON texts, or None on failure."""
        ffi, lib = self.hat.ffi, self.hat.lib
        out = ffi.new('hat_event_msg_t **')
        self.hat.check(lib.hat_event_client_register_wait(self.ptr, events, len(events), timeout, out))
        msg = ffi.gc(out[0], lib.hat_event_msg_destroy)
        if lib.hat_event_msg_register_res_failed(msg):
            return None
        return [our_json(self.hat, lib.hat_event_msg_event(msg, i))
                for i in range(lib.hat_event_msg_events_len(msg))]

    def query_latest(self, event_types=None, timeout=10.0):
        ffi, lib = self.hat.ffi, self.hat.lib
        p = ffi.new('hat_event_query_params_t **')
        self.hat.check(lib.hat_event_query_params_create_latest(p))
        params = ffi.gc(p[0], lib.hat_event_query_params_destroy)
        if event_types is not None:
            arrays = [self.hat.str_array(t) for t in event_types]
            views = ffi.new('hat_event_event_type_view_t[]', max(len(arrays), 1))
            for v, a in zip(views, arrays):
                v.segments = a.ptr
                v.len = a.len
            self.hat.check(lib.hat_event_query_params_set_event_types(params, views, len(arrays)))
        out = ffi.new('hat_event_query_result_t **')
        self.hat.check(lib.hat_event_client_query(self.ptr, params, timeout, out))
        result = ffi.gc(out[0], lib.hat_event_query_result_destroy)
        return [our_json(self.hat, lib.hat_event_query_result_event(result, i))
                for i in range(lib.hat_event_query_result_len(result))]

    def is_open(self):
        return bool(self.hat.lib.hat_event_client_is_open(self.ptr))

    def wait_closed(self, timeout):
        return self.hat.lib.hat_event_client_wait_closed(self.ptr, timeout)

    def destroy(self):
        if self.ptr is not None:
            self.hat.lib.hat_event_client_destroy(self.ptr)
            self.ptr = None


# --- fake servers ------------------------------------------------------------

def frame(msg_bytes):
    n = len(msg_bytes)
    length = n.to_bytes(max((n.bit_length() + 7) // 8, 1), 'big')
    return bytes([len(length)]) + length + msg_bytes


def chatter_msg(id, first, owner, last, data_type, data, token=True):
    """One framed HatChatter.Msg, encoded by hat-drivers."""
    return frame(chatter._sbs_repo.encode('HatChatter.Msg', {
        'id': id, 'first': first, 'owner': owner, 'token': token, 'last': last,
        'data': {'type': data_type, 'data': data}}))


def eventer_data(msg_type, data):
    return common.sbs_repo.encode(msg_type, data)


class FakeServer:
    """A listening socket; `script(conn)` runs on a thread for the first
    connection. `read_msg(conn)` gives the next HatChatter.Msg as a dict."""

    def __init__(self, script):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.error = None
        self.result = None
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()

    def _run(self, script):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(20)
                self.result = script(conn)
        except Exception as e:  # reported by join()
            self.error = e

    def join(self, timeout=20):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), 'fake server still running'
        self.sock.close()
        if self.error:
            raise self.error
        return self.result


def read_exactly(conn, n):
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError('peer closed')
        data += chunk
    return data


def read_msg(conn):
    len_len = read_exactly(conn, 1)[0]
    n = int.from_bytes(read_exactly(conn, len_len), 'big')
    return chatter._sbs_repo.decode('HatChatter.Msg', read_exactly(conn, n))


def accept_init(conn, status=common.Status.OPERATIONAL):
    """Reads the init request, answers success; returns the request's data."""
    msg = read_msg(conn)
    assert msg['data']['type'] == 'HatEventer.MsgInitReq', msg
    conn.sendall(chatter_msg(1, msg['id'], False, True, 'HatEventer.MsgInitRes',
                             eventer_data('HatEventer.MsgInitRes', ('success', common.status_to_sbs(status)))))
    return common.sbs_repo.decode('HatEventer.MsgInitReq', msg['data']['data'])


@contextlib.contextmanager
def closing_client(client):
    try:
        yield client
    finally:
        client.destroy()


__all__ = ['EventServer', 'CClient', 'FakeServer', 'register_event', 'manager_json',
           'our_json', 'chatter_msg', 'eventer_data', 'read_msg', 'accept_init', 'frame',
           'closing_client', 'free_port']
