"""hat-event's own LMDB backend tests, run against our LMDB backend.

The scenarios of hat-event's `test_pytest/test_backends/test_lmdb/` that
test behaviour through the backend interface (create, register with ids the
test chooses, query, get_last_event_id, flush, async_close), ported here and
run through a thin wrapper over our C API's backend instances
(backend_instance_support.py). Each scenario runs on both backends: ours
(`ours`) and hat's real one (`hat`, `hat.event.backends.lmdb.info.create`),
with hat's assertions; where cheap, the two answers are compared too.

Source: github.com/hat-open/hat-event, the newest stored snapshot
(commit aace2b4, pyproject version 0.9.42; hat-event's repository has no
0.9.44 tag and the test_lmdb directory last changed in 9e78de5, 2025-01-31,
so these tests are what 0.9.44 shipped with). The backend under comparison
is the installed hat-event 0.9.44.

Ported (test_backend.py): test_validate_conf, test_create,
test_get_last_event_id, test_query, test_cleanup.
Ported (test_conditions.py): every case of test_conditions, as events
registered through the backend: a matching event is stored (in latest,
timeseries and the server query), a non-matching one is not; and the same
scenario compared answer for answer with hat's backend.
Ported as backend behaviour (the scenario and assertions of a test of one
sub-database, driven through the backend: see the section below):
test_latestdb.py: test_add_replace, test_query, test_subscription,
test_conditions; test_timeseriesdb.py: test_query_max_results,
test_query_timestamps, test_query_event_types, test_query_last_event_id,
test_limit_max_entries, test_limit_duration, test_limit_size;
test_refdb.py: test_query, test_query_persisted, test_query_max_results,
test_query_last_event_id, test_cleanup.

Skipped, and why (Python internals, no counterpart in a backend's
interface):
- test_conditions.py's direct call of `conditions.Conditions(conf)
  .matches(event)` (its cases are ported as behaviour, above).
- test_latestdb.py::test_create, test_add (the `AddResult` of `add`:
  added_ref/removed_ref); test_timeseriesdb.py::test_create, test_add (the
  refs `add` returns); test_refdb.py::test_create, test_add, test_remove,
  test_remove_added (RefDb's bookkeeping of refs); test_systemdb.py (the
  system sub-database's stored version, identifier, last event ids and
  timestamps; the version and identifier checks are covered by test_lmdb.py's
  hostile-file tests); test_environment.py and test_common.py (hat's LMDB
  environment wrapper and key/value encoders; the file format is covered by
  test_lmdb.py's cross-open tests).
- Differences in porting: the events get fixed, distinct timestamps
  (1000000 + i seconds) where hat's tests take `common.now()` (equal or
  increasing); a sub-database's write is the backend's flush, its cleanup
  the backend's cleanup loop (a 10 ms period and a 0.2 s wait).
"""

import asyncio
import functools

import pytest

from hat import aio
from hat import json
from hat.event.backends.lmdb import common
from hat.event.backends.lmdb import info

import backend_instance_support


def run_async(fn):
    """hat's tests are async (pytest-asyncio); this suite runs each on a new
    event loop."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))
    return wrapper


@pytest.fixture(params=['ours', 'hat'])
def create_backend(request, hat):
    """As hat's `info.create(conf, registered_events_cb, flushed_events_cb)`:
    ours through the C API, or hat's."""
    if request.param == 'ours':
        return functools.partial(backend_instance_support.create, hat, 'lmdb')

    async def create(conf, registered_events_cb, flushed_events_cb):
        return await aio.call(info.create, conf, registered_events_cb, flushed_events_cb)
    return create


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / 'db'


@pytest.fixture
def create_conf(db_path):
    # as hat's test_backend.py create_conf
    def create_conf(identifier=None,
                    flush_period=1,
                    cleanup_period=1,
                    conditions=[],
                    latest_subscriptions=[['*']],
                    timeseries=[{'order_by': 'TIMESTAMP',
                                 'subscriptions': [['*']]},
                                {'order_by': 'SOURCE_TIMESTAMP',
                                 'subscriptions': [['*']]}]):
        return {'db_path': str(db_path),
                'identifier': identifier,
                'flush_period': flush_period,
                'cleanup_period': cleanup_period,
                'conditions': conditions,
                'latest': {'subscriptions': latest_subscriptions},
                'timeseries': timeseries}

    return create_conf


