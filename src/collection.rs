//! Event-type collections: map subscriptions to caller values and find every
//! value whose subscriptions match an event type (routing a registered event
//! to its subscribers).
//!
//! Semantics (the reference's `ListEventTypeCollection`): adding a
//! subscription for a value that is already present widens that value's
//! subscription to the union; `get` yields each value whose subscription
//! matches, once.
//!
//! Two flavours: [`TreeCollection`] (the fast one) keeps every value at each
//! of its query types — literal query types in one hash table keyed by the
//! whole type, the others in a `Trie` — so `get` is one probe plus a walk
//! of the (often empty) wildcard trie. [`ListCollection`] is linear and
//! serves as the reference in tests.

use std::collections::HashMap;

use crate::event_type::EventType;
use crate::subscription::Subscription;
use crate::trie::{Slot, Trie};
use crate::type_index::{with_probe_of, Probe, TypeKey, TypeMap};

/// The interface both flavours share.
pub trait Collection {
    /// Adds `subscription` for `value` (union with what `value` had).
    fn add(&mut self, subscription: &Subscription, value: u64);
    /// Forgets `value`; absent values are ignored.
    fn remove(&mut self, value: u64);
    /// Appends every value whose subscription matches `event_type`, each
    /// once (among those appended), in no particular order.
    fn get_into<S: AsRef<str>>(&self, event_type: &[S], out: &mut Vec<u64>);

    /// [`get_into`](Self::get_into) for an [`EventType`], looked up with its
    /// stored hash and key.
    fn get_type_into(&self, event_type: &EventType, out: &mut Vec<u64>);

    /// [`get`](Self::get) for an [`EventType`].
    #[inline]
    fn get_type(&self, event_type: &EventType, out: &mut Vec<u64>) {
        out.clear();
        self.get_type_into(event_type, out);
    }

    /// Clears `out`, then writes every value whose subscription matches
    /// `event_type`, each once, in no particular order.
    #[inline]
    fn get<S: AsRef<str>>(&self, event_type: &[S], out: &mut Vec<u64>) {
        out.clear();
        self.get_into(event_type, out);
    }
}

/// Drops the duplicates among `out[start..]` (values reached through more
/// than one query type), in no particular order. Up to
/// [`DEDUP_HASHED`] values go through an open-addressing set laid out
/// after them in `out` itself (a caller's reused buffer: no allocation
/// once it has grown), about 27 instructions a value; sorting them took
/// about 65 (a server's fan-out, 60 values from two query types: 4,446
/// instructions a lookup before, 2,207 now). More
/// values, or a set whose probes run long, are sorted instead, which
/// bounds the worst case at n log n.
fn dedup_tail(out: &mut Vec<u64>, start: usize) {
    let end = out.len();
    let n = end - start;
    if n < 2 {
        return;
    }
    if n > DEDUP_HASHED {
        return sort_dedup_tail(out, start);
    }
    // At most half full: 2n rounded up to a power of two, at least 4.
    let bits = (2 * n).next_power_of_two().trailing_zeros();
    let mask = (1usize << bits) - 1;
    out.resize(end + mask + 1, EMPTY_SLOT);
    let (values, table) = out.split_at_mut(end);
    let values = &mut values[start..];
    let mut kept = 0;
    let mut seen_empty_slot = false;
    let mut probes = 0;
    for i in 0..n {
        let value = values[i];
        let new = if value == EMPTY_SLOT {
            !std::mem::replace(&mut seen_empty_slot, true)
        } else {
            // Fibonacci hashing: the top bits of the product.
            let mut at = (value.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits)) as usize;
            loop {
                match table[at] {
                    slot if slot == value => break false,
                    EMPTY_SLOT => {
                        table[at] = value;
                        break true;
                    }
                    _ => {}
                }
                at = (at + 1) & mask;
                probes += 1;
                if probes > 8 * n {
                    // Values that collide (chosen so, or unlucky): sort
                    // what is left, the kept values (unique) and those not
                    // yet seen.
                    out.truncate(end);
                    out.copy_within(start + i..end, start + kept);
                    out.truncate(end - (i - kept));
                    return sort_dedup_tail(out, start);
                }
            }
        };
        if new {
            values[kept] = value;
            kept += 1;
        }
    }
    out.truncate(start + kept);
}

