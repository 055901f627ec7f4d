"""Generate tests/golden/sbs_vectors.json: SBS golden vectors of every type
and message of the `HatEventer` schema module, encoded by the reference,
hat-event 0.9.44 (`hat.event.common.sbs_repo` and its `*_to_sbs` functions).

Run from anywhere with the Python that has hat-event installed:

    python tests/golden/make_vectors.py

The output is deterministic. Its sections:

- "vectors": {type, name, hex, value}: `hex` is the reference's encoding
  of the value that `value` describes (form below). Checked both ways:
  our encoding of `value` must equal `hex`, our decoding of `hex` must
  equal `value`.
- "decode_only": {type, name, hex, value, canonical_hex}: bytes the
  reference decodes although it would never write them (JSON payload text
  not in `json.dumps` form); `value` is what the reference decodes, and
  `canonical_hex` the reference's encoding of that value.
- "errors": {type, name, hex, error, reference}: bytes we refuse on
  purpose; `error` is the `SbsError` variant, `reference` what the
  reference does with them.

Value form (JSON): Timestamp {"s", "us"}; EventId {"server", "session",
"instance"}; Status, Order, OrderBy: the reference's enum value string;
EventType: list of strings; EventPayload {"binary": {"type", "data": hex}}
or {"json": value} (or {"json_text": text} for values nested too deep to
nest in this file); Event {"id", "type", "timestamp", "source_timestamp",
"payload"}; RegisterEvent {"type", "source_timestamp", "payload"}; query
params with the reference's snake_case field names; QueryParams
{"latest" | "timeseries" | "server": params}; QueryResult {"events",
"more_follows"}; MsgInitReq {"client_name", "client_token",
"subscriptions", "server_id", "persisted"}; MsgInitRes {"success": status}
or {"error": text}; MsgRegisterRes {"events": [...]} or {"failure": null};
MsgEventsAck null; other messages as the type they alias. An absent
optional is null.
"""

import json
import pathlib
import sys

from hat.event import common
from hat.event.common import encoder
from hat.sbs.serializer import CSerializer, PySerializer


OUT = pathlib.Path(__file__).with_name('sbs_vectors.json')

I64_MIN = -2 ** 63
I64_MAX = 2 ** 63 - 1


# --------------------------------------------------------------------------
# value -> JSON form

def opt(value, fn=lambda i: i):
    return None if value is None else fn(value)


def ts_form(t):
    return {'s': t.s, 'us': t.us}


def id_form(i):
    return {'server': i.server, 'session': i.session, 'instance': i.instance}


def depth(value):
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def payload_form(p):
    if isinstance(p, common.EventPayloadBinary):
        return {'binary': {'type': p.type, 'data': bytes(p.data).hex()}}
    if depth(p.data) > 100 or has_lone_surrogate(p.data):
        # Nested in this file, it would exceed serde_json's depth limit (with
        # which the test reads this file); serde_json refuses lone
        # surrogates.
        return {'json_text': json.dumps(p.data)}
    return {'json': p.data}


def has_lone_surrogate(data):
    try:
        json.dumps(data, ensure_ascii=False).encode('utf-8')
    except UnicodeEncodeError:
        return True
    return False


def types_form(types):
    return [list(t) for t in types]


def event_form(e):
    return {'id': id_form(e.id),
            'type': list(e.type),
            'timestamp': ts_form(e.timestamp),
            'source_timestamp': opt(e.source_timestamp, ts_form),
            'payload': opt(e.payload, payload_form)}


def register_event_form(e):
    return {'type': list(e.type),
            'source_timestamp': opt(e.source_timestamp, ts_form),
            'payload': opt(e.payload, payload_form)}


def latest_form(p):
    return {'event_types': opt(p.event_types, types_form)}


def timeseries_form(p):
    return {'event_types': opt(p.event_types, types_form),
            't_from': opt(p.t_from, ts_form),
            't_to': opt(p.t_to, ts_form),
            'source_t_from': opt(p.source_t_from, ts_form),
            'source_t_to': opt(p.source_t_to, ts_form),
            'order': p.order.value,
            'order_by': p.order_by.value,
            'max_results': p.max_results,
            'last_event_id': opt(p.last_event_id, id_form)}


def server_form(p):
    return {'server_id': p.server_id,
            'persisted': p.persisted,
            'max_results': p.max_results,
            'last_event_id': opt(p.last_event_id, id_form)}


def params_form(p):
    if isinstance(p, common.QueryLatestParams):
        return {'latest': latest_form(p)}
    if isinstance(p, common.QueryTimeseriesParams):
        return {'timeseries': timeseries_form(p)}
    return {'server': server_form(p)}


