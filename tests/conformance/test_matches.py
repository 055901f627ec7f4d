"""matches_query_type: hat-event's own test_matches.py cases, then a
randomized differential test against hat-event 0.9.44."""

import random

import pytest

from hat.event import common

from conftest import Failures



def c_matches(hat, event_type, query_type):
    e = hat.str_array(event_type)
    q = hat.str_array(query_type)
    out = hat.ffi.new('bool *')
    st = hat.lib.hat_event_matches_query_type(e.ptr, e.len, q.ptr, q.len, out)
    return st, bool(out[0])


# --- hat-event's own test_matches.py -----------------------------------------

@pytest.mark.parametrize("event_type, query_type, is_match", [
    ((), (), True),
    ((), ('*',), True),
    ((), ('?',), False),
    (('a',), (), False),
    (('a',), ('*',), True),
    (('a',), ('?',), True),
    (('a',), ('?', '*'), True),
    (('a',), ('?', '?'), False),
    (('a',), ('a',), True),
    (('a',), ('a', '*'), True),
    # the reference writes ('a') here: the string 'a', which it iterates as
    # the one-segment type ('a',)
    (('a'), ('a', '?'), False),
    (('a',), ('b',), False),
    (('a',), ('a', 'b'), False),
    (('a', 'b'), (), False),
    (('a', 'b'), ('*',), True),
    (('a', 'b'), ('?',), False),
    (('a', 'b'), ('?', '*'), True),
    (('a', 'b'), ('?', '?'), True),
    (('a', 'b'), ('?', '?', '*'), True),
    (('a', 'b'), ('?', '?', '?'), False),
    (('a', 'b'), ('a',), False),
    (('a', 'b'), ('a', '*'), True),
    (('a', 'b'), ('a', '?'), True),
    (('a', 'b'), ('a', '?', '*'), True),
    (('a', 'b'), ('a', '?', '?'), False),
    (('a', 'b'), ('?', 'b'), True),
    (('a', 'b'), ('?', 'b', '*'), True),
    (('a', 'b'), ('?', 'b', '?'), False),
    (('a', 'b'), ('b', 'a'), False),
    (('a', 'b'), ('a', 'b', 'c'), False)
])
def test_matches_query_type(hat, event_type, query_type, is_match):
    st, result = c_matches(hat, tuple(event_type), query_type)
    hat.check(st)
    assert result is is_match
    assert common.matches_query_type(event_type, query_type) is is_match


# --- arguments ---------------------------------------------------------------

def test_matches_arguments(hat):
    lib, ffi = hat.lib, hat.ffi
    out = ffi.new('bool *')
    one = hat.str_array(('a',))
    # NULL out
    assert lib.hat_event_matches_query_type(one.ptr, 1, one.ptr, 1, ffi.NULL) \
        == lib.HAT_EVENT_ERR_NULL_ARGUMENT
    # NULL arrays with a length
    assert lib.hat_event_matches_query_type(ffi.NULL, 1, one.ptr, 1, out) \
        == lib.HAT_EVENT_ERR_NULL_ARGUMENT
    assert lib.hat_event_matches_query_type(one.ptr, 1, ffi.NULL, 1, out) \
        == lib.HAT_EVENT_ERR_NULL_ARGUMENT
    # NULL arrays of length 0 are ()
    hat.check(lib.hat_event_matches_query_type(ffi.NULL, 0, ffi.NULL, 0, out))
    assert out[0] is True
    star = hat.str_array(('*',))
    hat.check(lib.hat_event_matches_query_type(ffi.NULL, 0, star.ptr, 1, out))
    assert out[0] is True
    # an empty segment given as {NULL, 0} is ''
    seg = ffi.new('hat_event_str_t[1]')
    seg[0].ptr = ffi.NULL
    seg[0].len = 0
    empty = hat.str_array(('',))
    hat.check(lib.hat_event_matches_query_type(seg, 1, empty.ptr, 1, out))
    assert out[0] is True
    hat.check(lib.hat_event_matches_query_type(seg, 1, one.ptr, 1, out))
    assert out[0] is False
    # a NULL segment pointer with a length
    seg[0].len = 1
    assert lib.hat_event_matches_query_type(seg, 1, one.ptr, 1, out) \
        == lib.HAT_EVENT_ERR_NULL_ARGUMENT
    # invalid UTF-8 in either argument, wherever it is
    for bad in (b'\xff', b'\xc3', b'\xed\xa0\x80', b'a\x80', b'\xf4\x90\x80\x80',
                b'\xc0\xaf'):
        for e, q in (((bad,), ('*',)), (('a',), (bad,)), (('a', bad), ('a',)),
                     (('b',), ('a', bad))):
            st, _ = c_matches(hat, e, q)
            assert st == lib.HAT_EVENT_ERR_INVALID_UTF8, (e, q)
    # embedded NUL is an ordinary character
    st, r = c_matches(hat, ('a\x00b',), ('a\x00b',))
    assert st == lib.HAT_EVENT_OK and r is True
    st, r = c_matches(hat, ('a\x00b',), ('a',))
    assert st == lib.HAT_EVENT_OK and r is False


