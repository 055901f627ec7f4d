"""Our LMDB backend against hat-event's (`hat.event.backends.lmdb`, 0.9.44).

- Differential: random workloads (types from a small alphabet, JSON, binary
  and absent payloads, source timestamps present and absent, conditions,
  several partitions with every limit kind, flushes, close and reopen)
  registered through ours (engine C API) and, event for event, through
  hat's LmdbBackend; random latest, timeseries and server queries must give
  identical results. See lmdb_support for how both get the same events.
- Cross-open: a file hat's backend wrote, opened by ours, and one ours wrote,
  opened by hat's, answer the same queries as before.
- Hostile files: truncated, foreign, another version or identifier: a clear
  error from ours (and a refusal from hat's too), never a crash.
"""

import json
import pathlib
import random
import subprocess
import sys
import threading
import time

import lmdb
import pytest

from hat.event import common

from lmdb_support import HatLmdb, OurLmdb, backend_conf, SERVER_ID

TYPES = [('a',), ('a', 'b'), ('a', 'c'), ('b',), ('b', 'x', 'y'), ('c',)]
QUERY_TYPES = [[('*',)], [('a', '*')], [('?',)], [('a', '?')], [('a',), ('b',)], [('a', 'b'), ('c',)],
               [('b', '*'), ('c',)], [('event', '*')], [('a', 'b')], [('zz',)], []]
SUBSCRIPTIONS = [[['*']], [['a', '*']], [['b', '*'], ['c']], [['a', 'b']], [['a'], ['a', 'c'], ['event', '*']]]
CONDITIONS = [
    [],
    [{'subscriptions': [['a', '*']],
      'condition': {'type': 'json', 'data_path': 'v', 'data_type': 'number'}}],
    [{'subscriptions': [['b', '*']],
      'condition': {'type': 'any', 'conditions': [
          {'type': 'json', 'data_type': 'null'},
          {'type': 'json', 'data_path': ['k'], 'data_value': True}]}},
     {'subscriptions': [['c']],
      'condition': {'type': 'all', 'conditions': [{'type': 'json', 'data_type': 'object'}]}}],
]


def rand_limit(rng):
    k = rng.randint(0, 8)
    return rng.choice([
        None,
        {'max_entries': k},
        {'min_entries': k, 'duration': 0},
        {'duration': 1e9},
        {'max_entries': k + 2, 'min_entries': k},
        {'size': rng.choice([1, 500, 2000, 10 ** 6])},
        {'size': 3000, 'min_entries': 2},
    ])


def rand_conf(rng, path):
    timeseries = []
    for _ in range(rng.randint(1, 3)):
        p = {'order_by': rng.choice(['TIMESTAMP', 'SOURCE_TIMESTAMP']),
             'subscriptions': rng.choice(SUBSCRIPTIONS)}
        limit = rand_limit(rng)
        if limit is not None:
            p['limit'] = limit
        timeseries.append(p)
    sized = [p for p in timeseries if 'size' in p.get('limit', {})]
    if sized:
        # The size limit reads the B-tree's page count, which depends on the
        # order of the puts; hat puts an event matching several partitions
        # in the order of a set of (id, partition) tuples (hash order, which
        # differs from run to run of hat itself). With one partition the
        # order is fixed and the results must agree.
        timeseries = sized[:1]
    extra = {}
    if rng.random() < 0.3:
        extra['timeseries_max_results'] = rng.randint(1, 6)
    return backend_conf(path, conditions=rng.choice(CONDITIONS),
                        latest=[tuple(t) for t in rng.choice(SUBSCRIPTIONS)],
                        timeseries=timeseries, **extra)


def rand_payload(rng):
    r = rng.random()
    if r < 0.2:
        return None
    if r < 0.35:
        return common.EventPayloadBinary(type=rng.choice(['t', 'u']), data=bytes(rng.randrange(256)
                                                                                 for _ in range(rng.randint(0, 6))))
    data = rng.choice([None, 1, 'x', [1, 2], {'v': rng.randint(-3, 3)}, {'v': 'no'}, {'k': True}, {'k': 1},
                       {'v': 1.5, 'k': False}])
    return common.EventPayloadJson(data)


