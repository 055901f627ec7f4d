"""Subscriptions against hat-event: every case of its test_subscription.py,
then random differential tests (matches, get_query_types, union,
isdisjoint, intersection).

Deliberate differences (SPEC 6): isdisjoint is compared with hat's
PySubscription.isdisjoint (its default C one is wrong in some cases), and
intersection is checked by meaning (it must match exactly what both
operands match), its query types compared with hat's only where hat's
answer is exact.
"""

import random

import pytest

from hat.event import common
from hat.event.common.subscription.pysubscription import PySubscription

from conftest import Failures


class Sub:
    """Our subscription through the C ABI."""

    def __init__(self, hat, handle):
        self.hat = hat
        self.handle = hat.ffi.gc(handle, hat.lib.hat_event_subscription_destroy)

    @classmethod
    def create(cls, hat, query_types):
        arrays = [hat.str_array(q) for q in query_types]
        views = hat.ffi.new('hat_event_event_type_view_t[]', max(len(arrays), 1))
        for i, a in enumerate(arrays):
            views[i].segments = a.ptr
            views[i].len = a.len
        out = hat.ffi.new('hat_event_subscription_t **')
        hat.check(hat.lib.hat_event_subscription_create(views, len(arrays), out))
        return cls(hat, out[0])

    def matches(self, event_type):
        a = self.hat.str_array(event_type)
        out = self.hat.ffi.new('bool *')
        self.hat.check(self.hat.lib.hat_event_subscription_matches(self.handle, a.ptr, a.len, out))
        return bool(out[0])

    def query_types(self):
        out = self.hat.ffi.new('hat_event_event_type_list_t **')
        self.hat.check(self.hat.lib.hat_event_subscription_query_types(self.handle, out))
        lst = self.hat.ffi.gc(out[0], self.hat.lib.hat_event_event_type_list_destroy)
        n = self.hat.lib.hat_event_event_type_list_len(lst)
        assert self.hat.lib.hat_event_subscription_len(self.handle) == n
        return [self.hat.event_type_segments(self.hat.lib.hat_event_event_type_list_get(lst, i))
                for i in range(n)]

    def _combine(self, fn, others):
        ptrs = self.hat.ffi.new('hat_event_subscription_t *[]', [o.handle for o in others] or [self.hat.ffi.NULL])
        out = self.hat.ffi.new('hat_event_subscription_t **')
        self.hat.check(fn(self.handle, ptrs, len(others), out))
        return Sub(self.hat, out[0])

    def union(self, *others):
        return self._combine(self.hat.lib.hat_event_subscription_union, others)

    def intersection(self, *others):
        return self._combine(self.hat.lib.hat_event_subscription_intersection, others)

    def isdisjoint(self, other):
        out = self.hat.ffi.new('bool *')
        self.hat.check(self.hat.lib.hat_event_subscription_isdisjoint(self.handle, other.handle, out))
        return bool(out[0])


# --- hat-event's test_subscription.py ----------------------------------------

@pytest.mark.parametrize("query_types, sanitized", [
    ([], []),
    ([()], [()]),
    ([('a',), ('b',), ('c',)], [('a',), ('b',), ('c',)]),
    ([('a',), ('b', '*'), (), ('*',)], [('*',)]),
    ([('a', '*'), ('a',)], [('a', '*')]),
    ([('a', '*'), ('b',), ('c', '?'), ('c', '*')], [('a', '*'), ('b',), ('c', '*')]),
    ([('',), ('a',)], [('',), ('a',)]),
    ([('',), ('*',)], [('*',)]),
])
def test_get_query_types(hat, query_types, sanitized):
    result = Sub.create(hat, query_types).query_types()
    assert len(result) == len(sanitized)
    assert set(result) == set(sanitized)


@pytest.mark.parametrize("query_types, matching, not_matching", [
    ([], [], [('a',), ('a', 'b'), ()]),
    ([()], [()], [('a',), ('a', 'b')]),
    ([('*',)], [(), ('a',), ('a', 'b')], []),
    ([('a',)], [('a',)], [(), ('a', 'b'), ('b',)]),
    ([('a', '?'), ('a',)], [('a',), ('a', 'b'), ('a', '')], [(), ('a', 'b', 'c'), ('b',), ('',)]),
])
def test_matches(hat, query_types, matching, not_matching):
    s = Sub.create(hat, query_types)
    for i in matching:
        assert s.matches(i) is True
    for i in not_matching:
        assert s.matches(i) is False


