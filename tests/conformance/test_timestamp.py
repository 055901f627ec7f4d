"""Timestamps: hat-event's own test_timestamp.py cases run against
hat-event-c, then randomized differential tests against hat-event 0.9.44.

Deliberate differences (asserted as such, not ignored):
- timestamp_from_float below -2**53: the reference sometimes returns an
  un-normalised Timestamp with us == 2000000; hat-event-c returns the same
  instant normalised (equal s * 10**6 + us).
- results outside 64-bit seconds (e.g. timestamp_from_float(-2**63) ->
  s = -2**63 - 1): hat-event-c returns HAT_EVENT_ERR_OUT_OF_RANGE.
- timestamp_from_datetime is exact; the reference goes through a float and
  is a second off for whole seconds before 1970 and for some times near
  year 9999. Compared with the reference only where it round-trips.
- timestamps with us >= 1000000 are refused (OUT_OF_RANGE), also by
  timestamp_from_bytes; the reference accepts them.
"""

import datetime
import itertools
import math
import random
import struct

import pytest

from hat.event import common

from conftest import Failures


I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1
US = 1_000_000
DT_S_MIN = -62_135_596_800      # 0001-01-01T00:00:00Z
DT_S_MAX = 253_402_300_799      # 9999-12-31T23:59:59Z
UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)



# --- wrappers ----------------------------------------------------------------

def c_from_float(hat, x):
    out = hat.ffi.new('hat_event_timestamp_t *')
    st = hat.lib.hat_event_timestamp_from_float(x, out)
    return st, (out.s, out.us)


def c_to_float(hat, t):
    out = hat.ffi.new('double *')
    st = hat.lib.hat_event_timestamp_to_float(hat.ts(*t), out)
    return st, out[0]


def c_add(hat, t, x):
    out = hat.ffi.new('hat_event_timestamp_t *')
    st = hat.lib.hat_event_timestamp_add(hat.ts(*t), x, out)
    return st, (out.s, out.us)


def c_to_bytes(hat, t):
    out = hat.ffi.new('uint8_t[]', hat.lib.HAT_EVENT_TIMESTAMP_BYTES_LEN)
    st = hat.lib.hat_event_timestamp_to_bytes(hat.ts(*t), out)
    return st, bytes(hat.ffi.buffer(out))


def c_from_bytes(hat, data):
    buf = hat.ffi.from_buffer(data) if data else hat.ffi.NULL
    view = hat.ffi.new('hat_event_bytes_t *')
    view.ptr = buf
    view.len = len(data)
    out = hat.ffi.new('hat_event_timestamp_t *')
    st = hat.lib.hat_event_timestamp_from_bytes(view[0], out)
    return st, (out.s, out.us)


DT_FIELDS = ('year', 'month', 'day', 'hour', 'minute', 'second',
             'microsecond')


def c_to_datetime(hat, t):
    out = hat.ffi.new('hat_event_datetime_t *')
    st = hat.lib.hat_event_timestamp_to_datetime(hat.ts(*t), out)
    return st, tuple(getattr(out, f) for f in DT_FIELDS)


def c_from_datetime(hat, fields):
    dt = hat.ffi.new('hat_event_datetime_t *')
    for f, v in zip(DT_FIELDS, fields):
        setattr(dt, f, v)
    out = hat.ffi.new('hat_event_timestamp_t *')
    st = hat.lib.hat_event_timestamp_from_datetime(dt[0], out)
    return st, (out.s, out.us)


def dt_fields(dt):
    return tuple(getattr(dt, f) for f in DT_FIELDS)


def ok(hat, st):
    hat.check(st)
    return True


def float_bits(x):
    return struct.pack('<d', x)


def oracle_normalised(t):
    """(s, us) of an oracle Timestamp with us carried into s, or None if s is
    outside 64-bit seconds."""
    s, us = divmod(t.s * US + t.us, US)
    if not I64_MIN <= s <= I64_MAX:
        return None
    return (s, us)


# --- hat-event's own test_timestamp.py ---------------------------------------

_CMP_TS = [(0, 0), (0, 1), (1, 0), (1, 1), (-1, 0), (-1, 1), (-1, 999_999)]