def result_form(r):
    return {'events': [event_form(e) for e in r.events],
            'more_follows': r.more_follows}


# --------------------------------------------------------------------------
# value -> SBS data (the reference's own converters wherever it has them)

def opt_sbs(value, fn=lambda i: i):
    return encoder._optional_to_sbs(value, fn)


def init_req_sbs(client_name, client_token, subscriptions, server_id,
                 persisted):
    return {'clientName': client_name,
            'clientToken': opt_sbs(client_token),
            'subscriptions': [list(t) for t in subscriptions],
            'serverId': opt_sbs(server_id),
            'persisted': persisted}


def init_req_form(client_name, client_token, subscriptions, server_id,
                  persisted):
    return {'client_name': client_name,
            'client_token': client_token,
            'subscriptions': [list(t) for t in subscriptions],
            'server_id': server_id,
            'persisted': persisted}


# --------------------------------------------------------------------------
# values

INTS = sorted({0, 1, -1, 63, 64, -64, -65, 127, 128, -128, -129, 8191, 8192,
               -8192, -8193, 1234567890123, -1234567890123, 2 ** 53 + 1,
               I64_MIN, I64_MIN + 1, I64_MAX, I64_MAX - 1,
               *(s * 2 ** (7 * k - 1) + d
                 for k in range(1, 10) for s in (1, -1) for d in (-1, 0))})

TS = [common.Timestamp(0, 0),
      common.Timestamp(0, 999_999),
      common.Timestamp(-1, 999_999),
      common.Timestamp(-1, 0),
      common.Timestamp(1_700_000_000, 123_456),
      common.Timestamp(-62_135_596_800, 0),
      common.Timestamp(253_402_300_799, 999_999),
      common.Timestamp(63, 64),
      common.Timestamp(64, 8191),
      common.Timestamp(8192, 8192),
      common.Timestamp(I64_MIN, 0),
      common.Timestamp(I64_MAX, 999_999),
      common.Timestamp(I64_MIN, 999_999),
      common.Timestamp(I64_MAX, 0)]

SEGMENTS = ['', 'a', '*', '?', 'abc def', 'ž', 'é日本', '😀', '𝄞x',
            '\U0010ffff', '\ud7ff\ue000\ufffd', '\ufeff', '\u2028\u2029',
            '\x00', '\x01\x1f\x7f\x80\x9f', '"', '\\', '/', "'",
            'a' * 63, 'b' * 64, 'c' * 8191, 'd' * 8192,
            'ж' * 100]

EVENT_TYPES = [(), ('',), ('a',), ('a', 'b', 'c'), ('a', '*'), ('?', 'x'),
               ('', '', ''), tuple(SEGMENTS[:19]),
               *((s,) for s in SEGMENTS),
               tuple(str(i) for i in range(64)),
               tuple(str(i) for i in range(65))]

JSON_VALUES = [
    None, True, False,
    0, 1, -1, 63, 64, I64_MAX, I64_MIN, 2 ** 64, -2 ** 64 - 1, 10 ** 40,
    -10 ** 40, 2 ** 200,
    0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1 / 3, 100.0, 1e15, 1e16, 1e22, 1e23,
    1e-05, 0.0001, 1.5e300, -1.5e-300, 5e-324, 2.2250738585072014e-308,
    1.7976931348623157e308, 123456789.125, 26755133183000.8125,
    9007199254740993.0, 12345678901234567.0, 0.30000000000000004,
    '', 'a', 'žé日', '😀𝄞', '\U0010ffff', ''.join(chr(i) for i in range(128)),
    '"quoted" \\back\\slash/', '\u2028\u2029\ufeff\x7f\x80\x9f\xa0\xff',
    'ж' * 100,
    [], {}, [[]], [{}], {'': None},
    [1, 'a', None, True, 1.5, [2, [3, [4]]]],
    {'b': 1, 'a': 2, 'c': 3},
    {'z': {'y': {'x': [1, {'w': None}]}}, 'a': [], '': {}},
    {'ключ': 'значение', '😀': [True, False], '"\\': '\n\t'},
    {str(i): i for i in range(20)},
    [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]],
]


def nested(depth):
    value = 0
    for i in range(depth):
        value = [value] if i % 2 else {'k': value}
    return value


JSON_VALUES.append(nested(127))
# What Python reads and writes though serde_json could not: lone surrogates
# (json.dumps writes them as \udXXX escapes) and deep nesting.
JSON_VALUES.extend(['\ud800', ['\udfff', 'x'], {'\udc00': 'a\ud83d', 'b': '\ud800\ud800'},
                    nested(128), nested(500)])