def rand_register_event(rng):
    source_timestamp = (common.Timestamp(1000 + rng.randint(0, 15), rng.choice([0, 500000]))
                        if rng.random() < 0.7 else None)
    return common.RegisterEvent(type=rng.choice(TYPES), source_timestamp=source_timestamp,
                                payload=rand_payload(rng))


def rand_timestamp(rng, events, attr):
    stamps = [getattr(e, attr) for e in events if getattr(e, attr) is not None]
    if not stamps or rng.random() < 0.5:
        return None
    t = rng.choice(stamps)
    return t if rng.random() < 0.7 else t.add(rng.choice([-1e-6, 1e-6, -1, 1]))


def rand_query(rng, events):
    kind = rng.random()
    ids = [e.id for e in events]
    if kind < 0.25:
        types = rng.choice([None] + QUERY_TYPES)
        return common.QueryLatestParams(event_types=types)
    if kind < 0.8:
        return common.QueryTimeseriesParams(
            event_types=rng.choice([None, None] + QUERY_TYPES),
            t_from=rand_timestamp(rng, events, 'timestamp'),
            t_to=rand_timestamp(rng, events, 'timestamp'),
            source_t_from=rand_timestamp(rng, events, 'source_timestamp'),
            source_t_to=rand_timestamp(rng, events, 'source_timestamp'),
            order=rng.choice(list(common.Order)),
            order_by=(common.OrderBy.TIMESTAMP if rng.random() < 0.7 else common.OrderBy.SOURCE_TIMESTAMP),
            max_results=rng.choice([None, None, 0, 1, 2, 3, 5, 8]),
            last_event_id=rng.choice(ids) if ids and rng.random() < 0.3 else None)
    return common.QueryServerParams(
        server_id=SERVER_ID,
        persisted=rng.random() < 0.3,
        max_results=rng.choice([None, None, 0, 1, 2, 5]),
        last_event_id=rng.choice(ids) if ids and rng.random() < 0.3 else None)


def comparable(params, result):
    events = list(result.events)
    if isinstance(params, common.QueryLatestParams) and params.event_types is not None and not any(
            '*' in t or '?' in t for t in params.event_types):
        # hat answers exact types in the order of a Python set of them
        # (hash order): compare as a set.
        events.sort(key=lambda e: e.id)
    return events, result.more_follows


class Pair:
    """Ours and hat's on two files, fed the same events."""

    def __init__(self, hat, conf, tmp_path, n):
        self.hat = hat
        self.conf_ours = dict(conf, db_path=str(tmp_path / f'ours-{n}.db'))
        self.conf_hat = dict(conf, db_path=str(tmp_path / f'hat-{n}.db'))
        self.events = []
        self.theirs = None
        self.ours = None
        self.open()

    def _registered(self, events):
        # Called on our engine's thread, inside its register/create/close.
        self.pending.append(events)

    def _forward(self):
        while self.pending:
            batch = self.pending.pop(0)
            self.events.extend(batch)
            self.theirs.register(batch)

    def open(self):
        self.pending = []
        self.ours = OurLmdb(self.hat, self.conf_ours, registered=self._registered)
        self.theirs = HatLmdb(self.conf_hat)
        self._forward()

    def register(self, register_events):
        self.ours.register(register_events)
        self._forward()

    def flush(self):
        # Ours has no flush in the C API: a query that flushes in both
        # (ordered by source timestamp, when a partition is so ordered).
        params = common.QueryTimeseriesParams(order_by=common.OrderBy.SOURCE_TIMESTAMP, max_results=0)
        assert comparable(params, self.ours.query(params)) == comparable(params, self.theirs.query(params))

    def close(self):
        self.ours.close()
        self._forward()
        self.theirs.close()

    def reopen(self):
        self.close()
        self.open()