# From hat's test_backend.py::test_validate_conf: hat validates the conf
# with its schema; ours validates it in create. Both accept hat's conf, and
# both refuse the same broken ones.
@pytest.mark.parametrize('broken', [
    {'flush_period': 'often'},
    {'db_path': None},
    {'latest': {}},
    {'timeseries': [{'order_by': 'NEWEST', 'subscriptions': [['*']]}]},
])
def test_validate_conf(create_conf, hat, broken):
    conf = create_conf()
    validator = json.DefaultSchemaValidator(info.json_schema_repo)
    validator.validate(info.json_schema_id, conf)

    async def ours(conf):
        backend = await backend_instance_support.create(hat, 'lmdb', conf)
        await backend.async_close()
    asyncio.run(ours(conf))

    bad = {**conf, **broken}
    with pytest.raises(Exception):
        validator.validate(info.json_schema_id, bad)
    with pytest.raises(hat.Error) as e:
        asyncio.run(ours(bad))
    assert e.value.status == hat.lib.HAT_EVENT_ERR_SCHEMA


# hat's test_backend.py::test_create
@run_async
async def test_create(create_conf, create_backend):
    conf = create_conf()

    backend = await create_backend(conf, None, None)

    assert backend.is_open

    await backend.async_close()
    assert not backend.is_open


# hat's test_backend.py::test_get_last_event_id
@run_async
async def test_get_last_event_id(create_conf, create_backend):
    server_id = 1
    event_id = common.EventId(server_id, 123, 321)

    conf = create_conf()

    backend = await create_backend(conf, None, None)

    last_event_id = await backend.get_last_event_id(server_id)
    assert last_event_id == common.EventId(server_id, 0, 0)

    event = common.Event(id=event_id,
                         type=('a', ),
                         timestamp=common.now(),
                         source_timestamp=None,
                         payload=None)
    await backend.register([event])

    last_event_id = await backend.get_last_event_id(server_id)
    assert last_event_id == event_id

    event = common.Event(id=event_id._replace(instance=event_id.instance + 1),
                         type=('a', ),
                         timestamp=common.now(),
                         source_timestamp=None,
                         payload=None)
    await backend.register([event])

    last_event_id = await backend.get_last_event_id(server_id)
    assert last_event_id == event_id._replace(instance=event_id.instance + 1)

    # (not in hat's test) another server's id is its own
    assert await backend.get_last_event_id(2) == common.EventId(2, 0, 0)

    await backend.async_close()

    # (not in hat's test) and it survives a reopen
    backend = await create_backend(conf, None, None)
    last_event_id = await backend.get_last_event_id(server_id)
    assert last_event_id == event_id._replace(instance=event_id.instance + 1)
    await backend.async_close()


# hat's test_backend.py::test_query
@run_async
async def test_query(create_conf, create_backend):
    server_id = 1
    event_id = common.EventId(server_id, 123, 321)
    event = common.Event(id=event_id,
                         type=('a', ),
                         timestamp=common.now(),
                         source_timestamp=None,
                         payload=None)

    conf = create_conf()

    backend = await create_backend(conf, None, None)

    await backend.register([event])

    for _ in range(2):
        for params in [common.QueryLatestParams(),
                       common.QueryTimeseriesParams(),
                       common.QueryServerParams(server_id)]:
            result = await backend.query(params)

            assert list(result.events) == [event]
            assert not result.more_follows

        await backend.flush()

    await backend.async_close()


# hat's test_backend.py::test_cleanup
@run_async
async def test_cleanup(create_conf, create_backend):
    server_id = 1
    event_id = common.EventId(server_id, 123, 321)
    event = common.Event(id=event_id,
                         type=('a', ),
                         timestamp=common.now(),
                         source_timestamp=None,
                         payload=None)

    conf = create_conf(flush_period=0.001,
                       cleanup_period=0.001,
                       latest_subscriptions=[],
                       timeseries=[{'order_by': 'TIMESTAMP',
                                    'subscriptions': [['*']],
                                    'limit': {'max_entries': 0}}])

    backend = await create_backend(conf, None, None)

    await backend.register([event])

    await asyncio.sleep(0.1)

    for params in [common.QueryTimeseriesParams(),
                   common.QueryServerParams(server_id)]:
        result = await backend.query(params)

        assert list(result.events) == []
        assert not result.more_follows

    await backend.async_close()