/// The most values [`dedup_tail`] puts in a hash set (a 4,096-slot,
/// 32 KiB table at most, within L1).
const DEDUP_HASHED: usize = 2048;

/// A free slot of [`dedup_tail`]'s set; the value itself is tracked apart.
const EMPTY_SLOT: u64 = u64::MAX;

/// Sorts `out[start..]` and drops its duplicates.
fn sort_dedup_tail(out: &mut Vec<u64>, start: usize) {
    out[start..].sort_unstable();
    let mut kept = start;
    for i in start..out.len() {
        if kept == start || out[i] != out[kept - 1] {
            out[kept] = out[i];
            kept += 1;
        }
    }
    out.truncate(kept);
}

/// The linear reference flavour.
#[derive(Default)]
pub struct ListCollection {
    entries: Vec<(u64, Subscription)>,
}

impl Collection for ListCollection {
    fn add(&mut self, subscription: &Subscription, value: u64) {
        match self.entries.iter_mut().find(|(v, _)| *v == value) {
            Some((_, s)) => *s = s.union([subscription]),
            None => self.entries.push((value, subscription.clone())),
        }
    }

    fn remove(&mut self, value: u64) {
        self.entries.retain(|(v, _)| *v != value);
    }

    fn get_into<S: AsRef<str>>(&self, event_type: &[S], out: &mut Vec<u64>) {
        out.extend(self.entries.iter().filter(|(_, s)| s.matches(event_type)).map(|(v, _)| *v));
    }

