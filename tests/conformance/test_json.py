"""JSON payload text against Python: hat-event writes payloads with
json.dumps(value, allow_nan=False); hat_event_payload_json_text must give
the same bytes for any JSON text hat_event_payload_create_json accepts."""

import json
import random

import pytest

from conftest import Failures


def random_value(rng, depth=0):
    k = rng.randrange(9 if depth < 4 else 5)
    if k == 0:
        return None
    if k == 1:
        return rng.random() < 0.5
    if k == 2:
        return rng.randint(-2**70, 2**70)
    if k == 3:
        return rng.choice([rng.uniform(-1e6, 1e6), rng.random() * 10**rng.randint(-30, 30),
                           float(rng.randint(-10**17, 10**17)), 0.0, -0.0, 5e-324, 1e16, 1e15,
                           123.0, 0.1, 1e-5, 1.7976931348623157e308])
    if k == 4:
        return random_text(rng)
    if k in (5, 6):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {random_text(rng): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def random_text(rng):
    return ''.join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 32),
                                   rng.randrange(0x80, 0xd800), rng.randrange(0xe000, 0x110000)]))
                   for _ in range(rng.randrange(6)))


def json_text(hat, text):
    view, keep = hat.str_view(text)
    p = hat.ffi.new('hat_event_payload_t **')
    hat.check(hat.lib.hat_event_payload_create_json(view, p))
    payload = hat.ffi.gc(p[0], hat.lib.hat_event_payload_destroy)
    b = hat.ffi.new('hat_event_buffer_t **')
    hat.check(hat.lib.hat_event_payload_json_text(payload, b))
    buf = hat.ffi.gc(b[0], hat.lib.hat_event_buffer_destroy)
    return hat.ffi.unpack(hat.ffi.cast('char *', hat.lib.hat_event_buffer_data(buf)),
                          hat.lib.hat_event_buffer_len(buf)).decode('utf-8')


@pytest.mark.parametrize("text, expected", [
    ('{"b":1,"a":[1.0,1e16,1e-05,-0.0,"\\u00e9\\ud83d\\ude00"]}',
     '{"b": 1, "a": [1.0, 1e+16, 1e-05, -0.0, "\\u00e9\\ud83d\\ude00"]}'),
    ('123456789012345678901234567890', '123456789012345678901234567890'),
    ('26755133183000.8125', '26755133183000.812'),
])
def test_known_texts(hat, text, expected):
    assert json.dumps(json.loads(text), allow_nan=False) == expected
    assert json_text(hat, text) == expected


def check_value(hat, case):
    value, ensure_ascii = case
    text = json.dumps(value, separators=(',', ':'), ensure_ascii=ensure_ascii)
    expected = json.dumps(json.loads(text), allow_nan=False)
    try:
        ours = json_text(hat, text)
    except hat.Error as e:
        return f'{text!r:.300}: refused ({e})'
    if ours != expected:
        return f'{text!r:.300}: ours {ours!r:.300}, json.dumps {expected!r:.300}'
    return None


def test_random_values_match_json_dumps(hat, seed, cases, counter):
    rng = random.Random(seed + 4)
    fails = Failures('json payload text')
    for _ in range(cases):
        fails.run((random_value(rng), rng.random() < 0.5), lambda case: check_value(hat, case))
        counter.add('json payload text')
    fails.check()


# (NaN and Infinity are read, as Python reads them, but cannot be written.)
@pytest.mark.parametrize("text", ['NaN', 'Infinity', '[1,]', '{"a" 1}', '', '1 2', '"\\u12"'])
def test_invalid_json_is_refused(hat, text):
    with pytest.raises(hat.Error) as e:
        json_text(hat, text)
    assert e.value.status == hat.lib.HAT_EVENT_ERR_INVALID_JSON


def test_floats_where_the_closest_digits_do_not_round_trip(hat, seed, counter):
    # Near powers of two the closest 16- or 17-digit decimal can belong to
    # the neighbouring double; Python's repr then takes the other candidate.
    rng = random.Random(seed + 5)
    n = 0
    for _ in range(20000):
        x = rng.randrange(1, 2**rng.randint(1, 53)) * 2.0**rng.randint(-80, 80)
        text = repr(x)
        assert json_text(hat, text) == json.dumps(x), text
        n += 1
    for e in range(-1074, 1024, 7):
        x = 2.0**e
        assert json_text(hat, repr(x)) == json.dumps(x), x
        n += 1
    counter.add('json float repr (binary fractions, powers of two)', n)