# (not in hat's suite, but its callbacks' contract) registered_events_cb
# gets what register stored, flushed_events_cb what flush made durable.
@run_async
async def test_callbacks(create_conf, create_backend):
    registered, flushed = [], []
    events = [common.Event(id=common.EventId(1, 5, i),
                           type=('a', str(i)),
                           timestamp=common.Timestamp(100, i),
                           source_timestamp=None,
                           payload=common.EventPayloadJson(i))
              for i in (1, 2)]
    backend = await create_backend(create_conf(flush_period=1000), registered.extend, flushed.extend)
    await backend.register(events)
    assert registered == events
    await backend.flush()
    assert flushed == events
    await backend.async_close()


# hat's test_conditions.py::test_conditions cases (conf, matching,
# not_matching); there the events all have id (1, 2, 3) and go to
# Conditions.matches. Here each gets its own id and is registered: a
# matching event is stored, a non-matching one is not.
def _event(event_type, payload):
    return (event_type, payload)


CONDITION_CASES = [
    ([{'subscriptions': [('a',)],
       'condition': {'type': 'json'}}],
     [_event(('a',), common.EventPayloadJson(None)),
      _event(('b',), None)],
     [_event(('a',), None),
      _event(('a',), common.EventPayloadBinary('', b''))]),

    ([{'subscriptions': [('*',)],
       'condition': {'type': 'any',
                     'conditions': [{'type': 'json',
                                     'data_value': 1},
                                    {'type': 'json',
                                     'data_value': 2}]}}],
     [_event(('a',), common.EventPayloadJson(1)),
      _event(('a',), common.EventPayloadJson(2))],
     [_event(('a',), common.EventPayloadJson(3))]),

    ([{'subscriptions': [('*',)],
       'condition': {'type': 'all',
                     'conditions': [{'type': 'json',
                                     'data_path': 'x',
                                     'data_value': 1},
                                    {'type': 'json',
                                     'data_path': 'y',
                                     'data_value': 2}]}}],
     [_event(('a',), common.EventPayloadJson({'x': 1, 'y': 2}))],
     [_event(('a',), common.EventPayloadJson({'x': 1})),
      _event(('a',), common.EventPayloadJson({'y': 2}))]),

    ([{'subscriptions': [('*',)],
       'condition': {'type': 'json',
                     'data_type': 'null'}}],
     [_event(('a',), common.EventPayloadJson(None))],
     [_event(('a',), common.EventPayloadJson(1))]),

    ([{'subscriptions': [('*',)],
       'condition': {'type': 'json',
                     'data_type': 'boolean'}}],
     [_event(('a',), common.EventPayloadJson(True))],
     [_event(('a',), common.EventPayloadJson(1))]),

    ([{'subscriptions': [('*',)],
       'condition': {'type': 'json',
                     'data_type': 'string'}}],
     [_event(('a',), common.EventPayloadJson('abc'))],
     [_event(('a',), common.EventPayloadJson(None))]),

    ([{'subscriptions': [('*',)],
       'condition': {'type': 'json',
                     'data_type': 'number'}}],
     [_event(('a',), common.EventPayloadJson(123))],
     [_event(('a',), common.EventPayloadJson(True))]),

    ([{'subscriptions': [('*',)],
       'condition': {'type': 'json',
                     'data_type': 'array'}}],
     [_event(('a',), common.EventPayloadJson([1, 2, 3]))],
     [_event(('a',), common.EventPayloadJson(None))]),

    ([{'subscriptions': [('*',)],
       'condition': {'type': 'json',
                     'data_type': 'object'}}],
     [_event(('a',), common.EventPayloadJson({}))],
     [_event(('a',), common.EventPayloadJson(None))]),
]


def _stored_ids(result):
    return {e.id for e in result.events}


async def _condition_scenario(create_backend, conf, matching, not_matching):
    """Registers each event in a session of its own; returns the ids of the
    matching and non-matching ones and the answers of the three queries,
    before and after a flush."""
    backend = await create_backend(conf, None, None)
    kinds = [(True, e) for e in matching] + [(False, e) for e in not_matching]
    ids = {True: set(), False: set()}
    for i, (match, (event_type, payload)) in enumerate(kinds):
        event = common.Event(id=common.EventId(1, 2 + i, 1),
                             type=event_type,
                             timestamp=common.Timestamp(1000 + i, 0),
                             source_timestamp=None,
                             payload=payload)
        await backend.register([event])
        ids[match].add(event.id)
    answers = []
    for _ in range(2):
        for params in [common.QueryLatestParams(),
                       common.QueryTimeseriesParams(),
                       common.QueryServerParams(1)]:
            result = await backend.query(params)
            # hat's timeseries answer holds a deque, ours a list
            answers.append(common.QueryResult(events=list(result.events), more_follows=result.more_follows))
        await backend.flush()
    await backend.async_close()
    return ids, answers