    fn get_type_into(&self, event_type: &EventType, out: &mut Vec<u64>) {
        out.extend(self.entries.iter().filter(|(_, s)| s.matches_type(event_type)).map(|(v, _)| *v));
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Location {
    Literal(TypeKey),
    Wild(Slot),
}

/// The fast flavour.
#[derive(Default)]
pub struct TreeCollection {
    literal: TypeMap<Values>,
    wild: Trie<Vec<u64>>,
    locations: HashMap<u64, Vec<Location>>,
    /// Wildcard query types holding values.
    wild_live: usize,
    /// Wildcard query types whose values were all removed since the trie
    /// was last compacted (their nodes stay until then).
    wild_emptied: usize,
}

/// The values at one literal query type. Most time series have one
/// subscriber, kept inline so that a lookup need not follow a pointer.
#[derive(Clone, Debug)]
enum Values {
    One(u64),
    Many(Vec<u64>),
}

impl Values {
    /// Appends the values to `out`; one without a copy call.
    #[inline(always)]
    fn append_to(&self, out: &mut Vec<u64>) {
        match self {
            Values::One(v) => out.push(*v),
            Values::Many(v) => out.extend_from_slice(v),
        }
    }

    fn push_unique(&mut self, value: u64) -> bool {
        match self {
            Values::One(v) if *v == value => false,
            Values::One(v) => {
                *self = Values::Many(vec![*v, value]);
                true
            }
            Values::Many(v) => push_unique(v, value),
        }
    }

    /// Removes `value`; returns whether none are left.
    fn remove(&mut self, value: u64) -> bool {
        match self {
            Values::One(v) => *v == value,
            Values::Many(v) => {
                remove_value(v, value);
                v.is_empty()
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Values::One(_) => 0,
            Values::Many(v) => v.capacity() * 8,
        }
    }
}

fn push_unique(values: &mut Vec<u64>, value: u64) -> bool {
    if values.contains(&value) {
        false
    } else {
        values.push(value);
        true
    }
}

fn remove_value(values: &mut Vec<u64>, value: u64) {
    if let Some(i) = values.iter().position(|v| *v == value) {
        values.swap_remove(i);
    }
}

impl TreeCollection {
    /// Whether no value has a query type: every lookup finds nothing.
    pub fn is_empty(&self) -> bool {
        self.literal.is_empty() && self.wild_live == 0
    }

    /// Heap bytes held (for memory reports; the location index included).
    pub fn heap_bytes(&self) -> usize {
        self.literal.heap_bytes(Values::heap_bytes)
            + self.wild.heap_bytes()
            + self.locations.capacity() * (std::mem::size_of::<(u64, Vec<Location>)>() + 1)
            + self.locations.values().map(|l| l.capacity() * std::mem::size_of::<Location>()).sum::<usize>()
    }
}

impl TreeCollection {
    fn compact_wild(&mut self) {
        let (wild, moved) = self.wild.compacted();
        for locations in self.locations.values_mut() {
            for location in locations {
                if let Location::Wild(slot) = location {
                    // Every location of a live value has a non-empty payload.
                    *slot = moved[slot];
                }
            }
        }
        self.wild = wild;
        self.wild_emptied = 0;
    }
}

impl Collection for TreeCollection {
    fn add(&mut self, subscription: &Subscription, value: u64) {
        for query_type in subscription.query_types() {
            let is_wild = query_type.iter().any(|s| s == "?") || query_type.iter().last() == Some("*");
            let location = if is_wild {
                let (slot, values) = self.wild.slot_mut(&query_type.iter().collect::<Vec<_>>());
                let was_empty = values.is_empty();
                if !push_unique(values, value) {
                    continue;
                }
                self.wild_live += usize::from(was_empty);
                Location::Wild(slot)
            } else {
                let key = TypeKey::from_type(&query_type);
                let mut inserted = false;
                let values = self.literal.entry_or_insert_with(key.clone(), || {
                    inserted = true;
                    Values::One(value)
                });
                if !inserted && !values.push_unique(value) {
                    continue;
                }
                Location::Literal(key)
            };
            self.locations.entry(value).or_default().push(location);
        }
    }

    fn remove(&mut self, value: u64) {
        for location in self.locations.remove(&value).unwrap_or_default() {
            match location {
                Location::Literal(key) => {
                    if let Some(values) = self.literal.get_key_mut(&key) {
                        if values.remove(value) {
                            self.literal.remove_key(&key);
                        }
                    }
                }
                Location::Wild(slot) => {
                    let values = self.wild.payload_mut(slot);
                    remove_value(values, value);
                    if values.is_empty() {
                        self.wild_live = self.wild_live.saturating_sub(1);
                        self.wild_emptied += 1;
                    }
                }
            }
        }
        // Under churn (subscribers with ever new wildcard types coming and
        // going) the trie would keep every node it ever had: rebuild it from
        // the live query types once the emptied ones dominate.
        if self.wild_emptied > 64 && self.wild_emptied > self.wild_live {
            self.compact_wild();
        }
    }

    #[inline]
    fn get_into<S: AsRef<str>>(&self, event_type: &[S], out: &mut Vec<u64>) {
        with_probe_of(event_type, |probe| self.get_probe_into(probe, event_type, out));
    }

    #[inline]
    fn get_type_into(&self, event_type: &EventType, out: &mut Vec<u64>) {
        let start = out.len();
        let mut sources = 0;
        if let Some(values) = self.literal.get_type(event_type) {
            values.append_to(out);
            sources += 1;
        }
        if self.wild_live > 0 {
            sources += event_type.with_indexer(WildValues(&self.wild, out));
        }
        // A value reached through two query types is reported once.
        if sources > 1 {
            dedup_tail(out, start);
        }
    }
}

/// Appends the values of the matching wildcard query types, for
/// [`EventType::with_indexer`]; how many query types matched.
struct WildValues<'t, 'o>(&'t Trie<Vec<u64>>, &'o mut Vec<u64>);

impl<'a> crate::event_type::SegmentFn<'a, usize> for WildValues<'_, '_> {
    #[inline(always)]
    fn call(self, segment: impl Fn(usize) -> Option<&'a [u8]>) -> usize {
        let (trie, out) = (self.0, self.1);
        let mut sources = 0;
        trie.find_by(segment, &mut |values| {
            out.extend_from_slice(values);
            sources += 1;
            false
        });
        sources
    }
}

/// Either flavour, chosen at run time (the C API's
/// `hat_event_collection_create(kind)`).
pub enum AnyCollection {
    Tree(TreeCollection),
    List(ListCollection),
}

/// The flavours by name, for [`AnyCollection::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollectionKind {
    Tree,
    List,
}

impl AnyCollection {
    /// An empty collection of `kind`.
    pub fn new(kind: CollectionKind) -> AnyCollection {
        match kind {
            CollectionKind::Tree => AnyCollection::Tree(TreeCollection::default()),
            CollectionKind::List => AnyCollection::List(ListCollection::default()),
        }
    }

    /// [`Collection::get`] with the probe of `event_type` already built
    /// (by whoever checked the segments); a list collection ignores it.
    #[inline(always)]
    pub(crate) fn get_probe(&self, probe: &Probe<'_>, event_type: &[impl AsRef<str>], out: &mut Vec<u64>) {
        out.clear();
        match self {
            AnyCollection::Tree(c) => c.get_probe_into(probe, event_type, out),
            AnyCollection::List(c) => c.get_into(event_type, out),
        }
    }
}

impl Collection for AnyCollection {
    fn add(&mut self, subscription: &Subscription, value: u64) {
        match self {
            AnyCollection::Tree(c) => c.add(subscription, value),
            AnyCollection::List(c) => c.add(subscription, value),
        }
    }

    fn remove(&mut self, value: u64) {
        match self {
            AnyCollection::Tree(c) => c.remove(value),
            AnyCollection::List(c) => c.remove(value),
        }
    }

    #[inline]
    fn get_into<S: AsRef<str>>(&self, event_type: &[S], out: &mut Vec<u64>) {
        match self {
            AnyCollection::Tree(c) => c.get_into(event_type, out),
            AnyCollection::List(c) => c.get_into(event_type, out),
        }
    }

    #[inline]
    fn get_type_into(&self, event_type: &EventType, out: &mut Vec<u64>) {
        match self {
            AnyCollection::Tree(c) => c.get_type_into(event_type, out),
            AnyCollection::List(c) => c.get_type_into(event_type, out),
        }
    }
}

impl TreeCollection {
    /// [`Collection::get_into`] with the probe of `event_type` given (the C
    /// layer builds it while checking the segments).
    #[inline(always)]
    pub(crate) fn get_probe_into<S: AsRef<str>>(&self, probe: &Probe<'_>, event_type: &[S], out: &mut Vec<u64>) {
        let start = out.len();
        let mut sources = 0;
        if let Some(values) = self.literal.get_probe(probe, event_type) {
            values.append_to(out);
            sources += 1;
        }
        if self.wild_live > 0 {
            self.wild.find(event_type, &mut |values| {
                out.extend_from_slice(values);
                sources += 1;
                false
            });
        }
        // A value reached through two query types is reported once.
        if sources > 1 {
            dedup_tail(out, start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn sub(query_types: &[&[&str]]) -> Subscription {
        Subscription::new(query_types.iter().copied()).unwrap()
    }

    fn got(c: &impl Collection, event_type: &[&str]) -> Vec<u64> {
        let mut out = vec![99];
        c.get(event_type, &mut out);
        out.sort_unstable();
        out
    }

    /// `dedup_tail` against sorting: each value once, the prefix before
    /// `start` untouched; with random values and repeats (u64::MAX, the
    /// set's free slot, among them), and with values chosen to hash to one
    /// slot, which must end in the sorting fallback with the same answer.
    #[test]
    fn dedup_tail_keeps_each_value_once() {
        use crate::test_rng::Rng;
        let check = |values: &[u64]| {
            let mut out = vec![7, 7, 5];
            out.extend_from_slice(values);
            dedup_tail(&mut out, 3);
            assert_eq!(out[..3], [7, 7, 5]);
            let mut got = out[3..].to_vec();
            got.sort_unstable();
            let mut want = values.to_vec();
            want.sort_unstable();
            want.dedup();
            assert_eq!(got, want, "{values:?}");
        };
        let mut rng = Rng(11);
        for round in 0..2_000 {
            let n = rng.below(if round % 100 == 0 { 5_000 } else { 80 });
            let range = 1 + rng.below(2 * n + 1) as u64;
            let values: Vec<u64> = (0..n)
                .map(|_| match rng.below(10) {
                    0 => u64::MAX,
                    1 => u64::MAX - rng.below(3) as u64,
                    _ => rng.next() % range,
                })
                .collect();
            check(&values);
        }
        // (K⁻¹ · (c + j)) · K = c + j: one top-bits slot for every j.
        let k: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut inverse: u64 = 1;
        for _ in 0..6 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(k.wrapping_mul(inverse)));
        }
        assert_eq!(k.wrapping_mul(inverse), 1);
        let colliding: Vec<u64> = (0..300u64).map(|j| inverse.wrapping_mul((5 << 40) + j % 200)).collect();
        check(&colliding);
    }

    // hat-event test_collection.py::test_collection, for both flavours.
    fn reference_case(c: &mut impl Collection) {
        assert_eq!(got(c, &[]), [0u64; 0]);
        assert_eq!(got(c, &["a", "b", "c"]), [0u64; 0]);
        c.add(&sub(&[&["*"]]), 1);
        c.add(&sub(&[]), 2);
        c.add(&sub(&[&["?", "b", "c"]]), 3);
        c.add(&sub(&[&["a", "b", "c"]]), 4);
        assert_eq!(got(c, &[]), [1]);
        assert_eq!(got(c, &["a", "b", "c"]), [1, 3, 4]);
        assert_eq!(got(c, &["x", "b", "c"]), [1, 3]);
        c.remove(3);
        assert_eq!(got(c, &[]), [1]);
        assert_eq!(got(c, &["a", "b", "c"]), [1, 4]);
        assert_eq!(got(c, &["x", "b", "c"]), [1]);
    }

    #[test]
    fn tree_passes_the_reference_case() {
        reference_case(&mut TreeCollection::default());
    }

    #[test]
    fn tree_is_empty_exactly_when_no_value_has_a_query_type() {
        let mut t = TreeCollection::default();
        assert!(t.is_empty());
        t.add(&sub(&[]), 1);
        assert!(t.is_empty());
        t.add(&sub(&[&["a", "b"]]), 2);
        t.add(&sub(&[&["a", "*"], &["?", "c"]]), 3);
        assert!(!t.is_empty());
        t.remove(2);
        assert!(!t.is_empty());
        t.remove(3);
        assert!(t.is_empty());
        t.add(&sub(&[&["x"]]), 3);
        assert!(!t.is_empty());
    }

    #[test]
    fn list_passes_the_reference_case() {
        reference_case(&mut ListCollection::default());
    }

    #[test]
    fn empty_segment_is_not_a_wildcard() {
        // hat's C tree once treated '' as '?'.
        let mut t = TreeCollection::default();
        t.add(&sub(&[&["a", ""]]), 1);
        t.add(&sub(&[&["", "b"]]), 2);
        assert_eq!(got(&t, &["a", "x"]), [0u64; 0]);
        assert_eq!(got(&t, &["a", ""]), [1]);
        assert_eq!(got(&t, &["x", "b"]), [0u64; 0]);
        assert_eq!(got(&t, &["", "b"]), [2]);
    }

    #[test]
    fn a_value_added_twice_widens_and_is_reported_once() {
        let mut t = TreeCollection::default();
        t.add(&sub(&[&["a"]]), 7);
        t.add(&sub(&[&["a", "*"], &["?"]]), 7);
        t.add(&sub(&[&["a"]]), 7);
        assert_eq!(got(&t, &["a"]), [7]);
        assert_eq!(got(&t, &["a", "b"]), [7]);
        t.remove(7);
        assert_eq!(got(&t, &["a"]), [0u64; 0]);
        t.remove(7);
    }

    #[test]
    fn wildcard_churn_keeps_the_trie_small_and_the_answers_right() {
        // Subscribers come and go with ever new wildcard types; a few stay.
        let mut tree = TreeCollection::default();
        let mut list = ListCollection::default();
        let stay = sub(&[&["?", "stable", "*"], &["a", "?"]]);
        tree.add(&stay, 1_000_000);
        list.add(&stay, 1_000_000);
        let mut max_nodes = 0;
        for i in 0..20_000u64 {
            let name = format!("s{i}");
            let s = sub(&[&["?", name.as_str(), "*"], &[name.as_str(), "?", "x"]]);
            tree.add(&s, i);
            list.add(&s, i);
            if i >= 10 {
                tree.remove(i - 10);
                list.remove(i - 10);
            }
            max_nodes = max_nodes.max(tree.wild.node_count());
            if i % 97 == 0 {
                let recent = format!("s{}", i.saturating_sub(3));
                for e in [
                    vec!["q", recent.as_str()],
                    vec!["q", recent.as_str(), "z"],
                    vec![recent.as_str(), "q", "x"],
                    vec!["q", "stable"],
                    vec!["a", "b"],
                    vec!["q", "s0", "z"],
                ] {
                    assert_eq!(got(&tree, &e), got(&list, &e), "round {i}, {e:?}");
                }
            }
        }
        // 11 live subscribers of about 7 nodes each, plus what may be
        // emptied before the next compaction.
        assert!(max_nodes < 400, "trie grew to {max_nodes} nodes");
    }

    use crate::test_rng::Rng;

    fn random_event_type(rng: &mut Rng, wild: bool) -> Vec<&'static str> {
        const SEGMENTS: [&str; 4] = ["a", "b", "", "ü"];
        let len = rng.below(4);
        let mut t: Vec<&str> = (0..len)
            .map(|_| if wild && rng.below(4) == 0 { "?" } else { SEGMENTS[rng.below(SEGMENTS.len())] })
            .collect();
        if wild && rng.below(3) == 0 {
            t.push("*");
        }
        t
    }

    #[test]
    fn tree_and_list_agree_on_random_add_remove_sequences() {
        let mut rng = Rng(0xc011_ec71_0e5e_ed01);
        for _ in 0..200 {
            let mut tree = TreeCollection::default();
            let mut list = ListCollection::default();
            for _ in 0..20 {
                let value = rng.below(6) as u64;
                if rng.below(4) == 0 {
                    tree.remove(value);
                    list.remove(value);
                } else {
                    let n = rng.below(3);
                    let qts: Vec<_> = (0..n).map(|_| random_event_type(&mut rng, true)).collect();
                    let s = Subscription::new(&qts).unwrap();
                    tree.add(&s, value);
                    list.add(&s, value);
                }
                for _ in 0..10 {
                    let e = random_event_type(&mut rng, false);
                    let (t, l) = (got(&tree, &e), got(&list, &e));
                    assert_eq!(t, l, "{e:?}");
                    assert_eq!(t.iter().collect::<BTreeSet<_>>().len(), t.len(), "duplicates for {e:?}");
                }
            }
        }
    }
}