@pytest.mark.parametrize("t1, t2", list(itertools.permutations(_CMP_TS, r=2)))
def test_timestamp(hat, t1, t2):
    # Reference: comparisons of common.Timestamp. The C API orders
    # timestamps with hat_event_timestamp_compare (hash and TypeError
    # checks of the reference have no C counterpart).
    us1 = 1_000_000 * t1[0] + t1[1]
    us2 = 1_000_000 * t2[0] + t2[1]
    c = hat.lib.hat_event_timestamp_compare(hat.ts(*t1), hat.ts(*t2))
    assert (c == 0) is (us1 == us2)
    assert (c != 0) is (us1 != us2)
    assert (c < 0) is (us1 < us2)
    assert (c > 0) is (us1 > us2)
    assert (c <= 0) is (us1 <= us2)
    assert (c >= 0) is (us1 >= us2)
    # and the oracle agrees with itself on the same pair
    o1, o2 = common.Timestamp(*t1), common.Timestamp(*t2)
    assert (o1 < o2) is (c < 0) and (o1 == o2) is (c == 0)


@pytest.mark.parametrize("t1, s, t2", [
    ((0, 0), 0, (0, 0)),
    ((0, 0), 0.001, (0, 1000)),
    ((0, 0), -0.001, (-1, 999000)),
    ((0, 0), 1, (1, 0)),
    ((0, 0), 1.001, (1, 1000)),
    ((0, 0), -1.001, (-2, 999000))
])
def test_timestamp_add(hat, t1, s, t2):
    st, r = c_add(hat, t1, float(s))
    assert ok(hat, st) and r == t2
    st, r = c_add(hat, t2, float(-s))
    assert ok(hat, st) and r == t1


@pytest.mark.parametrize("t, t_bytes", [
    ((0, 0),
     b'\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'),

    ((2_145_916_800, 99_999),
     b'\x80\x00\x00\x00\x7f\xe8\x17\x80\x00\x01\x86\x9f'),

    ((12_321, 99_999),
     b'\x80\x00\x00\x00\x00\x00\x30\x21\x00\x01\x86\x9f')
])
def test_timestamp_bytes(hat, t, t_bytes):
    st, b = c_to_bytes(hat, t)
    assert ok(hat, st) and b == t_bytes
    st, r = c_from_bytes(hat, t_bytes)
    assert ok(hat, st) and r == t


@pytest.mark.parametrize("t, t_float", [
    ((0, 0), 0.0),
    ((1, 0), 1.0),
    ((1_000, 10_000), 1_000.01),
    ((-473_385_600, 123), -473_385_600 + 123 * 1e-6),
    ((473_385_600, 123), 473_385_600 + 123 * 1e-6),
    ((4_099_680_000, 123), 4_099_680_000 + 123 * 1e-6),
    ((409_968, 999_999), 409_968 + 999_999 * 1e-6),
    ((409_968, 999_999), 409_968 + 9_999_994 * 1e-7),
    ((409_969, 0), 409_968 + 9_999_996 * 1e-7),
    ((409_969, 0), 409_968 + 9_999_999 * 1e-7),
    ((-409_969, 1), -409_968 - 9_999_994 * 1e-7),
    ((-409_969, 0), -409_968 - 9_999_996 * 1e-7),
    ((-409_968, 0), -409_968 - 4 * 1e-7),
    ((-409_969, 999_999), -409_968 - 6 * 1e-7)
])
def test_timestamp_float(hat, t, t_float):
    st, f = c_to_float(hat, t)
    assert ok(hat, st) and math.isclose(f, t_float, abs_tol=1e-9)
    st, r = c_from_float(hat, t_float)
    assert ok(hat, st) and r == t


_DT_CASES = [
    ((-2_208_988_800, 999_999),
     datetime.datetime(1900, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC)),
    ((0, 0),
     datetime.datetime(1970, 1, 1, 0, 0, 0, 0, tzinfo=UTC)),
    ((0, 123),
     datetime.datetime(1970, 1, 1, 0, 0, 0, 123, tzinfo=UTC)),
    ((2_145_916_800, 99_999),
     datetime.datetime(2038, 1, 1, 0, 0, 0, 99_999, tzinfo=UTC)),
    ((4_133_980_799, 1),
     datetime.datetime(2100, 12, 31, 23, 59, 59, 1, tzinfo=UTC))
]


