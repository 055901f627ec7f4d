"""SBS bytes against hat-event: what we encode through the C ABI must be
the oracle's bytes (`common.sbs_repo.encode('HatEventer.<T>', ...)`), and
what we decode from the oracle's bytes must be the oracle's value. Mutated
encodings check the decoders: whenever ours accepts bytes, the oracle
accepts them too and means the same value."""

import json
import random

import pytest

from hat.event import common

from conftest import Failures
from test_data import Event, make_payload, rand_event, read_event, expected_readback, same_readback, rand_ts, rand_type


def oracle_event(ev):
    """The oracle Event of a test_data event (whose JSON payload is text)."""
    if isinstance(ev.payload, str):
        return ev._replace(payload=common.EventPayloadJson(json.loads(ev.payload)))
    return ev


def buffer_bytes(hat, out):
    buf = hat.ffi.gc(out[0], hat.lib.hat_event_buffer_destroy)
    return bytes(hat.ffi.buffer(hat.lib.hat_event_buffer_data(buf), hat.lib.hat_event_buffer_len(buf)))


def encode(hat, fn, handle):
    out = hat.ffi.new('hat_event_buffer_t **')
    hat.check(fn(handle, out))
    return buffer_bytes(hat, out)


def bytes_view(hat, data):
    keep = hat.ffi.from_buffer(data)
    v = hat.ffi.new('hat_event_bytes_t *')
    v.ptr = keep
    v.len = len(data)
    return v[0], keep


def decode(hat, fn, ctype, destroy, data):
    """(status, handle or None)."""
    view, keep = bytes_view(hat, data)
    out = hat.ffi.new(f'{ctype} **')
    st = fn(view, out)
    return st, (hat.ffi.gc(out[0], destroy) if st == hat.lib.HAT_EVENT_OK else None)


def decode_event(hat, data):
    return decode(hat, hat.lib.hat_event_event_decode, 'hat_event_event_t', hat.lib.hat_event_event_destroy, data)


def check_event(hat, ev):
    theirs = common.sbs_repo.encode('HatEventer.Event', common.event_to_sbs(oracle_event(ev)))
    ours = encode(hat, hat.lib.hat_event_event_encode, Event(hat, ev).ptr)
    if ours != theirs:
        return f'encode {ev!r:.300}: ours {ours.hex()[:200]}, oracle {theirs.hex()[:200]}'
    st, h = decode_event(hat, theirs)
    if st != hat.lib.HAT_EVENT_OK or not same_readback(read_event(hat, h), expected_readback(ev)):
        return f'decode {theirs.hex()[:200]}: {hat.status_name(st)}'
    return None


