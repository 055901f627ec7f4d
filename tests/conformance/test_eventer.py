"""Our eventer client (hat_event_client_*) against a real hat-event-server
0.9.44 (memory backend) and hat's own Python eventer client, and against
fake servers built from hat's encoders for the failure cases."""

import asyncio
import json
import os
import queue
import signal
import subprocess
import threading
import time

import pytest

from hat.drivers import net
from hat.event import common
from hat.event import eventer

from eventer_support import (EventServer, CClient, FakeServer, register_event, manager_json,
                             chatter_msg, eventer_data, read_msg, accept_init, frame,
                             closing_client, free_port)


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    srv = EventServer(tmp_path_factory.mktemp('event'))
    yield srv
    srv.stop()


def drain(conn):
    """Reads what the client sends until it closes the connection."""
    try:
        while conn.recv(100):
            pass
    except OSError:
        pass


def loads(texts):
    return [json.loads(t) for t in texts]


def test_register_with_and_without_response_then_query(hat, server):
    with closing_client(CClient(hat, server.port, name='c-basic')) as c:
        assert hat.lib.hat_event_client_server_status(c.ptr) == hat.lib.HAT_EVENT_SERVER_STATUS_OPERATIONAL
        registered = loads(c.register_wait([register_event(hat, ('basic', 'a'), '{"v": 1}'),
                                            register_event(hat, ('basic', 'b'))]))
        assert [e['type'] for e in registered] == [['basic', 'a'], ['basic', 'b']]
        assert [e['payload'] for e in registered] == [{'data_type': 'json', 'data': {'v': 1}}, None]
        assert all(e['id']['server'] == server.server_id for e in registered)
        # one register call is one engine session: same session, instances 1, 2
        assert registered[0]['id']['session'] == registered[1]['id']['session']
        assert [e['id']['instance'] for e in registered] == [1, 2]

        c.register([register_event(hat, ('basic', 'c'), '"x"')])
        latest = loads(c.query_latest([('basic', '*')]))
        by_type = {tuple(e['type']): e for e in latest}
        assert set(by_type) == {('basic', 'a'), ('basic', 'b'), ('basic', 'c')}
        assert by_type[('basic', 'a')] == registered[0]
        assert by_type[('basic', 'c')]['payload'] == {'data_type': 'json', 'data': 'x'}
        assert c.query_latest([('nothing', '*')]) == []


def test_python_client_and_ours_see_each_others_events(hat, server):
    async def run():
        py_events = asyncio.Queue()
        py = await eventer.connect(net.TcpAddress('127.0.0.1', server.port), 'py',
                                   subscriptions=[('from-c', '*')],
                                   events_cb=lambda _, events: py_events.put_nowait(events))
        c = await asyncio.to_thread(CClient, hat, server.port, 'c-interop', [('from-py', '*')])
        try:
            ours = await asyncio.to_thread(
                c.register_wait, [register_event(hat, ('from-c', '1'), '{"a": [1, 2.5, "\\u017e"]}')])
            seen = await asyncio.wait_for(py_events.get(), 10)
            assert [manager_json(e) for e in seen] == ours

            theirs = await py.register([common.RegisterEvent(
                type=('from-py', 'x'), source_timestamp=common.Timestamp(5, 6),
                payload=common.EventPayloadBinary(type='t', data=b'\x00\xff'))], with_response=True)
            got = await asyncio.to_thread(c.events.get, True, 10)
            assert got == [manager_json(e) for e in theirs]
            # the C client is not notified of its own events outside its subscription
            assert c.events.empty()
            # callbacks ran on one thread, not this one
            assert len(c.callback_threads) == 1
            assert threading.get_ident() not in c.callback_threads
        finally:
            await asyncio.to_thread(c.destroy)
            await py.async_close()

    asyncio.run(run())


