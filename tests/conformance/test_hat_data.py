"""Every case of hat-event's test_pytest/test_common/test_data.py, through
our C ABI: for each value, our SBS bytes equal the oracle's, and decoding
the oracle's bytes gives back an equal value (hat's own test checks its
to_sbs/from_sbs round trip; the bytes are where a C peer meets it)."""

import json

import pytest

from hat.event import common

from test_data import Event
from test_sbs import make_params, decode, encode
from test_messages import make_register_event

NOW = common.now()
JSON_DATA = [{}, None, [], True, False, 1, 2.5, "123"]


def as_text_payload(payload):
    """test_data's Event/make_payload take JSON payloads as text."""
    if isinstance(payload, common.EventPayloadJson):
        return json.dumps(payload.data)
    return payload


def our_event(hat, event):
    return Event(hat, event._replace(payload=as_text_payload(event.payload))).ptr


def assert_both_ways(hat, name, ours, theirs):
    """Our handle `ours` of C type hat_event_<name>_t encodes to the oracle's
    bytes `theirs`, and decoding them gives a value equal to `ours`."""
    lib = hat.lib
    assert encode(hat, getattr(lib, f'hat_event_{name}_encode'), ours) == theirs
    st, back = decode(hat, getattr(lib, f'hat_event_{name}_decode'), f'hat_event_{name}_t',
                      getattr(lib, f'hat_event_{name}_destroy'), theirs)
    assert st == lib.HAT_EVENT_OK and getattr(lib, f'hat_event_{name}_equal')(back, ours)


EVENTS = [
    common.Event(id=common.EventId(0, 0, 0), type=('a',), timestamp=NOW, source_timestamp=None, payload=None),
    common.Event(id=common.EventId(0, 0, 0), type=('a',), timestamp=NOW, source_timestamp=NOW,
                 payload=common.EventPayloadBinary(type='abc', data=b'123')),
    common.Event(id=common.EventId(123, 456, 789), type=('a', 'b', 'c'), timestamp=NOW, source_timestamp=NOW,
                 payload=common.EventPayloadJson(data=None)),
    common.Event(id=common.EventId(123, 456, 789), type=('a', 'b', 'c'), timestamp=NOW, source_timestamp=NOW,
                 payload=common.EventPayloadJson(data=JSON_DATA)),
]

REGISTER_EVENTS = [
    common.RegisterEvent(type=('a',), source_timestamp=None, payload=None),
    common.RegisterEvent(type=('a',), source_timestamp=NOW, payload=common.EventPayloadBinary(type='abc', data=b'123')),
    common.RegisterEvent(type=('a', 'b', 'c'), source_timestamp=NOW, payload=common.EventPayloadJson(data=None)),
    common.RegisterEvent(type=('a', 'b', 'c'), source_timestamp=NOW, payload=common.EventPayloadJson(data=JSON_DATA)),
]

PARAMS = [
    common.QueryLatestParams(),
    common.QueryLatestParams(event_types=[]),
    common.QueryLatestParams(event_types=[('a',), ('a', 'b', 'c')]),
    common.QueryTimeseriesParams(),
    common.QueryTimeseriesParams(event_types=[('a',), ('a', 'b', 'c')], t_from=NOW, t_to=NOW, source_t_from=NOW,
                                 source_t_to=NOW, order=common.Order.ASCENDING,
                                 order_by=common.OrderBy.SOURCE_TIMESTAMP, max_results=123,
                                 last_event_id=common.EventId(1, 2, 3)),
    common.QueryServerParams(server_id=123),
    common.QueryServerParams(server_id=321, persisted=True, max_results=123, last_event_id=common.EventId(3, 2, 1)),
]

RESULTS = [
    common.QueryResult(events=[], more_follows=False),
    common.QueryResult(events=[EVENTS[0]], more_follows=False),
]


@pytest.mark.parametrize("status", list(common.Status))
def test_status_sbs(hat, status):
    theirs = common.sbs_repo.encode('HatEventer.MsgStatusNotify', common.status_to_sbs(status))
    out = hat.ffi.new('hat_event_msg_t **')
    hat.check(hat.lib.hat_event_msg_create_status_notify(getattr(hat.lib, f'HAT_EVENT_SERVER_STATUS_{status.name}'), out))
    msg = hat.ffi.gc(out[0], hat.lib.hat_event_msg_destroy)
    from test_messages import encode as encode_msg
    assert encode_msg(hat, msg) == theirs


@pytest.mark.parametrize("event", EVENTS)
def test_event_sbs(hat, event):
    theirs = common.sbs_repo.encode('HatEventer.Event', common.event_to_sbs(event))
    ours = our_event(hat, event)
    assert_both_ways(hat, 'event', ours, theirs)


@pytest.mark.parametrize("register_event", REGISTER_EVENTS)
def test_register_event_sbs(hat, register_event):
    theirs = common.sbs_repo.encode('HatEventer.RegisterEvent', common.register_event_to_sbs(register_event))
    ours = make_register_event(hat, register_event._replace(payload=as_text_payload(register_event.payload)))
    assert_both_ways(hat, 'register_event', ours, theirs)


@pytest.mark.parametrize("params", PARAMS)
def test_query_params_sbs(hat, params):
    theirs = common.sbs_repo.encode('HatEventer.QueryParams', common.query_params_to_sbs(params))
    ours = make_params(hat, params)
    assert_both_ways(hat, 'query_params', ours, theirs)


@pytest.mark.parametrize("result", RESULTS)
def test_query_result_sbs(hat, result):
    theirs = common.sbs_repo.encode('HatEventer.QueryResult', common.query_result_to_sbs(result))
    out = hat.ffi.new('hat_event_query_result_t **')
    hat.check(hat.lib.hat_event_query_result_create(result.more_follows, out))
    ours = hat.ffi.gc(out[0], hat.lib.hat_event_query_result_destroy)
    for e in result.events:
        hat.check(hat.lib.hat_event_query_result_append(ours, our_event(hat, e)))
    assert_both_ways(hat, 'query_result', ours, theirs)
