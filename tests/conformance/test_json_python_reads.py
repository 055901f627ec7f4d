"""JSON text hat-event reads, against hat-event: Python's json.loads accepts
lone surrogate escapes, nesting up to its recursion limit, duplicate member
names and NaN/Infinity, and hat-event forwards what it read. For each text
we must: create a payload from it and write exactly
json.dumps(json.loads(text), allow_nan=False) (or fail where that raises);
encode an event holding it to the oracle's SBS bytes and decode the
oracle's bytes back to an equal value; print the manager's JSON form and
read it back."""

import json
import random
import re
import sys

import pytest

from hat import json as hat_json
from hat.event import common
from hat.event.manager import common as manager

from conftest import Failures
from test_data import Event, json_text, make_json_payload
from test_json_form import to_json
from test_sbs import decode_event, encode


# Python's json recurses (in C) once per nesting level, under the
# interpreter's recursion limit; pytest's own frames come on top.
DEEPEST = 1000


@pytest.fixture(autouse=True)
def deep_recursion_for_the_oracle():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * DEEPEST))
    yield
    sys.setrecursionlimit(limit)


KNOWN_TEXTS = [
    # lone surrogates: alone, inside text, as names, high then not-low
    r'"\ud800"', r'"\udc00"', r'"x\ud800y"', r'"\udbff\udbff"', r'"\udc00\ud800"',
    r'"\ud800\u0041"', r'"\ud800\n"', r'"\ud800\ud800\udc00"', r'"a\udfff"',
    r'{"\ud800": "\udfff", "k": ["\ud83d"]}', r'["\uD800", "\uDC00x"]',
    # pairs, either case, and raw characters beyond the BMP
    r'"\ud83d\ude00"', r'"\uD83D\uDE00"', r'"\ud83d\uDE00"', '"\U0001F600\U0010FFFF"',
    # every escape
    r'"\"\\\/\b\f\n\r\t\u0041\u00E9\u001F\u007f\u0022\u005C\u002F"', '"\x7f\u00e9\u2028"',
    # duplicate names: first position, last value
    '{"a": 1, "b": 2, "a": 3}', r'{"\u00e9": 1, "é": [2]}', '[{"a": {"x": 1}, "a": {"y": [1, 1]}}]',
    # whitespace Python skips
    ' \t\r\n[ 1 ,\n{ "a" :\ttrue } ] \n',
    # read, held, not writable (allow_nan=False)
    'NaN', 'Infinity', '-Infinity', '[1e400]', '{"a": NaN, "a": 1}', '1e-400',
]


def python_dumps(value):
    """json.dumps(value, allow_nan=False), or None where it raises."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return None


def oracle(text, type_=('t', 'x')):
    """The oracle's event holding json.loads(text)."""
    return common.Event(id=common.EventId(1, 2, 3), type=type_, timestamp=common.Timestamp(10, 20),
                        source_timestamp=None, payload=common.EventPayloadJson(json.loads(text)))


def check_text(hat, text):
    """None when ours agrees with the oracle on `text` everywhere."""
    lib, ffi = hat.lib, hat.ffi
    value = json.loads(text)
    expected = python_dumps(value)
    st, payload = make_json_payload(hat, text)
    if st != lib.HAT_EVENT_OK:
        msg = ffi.string(lib.hat_event_last_error_message()).decode()
        return f'create_json({text!r:.200}): {hat.status_name(st)}: {msg}'
    try:
        ours = json_text(hat, payload.ptr)
    except hat.Error as e:
        if expected is None and e.status == lib.HAT_EVENT_ERR_INVALID_JSON:
            ours = None
        else:
            return f'json_text({text!r:.200}): {e}'
    if ours != expected:
        return f'json_text({text!r:.200}): ours {ours!r:.200}, json.dumps {expected!r:.200}'
    if expected is not None:
        st, again = make_json_payload(hat, expected)
        if st != lib.HAT_EVENT_OK or not lib.hat_event_payload_equal(payload.ptr, again.ptr):
            return f'{expected!r:.200} (our own text) does not read back equal'
    return check_event(hat, text, expected)


