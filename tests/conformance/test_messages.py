"""Eventer messages against hat-event: for every HatEventer.Msg* kind, the
bytes of a message built through the C API equal the oracle's
(`common.sbs_repo.encode('HatEventer.Msg...', data)`, with the data
hat-event's eventer builds), and decoding the oracle's bytes gives a
message whose getters read the same values."""

import random

from hat.event import common

from conftest import Failures
from test_data import Event, rand_event, rand_str, rand_type
from test_sbs import oracle_event, make_params, rand_params, bytes_view

STATUSES = list(common.Status)


def status_code(hat, status):
    return getattr(hat.lib, f'HAT_EVENT_SERVER_STATUS_{status.name}')


def as_register_event(e):
    return e, common.RegisterEvent(type=e.type, source_timestamp=e.source_timestamp,
                                   payload=oracle_event(e).payload)


def make_register_event(hat, e):
    from test_data import make_payload
    seg = hat.str_array(e.type)
    src = (hat.ffi.new('hat_event_timestamp_t *', tuple(e.source_timestamp))
           if e.source_timestamp is not None else hat.ffi.NULL)
    payload = make_payload(hat, e.payload)
    out = hat.ffi.new('hat_event_register_event_t **')
    hat.check(hat.lib.hat_event_register_event_create(
        seg.ptr, seg.len, src, payload.ptr if payload is not None else hat.ffi.NULL, out))
    return hat.ffi.gc(out[0], hat.lib.hat_event_register_event_destroy)


def rand_spec(rng, k):
    """A random message of kind number `k` (0-8) as plain data: (kind name,
    fields...)."""
    if k == 0:
        return ('MsgInitReq', rand_str(rng), rand_str(rng) if rng.random() < 0.5 else None,
                [rand_type(rng) for _ in range(rng.randrange(3))],
                rng.randint(-2**63, 2**63 - 1) if rng.random() < 0.5 else None, rng.random() < 0.5)
    if k == 1:
        if rng.random() < 0.5:
            return ('MsgInitRes', 'success', rng.choice(STATUSES))
        return ('MsgInitRes', 'error', rand_str(rng))
    if k == 2:
        return ('MsgStatusNotify', rng.choice(STATUSES))
    if k == 3:
        return ('MsgEventsNotify', [rand_event(rng) for _ in range(rng.randrange(4))])
    if k == 4:
        return ('MsgEventsAck',)
    if k == 5:
        return ('MsgRegisterReq', [rand_event(rng) for _ in range(rng.randrange(4))])
    if k == 6:
        events = [rand_event(rng) for _ in range(rng.randrange(4))]
        return ('MsgRegisterRes', events if rng.random() < 0.8 else None)
    if k == 7:
        return ('MsgQueryReq', rand_params(rng))
    return ('MsgQueryRes', [rand_event(rng) for _ in range(rng.randrange(3))], rng.random() < 0.5)


def build(hat, spec):
    """(kind name, oracle sbs data, our message handle) of a rand_spec."""
    lib, ffi = hat.lib, hat.ffi
    out = ffi.new('hat_event_msg_t **')
    kind = spec[0]
    keep = []
    if kind == 'MsgInitReq':
        _, name, token, subs, server_id, persisted = spec
        data = {'clientName': name, 'clientToken': ('value', token) if token is not None else ('none', None),
                'subscriptions': [list(s) for s in subs],
                'serverId': ('value', server_id) if server_id is not None else ('none', None),
                'persisted': persisted}
        name_view, k1 = hat.str_view(name)
        token_ptr = ffi.NULL
        if token is not None:
            tv, k2 = hat.str_view(token)
            token_ptr = ffi.new('hat_event_str_t *', tv)
            keep += [k2]
        arrays = [hat.str_array(s) for s in subs]
        views = ffi.new('hat_event_event_type_view_t[]', max(1, len(arrays)))
        for i, a in enumerate(arrays):
            views[i].segments, views[i].len = a.ptr, a.len
        sid = ffi.new('int64_t *', server_id) if server_id is not None else ffi.NULL
        keep += [k1, arrays]
        hat.check(lib.hat_event_msg_create_init_req(name_view, token_ptr, views, len(arrays), sid, persisted, out))
    elif kind == 'MsgInitRes':
        if spec[1] == 'success':
            s = spec[2]
            data = ('success', common.status_to_sbs(s))
            hat.check(lib.hat_event_msg_create_init_res_success(status_code(hat, s), out))
        else:
            data = ('error', spec[2])
            view, k1 = hat.str_view(spec[2])
            keep.append(k1)
            hat.check(lib.hat_event_msg_create_init_res_error(view, out))
    elif kind == 'MsgStatusNotify':
        data = common.status_to_sbs(spec[1])
        hat.check(lib.hat_event_msg_create_status_notify(status_code(hat, spec[1]), out))
    elif kind in ('MsgEventsNotify', 'MsgRegisterRes') and spec[1] is not None:
        events = spec[1]
        handles = [Event(hat, e) for e in events]
        ptrs = ffi.new('hat_event_event_t *[]', [h.ptr for h in handles] or [ffi.NULL])
        sbs_events = [common.event_to_sbs(oracle_event(e)) for e in events]
        if kind == 'MsgEventsNotify':
            data = sbs_events
            hat.check(lib.hat_event_msg_create_events_notify(ptrs, len(handles), out))
        else:
            data = ('events', sbs_events)
            hat.check(lib.hat_event_msg_create_register_res_events(ptrs, len(handles), out))
        keep.append(handles)
    elif kind == 'MsgRegisterRes':
        data = ('failure', None)
        hat.check(lib.hat_event_msg_create_register_res_failure(out))
    elif kind == 'MsgEventsAck':
        data = None
        hat.check(lib.hat_event_msg_create_events_ack(out))
    elif kind == 'MsgRegisterReq':
        pairs = [as_register_event(e) for e in spec[1]]
        handles = [make_register_event(hat, e) for e, _ in pairs]
        ptrs = ffi.new('hat_event_register_event_t *[]', handles or [ffi.NULL])
        data = [common.register_event_to_sbs(r) for _, r in pairs]
        hat.check(lib.hat_event_msg_create_register_req(ptrs, len(handles), out))
        keep.append(handles)
    elif kind == 'MsgQueryReq':
        data = common.query_params_to_sbs(spec[1])
        hat.check(lib.hat_event_msg_create_query_req(make_params(hat, spec[1]), out))
    elif kind == 'MsgQueryRes':
        _, events, more = spec
        data = common.query_result_to_sbs(common.QueryResult([oracle_event(e) for e in events], more))
        r = ffi.new('hat_event_query_result_t **')
        hat.check(lib.hat_event_query_result_create(more, r))
        r = ffi.gc(r[0], lib.hat_event_query_result_destroy)
        for e in events:
            hat.check(lib.hat_event_query_result_append(r, Event(hat, e).ptr))
        hat.check(lib.hat_event_msg_create_query_res(r, out))
    else:
        raise ValueError(f'unknown message kind {kind!r}')
    return kind, data, ffi.gc(out[0], lib.hat_event_msg_destroy)


