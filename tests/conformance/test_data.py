"""Events and payloads: values built through the C API read back equal,
the natural order vs hat-event 0.9.44's Event.__lt__/__gt__, and JSON
payload text vs Python's json.loads (which hat.json.decode uses)."""

import json
import math
import random
import re
import struct

import pytest

from hat.event import common

from conftest import Failures


I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1


# --- C-side builders and readers ---------------------------------------------

class Payload:
    """An owned hat_event_payload_t handle (destroyed with the object)."""

    def __init__(self, hat, ptr):
        self.hat = hat
        self.ptr = hat.ffi.gc(ptr, hat.lib.hat_event_payload_destroy)


def make_json_payload(hat, text):
    """(status, Payload or None)."""
    view, keep = hat.str_view(text)
    out = hat.ffi.new('hat_event_payload_t **')
    st = hat.lib.hat_event_payload_create_json(view, out)
    return st, (Payload(hat, out[0]) if st == hat.lib.HAT_EVENT_OK else None)


def make_binary_payload(hat, type_, data):
    view, keep = hat.str_view(type_)
    buf = hat.ffi.from_buffer(data)
    b = hat.ffi.new('hat_event_bytes_t *')
    b.ptr = buf
    b.len = len(data)
    out = hat.ffi.new('hat_event_payload_t **')
    hat.check(hat.lib.hat_event_payload_create_binary(view, b[0], out))
    return Payload(hat, out[0])


def make_payload(hat, p):
    """Payload handle of an oracle EventPayload (JSON given as its text in
    `p.data` when p is ('json', text)) or None."""
    if p is None:
        return None
    if isinstance(p, common.EventPayloadBinary):
        return make_binary_payload(hat, p.type, p.data)
    st, h = make_json_payload(hat, p)
    hat.check(st)
    return h


def json_text(hat, payload_ptr):
    out = hat.ffi.new('hat_event_buffer_t **')
    hat.check(hat.lib.hat_event_payload_json_text(payload_ptr, out))
    try:
        n = hat.lib.hat_event_buffer_len(out[0])
        data = hat.lib.hat_event_buffer_data(out[0])
        text = hat.ffi.unpack(hat.ffi.cast('char *', data), n)
        assert data[n] == 0                  # documented trailing NUL
        return text.decode('utf-8')
    finally:
        hat.lib.hat_event_buffer_destroy(out[0])


def read_payload(hat, ptr):
    """An oracle-comparable value of a payload handle: None, ('binary',
    type, bytes) or ('json', loaded value)."""
    lib, ffi = hat.lib, hat.ffi
    if ptr == ffi.NULL:
        return None
    kind = lib.hat_event_payload_get_kind(ptr)
    if kind == lib.HAT_EVENT_PAYLOAD_BINARY:
        t = hat.read_str(lib.hat_event_payload_binary_type(ptr))
        d = lib.hat_event_payload_binary_data(ptr)
        data = bytes(ffi.buffer(d.ptr, d.len)) if d.len else b''
        return ('binary', t, data)
    assert kind == lib.HAT_EVENT_PAYLOAD_JSON, kind
    return ('json', json.loads(json_text(hat, ptr)))


class Event:
    """An owned hat_event_event_t made from an oracle Event whose JSON
    payload data is given as JSON text."""

    def __init__(self, hat, ev):
        lib, ffi = hat.lib, hat.ffi
        seg = hat.str_array(ev.type)
        eid = ffi.new('hat_event_event_id_t *', tuple(ev.id))
        src = (ffi.new('hat_event_timestamp_t *', tuple(ev.source_timestamp))
               if ev.source_timestamp is not None else ffi.NULL)
        payload = make_payload(hat, ev.payload)
        out = ffi.new('hat_event_event_t **')
        hat.check(lib.hat_event_event_create(
            eid[0], seg.ptr, seg.len, hat.ts(*ev.timestamp), src,
            payload.ptr if payload is not None else ffi.NULL, out))
        self.ptr = ffi.gc(out[0], lib.hat_event_event_destroy)