def test_json_python_registers_with_lone_surrogates_and_500_levels_reaches_our_client(hat, server):
    # hat-event reads and forwards what Python's json reads; before our
    # reader did too, such an event closed every subscribed C client.
    lone = {'s': 'x\ud800y', '\udc00': ['\ud83d', '\ud83d\ude00', '\udfff\ud800']}
    deep = '\udbff'
    for i in range(500):
        deep = [deep] if i % 2 else {'k\u00e9': deep}

    async def run():
        c = await asyncio.to_thread(CClient, hat, server.port, 'c-json', [('py-json', '*')])
        py = await eventer.connect(net.TcpAddress('127.0.0.1', server.port), 'py-json')
        try:
            theirs = await py.register([
                common.RegisterEvent(type=('py-json', 'lone'), source_timestamp=None,
                                     payload=common.EventPayloadJson(lone)),
                common.RegisterEvent(type=('py-json', 'deep'), source_timestamp=common.Timestamp(1, 2),
                                     payload=common.EventPayloadJson(deep))], with_response=True)
            assert theirs is not None and len(theirs) == 2
            got = []
            while len(got) < 2:
                got += await asyncio.to_thread(c.events.get, True, 10)
            # what our client received prints as hat's manager prints it
            assert got == [manager_json(e) for e in theirs]
            assert c.is_open() and c.closed.empty()
            latest = await asyncio.to_thread(c.query_latest, [('py-json', '*')])
            by_type = {tuple(json.loads(t)['type']): t for t in latest}
            assert by_type == {tuple(e.type): manager_json(e) for e in theirs}
            # equal to what Python reads from the server
            py_latest = await py.query(common.QueryLatestParams(event_types=[('py-json', '*')]))
            # (the server read '\ud83d\ude00' back as one character, as json.loads does)
            assert {tuple(e.type): e.payload.data for e in py_latest.events} == \
                {('py-json', 'lone'): json.loads(json.dumps(lone)), ('py-json', 'deep'): deep}
            assert sorted(latest) == sorted(manager_json(e) for e in py_latest.events)
            # and the connection is still up: it registers and is answered
            assert c.is_open()
            again = await asyncio.to_thread(c.register_wait, [register_event(hat, ('c-json', 'x'), '"\\ud800"')])
            assert again is not None and json.loads(again[0])['payload']['data'] == '\ud800'
        finally:
            await asyncio.to_thread(c.destroy)
            await py.async_close()

    asyncio.run(run())


def test_server_id_filter_and_empty_subscription(hat, server):
    with closing_client(CClient(hat, server.port, 'c-other', [('sid', '*')], server_id=99)) as other, \
            closing_client(CClient(hat, server.port, 'c-mine', [('sid', '*')],
                                   server_id=server.server_id)) as mine, \
            closing_client(CClient(hat, server.port, 'c-none')) as none:
        registered = none.register_wait([register_event(hat, ('sid', 'x'))])
        assert mine.events.get(timeout=10) == registered
        time.sleep(0.3)
        assert other.events.empty() and none.events.empty()


def test_server_stopped_mid_session_is_reported_as_closed(hat, tmp_path):
    srv = EventServer(tmp_path)
    try:
        c = CClient(hat, srv.port, 'c-stop')
        with closing_client(c):
            assert c.register_wait([register_event(hat, ('stop', 'a'))]) is not None
            srv.stop()
            # STOPPING then STANDBY arrive before the connection ends
            statuses = []
            while True:
                try:
                    statuses.append(c.statuses.get(timeout=10))
                except queue.Empty:
                    break
                if statuses[-1] == hat.lib.HAT_EVENT_SERVER_STATUS_STANDBY:
                    break
            assert hat.lib.HAT_EVENT_SERVER_STATUS_STOPPING in statuses
            assert c.wait_closed(10.0) == hat.lib.HAT_EVENT_OK
            assert not c.is_open()
            status, message = c.closed.get(timeout=5)
            assert status == hat.lib.HAT_EVENT_ERR_CLOSED, (status, message)
            assert 'closed the connection' in message
            with pytest.raises(hat.Error) as e:
                c.register([register_event(hat, ('stop', 'b'))])
            assert e.value.status == hat.lib.HAT_EVENT_ERR_CLOSED
            with pytest.raises(hat.Error) as e:
                c.query_latest()
            assert e.value.status == hat.lib.HAT_EVENT_ERR_CLOSED
    finally:
        srv.stop()


def test_invalid_client_token_is_refused_with_the_servers_text(hat, tmp_path):
    srv = EventServer(tmp_path, server_token='secret')
    try:
        with pytest.raises(hat.Error) as e:
            CClient(hat, srv.port, 'c-token', token='wrong')
        assert e.value.status == hat.lib.HAT_EVENT_ERR_REFUSED
        assert 'invalid client token' in e.value.message
        with closing_client(CClient(hat, srv.port, 'c-token', token='secret')) as c:
            assert c.register_wait([register_event(hat, ('token', 'ok'))]) is not None
    finally:
        srv.stop()