@pytest.mark.parametrize("query_types, union", [
    ([], []),
    ([[]], []),
    ([[('a',)], [('b',)]], [('a',), ('b',)]),
    ([[('a',)], [('b',)], [('*',)]], [('*',)]),
    ([[('a', 'b')], [('a', 'c')]], [('a', 'b'), ('a', 'c')]),
    ([[('a', '')], [('', 'a')]], [('a', ''), ('', 'a')]),
])
def test_union(hat, query_types, union):
    s = Sub.create(hat, []).union(*(Sub.create(hat, i) for i in query_types))
    assert set(s.query_types()) == set(union)


@pytest.mark.parametrize("first, second, isdisjoint", [
    ([], [], True),
    ([('a',)], [('b',)], True),
    ([('a',)], [('a',)], False),
    ([('a',)], [('?',)], False),
    ([('?',)], [('?',)], False),
    ([('?', 'a')], [('?', 'b')], True),
    ([('a', 'b')], [('*',)], False),
    ([('a', 'b', '*')], [('a', 'b')], False),
    ([('a', '', '?')], [('a', '', 'b')], False),
])
def test_isdisjoint(hat, first, second, isdisjoint):
    assert Sub.create(hat, first).isdisjoint(Sub.create(hat, second)) is isdisjoint


@pytest.mark.parametrize("subscription_types, other_types, intersection_types", [
    ([], [], []),
    ([('a',)], [('b',)], []),
    ([('*',)], [('a',), ('b',), ('c',)], [('a',), ('b',), ('c',)]),
    ([('a',), ('b',)], [('b',), ('c',)], [('b',)]),
    ([('?', 'b')], [('a', 'b')], [('a', 'b')]),
    ([('',), ('a',)], [('',), ('b',)], [('',)]),
])
def test_intersection(hat, subscription_types, other_types, intersection_types):
    s = Sub.create(hat, subscription_types).intersection(Sub.create(hat, other_types))
    assert set(s.query_types()) == set(intersection_types)


# SPEC 6: the oracle's intersection and default isdisjoint are wrong here.
@pytest.mark.parametrize("a, b, expected, oracle", [
    ([('a',)], [('a', '*')], [('a',)], []),
    ([()], [('*',)], [()], []),
    ([('?',)], [('a', '*')], [('a',)], []),
])
def test_intersection_differs_where_the_oracle_is_wrong(hat, a, b, expected, oracle):
    assert set(common.create_subscription(a).intersection(common.create_subscription(b)).get_query_types()) == set(oracle)
    assert set(Sub.create(hat, a).intersection(Sub.create(hat, b)).query_types()) == set(expected)


def test_isdisjoint_differs_where_the_oracle_is_wrong(hat):
    a, b = [()], [('a',)]
    assert common.create_subscription(a).isdisjoint(common.create_subscription(b)) is False
    assert PySubscription(a).isdisjoint(PySubscription(b)) is True
    assert Sub.create(hat, a).isdisjoint(Sub.create(hat, b)) is True


def test_invalid_query_type_is_refused_with_the_reference_message(hat):
    with pytest.raises(ValueError, match='invalid query event type'):
        common.create_subscription([('a', '*', 'b')])
    with pytest.raises(hat.Error) as e:
        Sub.create(hat, [('a', '*', 'b')])
    assert e.value.status == hat.lib.HAT_EVENT_ERR_INVALID_ARGUMENT
    assert e.value.message == 'invalid query event type'


# --- random differential tests ----------------------------------------------

SEGMENTS = ['a', 'b', '', 'ž', '\U0001f600', 'a b']