PAYLOADS = [
    common.EventPayloadBinary(type='', data=b''),
    common.EventPayloadBinary(type='x', data=bytes(range(256))),
    common.EventPayloadBinary(type='ž😀', data=b'\x00'),
    common.EventPayloadBinary(type='t', data=bytes(i % 251 for i in range(9000))),
    *(common.EventPayloadJson(data=v) for v in JSON_VALUES)]

IDS = [common.EventId(v, -v if v != I64_MIN else 0, (v * 7) % 1000 - 500)
       for v in INTS]

EVENT_SAMPLE_PAYLOADS = [None, PAYLOADS[0], PAYLOADS[1],
                         common.EventPayloadJson(data=None),
                         common.EventPayloadJson(
                             data={'b': [1, 2.5, 'ž'], 'a': None})]


def make_events():
    events = []
    n = 0
    for source_timestamp in (None, TS[0], TS[2], TS[-1]):
        for payload in EVENT_SAMPLE_PAYLOADS:
            events.append(common.Event(
                id=IDS[n % len(IDS)],
                type=EVENT_TYPES[n % 8],
                timestamp=TS[(n * 3) % len(TS)],
                source_timestamp=source_timestamp,
                payload=payload))
            n += 1
    return events


EVENTS = make_events()

REGISTER_EVENTS = [common.RegisterEvent(type=e.type,
                                        source_timestamp=e.source_timestamp,
                                        payload=e.payload)
                   for e in EVENTS]

QUERY_TYPES = [[], [()], [('a', '*')], [('a', '*'), ('?',), ('b', 'c'), ('*',)],
               [('ž', '😀', '')]]

LATEST = [common.QueryLatestParams(event_types=None),
          *(common.QueryLatestParams(event_types=t) for t in QUERY_TYPES)]

TIMESERIES = [
    common.QueryTimeseriesParams(),
    common.QueryTimeseriesParams(
        event_types=[('a', '*')], t_from=TS[0], t_to=TS[-1],
        source_t_from=TS[2], source_t_to=TS[3],
        order=common.Order.ASCENDING,
        order_by=common.OrderBy.SOURCE_TIMESTAMP,
        max_results=100, last_event_id=IDS[5]),
    common.QueryTimeseriesParams(event_types=[]),
    common.QueryTimeseriesParams(t_from=TS[10]),
    common.QueryTimeseriesParams(t_to=TS[11]),
    common.QueryTimeseriesParams(source_t_from=TS[4]),
    common.QueryTimeseriesParams(source_t_to=TS[5]),
    common.QueryTimeseriesParams(order=common.Order.ASCENDING),
    common.QueryTimeseriesParams(order_by=common.OrderBy.SOURCE_TIMESTAMP),
    common.QueryTimeseriesParams(max_results=0),
    common.QueryTimeseriesParams(max_results=-1),
    common.QueryTimeseriesParams(max_results=I64_MAX),
    common.QueryTimeseriesParams(last_event_id=IDS[0]),
    common.QueryTimeseriesParams(last_event_id=IDS[-1],
                                 event_types=QUERY_TYPES[3])]

SERVER = [common.QueryServerParams(server_id=0),
          common.QueryServerParams(server_id=1, persisted=True),
          common.QueryServerParams(server_id=-1, max_results=10),
          common.QueryServerParams(server_id=I64_MAX, persisted=True,
                                   max_results=I64_MIN,
                                   last_event_id=IDS[3]),
          common.QueryServerParams(server_id=I64_MIN,
                                   last_event_id=IDS[-2])]

RESULTS = [common.QueryResult(events=[], more_follows=False),
           common.QueryResult(events=[], more_follows=True),
           common.QueryResult(events=EVENTS[:1], more_follows=False),
           common.QueryResult(events=EVENTS[:7], more_follows=True),
           common.QueryResult(events=EVENTS, more_follows=False)]


# --------------------------------------------------------------------------
# generation

vectors = []
decode_only = []
errors = []


def encode(type_name, data, serializer=CSerializer):
    return common.sbs_repo.encode(f'HatEventer.{type_name}', data,
                                  serializer=serializer)


def decode(type_name, data, serializer=CSerializer):
    return common.sbs_repo.decode(f'HatEventer.{type_name}', data,
                                  serializer=serializer)


def add(type_name, name, data, form, value=None, from_sbs=None):
    """Encode `data` with the reference; check it decodes back."""
    encoded = encode(type_name, data)
    assert encoded == encode(type_name, data, PySerializer), name
    decoded = decode(type_name, encoded)
    assert decoded == decode(type_name, encoded, PySerializer), name
    assert decoded == data, (name, decoded, data)
    if from_sbs is not None:
        assert from_sbs(decoded) == value, name
    vectors.append({'type': type_name, 'name': name, 'hex': encoded.hex(),
                    'value': form})