def check_case(hat, rng, tmp_path, n, steps):
    conf = rand_conf(rng, None)
    pair = Pair(hat, conf, tmp_path, n)
    log = [f'conf {conf}']
    queries = 0
    try:
        for i in range(steps):
            r = rng.random()
            if r < 0.55:
                batch = [rand_register_event(rng) for _ in range(rng.choice([1, 1, 2, 3, 5]))]
                pair.register(batch)
                log.append(f'register {batch}')
            elif r < 0.92:
                params = rand_query(rng, pair.events)
                ours, theirs = pair.ours.query(params), pair.theirs.query(params)
                queries += 1
                log.append(f'query {params}')
                assert comparable(params, ours) == comparable(params, theirs), (
                    f'case {n} step {i}: {params}\nours  {ours}\nhat   {theirs}\n' + '\n'.join(log[-60:]))
            elif r < 0.96:
                pair.flush()
                log.append('flush')
            else:
                pair.reopen()
                log.append('reopen')
        everything = common.QueryServerParams(server_id=SERVER_ID, max_results=10 ** 6)
        ours, theirs = pair.ours.query(everything), pair.theirs.query(everything)
        assert comparable(everything, ours) == comparable(everything, theirs), (
            f'case {n} at the end: ours {[tuple(e.id) for e in ours.events]}\n'
            f'hat {[tuple(e.id) for e in theirs.events]}\n{log[0]}\n' + '\n'.join(log[-60:]))
    finally:
        pair.close()
    return queries