def test_refused_connection_is_an_io_error(hat):
    with pytest.raises(hat.Error) as e:
        CClient(hat, free_port(), 'c-refused')
    assert e.value.status == hat.lib.HAT_EVENT_ERR_IO
    assert 'refused' in e.value.message.lower()


def test_close_stops_callbacks_and_is_idempotent(hat, server):
    c = CClient(hat, server.port, 'c-close', [('close', '*')])
    hat.lib.hat_event_client_close(c.ptr)
    hat.lib.hat_event_client_close(c.ptr)
    assert not c.is_open()
    assert c.closed.empty()  # closed by us: no closed callback
    with pytest.raises(hat.Error) as e:
        c.register([register_event(hat, ('close', 'x'))])
    assert e.value.status == hat.lib.HAT_EVENT_ERR_CLOSED
    c.destroy()


# --- fake servers -------------------------------------------------------------

def test_events_notify_is_acknowledged_in_its_conversation(hat):
    event = common.Event(id=common.EventId(1, 2, 3), type=('a',), timestamp=common.Timestamp(1, 2),
                         source_timestamp=None, payload=None)

    def script(conn):
        accept_init(conn)
        data = eventer_data('HatEventer.MsgEventsNotify', [common.event_to_sbs(event)])
        conn.sendall(chatter_msg(2, 2, True, False, 'HatEventer.MsgEventsNotify', data))
        ack = read_msg(conn)
        conn.sendall(chatter_msg(3, 3, True, True, 'HatEventer.MsgEventsNotify', data))
        conn.sendall(chatter_msg(4, 4, True, False, 'HatChatter.Ping', b''))
        pong = read_msg(conn)
        return ack, pong

    fake = FakeServer(script)
    with closing_client(CClient(hat, fake.port, 'c-ack', [('*',)])) as c:
        ack, pong = fake.join()
        assert ack['data']['type'] == 'HatEventer.MsgEventsAck'
        assert (ack['first'], ack['owner'], ack['last']) == (2, False, True)
        # last=True asks for no ack: the next message is the pong
        assert pong['data'] == {'type': 'HatChatter.Pong', 'data': b''}
        assert (pong['first'], pong['owner']) == (4, False)
        assert c.events.get(timeout=5) == [manager_json(event)]
        assert c.events.get(timeout=5) == [manager_json(event)]


def test_events_notify_is_acknowledged_to_hats_eventer_server(hat):
    """hat's own eventer server waits for the ack (notify_events with_ack)."""
    event = common.Event(id=common.EventId(1, 2, 3), type=('a', 'b'), timestamp=common.Timestamp(1, 2),
                         source_timestamp=None, payload=common.EventPayloadJson([1, None]))

    async def run():
        port = free_port()
        srv = await eventer.listen(net.TcpAddress('127.0.0.1', port),
                                   status=common.Status.OPERATIONAL)
        c = await asyncio.to_thread(CClient, hat, port, 'c-ack2', [('a', '*')])
        try:
            await asyncio.wait_for(srv.notify_events([event], False, with_ack=True), 10)
            got = await asyncio.to_thread(c.events.get, True, 5)
            assert got == [manager_json(event)]
        finally:
            await asyncio.to_thread(c.destroy)
            await srv.async_close()

    asyncio.run(run())


def test_client_pings_a_silent_server_and_gives_up_without_an_answer(hat):
    def script(conn):
        accept_init(conn)
        ping = read_msg(conn)
        start = time.monotonic()
        drain(conn)
        return ping, time.monotonic() - start

    fake = FakeServer(script)
    with closing_client(CClient(hat, fake.port, 'c-ping', ping_delay=0.2, ping_timeout=0.3)) as c:
        assert c.wait_closed(10.0) == hat.lib.HAT_EVENT_OK
        status, message = c.closed.get(timeout=5)
        assert status == hat.lib.HAT_EVENT_ERR_TIMEOUT, message
        assert 'ping' in message
        ping, waited = fake.join()
        assert ping['data']['type'] == 'HatChatter.Ping'
        assert (ping['owner'], ping['last'], ping['first']) == (True, False, ping['id'])
        assert 0.2 <= waited < 5