def encode(hat, msg):
    out = hat.ffi.new('hat_event_buffer_t **')
    hat.check(hat.lib.hat_event_msg_encode(msg, out))
    buf = hat.ffi.gc(out[0], hat.lib.hat_event_buffer_destroy)
    return bytes(hat.ffi.buffer(hat.lib.hat_event_buffer_data(buf), hat.lib.hat_event_buffer_len(buf)))


MSG_CODES = {'MsgInitReq': 'INIT_REQ', 'MsgInitRes': 'INIT_RES', 'MsgStatusNotify': 'STATUS_NOTIFY',
             'MsgEventsNotify': 'EVENTS_NOTIFY', 'MsgEventsAck': 'EVENTS_ACK', 'MsgRegisterReq': 'REGISTER_REQ',
             'MsgRegisterRes': 'REGISTER_RES', 'MsgQueryReq': 'QUERY_REQ', 'MsgQueryRes': 'QUERY_RES'}


def check_message(hat, spec):
    lib, ffi = hat.lib, hat.ffi
    kind, data, msg = build(hat, spec)
    code = getattr(lib, 'HAT_EVENT_MSG_' + MSG_CODES[kind])
    if lib.hat_event_msg_get_kind(msg) != code:
        return f'{kind}: kind code {lib.hat_event_msg_get_kind(msg)}, expected {code}'
    if ffi.string(lib.hat_event_msg_kind_name(code)).decode() != f'HatEventer.{kind}':
        return f'{kind}: kind name {ffi.string(lib.hat_event_msg_kind_name(code))!r}'
    theirs = common.sbs_repo.encode(f'HatEventer.{kind}', data)
    ours = encode(hat, msg)
    if ours != theirs:
        return f'{kind}: ours {ours.hex()[:160]}, oracle {theirs.hex()[:160]}'
    view, keep = bytes_view(hat, theirs)
    out = ffi.new('hat_event_msg_t **')
    st = lib.hat_event_msg_decode(code, view, out)
    if st != lib.HAT_EVENT_OK:
        return f'{kind}: decode {theirs.hex()[:160]}: {hat.status_name(st)}'
    back = ffi.gc(out[0], lib.hat_event_msg_destroy)
    if encode(hat, back) != theirs:
        return f'{kind}: decode then encode changed the bytes'
    return None


def test_messages_match_the_oracle_both_ways(hat, seed, cases, counter):
    # each of the 9 kinds gets `cases` cases
    rng = random.Random(f'{seed}/messages')
    fails = Failures('eventer messages')
    for i in range(9 * cases):
        spec = rand_spec(rng, i % 9)
        if fails.run(spec, lambda case: check_message(hat, case)):
            counter.add(f'message {spec[0]}')
    fails.check()


def test_getters_read_a_decoded_init_req(hat):
    data = common.sbs_repo.encode('HatEventer.MsgInitReq', {
        'clientName': 'client', 'clientToken': ('value', 'tok'), 'subscriptions': [['a', '*'], []],
        'serverId': ('value', -7), 'persisted': True})
    view, keep = bytes_view(hat, data)
    out = hat.ffi.new('hat_event_msg_t **')
    hat.check(hat.lib.hat_event_msg_decode(hat.lib.HAT_EVENT_MSG_INIT_REQ, view, out))
    msg = hat.ffi.gc(out[0], hat.lib.hat_event_msg_destroy)
    lib = hat.lib
    assert hat.read_str(lib.hat_event_msg_init_req_client_name(msg)) == 'client'
    token = hat.ffi.new('hat_event_str_t *')
    assert lib.hat_event_msg_init_req_client_token(msg, token) and hat.read_str(token[0]) == 'tok'
    assert lib.hat_event_msg_init_req_subscriptions_len(msg) == 2
    assert hat.event_type_segments(lib.hat_event_msg_init_req_subscription(msg, 0)) == ('a', '*')
    assert hat.event_type_segments(lib.hat_event_msg_init_req_subscription(msg, 1)) == ()
    sid = hat.ffi.new('int64_t *')
    assert lib.hat_event_msg_init_req_server_id(msg, sid) and sid[0] == -7
    assert lib.hat_event_msg_init_req_persisted(msg)
    # other kinds' getters read as none
    assert lib.hat_event_msg_events_len(msg) == 0 and not lib.hat_event_msg_server_status(msg, hat.ffi.NULL)