@pytest.mark.parametrize('conf, matching, not_matching', CONDITION_CASES)
@run_async
async def test_conditions(create_conf, create_backend, conf, matching, not_matching):
    ids, answers = await _condition_scenario(create_backend, create_conf(conditions=conf), matching, not_matching)
    for result in answers:
        stored = _stored_ids(result)
        assert not (stored & ids[False])
    # every matching event is in timeseries and the server query; latest
    # keeps one per type (the last matching one)
    for result in answers[1::3] + answers[2::3]:
        assert _stored_ids(result) == ids[True]
    latest_types = {e.type for e in answers[0].events}
    assert latest_types == {t for t, _ in matching}


# Both backends, the same condition scenarios: identical answers.
@pytest.mark.parametrize('conf, matching, not_matching', CONDITION_CASES)
def test_conditions_same_as_hat(create_conf, hat, tmp_path, conf, matching, not_matching):
    async def ours(conf):
        return await backend_instance_support.create(hat, 'lmdb', conf)

    async def hats(conf):
        return await aio.call(info.create, conf, None, None)

    results = []
    for name, create in (('ours', ours), ('hat', hats)):
        c = {**create_conf(conditions=conf), 'db_path': str(tmp_path / name)}
        results.append(asyncio.run(_condition_scenario(
            lambda conf, r, f, create=create: create(conf), c, matching, not_matching)))
    assert results[0] == results[1]


# --- hat's sub-database tests, as backend behaviour ---------------------------
#
# test_latestdb.py, test_timeseriesdb.py and test_refdb.py drive one
# sub-database of hat's backend; the scenarios below are theirs, driven
# through the backend instead: the sub-database's `add` is `register`, its
# write (`write_*_db`) is `flush`, its `cleanup` is the backend's cleanup
# loop (a short cleanup_period and a wait), a reopen of the environment is
# a close and a new create; a sub-database's `max_results` is the conf's
# `timeseries_max_results`. Assertions are hat's.

def _events(n, type_fn=lambda i: ('a',), payload_fn=lambda i: None, source_timestamp=False, session=1):
    events = []
    for i in range(n):
        t = common.Timestamp(1_000_000 + i, 0)
        events.append(common.Event(id=common.EventId(1, session, i + 1),
                                   type=type_fn(i),
                                   timestamp=t,
                                   source_timestamp=t if source_timestamp else None,
                                   payload=payload_fn(i)))
    return events


def _conf(create_conf, **kwargs):
    return {**create_conf(flush_period=1000, cleanup_period=1000), **kwargs}


# hat's test_latestdb.py::test_add_replace
@run_async
async def test_latest_add_replace(create_conf, create_backend):
    events = _events(2, type_fn=lambda i: ('a', 'b', 'c'))
    conf = _conf(create_conf)
    backend = await create_backend(conf, None, None)
    for event in events:
        await backend.register([event])
    result = await backend.query(common.QueryLatestParams())
    assert list(result.events) == [events[1]]
    await backend.async_close()

    backend = await create_backend(conf, None, None)
    result = await backend.query(common.QueryLatestParams())
    assert list(result.events) == [events[1]]
    await backend.async_close()


# hat's test_latestdb.py::test_query
@pytest.mark.parametrize('events_count', [1, 5])
@run_async
async def test_latest_query(create_conf, create_backend, events_count):
    events = _events(events_count, type_fn=lambda i: ('a', str(i)))
    conf = _conf(create_conf)
    backend = await create_backend(conf, None, None)
    for event in events:
        await backend.register([event])

    result = await backend.query(common.QueryLatestParams())
    assert set(result.events) == set(events)
    for event in events:
        result = await backend.query(common.QueryLatestParams([event.type]))
        assert list(result.events) == [event]
    await backend.async_close()

    backend = await create_backend(conf, None, None)
    result = await backend.query(common.QueryLatestParams([('a', '?')]))
    assert set(result.events) == set(events)
    await backend.async_close()