@pytest.mark.parametrize("t, t_dt", _DT_CASES)
def test_timestamp_datetime(hat, t, t_dt):
    st, fields = c_to_datetime(hat, t)
    assert ok(hat, st) and fields == dt_fields(t_dt)
    # The reference also converts the naive form; hat_event_datetime_t is
    # always UTC, so both are the same call here.
    for dt in (t_dt, t_dt.replace(tzinfo=None)):
        st, r = c_from_datetime(hat, dt_fields(dt))
        assert ok(hat, st) and r == t


@pytest.mark.parametrize("t", [t for t, _ in _DT_CASES])
def test_timestamp_sbs(hat, t):
    # The reference round-trips {'s', 'us'} through SBS. The C API has no
    # SBS; the counterpart is the plain hat_event_timestamp_t value, which
    # must survive a trip through an event (source timestamp and
    # timestamp) and through the 12-byte form.
    lib, ffi = hat.lib, hat.ffi
    seg = hat.str_array(('a',))
    src = ffi.new('hat_event_timestamp_t *', t)
    ev = ffi.new('hat_event_event_t **')
    hat.check(lib.hat_event_event_create(ffi.new('hat_event_event_id_t *')[0],
                                         seg.ptr, seg.len, hat.ts(*t), src,
                                         ffi.NULL, ev))
    try:
        assert hat.ts_tuple(lib.hat_event_event_timestamp(ev[0])) == t
        out = ffi.new('hat_event_timestamp_t *')
        assert lib.hat_event_event_source_timestamp(ev[0], out)
        assert (out.s, out.us) == t
    finally:
        lib.hat_event_event_destroy(ev[0])
    st, b = c_to_bytes(hat, t)
    assert ok(hat, st)
    st, r = c_from_bytes(hat, b)
    assert ok(hat, st) and r == t


def test_now(hat):
    previous = None
    for _ in range(10):
        out = hat.ffi.new('hat_event_timestamp_t *')
        hat.check(hat.lib.hat_event_timestamp_now(out))
        st, fields = c_to_datetime(hat, (out.s, out.us))
        assert ok(hat, st)
        now_dt = datetime.datetime(*fields, tzinfo=UTC)
        delta = datetime.datetime.now(UTC) - now_dt

        assert delta < datetime.timedelta(seconds=1)
        assert delta >= datetime.timedelta(0)
        if previous is not None:
            assert now_dt >= previous
        previous = now_dt
    # and it agrees with the reference's now() to within a second
    o = common.now()
    assert abs(common.timestamp_to_float(o) - (out.s + out.us * 1e-6)) < 1


# --- timestamp_from_float ----------------------------------------------------

FROM_FLOAT_EDGES = [
    0.0, -0.0, 1.0, -1.0, 1e-7, -1e-7, 5e-7, -5e-7, 4.9999999e-7, -4.9999999e-7,
    5e-324, -5e-324, 1e-300, -1e-300, 0.5e-6, -0.5e-6, 1.5e-6, -1.5e-6,
    0.9999995, -0.9999995, 0.9999994999999999, -0.9999994999999999,
    2.0 ** 52, -2.0 ** 52, 2.0 ** 52 + 0.5, -2.0 ** 52 - 0.5,
    2.0 ** 53, -2.0 ** 53, 2.0 ** 53 + 2, -2.0 ** 53 - 2, 2.0 ** 53 - 1,
    -2.0 ** 53 + 1, 2.0 ** 54 + 4, -2.0 ** 54 - 4,
    2.0 ** 63 - 1024, -(2.0 ** 63 - 1024), 2.0 ** 62, -2.0 ** 62,
    -2.0 ** 63, 2.0 ** 63, 2.0 ** 64, -2.0 ** 64, 1e300, -1e300,
    math.inf, -math.inf, math.nan, -math.nan,
    409_968 + 9_999_996 * 1e-7, -409_968 - 9_999_996 * 1e-7,
    1_700_000_000.123456, -1_700_000_000.123456,
]


def _from_float_expect(x):
    """What hat-event-c must return for timestamp_from_float(x), from the
    oracle: (status, (s, us) or None, oracle Timestamp or exception)."""
    try:
        o = common.timestamp_from_float(x)
    except (OverflowError, ValueError) as e:          # nan, inf
        return 'OUT_OF_RANGE', None, e
    n = oracle_normalised(o)
    if n is None:
        return 'OUT_OF_RANGE', None, o
    return 'OK', n, o