# --- randomized --------------------------------------------------------------

ALPHABET = ('a', 'b', '', '?', '*', 'é', '\U0001D538', 'ab', '日本', ' ',
            'a*', '*a', '??', '**', '\x00', '\U0001F600x')
WILD_WEIGHTS = [6, 6, 3, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]


def _segment(rng):
    r = rng.random()
    if r < 0.97:
        return rng.choices(ALPHABET, WILD_WEIGHTS)[0]
    # long segments, unicode incl. astral characters
    n = rng.choice((100, 1000, 5000))
    chars = 'ab?*é日\U0001D538\U0001F600\u0301\uFFFF\U0010FFFF'
    s = ''.join(rng.choice(chars) for _ in range(n))
    return s


def _event_type(rng):
    r = rng.random()
    if r < 0.05:
        n = rng.randint(16, 80)           # deep
    elif r < 0.1:
        n = 0
    else:
        n = rng.randint(1, 6)
    return tuple(_segment(rng) for _ in range(n))


def _query_from(rng, et):
    q = list(et)
    for i in range(len(q)):
        r = rng.random()
        if r < 0.2:
            q[i] = '?'
        elif r < 0.27:
            q[i] = _segment(rng)
        elif r < 0.3:
            q[i] = '*'                    # '*' not last: a literal
    r = rng.random()
    if r < 0.35:
        q = q[:rng.randint(0, len(q))] + ['*']
    elif r < 0.45:
        q.append(rng.choice(('?', '*', 'a', '')))
    elif r < 0.55 and q:
        del q[rng.randrange(len(q))]
    elif r < 0.6:
        q.insert(rng.randint(0, len(q)), '*')
    return tuple(q)


def _random_query(rng):
    n = rng.choices(range(8), [2, 5, 5, 4, 3, 2, 1, 1])[0]
    return tuple(rng.choice(('?', '*', '?', '*', 'a', 'b', '', 'é'))
                 if rng.random() < 0.6 else _segment(rng) for _ in range(n))


def test_matches_random(hat, seed, cases, counter):
    rng = random.Random(f'{seed}/matches')
    lib = hat.lib
    hits = 0
    fails = Failures('matches_query_type')
    wildcard_positions = set()

    def check(case):
        et, qt = case
        o = common.matches_query_type(et, qt)
        st, m = c_matches(hat, et, qt)
        if st != lib.HAT_EVENT_OK or m is not o:
            return (f'matches_query_type({et!r:.300}, {qt!r:.300}): '
                    f'oracle {o}, ours {hat.status_name(st)} {m}')
        return None

    for _ in range(cases):
        et = _event_type(rng)
        r = rng.random()
        if r < 0.6:
            qt = _query_from(rng, et)
        elif r < 0.9:
            qt = _random_query(rng)
        else:
            # an event type derived from the query instead
            qt = _random_query(rng)
            et = tuple(rng.choice(('a', 'b', '')) if s in ('?', '*') else s
                       for s in qt)
            if qt and qt[-1] == '*' and rng.random() < 0.5:
                et = et[:-1] + tuple(_segment(rng) for _ in range(rng.randint(0, 3)))
        for i, s in enumerate(qt):
            if s in ('?', '*'):
                wildcard_positions.add((s, i == len(qt) - 1, min(i, 5)))
        fails.run((et, qt), check)
        hits += common.matches_query_type(et, qt)
    counter.add('matches_query_type (random)', cases)
    counter.note(f'matches_query_type: hit ratio {hits / cases:.3f} '
                 f'({hits} of {cases} match)')
    fails.check()
    # the generator reached wildcards in every kind of position
    assert {('?', True, 0), ('?', False, 0), ('*', True, 0), ('*', False, 0),
            ('?', False, 3), ('*', False, 3), ('*', True, 5)} <= wildcard_positions
    assert 0.2 < hits / cases < 0.8