# hat's test_latestdb.py::test_subscription (reopened with the same
# subscription: hat's test reopens the sub-database with its default)
@pytest.mark.parametrize('events_count', [1, 5])
@run_async
async def test_latest_subscription(create_conf, create_backend, events_count):
    events = _events(events_count, type_fn=lambda i: ('a', str(i)))
    conf = _conf(create_conf, latest={'subscriptions': [list(events[0].type)]})
    backend = await create_backend(conf, None, None)
    for event in events:
        await backend.register([event])
    result = await backend.query(common.QueryLatestParams())
    assert list(result.events) == [events[0]]
    await backend.async_close()

    backend = await create_backend(conf, None, None)
    result = await backend.query(common.QueryLatestParams())
    assert list(result.events) == [events[0]]
    await backend.async_close()


# hat's test_latestdb.py::test_conditions: events stored without
# conditions, reopened with a condition the first fails: it is not served
@pytest.mark.parametrize('events_count', [1, 5])
@run_async
async def test_latest_conditions(create_conf, create_backend, events_count):
    events = _events(events_count, type_fn=lambda i: ('a', str(i)),
                     payload_fn=lambda i: common.EventPayloadJson(i))
    conf = _conf(create_conf)
    backend = await create_backend(conf, None, None)
    for event in events:
        await backend.register([event])
    await backend.async_close()

    conf = {**conf, 'conditions': [{'subscriptions': [list(events[0].type)],
                                    'condition': {'type': 'json', 'data_value': -1}}]}
    backend = await create_backend(conf, None, None)
    result = await backend.query(common.QueryLatestParams())
    assert set(result.events) == set(events[1:])
    await backend.async_close()


def _in_order(order, events):
    return list(reversed(events)) if order == common.Order.DESCENDING else list(events)


# hat's test_timeseriesdb.py::test_query_max_results (its db's max_results
# is len(events) - 1: the conf's timeseries_max_results)
@pytest.mark.parametrize('order', common.Order)
@pytest.mark.parametrize('order_by', common.OrderBy)
@run_async
async def test_timeseries_query_max_results(create_conf, create_backend, order, order_by):
    events = _events(4, source_timestamp=True)
    backend = await create_backend(_conf(create_conf, timeseries_max_results=len(events) - 1), None, None)
    params = common.QueryTimeseriesParams(order=order, order_by=order_by)

    async def query(max_results):
        result = await backend.query(params._replace(max_results=max_results))
        return list(result.events), result.more_follows

    assert await query(2) == ([], False)
    await backend.register([events[0]])
    assert await query(2) == ([events[0]], False)
    await backend.flush()
    assert await query(2) == ([events[0]], False)
    await backend.register([events[1]])
    assert await query(2) == (_in_order(order, events[:2]), False)
    await backend.register([events[2]])
    expected = [events[2], events[1]] if order == common.Order.DESCENDING else [events[0], events[1]]
    assert await query(2) == (expected, True)
    await backend.flush()
    assert await query(2) == (expected, True)
    assert await query(None) == (_in_order(order, events[:3]), False)
    await backend.register([events[3]])
    expected = [events[3], events[2], events[1]] if order == common.Order.DESCENDING else events[:3]
    assert await query(None) == (expected, True)
    await backend.flush()
    assert await query(None) == (expected, True)
    await backend.async_close()


# hat's test_timeseriesdb.py::test_query_timestamps
@pytest.mark.parametrize('order', common.Order)
@run_async
async def test_timeseries_query_timestamps(create_conf, create_backend, order):
    events = _events(4, source_timestamp=True)
    backend = await create_backend(_conf(create_conf, timeseries_max_results=len(events)), None, None)
    for event in events:
        await backend.register([event])
    params = common.QueryTimeseriesParams(order=order)

    async def query(**kwargs):
        return list((await backend.query(params._replace(**kwargs))).events)

    for _ in range(2):
        assert await query() == _in_order(order, events)
        assert await query(t_from=events[1].timestamp) == _in_order(order, events[1:])
        assert await query(source_t_from=events[1].source_timestamp) == _in_order(order, events[1:])
        assert await query(t_to=events[2].timestamp) == _in_order(order, events[:3])
        assert await query(source_t_to=events[2].source_timestamp) == _in_order(order, events[:3])
        assert await query(t_from=events[0].timestamp, t_to=events[3].timestamp,
                           source_t_from=events[0].source_timestamp,
                           source_t_to=events[3].source_timestamp) == _in_order(order, events)
        t = common.now()
        assert await query(t_from=t, t_to=t, source_t_from=t, source_t_to=t) == []
        await backend.flush()
    await backend.async_close()