def _check_from_float(hat, x, fails, stats):
    status, expect, o = _from_float_expect(x)
    st, r = c_from_float(hat, x)
    lib = hat.lib
    if status == 'OUT_OF_RANGE':
        stats['out_of_range'] += 1
        if st != lib.HAT_EVENT_ERR_OUT_OF_RANGE:
            fails.add(f'from_float({x!r} = {x.hex()}): oracle {o!r} '
                      f'(outside i64 / error) -> expected OUT_OF_RANGE, '
                      f'ours {hat.status_name(st)} {r}')
        return
    if st != lib.HAT_EVENT_OK:
        fails.add(f'from_float({x!r} = {x.hex()}): oracle {tuple(o)}, '
                  f'ours {hat.status_name(st)}')
        return
    if o.us >= US or o.us < 0:
        # documented: un-normalised oracle result below -2**53
        stats['unnormalised'] += 1
        if not x < -2.0 ** 53:
            fails.add(f'from_float({x!r}): oracle un-normalised {tuple(o)} '
                      f'above -2**53 (unexpected)')
        if r[0] * US + r[1] != o.s * US + o.us or r != expect:
            fails.add(f'from_float({x!r} = {x.hex()}): oracle {tuple(o)} '
                      f'(total {o.s * US + o.us}), ours {r} '
                      f'(total {r[0] * US + r[1]})')
    elif r != tuple(o):
        fails.add(f'from_float({x!r} = {x.hex()}): oracle {tuple(o)}, '
                  f'ours {r}')


def _random_from_float_inputs(rng, n):
    nextafter = math.nextafter
    out = []
    kinds = 8
    for i in range(n):
        kind = i % kinds
        sign = -1.0 if rng.random() < 0.5 else 1.0
        if kind == 0:       # uniform bit patterns, finite, |x| < 2**63
            while True:
                x = struct.unpack('<d', rng.getrandbits(64).to_bytes(8, 'little'))[0]
                if math.isfinite(x) and abs(x) < 2.0 ** 63:
                    break
        elif kind == 1:     # log-uniform magnitude over the whole range
            x = sign * 2.0 ** rng.uniform(-60, 63)
            if abs(x) >= 2.0 ** 63:
                x = sign * nextafter(2.0 ** 63, 0)
        elif kind == 2:     # near integers
            k = int(2.0 ** rng.uniform(0, 53))
            x = sign * float(k)
            for _ in range(rng.randint(-4, 4) % 9):
                x = nextafter(x, rng.choice((math.inf, -math.inf)))
            if rng.random() < 0.3:
                x += sign * rng.choice((1e-7, 4e-7, 5e-7, 6e-7, 1e-6, 9.999995e-1))
        elif kind == 3:     # near .5 microsecond boundaries
            s = int(2.0 ** rng.uniform(0, 40)) if rng.random() < 0.8 else rng.randint(0, 10)
            us = rng.randint(0, 999_999)
            x = sign * (s + (us + 0.5) * 1e-6)
            for _ in range(rng.randint(0, 3)):
                x = nextafter(x, rng.choice((math.inf, -math.inf)))
        elif kind == 4:     # tiny values
            r = rng.random()
            if r < 0.3:
                x = sign * rng.uniform(0, 1e-5)
            elif r < 0.6:
                x = sign * 2.0 ** rng.uniform(-1074, -20)
            else:
                x = sign * rng.choice((5e-324, 1e-300, 1e-12, 4.9e-7, 5e-7, 5.1e-7,
                                       9.999994e-1, 9.999995e-1, 9.999996e-1))
        elif kind == 5:     # the 2**53 neighbourhood (and 2**52, 2**54)
            base = rng.choice((52, 53, 53, 54))
            x = sign * (2.0 ** base + rng.randint(-64, 64) * rng.choice((0.5, 1, 2, 4)))
            for _ in range(rng.randint(0, 2)):
                x = nextafter(x, rng.choice((math.inf, -math.inf)))
        elif kind == 6:     # integers over the whole i64 range
            k = rng.randint(0, (1 << 63) - 1) if rng.random() < 0.5 \
                else int(2.0 ** rng.uniform(0, 63))
            x = sign * float(k)
            if abs(x) >= 2.0 ** 63:
                x = sign * nextafter(2.0 ** 63, 0)
        else:               # realistic times with microseconds
            x = sign * rng.uniform(0, 4e9)
            if rng.random() < 0.5:
                x = round(x, 6)
        out.append(x)
    return out