def test_pongs_keep_the_connection_alive_beyond_the_ping_timeout(hat):
    pinged = threading.Event()
    checked = threading.Event()

    def script(conn):
        accept_init(conn)
        start = time.monotonic()
        count = 0
        # longer than ping_delay + ping_timeout: only the pongs keep it open
        while time.monotonic() - start < 1.0:
            ping = read_msg(conn)
            assert ping['data']['type'] == 'HatChatter.Ping'
            conn.sendall(chatter_msg(10 + count, ping['first'], False, True, 'HatChatter.Pong', b''))
            count += 1
        pinged.set()
        checked.wait(10)
        return count

    fake = FakeServer(script)
    with closing_client(CClient(hat, fake.port, 'c-pong', ping_delay=0.1, ping_timeout=0.3)) as c:
        assert pinged.wait(10)
        assert c.is_open()
        checked.set()
        assert fake.join() >= 5


@pytest.mark.parametrize('bad, limit, words', [
    (b'\x00', None, 'length of length is 0'),
    (frame(b'\x81\x81\x05'), None, 'malformed frame'),
    (b'\x04\x7f\xff\xff\xff', None, 'oversized frame'),
    (b'\x02\x04\x01', 1024, 'oversized frame: 1025 bytes'),
    (chatter_msg(2, 2, True, True, 'HatEventer.MsgEventsNotify', b'\x85\x01'), None,
     'malformed HatEventer.MsgEventsNotify'),
    (chatter_msg(2, 2, True, True, 'Something.Else', b''), None, 'unsupported message type'),
    (chatter_msg(2, 2, True, True, 'HatEventer.MsgInitReq',
                 eventer_data('HatEventer.MsgInitReq', {
                     'clientName': 'x', 'clientToken': ('none', None), 'subscriptions': [],
                     'serverId': ('none', None), 'persisted': False})), None,
     'unexpected message HatEventer.MsgInitReq'),
])
def test_bad_frames_after_init_close_with_a_protocol_error(hat, bad, limit, words):
    def script(conn):
        accept_init(conn)
        conn.sendall(bad)
        drain(conn)

    fake = FakeServer(script)
    options = {} if limit is None else {'max_frame_size': limit}
    with closing_client(CClient(hat, fake.port, 'c-bad', **options)) as c:
        assert c.wait_closed(10.0) == hat.lib.HAT_EVENT_OK
        status, message = c.closed.get(timeout=5)
        assert status == hat.lib.HAT_EVENT_ERR_PROTOCOL, message
        assert words in message, message
        fake.join()


def test_a_request_pending_when_the_server_breaks_the_protocol_fails_closed(hat):
    def script(conn):
        accept_init(conn)
        read_msg(conn)  # the query request
        conn.sendall(b'\x00')

    fake = FakeServer(script)
    with closing_client(CClient(hat, fake.port, 'c-pending')) as c:
        with pytest.raises(hat.Error) as e:
            c.query_latest(timeout=10.0)
        assert e.value.status == hat.lib.HAT_EVENT_ERR_CLOSED
        assert 'length of length is 0' in e.value.message
        fake.join()


def test_an_unanswered_query_times_out_and_the_connection_stays(hat):
    checked = threading.Event()

    def script(conn):
        accept_init(conn)
        req = read_msg(conn)
        second = read_msg(conn)
        late = common.QueryResult([common.Event(
            id=common.EventId(1, 1, 1), type=('late',), timestamp=common.Timestamp(0, 0),
            source_timestamp=None, payload=None)], False)
        for id, first, result in ((2, req['id'], late),
                                  (3, second['id'], common.QueryResult([], True))):
            conn.sendall(chatter_msg(id, first, False, True, 'HatEventer.MsgQueryRes',
                                     eventer_data('HatEventer.MsgQueryRes',
                                                  common.query_result_to_sbs(result))))
        checked.wait(10)
        return req

    fake = FakeServer(script)
    with closing_client(CClient(hat, fake.port, 'c-timeout')) as c:
        t = time.monotonic()
        with pytest.raises(hat.Error) as e:
            c.query_latest(timeout=0.2)
        assert e.value.status == hat.lib.HAT_EVENT_ERR_TIMEOUT
        assert 0.2 <= time.monotonic() - t < 5
        # the late answer to the first (one event) is dropped, the second's is ours
        assert c.query_latest(timeout=10.0) == []
        assert c.is_open()
        checked.set()
        assert fake.join()['data']['type'] == 'HatEventer.MsgQueryReq'