def test_event_bytes_match_the_oracle(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/sbs_event')
    fails = Failures('SBS Event')
    for _ in range(cases):
        fails.run(rand_event(rng), lambda case: check_event(hat, case))
        counter.add('SBS Event encode+decode')
    fails.check()


def test_decode_prefix_reports_the_length_and_exact_decode_refuses_trailing_bytes(hat):
    ev = common.Event(id=common.EventId(1, 2, 3), type=('a', 'b'), timestamp=common.Timestamp(5, 6),
                      source_timestamp=None, payload=None)
    data = common.sbs_repo.encode('HatEventer.Event', common.event_to_sbs(ev))
    # the oracle ignores trailing bytes; we report them (SPEC 8, Differs)
    assert common.event_from_sbs(common.sbs_repo.decode('HatEventer.Event', data + b'\x00')) == ev
    st, _ = decode_event(hat, data + b'\x00')
    assert st == hat.lib.HAT_EVENT_ERR_DECODE
    assert 'trailing' in hat.ffi.string(hat.lib.hat_event_last_error_message()).decode()
    view, keep = bytes_view(hat, data + b'junk')
    out = hat.ffi.new('hat_event_event_t **')
    consumed = hat.ffi.new('size_t *')
    hat.check(hat.lib.hat_event_event_decode_prefix(view, out, consumed))
    hat.lib.hat_event_event_destroy(out[0])
    assert consumed[0] == len(data)


def rand_params(rng):
    kind = rng.randrange(3)
    types = [rand_type(rng) for _ in range(rng.randrange(3))] if rng.random() < 0.6 else None
    opt_ts = lambda: common.Timestamp(*rand_ts(rng)) if rng.random() < 0.5 else None  # noqa: E731
    opt_id = lambda: common.EventId(*(rng.randint(-2**63, 2**63 - 1) for _ in range(3))) if rng.random() < 0.5 else None  # noqa: E731
    opt_max = lambda: rng.choice([0, 1, 10, -5, 2**63 - 1]) if rng.random() < 0.5 else None  # noqa: E731
    if kind == 0:
        return common.QueryLatestParams(event_types=types)
    if kind == 1:
        return common.QueryTimeseriesParams(
            event_types=types, t_from=opt_ts(), t_to=opt_ts(), source_t_from=opt_ts(), source_t_to=opt_ts(),
            order=rng.choice(list(common.Order)), order_by=rng.choice(list(common.OrderBy)),
            max_results=opt_max(), last_event_id=opt_id())
    return common.QueryServerParams(server_id=rng.randint(-2**63, 2**63 - 1), persisted=rng.random() < 0.5,
                                    max_results=opt_max(), last_event_id=opt_id())


def make_params(hat, p):
    lib, ffi = hat.lib, hat.ffi
    out = ffi.new('hat_event_query_params_t **')
    if isinstance(p, common.QueryLatestParams):
        hat.check(lib.hat_event_query_params_create_latest(out))
    elif isinstance(p, common.QueryTimeseriesParams):
        hat.check(lib.hat_event_query_params_create_timeseries(out))
    else:
        hat.check(lib.hat_event_query_params_create_server(p.server_id, out))
    h = ffi.gc(out[0], lib.hat_event_query_params_destroy)
    if not isinstance(p, common.QueryServerParams) and p.event_types is not None:
        arrays = [hat.str_array(t) for t in p.event_types]
        views = ffi.new('hat_event_event_type_view_t[]', max(1, len(arrays)))
        for i, a in enumerate(arrays):
            views[i].segments = a.ptr
            views[i].len = a.len
        hat.check(lib.hat_event_query_params_set_event_types(h, views, len(arrays)))
    if isinstance(p, common.QueryTimeseriesParams):
        for name in ('t_from', 't_to', 'source_t_from', 'source_t_to'):
            t = getattr(p, name)
            ptr = ffi.new('hat_event_timestamp_t *', tuple(t)) if t is not None else ffi.NULL
            hat.check(getattr(lib, f'hat_event_query_params_set_{name}')(h, ptr))
        hat.check(lib.hat_event_query_params_set_order(
            h, lib.HAT_EVENT_ORDER_ASCENDING if p.order == common.Order.ASCENDING else lib.HAT_EVENT_ORDER_DESCENDING))
        hat.check(lib.hat_event_query_params_set_order_by(
            h, lib.HAT_EVENT_ORDER_BY_SOURCE_TIMESTAMP if p.order_by == common.OrderBy.SOURCE_TIMESTAMP
            else lib.HAT_EVENT_ORDER_BY_TIMESTAMP))
    if isinstance(p, common.QueryServerParams):
        hat.check(lib.hat_event_query_params_set_persisted(h, p.persisted))
    if not isinstance(p, common.QueryLatestParams):
        mr = ffi.new('int64_t *', p.max_results) if p.max_results is not None else ffi.NULL
        hat.check(lib.hat_event_query_params_set_max_results(h, mr))
        lid = ffi.new('hat_event_event_id_t *', tuple(p.last_event_id)) if p.last_event_id is not None else ffi.NULL
        hat.check(lib.hat_event_query_params_set_last_event_id(h, lid))
    return h


def both_ways(hat, value, theirs, handle, kind):
    """Our encoding of `handle` must be the oracle's bytes `theirs`, and
    decoding them must give a handle equal to it (`hat_event_<kind>_*`)."""
    lib = hat.lib
    ours = encode(hat, getattr(lib, f'hat_event_{kind}_encode'), handle)
    if ours != theirs:
        return f'encode {value!r:.300}: ours {ours.hex()[:160]}, oracle {theirs.hex()[:160]}'
    st, back = decode(hat, getattr(lib, f'hat_event_{kind}_decode'), f'hat_event_{kind}_t',
                      getattr(lib, f'hat_event_{kind}_destroy'), theirs)
    if st != lib.HAT_EVENT_OK or not getattr(lib, f'hat_event_{kind}_equal')(back, handle):
        return f'decode {value!r:.300}: {hat.status_name(st)}'
    return None


def check_params(hat, p):
    theirs = common.sbs_repo.encode('HatEventer.QueryParams', common.query_params_to_sbs(p))
    return both_ways(hat, p, theirs, make_params(hat, p), 'query_params')


def test_query_params_bytes_match_the_oracle(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/sbs_params')
    fails = Failures('SBS QueryParams')
    for _ in range(cases):
        fails.run(rand_params(rng), lambda case: check_params(hat, case))
        counter.add('SBS QueryParams encode+decode')
    fails.check()


def check_result(hat, case):
    events, more = case
    lib, ffi = hat.lib, hat.ffi
    theirs = common.sbs_repo.encode('HatEventer.QueryResult', common.query_result_to_sbs(
        common.QueryResult(events=[oracle_event(e) for e in events], more_follows=more)))
    out = ffi.new('hat_event_query_result_t **')
    hat.check(lib.hat_event_query_result_create(more, out))
    r = ffi.gc(out[0], lib.hat_event_query_result_destroy)
    for e in events:
        hat.check(lib.hat_event_query_result_append(r, Event(hat, e).ptr))
    return both_ways(hat, events, theirs, r, 'query_result')


def test_query_result_bytes_match_the_oracle(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/sbs_result')
    fails = Failures('SBS QueryResult')
    for _ in range(cases):
        case = ([rand_event(rng) for _ in range(rng.randrange(5))], rng.random() < 0.5)
        fails.run(case, lambda c: check_result(hat, c))
        counter.add('SBS QueryResult encode+decode')
    fails.check()


def check_mutant(hat, data, stats=None):
    """Whenever ours decodes the bytes, the oracle decodes them to the same
    value; when ours refuses, the status is DECODE or INVALID_JSON with a
    message."""
    st, h = decode_event(hat, data)
    if st != hat.lib.HAT_EVENT_OK:
        if st not in (hat.lib.HAT_EVENT_ERR_DECODE, hat.lib.HAT_EVENT_ERR_INVALID_JSON):
            return f'{data.hex()[:200]}: refused with {hat.status_name(st)}'
        if not hat.ffi.string(hat.lib.hat_event_last_error_message()):
            return f'{data.hex()[:200]}: refused without a message'
        return None
    if stats is not None:
        stats['accepted'] += 1
    try:
        theirs = common.event_from_sbs(common.sbs_repo.decode('HatEventer.Event', data))
    except Exception as e:
        return f'{data.hex()[:200]}: ours accepted, oracle raised {e!r:.100}'
    try:
        theirs_again = common.sbs_repo.encode('HatEventer.Event', common.event_to_sbs(theirs))
    except ValueError as e:
        # e.g. a mutated number beyond a double: Python reads it as inf and
        # cannot write it back; we must refuse to write it too.
        try:
            encode(hat, hat.lib.hat_event_event_encode, h)
        except hat.Error as ours_e:
            if ours_e.status == hat.lib.HAT_EVENT_ERR_INVALID_JSON:
                return None
            return f'{data.hex()[:200]}: oracle cannot re-encode ({e}), ours fails with {ours_e}'
        return f'{data.hex()[:200]}: oracle cannot re-encode ({e}), ours can'
    ours = encode(hat, hat.lib.hat_event_event_encode, h)
    if ours != theirs_again:
        return f'{data.hex()[:200]}: ours and the oracle read different values'
    return None


def test_mutated_bytes_decode_only_as_the_oracle_reads_them(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/sbs_mutate')
    fails = Failures('SBS mutated Event')
    stats = {'accepted': 0}
    for _ in range(cases):
        ev = oracle_event(rand_event(rng))
        data = bytearray(common.sbs_repo.encode('HatEventer.Event', common.event_to_sbs(ev)))
        for _ in range(rng.randint(1, 3)):
            r = rng.random()
            if r < 0.4 and data:
                data[rng.randrange(len(data))] = rng.randrange(256)
            elif r < 0.7 and data:
                del data[rng.randrange(len(data)):]
            else:
                data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
        data = bytes(data)
        msg = check_mutant(hat, data, stats)
        if msg is not None:
            fails.found(data, msg, lambda d: check_mutant(hat, d))
        counter.add('SBS mutated Event decode')
    counter.note(f'SBS mutated Event: {stats["accepted"]} of {cases} mutants decoded '
                 f'(and agreed with the oracle)')
    fails.check()