def check_event(hat, text, expected):
    """SBS both ways and the JSON form both ways of an event holding `text`."""
    lib = hat.lib
    ev = oracle(text)
    ours_event = Event(hat, ev._replace(payload=text))
    if expected is None:
        # hat-event cannot encode it (json.dumps raises): neither can we
        with pytest.raises(ValueError):
            common.event_to_sbs(ev)
        for fn in (lib.hat_event_event_encode, lib.hat_event_event_to_json):
            try:
                encode(hat, fn, ours_event.ptr)
            except hat.Error as e:
                if e.status != lib.HAT_EVENT_ERR_INVALID_JSON:
                    return f'{text!r:.200}: unwritable, but {e}'
            else:
                return f'{text!r:.200}: hat-event cannot write it, ours did'
        return None
    theirs = common.sbs_repo.encode('HatEventer.Event', common.event_to_sbs(ev))
    ours = encode(hat, lib.hat_event_event_encode, ours_event.ptr)
    if ours != theirs:
        return f'SBS encode {text!r:.200}: ours {ours.hex()[:200]}, oracle {theirs.hex()[:200]}'
    st, decoded = decode_event(hat, theirs)
    if st != lib.HAT_EVENT_OK:
        return f'SBS decode of the oracle bytes for {text!r:.200}: {hat.status_name(st)}'
    if not lib.hat_event_event_equal(decoded, ours_event.ptr):
        return f'SBS decode {text!r:.200}: not equal to the event made from the text'
    if encode(hat, lib.hat_event_event_encode, decoded) != theirs:
        return f'SBS decode {text!r:.200}: re-encoding differs from the oracle bytes'
    # What the decoded payload holds is what Python holds.
    payload_text = json_text(hat, lib.hat_event_event_payload(decoded))
    if json.loads(payload_text) != ev.payload.data:
        return f'SBS decode {text!r:.200}: payload {payload_text!r:.200} is not the oracle value'
    # The JSON form: the manager's text, and reading it back.
    form = hat_json.encode(manager.event_to_json(ev))
    ours_form = to_json(hat, lib.hat_event_event_to_json, ours_event.ptr)
    if ours_form != form:
        return f'JSON form {text!r:.200}: ours {ours_form[:200]}, manager {form[:200]}'
    view, keep = hat.str_view(form)
    out = hat.ffi.new('hat_event_event_t **')
    st = lib.hat_event_event_from_json(view, out)
    if st != lib.HAT_EVENT_OK:
        msg = hat.ffi.string(lib.hat_event_last_error_message()).decode()
        return f'JSON form of {text!r:.200} not read back: {hat.status_name(st)}: {msg}'
    back = hat.ffi.gc(out[0], lib.hat_event_event_destroy)
    if not lib.hat_event_event_equal(back, ours_event.ptr):
        return f'JSON form of {text!r:.200}: read back differs'
    return None


@pytest.mark.parametrize('text', KNOWN_TEXTS)
def test_known_texts_python_reads(hat, text):
    msg = check_text(hat, text)
    assert msg is None, msg


def nested(depth, leaf, kinds):
    """Text of `depth` arrays/objects (picked by `kinds`, a str of 'a'/'o'/
    'm': one-item array, one-member object, array after a member) around
    `leaf`, loosely spaced so that it goes through the full parser."""
    opening, closing = [], []
    for i in range(depth):
        k = kinds[i % len(kinds)]
        if k == 'a':
            opening.append('[')
            closing.append(']')
        elif k == 'o':
            opening.append('{"k\\u00e9":')
            closing.append('}')
        else:
            opening.append('{"\\ud800": 0, "x":[1,')
            closing.append(']}')
    return ''.join(opening) + leaf + ''.join(reversed(closing))


def test_every_depth_to_a_thousand(hat, counter):
    fails = Failures('JSON depth')
    leaves = [r'"\udc00"', '1.50', r'"\ud83d\ude00"', 'null']
    n = 0
    for depth in range(1, DEEPEST + 1):
        text = nested(depth, leaves[depth % len(leaves)], ['a', 'o', 'm', 'aom'][depth % 4])
        fails.run(text, lambda t: check_text(hat, t))
        n += 1
    counter.add('JSON depth 1..1000 (payload, SBS both ways, JSON form both ways)', n)
    fails.check()