def test_from_float_edges(hat, counter):
    fails = Failures('timestamp_from_float edges')
    stats = {'out_of_range': 0, 'unnormalised': 0}
    for x in FROM_FLOAT_EDGES:
        _check_from_float(hat, x, fails, stats)
    counter.add('timestamp_from_float (edges)', len(FROM_FLOAT_EDGES))
    fails.check()
    # the documented special cases, spelled out
    assert c_from_float(hat, -2.0 ** 63)[0] == hat.lib.HAT_EVENT_ERR_OUT_OF_RANGE
    assert common.timestamp_from_float(-2.0 ** 63) == (-2 ** 63 - 1, 0)
    assert c_from_float(hat, -0.0) == (hat.lib.HAT_EVENT_OK, (0, 0))
    assert c_from_float(hat, -1.0) == (hat.lib.HAT_EVENT_OK, (-1, 0))
    assert c_from_float(hat, -1e-7) == (hat.lib.HAT_EVENT_OK, (0, 0))
    st, r = c_from_float(hat, 2.0 ** 63 - 1024)
    assert ok(hat, st) and r == (2 ** 63 - 1024, 0)
    o = common.timestamp_from_float(-2.0 ** 53 - 2)
    assert o.us == 2_000_000          # the reference's un-normalised form
    st, r = c_from_float(hat, -2.0 ** 53 - 2)
    assert ok(hat, st) and r == (o.s + 2, 0)
    for x in (math.nan, math.inf, -math.inf):
        assert c_from_float(hat, x)[0] == hat.lib.HAT_EVENT_ERR_OUT_OF_RANGE
    # NULL out
    assert hat.lib.hat_event_timestamp_from_float(1.0, hat.ffi.NULL) == \
        hat.lib.HAT_EVENT_ERR_NULL_ARGUMENT


def test_from_float_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/from_float')
    n = 10 * cases
    fails = Failures('timestamp_from_float')
    stats = {'out_of_range': 0, 'unnormalised': 0}
    for x in _random_from_float_inputs(rng, n):
        _check_from_float(hat, x, fails, stats)
    counter.add('timestamp_from_float (random)', n)
    counter.note(f'timestamp_from_float: {stats["unnormalised"]} oracle '
                 f'un-normalised results (us >= 10**6, below -2**53) matched '
                 f'as normalised; {stats["out_of_range"]} out of i64 range')
    fails.check()


# --- timestamp_to_float ------------------------------------------------------

def _random_s(rng):
    r = rng.random()
    if r < 0.3:
        return rng.randint(I64_MIN, I64_MAX)
    if r < 0.6:
        s = int(2.0 ** rng.uniform(0, 63))
        s = min(s, I64_MAX)
        return -s - 1 if rng.random() < 0.5 else s
    if r < 0.8:
        return rng.randint(-4_000_000_000, 4_000_000_000)
    if r < 0.9:
        return rng.choice((I64_MIN, I64_MAX, 0, -1, 1)) + rng.randint(-3, 3) * (r < 0.85)
    return rng.choice((1, -1)) * (2 ** rng.randint(50, 62)) + rng.randint(-3, 3)


def _random_us(rng):
    r = rng.random()
    if r < 0.7:
        return rng.randint(0, 999_999)
    return rng.choice((0, 1, 2, 499_999, 500_000, 500_001, 999_998, 999_999))


def _random_ts(rng):
    s = _random_s(rng)
    s = max(I64_MIN, min(I64_MAX, s))
    return (s, _random_us(rng))


def test_to_float_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/to_float')
    fails = Failures('timestamp_to_float')
    for _ in range(cases):
        t = _random_ts(rng)
        o = common.timestamp_to_float(common.Timestamp(*t))
        st, r = c_to_float(hat, t)
        if st != hat.lib.HAT_EVENT_OK:
            fails.add(f'to_float({t}): oracle {o!r}, ours {hat.status_name(st)}')
        elif float_bits(r) != float_bits(o):
            fails.add(f'to_float({t}): oracle {o!r} ({o.hex()}), '
                      f'ours {r!r} ({r.hex()})')
    counter.add('timestamp_to_float', cases)
    fails.check()
    for us in (1_000_000, 2_000_000, 0xFFFFFFFF):
        assert c_to_float(hat, (0, us))[0] == hat.lib.HAT_EVENT_ERR_OUT_OF_RANGE


# --- Timestamp.add -----------------------------------------------------------