def read_event(hat, ptr):
    lib, ffi = hat.lib, hat.ffi
    eid = lib.hat_event_event_get_id(ptr)
    st = ffi.new('hat_event_timestamp_t *')
    has_src = lib.hat_event_event_source_timestamp(ptr, st)
    return (
        (eid.server, eid.session, eid.instance),
        hat.event_type_segments(lib.hat_event_event_get_type(ptr)),
        hat.ts_tuple(lib.hat_event_event_timestamp(ptr)),
        (st.s, st.us) if has_src else None,
        read_payload(hat, lib.hat_event_event_payload(ptr)))


_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"')


# --- strict JSON value equality ------------------------------------------------

def json_same(a, b):
    """Equal as JSON data, with types (int/float/bool) kept apart, float
    signs compared and member order significant."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(json_same, a, b))
    if isinstance(a, dict):
        return (list(a) == list(b) and
                all(json_same(a[k], b[k]) for k in a))
    return a == b


# --- random data ---------------------------------------------------------------

STR_CHARS = ('a', 'b', 'Z', ' ', '"', '\\', '/', '\n', '\t', '\r', '\b', '\f',
             '\x00', '\x1f', '\x7f', 'é', '日', '\u2028', '\u2029', '\uFEFF',
             '\uFFFF', '\U0001F600', '\U0001D538', '\U0010FFFF', '\u0301')


def rand_str(rng, max_len=8):
    return ''.join(rng.choice(STR_CHARS) for _ in range(rng.randint(0, max_len)))


def rand_float(rng):
    r = rng.random()
    if r < 0.3:
        while True:
            x = struct.unpack('<d', rng.getrandbits(64).to_bytes(8, 'little'))[0]
            if math.isfinite(x):
                return x
    if r < 0.5:
        return rng.uniform(-1e6, 1e6)
    if r < 0.7:
        return float(rng.randint(-10 ** 6, 10 ** 6))
    return rng.choice((0.0, -0.0, 0.1, 1e-5, 1e16, 1e22, 1e23, -1.5, 5e-324,
                       2.2250738585072014e-308, 1.7976931348623157e308,
                       9007199254740993.0, 0.30000000000000004, 123456789.125))


def rand_int(rng):
    r = rng.random()
    if r < 0.5:
        return rng.randint(-1000, 1000)
    if r < 0.8:
        return rng.randint(I64_MIN, I64_MAX)
    return rng.choice((-1, 1)) * rng.randint(0, 10 ** rng.randint(19, 60))


def rand_json(rng, depth=0):
    r = rng.random()
    if depth < 5 and r < 0.3:
        if rng.random() < 0.5:
            return [rand_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return {rand_str(rng, 4): rand_json(rng, depth + 1)
                for _ in range(rng.randint(0, 4))}
    r = rng.random()
    if r < 0.2:
        return rand_int(rng)
    if r < 0.45:
        return rand_float(rng)
    if r < 0.75:
        return rand_str(rng)
    return rng.choice((None, True, False))


def dump_json(rng, value):
    """JSON text of `value` in one of several layouts."""
    return json.dumps(value,
                      ensure_ascii=rng.random() < 0.5,
                      indent=rng.choice((None, None, 0, 2, '\t')),
                      separators=rng.choice((None, (',', ':'), (' ,', ' : '))))


def rand_ts(rng, small=False):
    if small:
        return (rng.randint(0, 1), rng.randint(0, 1))
    r = rng.random()
    s = rng.randint(I64_MIN, I64_MAX) if r < 0.3 else rng.randint(-10 ** 10, 10 ** 10)
    return (s, rng.randint(0, 999_999))


def rand_type(rng):
    return tuple(rand_str(rng, 5) if rng.random() < 0.7 else rng.choice(('a', '?', '*', ''))
                 for _ in range(rng.randint(0, 6)))


def rand_event(rng):
    r = rng.random()
    if r < 0.4:
        payload = None
    elif r < 0.7:
        payload = common.EventPayloadBinary(
            type=rand_str(rng),
            data=rng.randbytes(rng.choice((0, 1, 3, 16, 300))))
    else:
        payload = dump_json(rng, rand_json(rng))
    return common.Event(
        id=common.EventId(*(rng.randint(I64_MIN, I64_MAX) if rng.random() < 0.5
                            else rng.randint(-3, 3) for _ in range(3))),
        type=rand_type(rng),
        timestamp=common.Timestamp(*rand_ts(rng)),
        source_timestamp=(common.Timestamp(*rand_ts(rng))
                          if rng.random() < 0.5 else None),
        payload=payload)


def expected_readback(ev):
    if ev.payload is None:
        p = None
    elif isinstance(ev.payload, common.EventPayloadBinary):
        p = ('binary', ev.payload.type, bytes(ev.payload.data))
    else:
        p = ('json', json.loads(ev.payload))
    return (tuple(ev.id), tuple(ev.type), tuple(ev.timestamp),
            tuple(ev.source_timestamp) if ev.source_timestamp else None, p)


def same_readback(a, b):
    return a[:4] == b[:4] and (
        a[4] == b[4] if a[4] is None or a[4][0] == 'binary'
        else b[4] is not None and b[4][0] == 'json' and json_same(a[4][1], b[4][1]))


# --- tests -------------------------------------------------------------------

def check_event_readback(hat, ev):
    lib = hat.lib
    h = Event(hat, ev)
    exp = expected_readback(ev)
    got = read_event(hat, h.ptr)
    if not same_readback(got, exp):
        return f'event {ev!r:.400}: read back {got!r:.400}'
    out = hat.ffi.new('hat_event_event_t **')
    hat.check(lib.hat_event_event_clone(h.ptr, out))
    clone = hat.ffi.gc(out[0], lib.hat_event_event_destroy)
    again = Event(hat, ev)
    if not (lib.hat_event_event_equal(h.ptr, clone) and
            lib.hat_event_event_equal(h.ptr, again.ptr) and
            lib.hat_event_event_compare(h.ptr, again.ptr) == 0 and
            same_readback(read_event(hat, clone), exp)):
        return f'event {ev!r:.400}: clone / re-creation not equal'
    # a changed field makes it unequal
    other = ev._replace(id=ev.id._replace(instance=ev.id.instance ^ 1))
    if lib.hat_event_event_equal(h.ptr, Event(hat, other).ptr):
        return f'event {ev!r:.400}: equal to one with another id'
    return None


def test_event_readback_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/event_readback')
    fails = Failures('event readback')
    for _ in range(cases):
        fails.run(rand_event(rng), lambda case: check_event_readback(hat, case))
    counter.add('event create/read back', cases)
    fails.check()


def check_register_event_readback(hat, ev):
    lib, ffi = hat.lib, hat.ffi
    seg = hat.str_array(ev.type)
    src = (ffi.new('hat_event_timestamp_t *', tuple(ev.source_timestamp))
           if ev.source_timestamp is not None else ffi.NULL)
    payload = make_payload(hat, ev.payload)
    out = ffi.new('hat_event_register_event_t **')
    hat.check(lib.hat_event_register_event_create(
        seg.ptr, seg.len, src,
        payload.ptr if payload is not None else ffi.NULL, out))
    h = ffi.gc(out[0], lib.hat_event_register_event_destroy)
    st = ffi.new('hat_event_timestamp_t *')
    has_src = lib.hat_event_register_event_source_timestamp(h, st)
    got = ((0, 0, 0),
           hat.event_type_segments(lib.hat_event_register_event_type(h)),
           tuple(ev.timestamp),
           (st.s, st.us) if has_src else None,
           read_payload(hat, lib.hat_event_register_event_payload(h)))
    exp = expected_readback(ev._replace(id=common.EventId(0, 0, 0)))
    if not same_readback(got, exp):
        return f'register event {ev!r:.400}: read back {got!r:.400}'
    return None


def test_register_event_readback_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/register_event_readback')
    fails = Failures('register event readback')
    for _ in range(cases):
        fails.run(rand_event(rng), lambda case: check_register_event_readback(hat, case))
    counter.add('register event create/read back', cases)
    fails.check()


def test_event_create_errors(hat):
    lib, ffi = hat.lib, hat.ffi
    seg = hat.str_array(('a',))
    eid = ffi.new('hat_event_event_id_t *')[0]
    out = ffi.new('hat_event_event_t **')
    assert lib.hat_event_event_create(eid, seg.ptr, 1, hat.ts(0, 1_000_000),
                                      ffi.NULL, ffi.NULL, out) \
        == lib.HAT_EVENT_ERR_OUT_OF_RANGE
    src = ffi.new('hat_event_timestamp_t *', (0, 1_000_000))
    assert lib.hat_event_event_create(eid, seg.ptr, 1, hat.ts(0, 0),
                                      src, ffi.NULL, out) \
        == lib.HAT_EVENT_ERR_OUT_OF_RANGE
    bad = hat.str_array((b'\xff',))
    assert lib.hat_event_event_create(eid, bad.ptr, 1, hat.ts(0, 0),
                                      ffi.NULL, ffi.NULL, out) \
        == lib.HAT_EVENT_ERR_INVALID_UTF8
    assert lib.hat_event_event_create(eid, seg.ptr, 1, hat.ts(0, 0),
                                      ffi.NULL, ffi.NULL, ffi.NULL) \
        == lib.HAT_EVENT_ERR_NULL_ARGUMENT


# natural order

def _small_event(rng):
    return common.Event(
        id=common.EventId(rng.randint(0, 2), rng.randint(0, 1), rng.randint(0, 2)),
        type=('a',),
        timestamp=common.Timestamp(*rand_ts(rng, small=True)),
        source_timestamp=None,
        payload=None)


def check_natural_order(hat, case, handles=None):
    a, b = case
    lib = hat.lib
    ha, hb = handles or (Event(hat, a), Event(hat, b))
    o_lt, o_gt, o_eq = a < b, a > b, a == b
    lt = lib.hat_event_event_natural_lt(ha.ptr, hb.ptr)
    gt = lib.hat_event_event_natural_gt(ha.ptr, hb.ptr)
    eq = lib.hat_event_event_equal(ha.ptr, hb.ptr)
    cmp = lib.hat_event_event_compare(ha.ptr, hb.ptr)
    ka = (tuple(a.timestamp), tuple(a.id))
    kb = (tuple(b.timestamp), tuple(b.id))
    o_cmp = (ka > kb) - (ka < kb)
    if (lt, gt, eq) != (o_lt, o_gt, o_eq):
        return (f'{tuple(a)[:3]} vs {tuple(b)[:3]}: oracle lt/gt/eq '
                f'{o_lt}/{o_gt}/{o_eq}, ours {lt}/{gt}/{eq}')
    if (cmp > 0) - (cmp < 0) != o_cmp:
        return (f'compare {tuple(a)[:3]} vs {tuple(b)[:3]}: expected '
                f'{o_cmp} (timestamp, server, session, instance), ours {cmp}')
    return None


def test_natural_order_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/natural_order')
    lib = hat.lib
    fails = Failures('event natural order')
    pool = [_small_event(rng) for _ in range(300)]
    handles = [Event(hat, ev) for ev in pool]
    outcomes = {}
    for _ in range(cases):
        i = rng.randrange(len(pool))
        j = i if rng.random() < 0.05 else rng.randrange(len(pool))
        a, b = pool[i], pool[j]
        outcomes[(a < b, a > b)] = outcomes.get((a < b, a > b), 0) + 1
        msg = check_natural_order(hat, (a, b), (handles[i], handles[j]))
        if msg is not None:
            fails.found((a, b), msg, lambda case: check_natural_order(hat, case))
    counter.add('event natural order (lt/gt/equal/compare)', cases)
    counter.note('event natural order: oracle (lt, gt) outcomes '
                 + ', '.join(f'{k}: {v}' for k, v in sorted(outcomes.items())))
    fails.check()
    # every (lt, gt) outcome the reference can give occurred: same id
    # (neither), and each direction ((True, True) is impossible; a timestamp
    # tie across servers gives lt: the first operand was registered first)
    assert {(False, False), (True, False), (False, True)} <= set(outcomes)
    null = hat.ffi.NULL
    assert not lib.hat_event_event_natural_lt(handles[0].ptr, null)
    assert not lib.hat_event_event_natural_gt(null, handles[0].ptr)


# JSON payloads

NUMBER_TEXTS = ['0', '-0', '1', '-1', '1.0', '1.00', '-0.0', '0.0', '1e5', '1E5',
                '1e+5', '1E-5', '1e-05', '2.5e-3', '123456789012345678901234567890',
                '-123456789012345678901234567890', '1e400', '-1e400', '1e-400',
                '9007199254740993', '0.1', '5e-324', '2e-324', '1.7976931348623157e308',
                '1.7976931348623159e308', '100000000000000000000000.0',
                '0.30000000000000004', '4.35', '1e22', '1e23']


def _dump_with_raw_numbers(rng, value):
    """JSON text of `value` where some numbers are replaced by raw
    NUMBER_TEXTS (returns the text; Python's json.loads gives the value)."""
    text = dump_json(rng, value)
    if rng.random() < 0.3:
        return '[' + text + ',' + rng.choice(NUMBER_TEXTS) + ']'
    return text


def check_json_roundtrip(hat, text):
    lib = hat.lib
    expect = json.loads(text)
    st, p = make_json_payload(hat, text)
    if st != lib.HAT_EVENT_OK:
        return f'create_json({text!r:.300}): {hat.status_name(st)}'
    try:
        python_text = json.dumps(expect, allow_nan=False)
    except ValueError:
        # e.g. 1e400: json.loads gives inf, which hat-event cannot write
        # either; we refuse to write it too.
        try:
            json_text(hat, p.ptr)
        except hat.Error as e:
            if e.status != lib.HAT_EVENT_ERR_INVALID_JSON:
                return f'create_json({text!r:.300}): text of inf: {e}'
            return None
        return f'create_json({text!r:.300}): wrote a text hat-event cannot (inf)'
    out = json_text(hat, p.ptr)
    # byte for byte what hat-event (json.dumps) writes
    if out != python_text:
        return (f'create_json({text!r:.300}) -> {out!r:.300}, '
                f'json.dumps gives {python_text!r:.300}')
    # the text parses back to an equal payload
    st2, p2 = make_json_payload(hat, out)
    if st2 != lib.HAT_EVENT_OK or not lib.hat_event_payload_equal(p.ptr, p2.ptr):
        return (f'create_json({out!r:.300}) (our own text): {hat.status_name(st2)}, equal '
                f'{bool(st2 == 0 and lib.hat_event_payload_equal(p.ptr, p2.ptr))}')
    return None


def test_json_payload_roundtrip_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/json_roundtrip')
    fails = Failures('JSON payload text round-trip')
    for i in range(cases):
        if i < len(NUMBER_TEXTS):
            text = NUMBER_TEXTS[i]
        else:
            text = _dump_with_raw_numbers(rng, rand_json(rng))
        if rng.random() < 0.1:
            text = rng.choice((' ', '\n', '\t', '\r\n')) + text + rng.choice((' ', '\n', ''))
        fails.run(text, lambda case: check_json_roundtrip(hat, case))
    counter.add('JSON payload text round-trip', cases)
    fails.check()


def test_json_payload_errors(hat):
    lib = hat.lib
    # NaN/Infinity: Python's json.loads reads them, json.dumps(allow_nan=
    # False) cannot write them; ours holds them and refuses to write them
    for text in ('NaN', '-Infinity', 'Infinity', '[NaN]'):
        json.loads(text)
        st, p = make_json_payload(hat, text)
        assert st == lib.HAT_EVENT_OK, text
        with pytest.raises(hat.Error) as e:
            json_text(hat, p.ptr)
        assert e.value.status == lib.HAT_EVENT_ERR_INVALID_JSON
    # not JSON for either
    for text in ('', ' ', '[1,]', '{"a"}', '1 2', "'a'", '[1', 'nul', '01',
                 '"\\x"', '"a\nb"', '{"a":1,}', '+1', '.5', '1.', '[] []',
                 '"\\u12"', '"\\ud800\\u12G4"', '-NaN', '\ufeff1'):
        with pytest.raises(ValueError):
            json.loads(text)
        assert make_json_payload(hat, text)[0] == lib.HAT_EVENT_ERR_INVALID_JSON, text
    # invalid UTF-8
    assert make_json_payload(hat, b'"\xff"')[0] == lib.HAT_EVENT_ERR_INVALID_UTF8
    # the message names the byte offset, line and column
    make_json_payload(hat, '[1,\n  ]')
    msg = hat.ffi.string(lib.hat_event_last_error_message()).decode()
    assert 'byte 6' in msg and 'line 2' in msg and 'column' in msg, msg


def test_json_payload_nesting_has_no_limit(hat):
    # Python's json.loads reads up to its recursion limit (about 1000
    # levels); so do we, and deeper.
    lib = hat.lib
    for depth in (127, 128, 129, 900, 20_000):
        for text in ('[' * depth + ']' * depth,
                     '{"a":' * (depth - 1) + '{}' + '}' * (depth - 1)):
            if depth < 950:
                json.loads(text)
            st, _ = make_json_payload(hat, text)
            assert st == lib.HAT_EVENT_OK, \
                f'depth {depth}: {hat.status_name(st)}: ' \
                f'{hat.ffi.string(lib.hat_event_last_error_message()).decode()}'


def test_json_payload_lone_surrogate_escape_is_kept(hat):
    # Python's json.loads (hat.json.decode) keeps a lone surrogate escape and
    # json.dumps writes it back as it is: so do we.
    lib = hat.lib
    for text in ('"\\ud800"', '"\\udc00"', '["a\\ud83d"]', '{"\\udfff": 1}'):
        expected = json.dumps(json.loads(text))
        st, p = make_json_payload(hat, text)
        assert st == lib.HAT_EVENT_OK, text
        assert json_text(hat, p.ptr) == expected


def check_payload_equal(hat, case):
    ta, tb = case
    lib = hat.lib
    o = (common.EventPayloadJson(json.loads(ta)) ==
         common.EventPayloadJson(json.loads(tb)))
    _, pa = make_json_payload(hat, ta)
    _, pb = make_json_payload(hat, tb)
    ours = lib.hat_event_payload_equal(pa.ptr, pb.ptr)
    if ours != o:
        return f'payload_equal({ta}, {tb}): oracle {o}, ours {ours}'
    return None


def test_json_payload_equal_random(hat, seed, cases, counter):
    # hat_event_payload_equal vs the reference's EventPayloadJson equality
    # (Python == of the json.loads values) on texts that spell numbers
    # differently.
    rng = random.Random(f'{seed}/json_equal')
    fails = Failures('JSON payload equality')
    for _ in range(cases):
        a = rng.choice(NUMBER_TEXTS)
        b = rng.choice(NUMBER_TEXTS) if rng.random() < 0.5 else a
        wrap = rng.choice(('{}', '[{}]', '{{"k":{}}}'))
        fails.run((wrap.format(a), wrap.format(b)), lambda case: check_payload_equal(hat, case))
    counter.add('JSON payload equality', cases)
    fails.check()