def random_query_type(rng, star_anywhere=False):
    n = rng.choice([0, 1, 1, 2, 2, 3, 4, 6])
    t = [rng.choice(SEGMENTS + ['?', '?']) for _ in range(n)]
    if star_anywhere and t and rng.random() < 0.2:
        t[rng.randrange(len(t))] = '*'
    elif rng.random() < 0.3:
        t.append('*')
    return tuple(t)


def random_query_types(rng, star_anywhere=False):
    return [random_query_type(rng, star_anywhere) for _ in range(rng.choice([0, 1, 2, 3, 5]))]


def instances(rng, query_types, k=3):
    """Event types derived from query types (what they can match, and near misses)."""
    out = []
    for q in query_types:
        for j in range(k):
            t = []
            for seg in q:
                if seg == '?':
                    t.append(rng.choice(SEGMENTS + ['x']))
                elif seg == '*':
                    t.extend(rng.choice(SEGMENTS + ['x']) for _ in range(rng.choice([0, 0, 1, 2])))
                else:
                    t.append(seg)
            # The first instance is exact; the others may be near misses.
            if j and rng.random() < 0.2 and t:
                t.pop()
            elif j and rng.random() < 0.2:
                t.append('x')
            out.append(tuple(t))
    return out


def random_event_type(rng):
    return tuple(rng.choice(SEGMENTS + ['x', '?', '*']) for _ in range(rng.choice([0, 1, 2, 3, 4])))


def check_create_and_matches(hat, case):
    qts, ets = case
    try:
        theirs = common.create_subscription(qts)
    except ValueError as e:
        try:
            Sub.create(hat, qts)
        except hat.Error as err:
            if err.status != hat.lib.HAT_EVENT_ERR_INVALID_ARGUMENT:
                return f'create({qts!r}): oracle refused ({e}), ours {err}'
            return None
        return f'create({qts!r}): oracle refused ({e}), ours accepted'
    ours = Sub.create(hat, qts)
    if set(ours.query_types()) != set(theirs.get_query_types()):
        return (f'get_query_types of {qts!r}: ours {sorted(ours.query_types())}, '
                f'oracle {sorted(theirs.get_query_types())}')
    for et in ets:
        if ours.matches(et) != theirs.matches(et):
            return f'{qts!r}.matches({et!r}): ours {ours.matches(et)}, oracle {theirs.matches(et)}'
    return None


def test_random_create_and_matches(hat, seed, cases, counter):
    rng = random.Random(seed)
    fails = Failures('subscription create/matches')
    for _ in range(cases):
        qts = random_query_types(rng, star_anywhere=True)
        ets = instances(rng, qts) + [random_event_type(rng) for _ in range(3)]
        fails.run((qts, ets), lambda case: check_create_and_matches(hat, case))
        try:
            common.create_subscription(qts)
        except ValueError:
            counter.add('subscription create (refused)')
            continue
        counter.add('subscription matches', len(ets))
        counter.add('subscription create/get_query_types')
    fails.check()


def check_union_and_isdisjoint(hat, case):
    qa, qb = case
    a, b = Sub.create(hat, qa), Sub.create(hat, qb)
    ta, tb = common.create_subscription(qa), common.create_subscription(qb)
    if set(a.union(b).query_types()) != set(ta.union(tb).get_query_types()):
        return (f'union({qa!r}, {qb!r}): ours {sorted(a.union(b).query_types())}, '
                f'oracle {sorted(ta.union(tb).get_query_types())}')
    exact = PySubscription(qa).isdisjoint(PySubscription(qb))
    if a.isdisjoint(b) != exact:
        return f'isdisjoint({qa!r}, {qb!r}): ours {a.isdisjoint(b)}, PySubscription {exact}'
    return None


def test_random_union_and_isdisjoint(hat, seed, cases, counter):
    rng = random.Random(seed + 1)
    fails = Failures('subscription union/isdisjoint')
    default_wrong = 0
    for _ in range(cases):
        qa, qb = random_query_types(rng), random_query_types(rng)
        fails.run((qa, qb), lambda case: check_union_and_isdisjoint(hat, case))
        ta, tb = common.create_subscription(qa), common.create_subscription(qb)
        default_wrong += ta.isdisjoint(tb) != PySubscription(qa).isdisjoint(PySubscription(qb))
        counter.add('subscription union')
        counter.add('subscription isdisjoint')
    counter.note(f'hat default isdisjoint disagreed with PySubscription.isdisjoint '
                 f'in {default_wrong} of {cases} random cases (SPEC 6)')
    fails.check()