def _random_add_seconds(rng):
    r = rng.random()
    sign = -1.0 if rng.random() < 0.5 else 1.0
    if r < 0.25:
        return rng.uniform(-1e6, 1e6)
    if r < 0.45:
        return sign * 2.0 ** rng.uniform(-30, 70)
    if r < 0.55:
        return sign * float(rng.randint(0, 10 ** rng.randint(0, 19)))
    if r < 0.7:          # .5 microsecond boundaries
        return sign * (rng.randint(0, 10 ** rng.randint(0, 9)) +
                       (rng.randint(0, 999_999) + 0.5) * 1e-6)
    if r < 0.8:
        return sign * rng.uniform(0, 1e-5)
    if r < 0.9:
        while True:
            x = struct.unpack('<d', rng.getrandbits(64).to_bytes(8, 'little'))[0]
            if math.isfinite(x):
                return x
    return sign * rng.choice((0.0, 0.001, 1.001, 0.5e-6, 1.5e-6, 2.5e-6, 1e-7,
                              0.9999995, 2.0 ** 53, 2.0 ** 63, 1e300))


def _random_add_ts(rng):
    r = rng.random()
    if r < 0.5:
        return _random_ts(rng)
    if r < 0.8:
        return (rng.randint(-4_000_000_000, 4_000_000_000), _random_us(rng))
    # near the ends of the range, where overflow happens
    end = I64_MAX if rng.random() < 0.5 else I64_MIN
    return (end - (end > 0) * rng.randint(0, 10 ** 6) +
            (end < 0) * rng.randint(0, 10 ** 6), _random_us(rng))


def test_add_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/add')
    fails = Failures('Timestamp.add')
    out_of_range = 0
    lib = hat.lib
    for _ in range(cases):
        t = _random_add_ts(rng)
        x = _random_add_seconds(rng)
        try:
            o = common.Timestamp(*t).add(x)
            expect = oracle_normalised(o)
        except (OverflowError, ValueError) as e:
            o, expect = e, None
        st, r = c_add(hat, t, x)
        if expect is None:
            out_of_range += 1
            if st != lib.HAT_EVENT_ERR_OUT_OF_RANGE:
                fails.add(f'{t}.add({x!r}): oracle {o!r} (outside i64) -> '
                          f'expected OUT_OF_RANGE, ours {hat.status_name(st)} {r}')
        elif st != lib.HAT_EVENT_OK:
            fails.add(f'{t}.add({x!r}): oracle {tuple(o)}, ours {hat.status_name(st)}')
        elif r != tuple(o):
            fails.add(f'{t}.add({x!r} = {x.hex()}): oracle {tuple(o)}, ours {r}')
    counter.add('Timestamp.add', cases)
    counter.note(f'Timestamp.add: {out_of_range} oracle results outside i64 '
                 f'-> OUT_OF_RANGE')
    fails.check()
    for x in (math.nan, math.inf, -math.inf):
        assert c_add(hat, (0, 0), x)[0] == lib.HAT_EVENT_ERR_OUT_OF_RANGE
    assert c_add(hat, (0, 1_000_000), 0.0)[0] == lib.HAT_EVENT_ERR_OUT_OF_RANGE
    assert c_add(hat, (I64_MAX, 999_999), 1e-6)[0] == lib.HAT_EVENT_ERR_OUT_OF_RANGE
    assert c_add(hat, (I64_MIN, 0), -1e-6)[0] == lib.HAT_EVENT_ERR_OUT_OF_RANGE
    st, r = c_add(hat, (I64_MAX, 999_998), 1e-6)
    assert ok(hat, st) and r == (I64_MAX, 999_999)


# --- bytes -------------------------------------------------------------------