# hat's test_timeseriesdb.py::test_query_event_types
@run_async
async def test_timeseries_query_event_types(create_conf, create_backend):
    events = _events(4, type_fn=lambda i: ('a', str(i)), source_timestamp=True)
    backend = await create_backend(_conf(create_conf, timeseries_max_results=len(events)), None, None)
    for event in events:
        await backend.register([event])
    for _ in range(2):
        for event in events:
            result = await backend.query(common.QueryTimeseriesParams(event_types=[event.type]))
            assert list(result.events) == [event]
        await backend.flush()
    await backend.async_close()


# hat's test_timeseriesdb.py::test_query_last_event_id
@run_async
async def test_timeseries_query_last_event_id(create_conf, create_backend):
    events = _events(4, type_fn=lambda i: ('a', str(i)), source_timestamp=True)
    backend = await create_backend(_conf(create_conf, timeseries_max_results=len(events)), None, None)
    for event in events:
        await backend.register([event])
    for _ in range(2):
        result = await backend.query(common.QueryTimeseriesParams(max_results=2))
        assert result.more_follows
        assert list(result.events) == [events[3], events[2]]
        result = await backend.query(common.QueryTimeseriesParams(last_event_id=events[2].id))
        assert not result.more_follows
        assert list(result.events) == [events[1], events[0]]
        await backend.flush()
    await backend.async_close()


# hat's test_timeseriesdb.py::test_limit_max_entries, test_limit_duration,
# test_limit_size (the cleanup hat's test calls is the backend's cleanup
# loop here; its events' timestamps are in the past, so duration 0 holds)
@pytest.mark.parametrize('limit', [{'max_entries': 2},
                                   {'min_entries': 2, 'duration': 0},
                                   {'min_entries': 2, 'size': 0}])
@run_async
async def test_timeseries_limit(create_conf, create_backend, limit):
    events = _events(4, type_fn=lambda i: ('a', str(i)))
    conf = {**create_conf(flush_period=1000, cleanup_period=0.01),
            'latest': {'subscriptions': []},
            'timeseries': [{'order_by': 'TIMESTAMP', 'subscriptions': [['*']], 'limit': limit}],
            'timeseries_max_results': len(events)}
    backend = await create_backend(conf, None, None)
    for event in events:
        await backend.register([event])
    result = await backend.query(common.QueryTimeseriesParams())
    assert not result.more_follows
    assert list(result.events) == [events[3], events[2], events[1], events[0]]

    await backend.flush()
    await asyncio.sleep(0.2)

    result = await backend.query(common.QueryTimeseriesParams())
    assert not result.more_follows
    assert list(result.events) == [events[3], events[2]]
    # hat's test_refdb.py::test_cleanup: the server query loses them too
    result = await backend.query(common.QueryServerParams(server_id=1))
    assert list(result.events) == [events[2], events[3]]
    await backend.async_close()


# hat's test_refdb.py::test_query
@pytest.mark.parametrize('event_count', [1, 5])
@run_async
async def test_server_query(create_conf, create_backend, event_count):
    events = _events(event_count)
    backend = await create_backend(_conf(create_conf), None, None)
    for event in events:
        await backend.register([event])
    for _ in range(2):
        result = await backend.query(common.QueryServerParams(server_id=1))
        assert list(result.events) == events
        assert not result.more_follows
        await backend.flush()
    await backend.async_close()


# hat's test_refdb.py::test_query_persisted
@run_async
async def test_server_query_persisted(create_conf, create_backend):
    events = _events(4)
    backend = await create_backend(_conf(create_conf), None, None)
    for event in events:
        await backend.register([event])
    params = common.QueryServerParams(server_id=1, persisted=True)
    result = await backend.query(params)
    assert list(result.events) == []
    assert not result.more_follows
    await backend.flush()
    result = await backend.query(params)
    assert list(result.events) == events
    assert not result.more_follows
    await backend.async_close()


# hat's test_refdb.py::test_query_max_results and test_query_last_event_id
@run_async
async def test_server_query_max_results_and_last_event_id(create_conf, create_backend):
    events = _events(4)
    backend = await create_backend(_conf(create_conf), None, None)
    for event in events:
        await backend.register([event])
    for _ in range(2):
        result = await backend.query(common.QueryServerParams(server_id=1, max_results=2))
        assert list(result.events) == events[:2]
        assert result.more_follows
        result = await backend.query(common.QueryServerParams(server_id=1, last_event_id=events[1].id))
        assert list(result.events) == events[2:]
        assert not result.more_follows
        await backend.flush()
    await backend.async_close()