def witness_types(query_type):
    """Event types a query type matches: '?' as a segment no generator
    uses, a trailing '*' as nothing and as one such segment."""
    fresh = '\x00w'
    base = tuple(fresh if s == '?' else s for s in query_type)
    if base and base[-1] == '*':
        return [base[:-1], base[:-1] + (fresh,)]
    return [base]


def check_intersection(hat, case, stats=None):
    """Ours matches exactly what both operands match, on the probes; where
    the oracle's intersection is exact on them too, the query types agree."""
    qa, qb, probes = case
    a, b = Sub.create(hat, qa), Sub.create(hat, qb)
    ta, tb = common.create_subscription(qa), common.create_subscription(qb)
    ours = a.intersection(b)
    theirs = ta.intersection(tb)
    oracle_exact = True
    ours_q, theirs_q = set(ours.query_types()), set(theirs.get_query_types())
    # Where the query types differ, event types made from the differing
    # ones tell whose answer is wrong: the probes alone may miss them.
    witnesses = [w for q in ours_q ^ theirs_q for w in witness_types(q)]
    for et in probes + witnesses:
        truth = ta.matches(et) and tb.matches(et)
        if ours.matches(et) != truth:
            return f'intersection({qa!r}, {qb!r}).matches({et!r}): ours {ours.matches(et)}, truth {truth}'
        oracle_exact &= theirs.matches(et) == truth
    if oracle_exact and ours_q != theirs_q:
        return (f'intersection({qa!r}, {qb!r}) query types: ours {sorted(ours_q)}, '
                f'oracle (exact on every probe and witness) {sorted(theirs_q)}')
    if stats is not None:
        stats['oracle_inexact'] += not oracle_exact
    return None


def test_random_intersection(hat, seed, cases, counter):
    rng = random.Random(seed + 2)
    fails = Failures('subscription intersection')
    stats = {'oracle_inexact': 0}
    for _ in range(cases):
        qa, qb = random_query_types(rng), random_query_types(rng)
        ours = Sub.create(hat, qa).intersection(Sub.create(hat, qb))
        probes = instances(rng, qa + qb) + instances(rng, ours.query_types())
        msg = check_intersection(hat, (qa, qb, probes), stats)
        if msg is not None:
            fails.found((qa, qb, probes), msg, lambda case: check_intersection(hat, case))
        counter.add('subscription intersection')
    counter.note(f'hat intersection was inexact in {stats["oracle_inexact"]} of {cases} '
                 f'random cases (SPEC 6)')
    fails.check()


def check_matches_many(hat, case):
    qts, ets = case
    ffi, lib = hat.ffi, hat.lib
    ours = Sub.create(hat, qts)
    theirs = common.create_subscription(qts)
    arrays = [hat.str_array(e) for e in ets]
    views = ffi.new('hat_event_event_type_view_t[]', max(1, len(arrays)))
    for i, a in enumerate(arrays):
        views[i].segments, views[i].len = a.ptr, a.len
    out = ffi.new('bool[]', max(1, len(ets)))
    hat.check(lib.hat_event_subscription_matches_many(ours.handle, views, len(ets), out))
    got = [bool(out[i]) for i in range(len(ets))]
    expected = [theirs.matches(e) for e in ets]
    if got != expected:
        return f'{qts!r}.matches_many({ets!r}): ours {got}, oracle {expected}'
    return None


def test_matches_many_agrees_with_the_oracle(hat, seed, cases, counter):
    rng = random.Random(seed + 9)
    fails = Failures('subscription matches_many')
    for _ in range(max(1, cases // 5)):
        qts = random_query_types(rng)
        ets = instances(rng, qts) + [random_event_type(rng) for _ in range(5)]
        fails.run((qts, ets), lambda case: check_matches_many(hat, case))
        counter.add('subscription matches_many', len(ets))
    fails.check()