def test_lmdb_backend_answers_as_hats_on_random_workloads(hat, seed, cases, counter, tmp_path):
    rng = random.Random(f'{seed}/lmdb')
    n_cases = max(4, cases // 400)
    queries = 0
    for n in range(n_cases):
        queries += check_case(hat, rng, tmp_path, n, steps=rng.randint(20, 80))
    counter.add('lmdb differential workloads', n_cases)
    counter.add('lmdb differential queries', queries)


# --- cross-open ----------------------------------------------------------------

# The engine's STARTED/STOPPED events match none of these, so a file keeps
# exactly the events the test registered whichever engine opens it; no
# limits, since opening cleans up (limits are the differential test's).
CROSS_CONF = dict(latest=[('a', '*'), ('b', '*'), ('c',)],
                  timeseries=[{'order_by': 'TIMESTAMP', 'subscriptions': [['a', '*'], ['c']]},
                              {'order_by': 'SOURCE_TIMESTAMP', 'subscriptions': [['*']]},
                              {'order_by': 'TIMESTAMP', 'subscriptions': [['b', '*']]}],
                  conditions=CONDITIONS[2])


def cross_queries(rng, events, n=150):
    queries = [common.QueryLatestParams(event_types=None),
               common.QueryServerParams(server_id=SERVER_ID, max_results=10 ** 6, persisted=True),
               common.QueryTimeseriesParams(max_results=10 ** 6),
               common.QueryTimeseriesParams(order_by=common.OrderBy.SOURCE_TIMESTAMP, max_results=10 ** 6),
               common.QueryTimeseriesParams(event_types=[('b', '*')], max_results=10 ** 6)]
    return queries + [rand_query(rng, events) for _ in range(n)]


def answers(backend, queries):
    return [comparable(q, backend.query(q)) for q in queries]


def test_a_file_hat_wrote_opens_in_ours_with_the_same_answers(hat, seed, tmp_path):
    rng = random.Random(f'{seed}/lmdb-cross-hat')
    conf = backend_conf(tmp_path / 'hat-wrote.db', **CROSS_CONF)
    theirs = HatLmdb(conf)
    events = []
    t = common.now()
    for session in range(2, 60):
        batch = []
        for instance in range(1, rng.randint(1, 5) + 1):
            e = rand_register_event(rng)
            batch.append(common.Event(id=common.EventId(SERVER_ID, session, instance), type=e.type,
                                      timestamp=t, source_timestamp=e.source_timestamp, payload=e.payload))
        t = t.add(rng.choice([0, 1e-6, 0.5]))
        theirs.register(batch)
        events.extend(batch)
        if rng.random() < 0.2:
            theirs.flush()
    theirs.flush()
    queries = cross_queries(rng, events)
    expected = answers(theirs, queries)
    last_id = theirs.last_event_id()
    theirs.close()
    assert len(expected[2][0]) > 20, 'the workload stored something'

    started = []
    ours = OurLmdb(hat, conf, registered=started.extend)
    try:
        assert started[0].id == common.EventId(SERVER_ID, last_id.session + 1, 1), 'ids continue'
        assert answers(ours, queries) == expected
    finally:
        ours.close()


def test_a_file_ours_wrote_opens_in_hats_and_its_manager_with_the_same_answers(hat, seed, tmp_path):
    rng = random.Random(f'{seed}/lmdb-cross-ours')
    path = tmp_path / 'ours-wrote.db'
    conf = backend_conf(path, **CROSS_CONF)
    registered = []
    ours = OurLmdb(hat, conf, registered=registered.extend)
    for _ in range(60):
        ours.register([rand_register_event(rng) for _ in range(rng.randint(1, 5))])
        if rng.random() < 0.2:
            ours.flush()
    queries = cross_queries(rng, registered)
    expected = answers(ours, queries)
    ours.close()
    stopped = registered[-1]
    assert stopped.payload.data == 'STOPPED'
    assert len(expected[2][0]) > 20, 'the workload stored something'

    theirs = HatLmdb(conf)
    try:
        assert answers(theirs, queries) == expected
        assert theirs.last_event_id() == max(e.id for e in expected[1][0])
    finally:
        theirs.close()

    manager = pathlib_bin('hat-event-lmdb-manager')
    for kind, query in (('timeseries', expected[2][0] + expected[3][0] + expected[4][0]), ('latest', expected[0][0])):
        out = subprocess.run([manager, 'query', '--db', str(path), kind], capture_output=True, text=True,
                             check=True).stdout
        read = {tuple(json.loads(line)['id'].values()) for line in out.splitlines() if line.strip()}
        assert read == {tuple(e.id) for e in query}, kind


def pathlib_bin(name):
    """A console script of the virtual environment this runs in."""
    return str(pathlib.Path(sys.executable).parent / name)


# --- hostile files ---------------------------------------------------------------

def our_error(hat, conf):
    try:
        OurLmdb(hat, conf).close()
    except hat.Error as e:
        return str(e)
    return None


def hat_refuses(conf):
    try:
        HatLmdb(conf).close()
    except Exception:
        return True
    return False


def write_file(hat, path, identifier='test'):
    ours = OurLmdb(hat, backend_conf(path, identifier=identifier))
    ours.register([common.RegisterEvent(type=('a',), source_timestamp=None,
                                        payload=common.EventPayloadJson(list(range(i)))) for i in range(200)])
    ours.close()


@pytest.mark.parametrize('case', ['truncated', 'foreign', 'text', 'other-lmdb', 'identifier', 'version'])
def test_a_hostile_file_is_refused_with_a_clear_error(hat, tmp_path, case):
    path = tmp_path / 'db'
    expected = {'truncated': 'truncated', 'foreign': 'not an LMDB file', 'text': 'not an LMDB file',
                'other-lmdb': 'database SYSTEM_SETTINGS is missing', 'identifier': 'invalid identifier',
                'version': 'invalid version'}[case]
    if case == 'truncated':
        write_file(hat, path)
        size = path.stat().st_size
        with open(path, 'r+b') as f:
            f.truncate(size // 2)
    elif case == 'foreign':
        path.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(64 * 1024)))
    elif case == 'text':
        path.write_text('not a database\n' * 1000)
    elif case == 'other-lmdb':
        env = lmdb.Environment(str(path), subdir=False, max_dbs=2)
        with env.begin(write=True) as txn:
            txn.put(b'key', b'value', db=env.open_db(b'OTHER', txn=txn))
        env.close()
    elif case == 'identifier':
        write_file(hat, path, identifier='another')
    elif case == 'version':
        write_file(hat, path)
        env = lmdb.Environment(str(path), subdir=False, max_dbs=9)
        with env.begin(write=True) as txn:
            txn.put((0).to_bytes(8, 'big'), b'"0.8"', db=env.open_db(b'SYSTEM_SETTINGS', txn=txn))
        env.close()
    conf = backend_conf(path)
    message = our_error(hat, conf)
    assert message is not None and expected in message, message
    assert 'lmdb backend' in message
    if case != 'truncated':
        # hat refuses these too (a truncated file it may open and then
        # crash on, which is what our check prevents).
        assert hat_refuses(conf)


