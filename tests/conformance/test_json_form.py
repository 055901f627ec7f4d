"""The JSON form against hat-event's manager: our text must be
hat.json.encode(manager.common.event_to_json(event)) (and query results
likewise), and reading it back must give the same event."""

import json
import random

from hat import json as hat_json
from hat.event import common
from hat.event.manager import common as manager

from conftest import Failures
from test_data import Event, rand_event
from test_sbs import oracle_event


def to_json(hat, fn, handle):
    out = hat.ffi.new('hat_event_buffer_t **')
    hat.check(fn(handle, out))
    buf = hat.ffi.gc(out[0], hat.lib.hat_event_buffer_destroy)
    return hat.ffi.unpack(hat.ffi.cast('char *', hat.lib.hat_event_buffer_data(buf)),
                          hat.lib.hat_event_buffer_len(buf)).decode('utf-8')


def check_json_form(hat, case):
    events, more = case
    lib, ffi = hat.lib, hat.ffi
    handles = [Event(hat, e) for e in events]
    for e, h in zip(events, handles):
        theirs = hat_json.encode(manager.event_to_json(oracle_event(e)))
        ours = to_json(hat, lib.hat_event_event_to_json, h.ptr)
        if ours != theirs:
            return f'{e!r:.200}: ours {ours[:200]}, manager {theirs[:200]}'
        view, keep = hat.str_view(ours)
        out = ffi.new('hat_event_event_t **')
        hat.check(lib.hat_event_event_from_json(view, out))
        back = ffi.gc(out[0], lib.hat_event_event_destroy)
        if not lib.hat_event_event_equal(back, h.ptr):
            return f'{ours[:200]}: read back differs'
    out = ffi.new('hat_event_query_result_t **')
    hat.check(lib.hat_event_query_result_create(more, out))
    r = ffi.gc(out[0], lib.hat_event_query_result_destroy)
    for h in handles:
        hat.check(lib.hat_event_query_result_append(r, h.ptr))
    theirs = hat_json.encode(manager.query_result_to_json(
        common.QueryResult(events=[oracle_event(e) for e in events], more_follows=more)))
    ours = to_json(hat, lib.hat_event_query_result_to_json, r)
    if ours != theirs:
        return f'result: ours {ours[:200]}, manager {theirs[:200]}'
    return None


def test_events_and_results_print_as_the_manager(hat, seed, cases, counter):
    # a result of up to 3 events per case: `cases` results and about 1.5
    # times as many events
    rng = random.Random(f'{seed}/json_form')
    fails = Failures('JSON form')
    for _ in range(cases):
        case = ([rand_event(rng) for _ in range(rng.randrange(4))], rng.random() < 0.5)
        if fails.run(case, lambda c: check_json_form(hat, c)):
            counter.add('JSON form event', len(case[0]))
            counter.add('JSON form query result')
    fails.check()


def test_bad_json_forms_are_refused_with_the_member_named(hat):
    good = hat_json.encode(manager.event_to_json(common.Event(
        id=common.EventId(1, 2, 3), type=('a',), timestamp=common.Timestamp(1, 2),
        source_timestamp=None, payload=None)))
    for text, needle in [(good.replace('"s": 1', '"s": "1"'), 'timestamp.s'),
                         (good.replace('"type": ["a"]', '"type": "a"'), 'type'),
                         (json.dumps([1]), 'object')]:
        view, keep = hat.str_view(text)
        out = hat.ffi.new('hat_event_event_t **')
        assert hat.lib.hat_event_event_from_json(view, out) == hat.lib.HAT_EVENT_ERR_INVALID_JSON
        assert needle in hat.ffi.string(hat.lib.hat_event_last_error_message()).decode()