def test_init_failures(hat):
    def silent(conn):
        read_msg(conn)
        time.sleep(1)

    fake = FakeServer(silent)
    with pytest.raises(hat.Error) as e:
        CClient(hat, fake.port, 'c-silent', connect_timeout=0.2)
    assert e.value.status == hat.lib.HAT_EVENT_ERR_TIMEOUT
    fake.join()

    def hang_up(conn):
        read_msg(conn)

    fake = FakeServer(hang_up)
    with pytest.raises(hat.Error) as e:
        CClient(hat, fake.port, 'c-hangup')
    assert e.value.status == hat.lib.HAT_EVENT_ERR_CLOSED
    fake.join()

    def wrong_conversation(conn):
        msg = read_msg(conn)
        conn.sendall(chatter_msg(1, msg['id'] + 7, False, True, 'HatEventer.MsgInitRes',
                                 eventer_data('HatEventer.MsgInitRes', ('success', ('standby', None)))))

    fake = FakeServer(wrong_conversation)
    with pytest.raises(hat.Error) as e:
        CClient(hat, fake.port, 'c-conv')
    assert e.value.status == hat.lib.HAT_EVENT_ERR_PROTOCOL
    assert 'invalid init response' in e.value.message
    fake.join()

    def init_req_seen(conn):
        return accept_init(conn, common.Status.STANDBY)

    fake = FakeServer(init_req_seen)
    with closing_client(CClient(hat, fake.port, 'c-init', [('a', '?'), ('*',)], token='tok',
                                server_id=7, persisted=True)) as c:
        req = fake.join()
        assert req == {'clientName': 'c-init', 'clientToken': ('value', 'tok'),
                       'subscriptions': [['a', '?'], ['*']], 'serverId': ('value', 7),
                       'persisted': True}
        assert hat.lib.hat_event_client_server_status(c.ptr) == hat.lib.HAT_EVENT_SERVER_STATUS_STANDBY


def test_bad_options_are_refused(hat):
    for field, value in (('connect_timeout', 0.0), ('ping_delay', -1.0),
                         ('ping_timeout', float('nan')), ('max_frame_size', 0)):
        with pytest.raises(hat.Error) as e:
            CClient(hat, 1, 'c-opts', **{field: value})
        assert e.value.status == hat.lib.HAT_EVENT_ERR_INVALID_ARGUMENT
        assert field in e.value.message
    with pytest.raises(hat.Error) as e:
        CClient(hat, 1, 'c-opts', host='')
    assert e.value.status == hat.lib.HAT_EVENT_ERR_INVALID_ARGUMENT



