"""The shrinker that turns a failing random case into a minimal reproducer
(conftest.shrink): checked on predicates whose minimal failing case is
known by hand."""

from hat.event import common

from conftest import Failures, shrink


def test_shrinks_a_list_to_the_one_element_that_fails():
    def check(xs):
        return 'has an element above 10' if any(x > 10 for x in xs) else None

    small, msg, steps = shrink([3, 50, 7, 200], check)
    assert small == [11]
    assert msg == 'has an element above 10'
    assert steps > 1


def test_shrinks_inside_named_tuples_and_strings():
    event = common.Event(id=common.EventId(5, 6, 7), type=('gw', 'dev ž', 'x'),
                         timestamp=common.Timestamp(123, 456), source_timestamp=common.Timestamp(1, 2),
                         payload=common.EventPayloadBinary('type', b'ab\xffcd'))

    def check(ev):
        payload = ev.payload
        if (ev.id is None or ev.timestamp is None or None in ev.id or None in ev.timestamp
                or ev.type is None or (payload is not None and None in payload)):
            raise TypeError('required field')     # as building it would
        if payload is not None and b'\xff' in payload.data and 'ž' in ''.join(ev.type):
            return 'mismatch'
        return None

    small, _, _ = shrink(event, check)
    assert small == common.Event(id=common.EventId(0, 0, 0), type=('ž',), timestamp=common.Timestamp(0, 0),
                                 source_timestamp=None, payload=common.EventPayloadBinary('', b'\xff'))


def test_candidates_the_check_refuses_are_skipped():
    tried = []

    def check(n):
        tried.append(n)
        if n < 3:
            raise ValueError('the oracle cannot build this')
        return 'at least 5' if n >= 5 else None

    small, msg, _ = shrink(40, check)
    assert (small, msg) == (5, 'at least 5')
    assert 0 in tried and 2 in tried        # raised, skipped, not fatal


def test_failures_report_the_minimal_reproducer():
    fails = Failures('demo')
    assert fails.run([1, 2], lambda xs: None)
    assert not fails.run([4, 99, 5], lambda xs: 'big' if max(xs, default=0) > 50 else None)
    assert fails.count == 1
    assert 'minimal reproducer' in fails.items[0] and '[51]' in fails.items[0]