def short(x, limit=40):
    text = repr(x)
    return text if len(text) <= limit else f'{text[:limit]}...({len(text)})'


def generate():
    for t in TS:
        add('Timestamp', short(t), common.timestamp_to_sbs(t), ts_form(t),
            t, common.timestamp_from_sbs)

    for i in IDS:
        add('EventId', short(i, 80), encoder._event_id_to_sbs(i), id_form(i),
            i, encoder._event_id_from_sbs)

    for status in common.Status:
        add('Status', status.value, common.status_to_sbs(status),
            status.value, status, common.status_from_sbs)
        add('MsgStatusNotify', status.value, common.status_to_sbs(status),
            status.value)
        add('MsgInitRes', f'success {status.value}',
            ('success', common.status_to_sbs(status)),
            {'success': status.value})
    for message in ['', 'error', 'greška ž 😀', 'x' * 100]:
        add('MsgInitRes', f'error {short(message)}', ('error', message),
            {'error': message})

    for order in common.Order:
        add('Order', order.value, (order.value, None), order.value)
    for order_by in common.OrderBy:
        add('OrderBy', order_by.value, (order_by.value, None), order_by.value)

    for t in EVENT_TYPES:
        add('EventType', short(t), list(t), list(t), t, tuple)

    for p in PAYLOADS:
        add('EventPayload', short(p), common.event_payload_to_sbs(p),
            payload_form(p), p, common.event_payload_from_sbs)

    for e in EVENTS:
        add('Event', short(e, 80), common.event_to_sbs(e), event_form(e), e,
            common.event_from_sbs)
    # every payload inside an event
    for n, p in enumerate(PAYLOADS):
        e = common.Event(id=IDS[n % len(IDS)], type=('p', str(n)),
                         timestamp=TS[n % len(TS)], source_timestamp=None,
                         payload=p)
        add('Event', f'payload {short(p)}', common.event_to_sbs(e),
            event_form(e), e, common.event_from_sbs)

    for e in REGISTER_EVENTS:
        add('RegisterEvent', short(e, 80), common.register_event_to_sbs(e),
            register_event_form(e), e, common.register_event_from_sbs)

    def params_from(kind):
        return lambda d: common.query_params_from_sbs((kind, d))

    for p in LATEST:
        add('QueryLatestParams', short(p, 80),
            common.query_params_to_sbs(p)[1], latest_form(p), p,
            params_from('latest'))
    for p in TIMESERIES:
        add('QueryTimeseriesParams', short(p, 80),
            common.query_params_to_sbs(p)[1], timeseries_form(p), p,
            params_from('timeseries'))
    for p in SERVER:
        add('QueryServerParams', short(p, 80),
            common.query_params_to_sbs(p)[1], server_form(p), p,
            params_from('server'))
    for p in [*LATEST, *TIMESERIES, *SERVER]:
        add('QueryParams', short(p, 80), common.query_params_to_sbs(p),
            params_form(p), p, common.query_params_from_sbs)
        add('MsgQueryReq', short(p, 80), common.query_params_to_sbs(p),
            params_form(p), p, common.query_params_from_sbs)

    for r in RESULTS:
        add('QueryResult', short(r, 80), common.query_result_to_sbs(r),
            result_form(r), r, common.query_result_from_sbs)
        add('MsgQueryRes', short(r, 80), common.query_result_to_sbs(r),
            result_form(r), r, common.query_result_from_sbs)

    for args in [('', None, [], None, False),
                 ('client', 'token', [('a', '*')], 1, True),
                 ('klijent ž 😀', '', [(), ('*',), ('a', '?', 'c')], 0, False),
                 ('c', None, QUERY_TYPES[3], I64_MIN, True),
                 ('c', 't' * 200, [], I64_MAX, False),
                 ('c', None, [], -1, False)]:
        add('MsgInitReq', short(args, 80), init_req_sbs(*args),
            init_req_form(*args))

    for events in [[], EVENTS[:1], EVENTS[:3], EVENTS]:
        add('MsgEventsNotify', f'{len(events)} events',
            [common.event_to_sbs(e) for e in events],
            [event_form(e) for e in events])
        add('MsgRegisterRes', f'{len(events)} events',
            ('events', [common.event_to_sbs(e) for e in events]),
            {'events': [event_form(e) for e in events]})
    add('MsgRegisterRes', 'failure', ('failure', None), {'failure': None})

    for events in [[], REGISTER_EVENTS[:1], REGISTER_EVENTS[:4],
                   REGISTER_EVENTS]:
        add('MsgRegisterReq', f'{len(events)} register events',
            [common.register_event_to_sbs(e) for e in events],
            [register_event_form(e) for e in events])

    add('MsgEventsAck', 'none', None, None)

    # ----------------------------------------------------------------------
    # JSON payload text the reference never writes but decodes.
    for text in ['[1,2]', '{"a":1,"b":[true,false,null]}', ' 1E5 ', '-0',
                 '1.0e0', '1e-400', '12345678901234567890123.5',
                 '1.00000000000000011102230246251565404236316680908203125',
                 '"é😀"', '"\\u00E9\\uD83D\\uDE00"', '"\\/"',
                 '{"a": 1, "b": 2, "a": 3}', '\t[ 1 ,\n2 ]\r\n',
                 '-1.5E+3', '0.000001', '1E16', '"\\uD800"', '"x\\udc00\\u0041"',
                 '["\\ud800\\uDC00", "\\ud800\\n"]', '{"\\udfff": 1, "\\uDFFF": 2}']:
        data = ('json', text)
        encoded = encode('EventPayload', data)
        payload = common.event_payload_from_sbs(decode('EventPayload',
                                                       encoded))
        canonical = encode('EventPayload',
                           common.event_payload_to_sbs(payload))
        assert canonical != encoded or text == '"\\/"', text
        decode_only.append({'type': 'EventPayload', 'name': f'json {text!r}',
                            'hex': encoded.hex(),
                            'value': payload_form(payload),
                            'canonical_hex': canonical.hex()})

    # ----------------------------------------------------------------------
    # Bytes we refuse on purpose.
    def error(type_name, name, encoded, kind):
        try:
            reference = decode(type_name, encoded)
            if type_name == 'EventPayload':
                reference = common.event_payload_from_sbs(reference)
            reference = repr(reference)
        except Exception as e:
            reference = f'error: {e!r}'
        errors.append({'type': type_name, 'name': name, 'hex': encoded.hex(),
                       'error': kind, 'reference': reference})

    for v in [2 ** 63, -2 ** 63 - 1, 2 ** 64, 2 ** 69 - 1, -2 ** 69]:
        error('EventId', f'server {v}',
              encode('EventId', {'server': v, 'session': 0, 'instance': 0},
                     PySerializer),
              'IntegerOutOfRange')
    for us in [1_000_000, -1, 2 ** 32]:
        error('Timestamp', f'us {us}',
              encode('Timestamp', {'s': 0, 'us': us}), 'InvalidValue')
    error('EventId', 'overlong 0', bytes([0x00, 0x80, 0x80, 0x80]),
          'OverlongInteger')
    error('EventId', 'overlong -1', bytes([0x80, 0x80, 0x7f, 0xff]),
          'OverlongInteger')
    error('QueryServerParams', 'persisted byte 2',
          bytes([0x81, 0x02, 0x80, 0x80]), 'InvalidBoolean')
    error('Status', 'trailing byte', bytes([0x82, 0x00]), 'TrailingBytes')
    error('MsgEventsAck', 'trailing byte', bytes([0x80]), 'TrailingBytes')
    # (JSON text the reference reads is read: NaN and the infinities decode
    # and, as in the reference, do not encode; see src/sbs.rs's tests.)
    for text in ['[1,]', '"\\u12"', '"\\ud800\\u12G4"', '-NaN']:
        error('EventPayload', f'json {text}',
              encode('EventPayload', ('json', text)), 'InvalidJson')


def write():
    def section(entries):
        return ',\n'.join('    ' + json.dumps(entry) for entry in entries)

    text = ('{\n'
            '  "generator": "tests/golden/make_vectors.py with hat-event '
            f'{version()}",\n'
            f'  "vectors": [\n{section(vectors)}\n  ],\n'
            f'  "decode_only": [\n{section(decode_only)}\n  ],\n'
            f'  "errors": [\n{section(errors)}\n  ]\n'
            '}\n')
    OUT.write_text(text, encoding='ascii')


def version():
    from importlib.metadata import version
    return version('hat-event')


if __name__ == '__main__':
    sys.setrecursionlimit(10_000)   # depth() and json.dumps of nested(500)
    generate()
    write()
    counts = {}
    for v in vectors:
        counts[v['type']] = counts.get(v['type'], 0) + 1
    print(f'{len(vectors)} vectors, {len(decode_only)} decode-only, '
          f'{len(errors)} errors -> {OUT}', file=sys.stderr)
    for type_name, count in counts.items():
        print(f'  {type_name}: {count}', file=sys.stderr)