def test_bytes_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/bytes')
    fails = Failures('timestamp bytes')
    lib = hat.lib
    n_from = 0
    for _ in range(cases):
        t = _random_ts(rng)
        o = common.timestamp_to_bytes(common.Timestamp(*t))
        st, b = c_to_bytes(hat, t)
        if st != lib.HAT_EVENT_OK or b != o:
            fails.add(f'to_bytes({t}): oracle {o.hex()}, ours '
                      f'{hat.status_name(st)} {b.hex()}')
        st, r = c_from_bytes(hat, o)
        if st != lib.HAT_EVENT_OK or r != t:
            fails.add(f'from_bytes({o.hex()}): oracle {t}, ours '
                      f'{hat.status_name(st)} {r}')
        # arbitrary 12 bytes: the reference accepts any us; we refuse
        # us >= 10**6 (documented)
        us = rng.randint(0, 999_999) if rng.random() < 0.7 \
            else rng.randint(1_000_000, 0xFFFFFFFF)
        data = rng.getrandbits(64).to_bytes(8, 'big') + us.to_bytes(4, 'big')
        o = common.timestamp_from_bytes(data)
        st, r = c_from_bytes(hat, data)
        n_from += 1
        if o.us >= US:
            if st != lib.HAT_EVENT_ERR_OUT_OF_RANGE:
                fails.add(f'from_bytes({data.hex()}): oracle {tuple(o)} '
                          f'(us >= 10**6) -> expected OUT_OF_RANGE, ours '
                          f'{hat.status_name(st)} {r}')
        elif st != lib.HAT_EVENT_OK or r != tuple(o):
            fails.add(f'from_bytes({data.hex()}): oracle {tuple(o)}, ours '
                      f'{hat.status_name(st)} {r}')
    counter.add('timestamp_to_bytes/from_bytes', cases + n_from)
    fails.check()
    # order of bytes == order of timestamps
    ts_list = sorted(_random_ts(rng) for _ in range(200))
    assert [c_to_bytes(hat, t)[1] for t in ts_list] == \
        sorted(c_to_bytes(hat, t)[1] for t in ts_list)
    for n in (0, 11, 13):
        assert c_from_bytes(hat, bytes(n))[0] == lib.HAT_EVENT_ERR_INVALID_ARGUMENT
    assert c_to_bytes(hat, (0, 1_000_000))[0] == lib.HAT_EVENT_ERR_OUT_OF_RANGE
    assert lib.hat_event_timestamp_to_bytes(hat.ts(0, 0), hat.ffi.NULL) == \
        lib.HAT_EVENT_ERR_NULL_ARGUMENT


# --- datetime ----------------------------------------------------------------

def _random_dt_ts(rng):
    r = rng.random()
    if r < 0.6:
        s = rng.randint(DT_S_MIN, DT_S_MAX)
    elif r < 0.8:
        s = rng.randint(-4_000_000_000, 4_000_000_000)
    else:
        s = rng.choice((DT_S_MIN, DT_S_MAX, 0, -1, 1)) + \
            rng.randint(-100_000, 100_000)
        s = max(DT_S_MIN, min(DT_S_MAX, s))
    us = 0 if rng.random() < 0.3 else _random_us(rng)
    return (s, us)


def test_to_datetime_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/to_datetime')
    fails = Failures('timestamp_to_datetime')
    for _ in range(cases):
        t = _random_dt_ts(rng)
        o = dt_fields(common.timestamp_to_datetime(common.Timestamp(*t)))
        st, r = c_to_datetime(hat, t)
        if st != hat.lib.HAT_EVENT_OK or r != o:
            fails.add(f'to_datetime({t}): oracle {o}, ours {hat.status_name(st)} {r}')
    # outside years 1..9999 both fail
    outside = [(DT_S_MIN - 1, 0), (DT_S_MAX + 1, 0), (I64_MIN, 0), (I64_MAX, 0),
               (-(2 ** 40), 0), (2 ** 40, 0)]
    for t in outside:
        with pytest.raises((ValueError, OverflowError, OSError)):
            common.timestamp_to_datetime(common.Timestamp(*t))
        st, _ = c_to_datetime(hat, t)
        if st != hat.lib.HAT_EVENT_ERR_OUT_OF_RANGE:
            fails.add(f'to_datetime({t}): oracle raises, ours {hat.status_name(st)}')
    counter.add('timestamp_to_datetime', cases + len(outside))
    fails.check()
    assert c_to_datetime(hat, (0, 1_000_000))[0] == hat.lib.HAT_EVENT_ERR_OUT_OF_RANGE