# --- cleanup by each limit kind ------------------------------------------------

@pytest.mark.parametrize('limit', [{'max_entries': 7}, {'min_entries': 5, 'duration': 0}, {'duration': 0},
                                   {'duration': 1e9}, {'max_entries': 3, 'min_entries': 6}, {'size': 2500},
                                   {'size': 10 ** 7}, {'min_entries': 4}])
def test_cleanup_by_each_limit_kind_keeps_what_hats_keeps(hat, tmp_path, limit):
    rng = random.Random(f'lmdb-limit/{sorted(limit.items())}')
    conf = backend_conf(None, latest=[('a',)],
                        timeseries=[{'order_by': 'TIMESTAMP', 'subscriptions': [['*']], 'limit': limit}])
    pair = Pair(hat, conf, tmp_path, 0)
    everything = [common.QueryServerParams(server_id=SERVER_ID, max_results=10 ** 6, persisted=True),
                  common.QueryTimeseriesParams(max_results=10 ** 6)]
    try:
        for round_ in range(4):
            for _ in range(rng.randint(10, 25)):
                pair.register([rand_register_event(rng) for _ in range(rng.randint(1, 3))])
            pair.reopen()  # flushes, and cleans up at open
            ours = [comparable(q, pair.ours.query(q)) for q in everything]
            assert ours == [comparable(q, pair.theirs.query(q)) for q in everything], f'round {round_}'
        # Hand-checked bounds besides hat's agreement: the timeseries query
        # also holds the STARTED event registered after the cleanup.
        kept = len(ours[1][0]) - 1
        if 'max_entries' in limit and 'min_entries' not in limit:
            assert kept == limit['max_entries']
        if limit == {'duration': 0}:
            assert kept == 0
        if limit in ({'duration': 1e9}, {'min_entries': 4}, {'size': 10 ** 7}):
            assert kept + 1 == len(pair.events), 'nothing deleted'
        if limit == {'max_entries': 3, 'min_entries': 6}:
            assert kept == 6
        if limit == {'min_entries': 5, 'duration': 0}:
            assert kept == 5
        if limit == {'size': 2500}:
            assert 0 < kept < 20, 'a 4 KiB page holds far more than 2,500 bytes allow'
    finally:
        pair.close()


# --- through the engine's C API ---------------------------------------------------

def test_engine_reports_flushed_events_from_the_flush_thread(hat, tmp_path):
    flushed, threads = [], set()

    def on_flushed(events):
        threads.add(threading.get_ident())
        flushed.extend(events)
    conf = backend_conf(tmp_path / 'db', flush_period=0.05,
                        timeseries=[{'order_by': 'SOURCE_TIMESTAMP', 'subscriptions': [['*']]}])
    ours = OurLmdb(hat, conf, flushed=on_flushed)
    try:
        registered = ours.register([rand_register_event(random.Random(i)) for i in range(5)])
        deadline = time.monotonic() + 10
        while len(flushed) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [e.id for e in flushed] == [e.id for e in [*flushed[:1], *registered]]
        assert flushed[0].payload.data == 'STARTED'
        assert threading.get_ident() not in threads
    finally:
        ours.close()
    assert flushed[-1].payload.data == 'STOPPED', 'close flushed and reported'


def test_engine_refuses_a_configuration_outside_hats_schema(hat, tmp_path):
    conf = backend_conf(tmp_path / 'db')
    del conf['flush_period']
    with pytest.raises(hat.Error) as e:
        OurLmdb(hat, conf)
    assert 'hat-event://backends/lmdb.yaml' in str(e.value) and 'flush_period' in str(e.value)
    assert not (tmp_path / 'db').exists(), 'refused before the file is made'