def test_the_c_example_registers_queries_and_is_notified(hat, server):
    """examples-c/eventer_client against the real server (tests/run builds it
    and names it in HAT_EVENT_EXAMPLE_EVENTER)."""
    example = os.environ.get('HAT_EVENT_EXAMPLE_EVENTER')
    if not example:
        pytest.skip('HAT_EVENT_EXAMPLE_EVENTER not set (tests/run sets it)')
    out = subprocess.run([example, '127.0.0.1', str(server.port), '0.5'],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    lines = [line.split(' ', 1) for line in out.splitlines()]
    assert lines[0] == ['connected,', 'server status 2']
    registered = [json.loads(text) for word, text in lines if word == 'registered']
    latest = {tuple(e['type']): e for e in (json.loads(t) for w, t in lines if w == 'latest')}
    notified = [json.loads(text) for word, text in lines if word == 'notified']
    assert [e['type'] for e in registered] == [['example', 'counter']]
    assert registered[0]['payload'] == {'data_type': 'json', 'data': {'value': 1}}
    assert latest[('example', 'counter')] == registered[0]
    assert ('example', 'note') in latest
    assert registered[0] in notified
    assert latest[('example', 'note')] in notified


def test_a_callback_may_register_and_close_but_not_wait(hat, server):
    results = queue.Queue()

    def hook(c):
        ffi, lib = hat.ffi, hat.lib
        echo = register_event(hat, ('cb', 'echo'))  # kept alive: the array does not own it
        events = ffi.new('hat_event_register_event_t *[1]', [echo])
        out = ffi.new('hat_event_msg_t **')
        results.put(('wait', lib.hat_event_client_register_wait(c.ptr, events, 1, 1.0, out)))
        results.put(('register', lib.hat_event_client_register(c.ptr, events, 1)))
        t = time.monotonic()
        lib.hat_event_client_close(c.ptr)  # from the reader thread: returns at once
        results.put(('close', time.monotonic() - t))
        results.put(('wait_closed', lib.hat_event_client_wait_closed(c.ptr, 1.0)))

    c = CClient(hat, server.port, 'c-cb', [('cb', 'go')], on_events_hook=hook)
    with closing_client(c):
        c.register([register_event(hat, ('cb', 'go'))])
        got = dict(results.get(timeout=10) for _ in range(4))
        assert got['wait'] == hat.lib.HAT_EVENT_ERR_INVALID_ARGUMENT
        assert got['register'] == hat.lib.HAT_EVENT_OK
        assert got['close'] < 1
        assert got['wait_closed'] == hat.lib.HAT_EVENT_OK
        assert c.wait_closed(10.0) == hat.lib.HAT_EVENT_OK
        assert c.closed.empty()  # closed by the client: no closed callback
    # the event registered from the callback reached the server
    with closing_client(CClient(hat, server.port, 'c-cb-check')) as check:
        assert [json.loads(e)['type'] for e in check.query_latest([('cb', 'echo')])] == [['cb', 'echo']]


def test_a_callback_may_destroy_its_client(hat, server):
    done = threading.Event()

    def hook(c):
        hat.lib.hat_event_client_destroy(c.ptr)
        c.ptr = None
        done.set()

    c = CClient(hat, server.port, 'c-destroy', [('destroy', '*')], on_events_hook=hook)
    # The reader thread is still returning through the cffi callback when
    # done is set: keep the callback objects alive for good.
    _KEPT_ALIVE.append(c)
    c.register([register_event(hat, ('destroy', 'x'))])
    assert done.wait(10)
    assert c.ptr is None


_KEPT_ALIVE = []


def test_a_frozen_server_is_detected_by_pings(hat, server):
    with closing_client(CClient(hat, server.port, 'c-frozen', ping_delay=0.2, ping_timeout=0.3)) as c:
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            t = time.monotonic()
            assert c.wait_closed(10.0) == hat.lib.HAT_EVENT_OK
            waited = time.monotonic() - t
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        status, message = c.closed.get(timeout=5)
        assert status == hat.lib.HAT_EVENT_ERR_TIMEOUT, message
        assert 0.3 <= waited < 3, waited


def test_persisted_subscribers_are_notified_too(hat, server):
    # the memory backend reports events flushed as soon as registered
    with closing_client(CClient(hat, server.port, 'c-persisted', [('persisted', '*')],
                                persisted=True)) as c:
        registered = c.register_wait([register_event(hat, ('persisted', 'a'))])
        assert c.events.get(timeout=10) == registered
        time.sleep(0.2)
        assert c.events.empty()


def test_a_query_result_over_the_frame_limit_closes_the_client(hat, server):
    with closing_client(CClient(hat, server.port, 'c-limit', max_frame_size=300)) as c:
        c.register([register_event(hat, ('limit', str(i)), '"%s"' % ('x' * 50)) for i in range(10)])
        with pytest.raises(hat.Error) as e:
            c.query_latest([('limit', '*')])
        assert e.value.status == hat.lib.HAT_EVENT_ERR_CLOSED
        assert 'oversized frame' in e.value.message and 'limit is 300' in e.value.message
        status, message = c.closed.get(timeout=5)
        assert status == hat.lib.HAT_EVENT_ERR_PROTOCOL


def test_a_response_of_the_wrong_kind_fails_the_call_and_closes(hat):
    def script(conn):
        accept_init(conn)
        req = read_msg(conn)
        conn.sendall(chatter_msg(2, req['id'], False, True, 'HatEventer.MsgRegisterRes',
                                 eventer_data('HatEventer.MsgRegisterRes', ('failure', None))))
        drain(conn)

    fake = FakeServer(script)
    with closing_client(CClient(hat, fake.port, 'c-kind')) as c:
        with pytest.raises(hat.Error) as e:
            c.query_latest()
        assert e.value.status == hat.lib.HAT_EVENT_ERR_PROTOCOL
        assert 'answered with MsgRegisterRes' in e.value.message
        # ended by the calling thread, still reported once by the reader
        status, message = c.closed.get(timeout=5)
        assert status == hat.lib.HAT_EVENT_ERR_PROTOCOL and 'MsgRegisterRes' in message
        fake.join()