def _exact_ts(dt):
    """Exact (s, us) of an aware datetime, by integer arithmetic."""
    return divmod((dt - EPOCH) // datetime.timedelta(microseconds=1), US)


def test_from_datetime_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/from_datetime')
    fails = Failures('timestamp_from_datetime')
    oracle_off = 0
    examples = []
    for _ in range(cases):
        t = _random_dt_ts(rng)
        dt = common.timestamp_to_datetime(common.Timestamp(*t))
        fields = dt_fields(dt)
        st, r = c_from_datetime(hat, fields)
        if st != hat.lib.HAT_EVENT_OK:
            fails.add(f'from_datetime{fields}: ours {hat.status_name(st)}, expected {t}')
            continue
        if r != t or r != _exact_ts(dt):      # ours always round-trips, exactly
            fails.add(f'from_datetime{fields}: ours {r}, expected {t}')
        o = common.timestamp_from_datetime(dt)
        if tuple(o) == t:                     # the oracle round-trips here
            if r != tuple(o):
                fails.add(f'from_datetime{fields}: oracle {tuple(o)}, ours {r}')
        else:
            oracle_off += 1
            if len(examples) < 3:
                examples.append(f'{fields} -> oracle {tuple(o)}, ours {r}')
    counter.add('timestamp_from_datetime', cases)
    counter.note(f'timestamp_from_datetime: oracle does not round-trip in '
                 f'{oracle_off} of {cases} cases (ours exact); e.g. '
                 + '; '.join(examples))
    fails.check()
    # the documented example
    st, r = c_from_datetime(hat, (1969, 12, 31, 23, 59, 59, 0))
    assert ok(hat, st) and r == (-1, 0)
    assert tuple(common.timestamp_from_datetime(
        datetime.datetime(1969, 12, 31, 23, 59, 59))) == (-2, 0)


def _random_fields(rng):
    """Random calendar fields, often invalid."""
    def pick(lo, hi, bad):
        r = rng.random()
        if r < 0.95:
            return rng.randint(lo, hi)
        return rng.choice(bad)
    return (pick(1, 9999, (0, -1, 10000, 2 ** 31 - 1, -2 ** 31)),
            pick(1, 12, (0, 13, -1)),
            pick(1, 31, (0, 32, -1)),
            pick(0, 23, (24, -1)),
            pick(0, 59, (60, -1)),
            pick(0, 59, (60, 61, -1)),
            pick(0, 999_999, (1_000_000, -1, 2 ** 31 - 1)))


def test_from_datetime_fields_random(hat, seed, cases, counter):
    # Field validation vs Python's datetime constructor (which the
    # reference's callers use to build their datetimes).
    rng = random.Random(f'{seed}/from_datetime_fields')
    fails = Failures('timestamp_from_datetime fields')
    n_invalid = 0
    for _ in range(cases):
        fields = _random_fields(rng)
        if rng.random() < 0.2:      # Feb 29 / day 31 edge cases
            fields = (rng.choice((1900, 2000, 2023, 2024, 1, 9999, 4, 100, 400)),
                      rng.choice((2, 4, 6, 9, 11, 12)), rng.choice((28, 29, 30, 31)),
                      *fields[3:])
        try:
            dt = datetime.datetime(*fields, tzinfo=UTC)
        except (ValueError, OverflowError):
            dt = None
        st, r = c_from_datetime(hat, fields)
        if dt is None:
            n_invalid += 1
            if st != hat.lib.HAT_EVENT_ERR_OUT_OF_RANGE:
                fails.add(f'from_datetime{fields}: Python refuses, ours '
                          f'{hat.status_name(st)} {r}')
        elif st != hat.lib.HAT_EVENT_OK or r != _exact_ts(dt):
            fails.add(f'from_datetime{fields}: expected {_exact_ts(dt)}, '
                      f'ours {hat.status_name(st)} {r}')
    counter.add('timestamp_from_datetime (fields)', cases)
    counter.note(f'timestamp_from_datetime fields: {n_invalid} of {cases} '
                 f'invalid -> OUT_OF_RANGE')
    fails.check()


def test_compare_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/compare')
    fails = Failures('timestamp compare')
    for _ in range(cases):
        a = _random_ts(rng)
        b = _random_ts(rng) if rng.random() < 0.7 else \
            (a[0] + rng.randint(-1, 1), _random_us(rng))
        b = (max(I64_MIN, min(I64_MAX, b[0])), b[1])
        c = hat.lib.hat_event_timestamp_compare(hat.ts(*a), hat.ts(*b))
        oa, ob = common.Timestamp(*a), common.Timestamp(*b)
        o = (oa > ob) - (oa < ob)
        if (c > 0) - (c < 0) != o:
            fails.add(f'compare({a}, {b}): oracle {o}, ours {c}')
    counter.add('timestamp compare', cases)
    fails.check()
