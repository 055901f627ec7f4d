"""Event-type collections against hat-event: its test_collection.py for
both of our flavours, then random add/remove/get sequences compared with
hat's default (C tree) collection and its PyListEventTypeCollection."""

import random

import pytest

from hat.event import common
from hat.event.common.collection.pylist import PyListEventTypeCollection

from conftest import Failures
from test_subscription import Sub, random_query_types, instances, random_event_type


class Coll:
    """Our collection through the C ABI."""

    def __init__(self, hat, kind):
        self.hat = hat
        out = hat.ffi.new('hat_event_collection_t **')
        hat.check(hat.lib.hat_event_collection_create(kind, out))
        self.handle = hat.ffi.gc(out[0], hat.lib.hat_event_collection_destroy)
        vout = hat.ffi.new('hat_event_values_t **')
        hat.check(hat.lib.hat_event_values_create(vout))
        self.values = hat.ffi.gc(vout[0], hat.lib.hat_event_values_destroy)

    def add(self, subscription, value):
        self.hat.check(self.hat.lib.hat_event_collection_add(self.handle, subscription.handle, value))

    def remove(self, value):
        self.hat.check(self.hat.lib.hat_event_collection_remove(self.handle, value))

    def get(self, event_type):
        a = self.hat.str_array(event_type)
        self.hat.check(self.hat.lib.hat_event_collection_get(self.handle, a.ptr, a.len, self.values))
        n = self.hat.lib.hat_event_values_len(self.values)
        data = self.hat.lib.hat_event_values_data(self.values)
        return [data[i] for i in range(n)]


    def get_many(self, event_types):
        """One hat_event_collection_get_many call: a list of value lists."""
        ffi, lib = self.hat.ffi, self.hat.lib
        arrays = [self.hat.str_array(e) for e in event_types]
        views = ffi.new('hat_event_event_type_view_t[]', max(1, len(arrays)))
        for i, a in enumerate(arrays):
            views[i].segments, views[i].len = a.ptr, a.len
        offsets = ffi.new('size_t[]', len(arrays) + 1)
        self.hat.check(lib.hat_event_collection_get_many(self.handle, views, len(arrays), self.values, offsets))
        data = lib.hat_event_values_data(self.values)
        return [[data[j] for j in range(offsets[i], offsets[i + 1])] for i in range(len(arrays))]


KINDS = ['HAT_EVENT_COLLECTION_TREE', 'HAT_EVENT_COLLECTION_LIST']


@pytest.mark.parametrize("kind", KINDS)
def test_collection(hat, kind):
    # hat-event test_collection.py::test_collection
    collection = Coll(hat, getattr(hat.lib, kind))
    assert collection.get(()) == []
    assert collection.get(('a', 'b', 'c')) == []
    assert collection.get(('x', 'b', 'c')) == []
    collection.add(Sub.create(hat, [('*',)]), 1)
    collection.add(Sub.create(hat, []), 2)
    collection.add(Sub.create(hat, [('?', 'b', 'c')]), 3)
    collection.add(Sub.create(hat, [('a', 'b', 'c')]), 4)
    assert sorted(collection.get(())) == [1]
    assert sorted(collection.get(('a', 'b', 'c'))) == [1, 3, 4]
    assert sorted(collection.get(('x', 'b', 'c'))) == [1, 3]
    collection.remove(3)
    assert sorted(collection.get(())) == [1]
    assert sorted(collection.get(('a', 'b', 'c'))) == [1, 4]
    assert sorted(collection.get(('x', 'b', 'c'))) == [1]


@pytest.mark.parametrize("kind", KINDS)
def test_empty_segment_is_not_a_wildcard(hat, kind):
    # hat's C tree once treated '' as '?'
    collection = Coll(hat, getattr(hat.lib, kind))
    collection.add(Sub.create(hat, [('a', '')]), 1)
    assert collection.get(('a', 'x')) == []
    assert collection.get(('a', '')) == [1]


def test_values_take_the_full_uint64_range(hat):
    collection = Coll(hat, hat.lib.HAT_EVENT_COLLECTION_TREE)
    collection.add(Sub.create(hat, [('a',)]), 2**64 - 1)
    collection.add(Sub.create(hat, [('?',)]), 0)
    assert sorted(collection.get(('a',))) == [0, 2**64 - 1]


def check_sequence(hat, ops):
    """Replays add/remove/get operations on our tree and list collections,
    hat's default collection and its PyListEventTypeCollection; every get
    must give the same set of values (ours without duplicates)."""
    tree = Coll(hat, hat.lib.HAT_EVENT_COLLECTION_TREE)
    lst = Coll(hat, hat.lib.HAT_EVENT_COLLECTION_LIST)
    theirs = common.create_event_type_collection()
    theirs_list = PyListEventTypeCollection()
    for i, op in enumerate(ops):
        if op[0] == 'remove':
            for c in (tree, lst, theirs, theirs_list):
                c.remove(op[1])
        elif op[0] == 'add':
            _, qts, value = op
            ours_sub = Sub.create(hat, qts)
            their_sub = common.create_subscription(qts)
            tree.add(ours_sub, value)
            lst.add(ours_sub, value)
            theirs.add(their_sub, value)
            theirs_list.add(their_sub, value)
        else:
            et = op[1]
            expected = sorted(set(theirs_list.get(et)))
            got_tree = tree.get(et)
            where = f'op {i} get({et!r})'
            if len(got_tree) != len(set(got_tree)):
                return f'{where}: tree gave duplicates {got_tree}'
            if sorted(got_tree) != expected:
                return f'{where}: tree {sorted(got_tree)}, hat list {expected}'
            if sorted(lst.get(et)) != expected:
                return f'{where}: list {sorted(lst.get(et))}, hat list {expected}'
            if sorted(set(theirs.get(et))) != expected:
                return f'{where}: hat tree {sorted(set(theirs.get(et)))} vs hat list {expected} (oracle bug?)'
    # the batch form, over every event type asked above, in one call
    asked = [op[1] for op in ops if op[0] == 'get']
    for c, name in ((tree, 'tree'), (lst, 'list')):
        for et, got in zip(asked, c.get_many(asked)):
            expected = sorted(set(theirs_list.get(et)))
            if sorted(got) != expected or len(got) != len(set(got)):
                return f'{name} get_many at the end, {et!r}: {sorted(got)}, hat list {expected}'
    return None


def test_random_sequences_agree_with_hat(hat, seed, cases, counter):
    rng = random.Random(seed + 3)
    fails = Failures('collection add/remove/get sequences')
    rounds = max(1, cases // 40)      # about 44 gets a round: >= 10,000 at the default
    for _ in range(rounds):
        ops = []
        seen_types = []
        for _ in range(10):
            value = rng.randrange(6)
            if rng.random() < 0.25:
                ops.append(('remove', value))
                counter.add('collection remove')
            else:
                qts = random_query_types(rng)
                seen_types += qts
                ops.append(('add', qts, value))
                counter.add('collection add')
            for et in instances(rng, seen_types[-4:], k=1) + [random_event_type(rng)]:
                ops.append(('get', et))
                counter.add('collection get')
        fails.run(ops, lambda case: check_sequence(hat, case))
    fails.check()