def test_deeper_than_python_reads(hat):
    # Deeper than Python's json goes; ours reads and writes it back.
    for depth in (10_000, 100_000):
        text = '[' * depth + r'"\ud800"' + ']' * depth
        st, payload = make_json_payload(hat, text)
        assert st == hat.lib.HAT_EVENT_OK
        assert json_text(hat, payload.ptr) == text
        form_event = Event(hat, oracle('1')._replace(payload=text))
        form = to_json(hat, hat.lib.hat_event_event_to_json, form_event.ptr)
        view, keep = hat.str_view(form)
        out = hat.ffi.new('hat_event_event_t **')
        hat.check(hat.lib.hat_event_event_from_json(view, out))
        back = hat.ffi.gc(out[0], hat.lib.hat_event_event_destroy)
        assert hat.lib.hat_event_event_equal(back, form_event.ptr)


def random_string(rng):
    parts = []
    for _ in range(rng.randrange(5)):
        r = rng.random()
        unit = rng.choice([rng.randrange(0xd800, 0xdc00), rng.randrange(0xdc00, 0xe000),
                           rng.randrange(0x20, 0x7f), rng.randrange(0x80, 0xd800), rng.randrange(0, 0x20)])
        if r < 0.6:
            hexdigits = f'{unit:04x}'
            parts.append('\\u' + (hexdigits.upper() if rng.random() < 0.3 else hexdigits))
        elif r < 0.7:
            parts.append(rng.choice(['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t']))
        elif 0x20 <= unit < 0xd800 and unit not in (0x22, 0x5c):
            parts.append(chr(unit))
        else:
            parts.append(rng.choice(['a', '\u00e9', '\U0001F600', '\x7f']))
    return '"' + ''.join(parts) + '"'


def random_text(rng, depth=0):
    ws = lambda: rng.choice(['', '', ' ', '\n\t'])
    k = rng.randrange(6 if depth < 4 else 3)
    if k == 0:
        return random_string(rng)
    if k == 1:
        return rng.choice(['0', '-0', '1.0', '1E2', 'true', 'null', '-12.50e-1', '1e400', 'NaN'])
    if k == 2:
        return rng.choice(['[]', '{}', '""'])
    if k == 3:
        return '[' + ','.join(ws() + random_text(rng, depth + 1) + ws() for _ in range(rng.randrange(4))) + ']'
    names = [random_string(rng) for _ in range(3)]
    members = [f'{ws()}{rng.choice(names)}{ws()}:{ws()}{random_text(rng, depth + 1)}'
               for _ in range(rng.randrange(5))]
    return '{' + ','.join(members) + '}'


def test_random_texts_python_reads(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/json_python_reads')
    fails = Failures('JSON text Python reads')
    for _ in range(cases):
        fails.run(random_text(rng), lambda t: check_text(hat, t))
        counter.add('JSON text Python reads (payload, SBS, JSON form)')
    fails.check()


def test_random_payload_equality_with_lone_surrogates(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/json_equal_surrogates')
    fails = Failures('JSON payload equality (surrogates)')

    def check(case):
        a, b = case
        theirs = json.loads(a) == json.loads(b)
        _, pa = make_json_payload(hat, a)
        _, pb = make_json_payload(hat, b)
        ours = hat.lib.hat_event_payload_equal(pa.ptr, pb.ptr)
        return None if ours == theirs else f'equal({a!r}, {b!r}): oracle {theirs}, ours {ours}'

    for _ in range(cases):
        a = random_string(rng)
        upper = re.sub(r'\\u([0-9a-f]{4})', lambda m: '\\u' + m.group(1).upper(), a)
        b = rng.choice([a, upper, random_string(rng)])
        wrap = rng.choice(['{}', '[{}]', '{{"k": {}}}', '{{{}: 1}}'])
        fails.run((wrap.format(a), wrap.format(b)), check)
        counter.add('JSON payload equality (surrogates)')
    fails.check()


def test_json_form_type_segments_must_be_unicode(hat):
    form = hat_json.encode(manager.event_to_json(oracle('1', type_=('a', 'b'))))
    bad = form.replace('"type": ["a", "b"]', '"type": ["a", "\\ud800"]')
    view, keep = hat.str_view(bad)
    out = hat.ffi.new('hat_event_event_t **')
    assert hat.lib.hat_event_event_from_json(view, out) == hat.lib.HAT_EVENT_ERR_INVALID_JSON
    msg = hat.ffi.string(hat.lib.hat_event_last_error_message()).decode()
    assert 'event.type[1]' in msg and 'lone surrogate' in msg, msg
