//! Subscriptions: immutable sets of query types that answer "does this event
//! type match?" — the hot path of event routing — plus the set operations
//! of the reference (union, intersection, isdisjoint).
//!
//! Design. Query types are sanitised with the reference's rules in a
//! transient tree ([`Tree`]), then compiled into two structures:
//! - a hash set of the *literal* query types (no `?`, no `*`): one hash of
//!   the whole event type and one probe, at any depth;
//! - a trie ([`WildTrie`]) of only the query types holding `?` or a trailing
//!   `*`, walked only when there are any.
//! The set operations are rare, so they rebuild the tree from the query types.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::event_type::EventType;
use crate::trie::Trie;
use crate::type_index::{to_event_type, with_key_segments, with_probe_of, Probe, TypeMap};

/// An immutable set of query types. `Send + Sync`: share it freely.
#[derive(Clone, Default)]
pub struct Subscription {
    literal: TypeMap<()>,
    /// Query types with `?` or a trailing `*`.
    wild: Trie<bool>,
    wild_count: usize,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.query_types()).finish()
    }
}

impl Subscription {
    /// A subscription from query types, sanitised as the reference does: a
    /// trailing `*` absorbs everything below it (`('a', '*')` absorbs
    /// `('a',)` and `('a', 'b')`), duplicates vanish. A `*` that is not last
    /// is refused with "invalid query event type" — unless an earlier `*`
    /// already absorbed that position, in which case the reference never
    /// looks at it and neither do we.
    pub fn new<Q: AsRef<[S]>, S: AsRef<str>>(query_types: impl IntoIterator<Item = Q>) -> Result<Subscription> {
        let query_types: Vec<Q> = query_types.into_iter().collect();
        let has_star = query_types.iter().any(|q| q.as_ref().iter().any(|s| s.as_ref() == "*"));
        if !has_star {
            // Without '*' nothing absorbs anything: sanitising only drops
            // duplicates, which the two structures do themselves. This skips
            // building the tree for the common all-literal subscription.
            let mut sub = Subscription::default();
            sub.literal.reserve_for(&query_types);
            for query_type in &query_types {
                let query_type = query_type.as_ref();
                if query_type.iter().any(|s| s.as_ref() == "?") {
                    let (_, present) = sub.wild.slot_mut(query_type);
                    sub.wild_count += usize::from(!*present);
                    *present = true;
                } else {
                    sub.literal.insert_with(query_type, || ());
                }
            }
            return Ok(sub);
        }
        let mut tree = Tree::default();
        for query_type in &query_types {
            tree.insert(query_type.as_ref())?;
        }
        Ok(Subscription::compile(&tree))
    }

    fn compile(tree: &Tree) -> Subscription {
        let mut sub = Subscription::default();
        let mut prefix = Vec::new();
        tree.for_each_query_type(&mut prefix, &mut |query_type| {
            let is_wild = query_type.iter().any(|s| *s == "?") || query_type.last() == Some(&"*");
            if is_wild {
                *sub.wild.slot_mut(query_type).1 = true;
                sub.wild_count += 1;
            } else {
                sub.literal.insert_with(query_type, || ());
            }
        });
        sub
    }

    fn tree(&self) -> Tree {
        let mut tree = Tree::default();
        for query_type in self.query_types() {
            // Sanitised query types are always valid.
            let _ = tree.insert(&query_type);
        }
        tree
    }

    /// Does `event_type` match any query type? Allocation-free.
    #[inline]
    pub fn matches<S: AsRef<str>>(&self, event_type: &[S]) -> bool {
        if self.literal.is_empty() {
            // Only wildcard query types: no probe to build.
            return self.wild.find(event_type, &mut |_| true);
        }
        with_probe_of(event_type, |probe| self.matches_probe(probe, event_type))
    }

    /// [`matches`](Self::matches) with the probe of `event_type` given (the
    /// C layer builds it while checking the segments).
    #[inline(always)]
    pub(crate) fn matches_probe<S: AsRef<str>>(&self, probe: &Probe<'_>, event_type: &[S]) -> bool {
        (!self.literal.is_empty() && self.literal.contains_probe(probe, event_type))
            || self.wild.find(event_type, &mut |_| true)
    }

    /// The sanitised query types (as a set; the order is unspecified).
    pub fn query_types(&self) -> Vec<EventType> {
        let mut out: Vec<EventType> = self.literal.iter().map(|(k, _)| to_event_type(k)).collect();
        self.wild.for_each(&mut |t, _| out.push(t));
        out
    }

    /// Number of sanitised query types.
    pub fn len(&self) -> usize {
        self.literal.len() + self.wild_count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Matches exactly what `self` or any of `others` matches.
    pub fn union<'a>(&self, others: impl IntoIterator<Item = &'a Subscription>) -> Subscription {
        let tree = others.into_iter().fold(self.tree(), |acc, other| Tree::union(&acc, &other.tree()));
        Subscription::compile(&tree)
    }

    /// Matches exactly what `self` and every one of `others` match.
    /// (**Differs** from the reference, which loses event types where a
    /// trailing `*` must also match the empty remainder.)
    pub fn intersection<'a>(&self, others: impl IntoIterator<Item = &'a Subscription>) -> Subscription {
        let tree = others.into_iter().fold(self.tree(), |acc, other| Tree::intersection(&acc, &other.tree()));
        Subscription::compile(&tree)
    }

    /// True exactly when no event type matches both.
    pub fn isdisjoint(&self, other: &Subscription) -> bool {
        // A literal query type is itself an event type: one of either side
        // that the other matches is shared. That leaves pairs of wildcard
        // query types, compared pattern against pattern. Stops at the
        // first shared event type.
        // Both sides in turn, so that a shared type near the start of
        // either is found early.
        let (mut mine, mut theirs) = (self.literal.iter(), other.literal.iter());
        loop {
            let (a, b) = (mine.next(), theirs.next());
            if a.is_none() && b.is_none() {
                break;
            }
            if a.is_some_and(|(key, _)| with_key_segments(key, |t| other.matches(t)))
                || b.is_some_and(|(key, _)| with_key_segments(key, |t| self.matches(t)))
            {
                return false;
            }
        }
        if self.wild_count.saturating_mul(other.wild_count) > 1_000_000 {
            return Tree::intersection(&self.tree(), &other.tree()).is_empty();
        }
        let patterns = |s: &Subscription| {
            let mut out = Vec::with_capacity(s.wild_count);
            s.wild.for_each(&mut |t, _| out.push(t));
            out
        };
        let theirs = patterns(other);
        !patterns(self).iter().any(|p| theirs.iter().any(|q| patterns_intersect(p, q)))
    }

    /// Heap bytes held (for memory reports).
    pub fn heap_bytes(&self) -> usize {
        self.literal.heap_bytes(|_| 0) + self.wild.heap_bytes()
    }
}

/// Whether some event type matches both query types (each holding `?`
/// segments and at most a trailing `*`): the segments both have must be
/// compatible, and the lengths must allow a common event type.
fn patterns_intersect(p: &[String], q: &[String]) -> bool {
    let split = |t: &'_ [String]| match t.split_last() {
        Some((last, rest)) if last == "*" => (rest.len(), true),
        _ => (t.len(), false),
    };
    let ((p_len, p_star), (q_len, q_star)) = (split(p), split(q));
    let compatible = p[..p_len].iter().zip(&q[..q_len]).all(|(a, b)| a == "?" || b == "?" || a == b);
    compatible
        && match (p_star, q_star) {
            (false, false) => p_len == q_len,
            (true, false) => q_len >= p_len,
            (false, true) => p_len >= q_len,
            (true, true) => true,
        }
}

/// The reference's subscription tree (`hat.event.common.subscription.common.Node`),
/// with its `'*'` child kept as a flag.
#[derive(Clone, Default, Debug)]
struct Tree {
    /// Matches the empty remainder.
    leaf: bool,
    /// Has a `'*'` child: matches every remainder; no other children then.
    star: bool,
    children: BTreeMap<String, Tree>,
}

impl Tree {
    /// The reference's `_add_query_type`.
    fn insert<S: AsRef<str>>(&mut self, query_type: &[S]) -> Result<()> {
        if self.star {
            return Ok(());
        }
        let Some((head, rest)) = query_type.split_first() else {
            self.leaf = true;
            return Ok(());
        };
        if head.as_ref() == "*" {
            if !rest.is_empty() {
                return Err(Error::InvalidArgument("invalid query event type".into()));
            }
            self.children.clear();
            self.star = true;
            return Ok(());
        }
        self.children.entry(head.as_ref().to_owned()).or_default().insert(rest)
    }

    /// The reference's `node_to_query_types`.
    fn for_each_query_type<'a>(&'a self, prefix: &mut Vec<&'a str>, f: &mut impl FnMut(&[&str])) {
        if self.leaf && !self.star {
            f(prefix);
        }
        if self.star {
            prefix.push("*");
            f(prefix);
            prefix.pop();
        }
        for (name, child) in &self.children {
            prefix.push(name);
            child.for_each_query_type(prefix, f);
            prefix.pop();
        }
    }

    fn matches_empty(&self) -> bool {
        self.leaf || self.star
    }

    fn is_empty(&self) -> bool {
        !self.leaf && !self.star && self.children.values().all(Tree::is_empty)
    }

    fn union(a: &Tree, b: &Tree) -> Tree {
        if a.star || b.star {
            return Tree { leaf: a.leaf || b.leaf, star: true, children: BTreeMap::new() };
        }
        let mut children = a.children.clone();
        for (name, child) in &b.children {
            match children.get_mut(name) {
                Some(mine) => *mine = Tree::union(mine, child),
                None => {
                    children.insert(name.clone(), child.clone());
                }
            }
        }
        Tree { leaf: a.leaf || b.leaf, star: false, children }
    }

    /// Exact intersection. Built as the reference builds it (children paired
    /// by equal names, and `'?'` with any name), whose only flaw is the leaf
    /// rule: it requires both nodes to be leaves, although a `'*'` also
    /// matches the empty remainder. Such lost leaves are added back, except
    /// where another query type of the result already covers them, so that
    /// wherever the reference is right the query types are the reference's.
    fn intersection(a: &Tree, b: &Tree) -> Tree {
        let mut lost = Vec::new();
        let mut result = Tree::reference_intersection(a, b, &mut Vec::new(), &mut lost);
        if !lost.is_empty() {
            let mut covering: Vec<Vec<String>> = Vec::new();
            result.for_each_query_type(&mut Vec::new(), &mut |q| covering.push(q.iter().map(|s| s.to_string()).collect()));
            for path in lost {
                if !covering.iter().any(|q| subsumes(q, &path)) {
                    // Paths come from a valid tree: no '*' before the end.
                    let _ = result.insert(&path);
                }
            }
        }
        result
    }

    /// The reference's `intersection`, recording in `lost` the paths where
    /// its leaf rule drops an event type that both operands match.
    fn reference_intersection(a: &Tree, b: &Tree, path: &mut Vec<String>, lost: &mut Vec<Vec<String>>) -> Tree {
        let leaf = a.leaf && b.leaf;
        if !leaf && a.matches_empty() && b.matches_empty() {
            lost.push(path.clone());
        }
        if a.star || b.star {
            let other = if a.star { b } else { a };
            // The reference keeps the other side's children (its '*' child too).
            return Tree { leaf, star: other.star, children: other.children.clone() };
        }
        let mut children: BTreeMap<String, Tree> = BTreeMap::new();
        // Every compatible pair of children, seen from a's side: equal
        // names, a's '?' with any of b's, any of a's with b's '?'.
        let mut pairs: Vec<(&str, &Tree, &Tree)> = Vec::new();
        for (name, ca) in &a.children {
            if name == "?" {
                pairs.extend(b.children.iter().map(|(other, cb)| (other.as_str(), ca, cb)));
            } else {
                if let Some(cb) = b.children.get(name) {
                    pairs.push((name, ca, cb));
                }
                if let Some(cb) = b.children.get("?") {
                    pairs.push((name, ca, cb));
                }
            }
        }
        for (name, ca, cb) in pairs {
            path.push(name.to_owned());
            let t = Tree::reference_intersection(ca, cb, path, lost);
            path.pop();
            match children.get_mut(name) {
                Some(prev) => *prev = Tree::union(prev, &t),
                None => {
                    children.insert(name.to_owned(), t);
                }
            }
        }
        Tree { leaf, star: false, children }
    }
}

/// Does query type `general` match every event type `specific` matches?
/// (With an unbounded alphabet, a query type covered by a set of query
/// types is covered by one of them, so pairwise checks suffice.)
fn subsumes(general: &[String], specific: &[String]) -> bool {
    let split = |q: &[String]| -> (usize, bool) {
        match q.last() {
            Some(s) if s == "*" => (q.len() - 1, true),
            _ => (q.len(), false),
        }
    };
    let ((gn, gstar), (sn, sstar)) = (split(general), split(specific));
    let lengths_ok = if gstar { sn >= gn } else { !sstar && sn == gn };
    lengths_ok && general[..gn].iter().zip(specific).all(|(g, s)| g == "?" || (s != "?" && g == s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_type::matches_query_type;
    use std::collections::BTreeSet;

    fn sub(query_types: &[&[&str]]) -> Subscription {
        Subscription::new(query_types.iter().copied()).unwrap()
    }

    fn set(types: Vec<EventType>) -> BTreeSet<EventType> {
        types.into_iter().collect()
    }

    fn owned(types: &[&[&str]]) -> BTreeSet<EventType> {
        types.iter().map(|t| t.iter().map(|s| s.to_string()).collect()).collect()
    }

    // hat-event test_subscription.py::test_subscription_get_query_types
    #[test]
    fn query_types_are_sanitised_as_the_reference() {
        let cases: &[(&[&[&str]], &[&[&str]])] = &[
            (&[], &[]),
            (&[&[]], &[&[]]),
            (&[&["a"], &["b"], &["c"]], &[&["a"], &["b"], &["c"]]),
            (&[&["a"], &["b", "*"], &[], &["*"]], &[&["*"]]),
            (&[&["a", "*"], &["a"]], &[&["a", "*"]]),
            (&[&["a", "*"], &["b"], &["c", "?"], &["c", "*"]], &[&["a", "*"], &["b"], &["c", "*"]]),
            (&[&[""], &["a"]], &[&[""], &["a"]]),
            (&[&[""], &["*"]], &[&["*"]]),
        ];
        for (query_types, sanitized) in cases {
            let s = sub(query_types);
            let got = s.query_types();
            assert_eq!(got.len(), sanitized.len(), "{query_types:?}");
            assert_eq!(set(got), owned(sanitized), "{query_types:?}");
            assert_eq!(s.len(), sanitized.len());
        }
    }

    // hat-event test_subscription.py::test_subscription_matches
    #[test]
    fn matches_reference_cases() {
        let cases: &[(&[&[&str]], &[&[&str]], &[&[&str]])] = &[
            (&[], &[], &[&["a"], &["a", "b"], &[]]),
            (&[&[]], &[&[]], &[&["a"], &["a", "b"]]),
            (&[&["*"]], &[&[], &["a"], &["a", "b"]], &[]),
            (&[&["a"]], &[&["a"]], &[&[], &["a", "b"], &["b"]]),
            (&[&["a", "?"], &["a"]], &[&["a"], &["a", "b"], &["a", ""]], &[&[], &["a", "b", "c"], &["b"], &[""]]),
        ];
        for (query_types, matching, not_matching) in cases {
            let s = sub(query_types);
            for e in *matching {
                assert!(s.matches(e), "{query_types:?} should match {e:?}");
            }
            for e in *not_matching {
                assert!(!s.matches(e), "{query_types:?} should not match {e:?}");
            }
        }
    }

    // hat-event test_subscription.py::test_subscription_union
    #[test]
    fn union_reference_cases() {
        let cases: &[(&[&[&[&str]]], &[&[&str]])] = &[
            (&[], &[]),
            (&[&[]], &[]),
            (&[&[&["a"]], &[&["b"]]], &[&["a"], &["b"]]),
            (&[&[&["a"]], &[&["b"]], &[&["*"]]], &[&["*"]]),
            (&[&[&["a", "b"]], &[&["a", "c"]]], &[&["a", "b"], &["a", "c"]]),
            (&[&[&["a", ""]], &[&["", "a"]]], &[&["a", ""], &["", "a"]]),
        ];
        for (operands, expected) in cases {
            let others: Vec<Subscription> = operands.iter().map(|q| sub(q)).collect();
            let u = sub(&[]).union(&others);
            assert_eq!(set(u.query_types()), owned(expected), "{operands:?}");
        }
    }

    // hat-event test_subscription.py::test_subscription_isdisjoint
    #[test]
    fn isdisjoint_reference_cases() {
        let cases: &[(&[&[&str]], &[&[&str]], bool)] = &[
            (&[], &[], true),
            (&[&["a"]], &[&["b"]], true),
            (&[&["a"]], &[&["a"]], false),
            (&[&["a"]], &[&["?"]], false),
            (&[&["?"]], &[&["?"]], false),
            (&[&["?", "a"]], &[&["?", "b"]], true),
            (&[&["a", "b"]], &[&["*"]], false),
            (&[&["a", "b", "*"]], &[&["a", "b"]], false),
            (&[&["a", "", "?"]], &[&["a", "", "b"]], false),
            // SPEC §6: hat's C implementation says False here.
            (&[&[]], &[&["a"]], true),
        ];
        for (a, b, expected) in cases {
            assert_eq!(sub(a).isdisjoint(&sub(b)), *expected, "{a:?} {b:?}");
            assert_eq!(sub(b).isdisjoint(&sub(a)), *expected, "{b:?} {a:?}");
        }
    }

    // hat-event test_subscription.py::test_subscription_intersection, plus
    // SPEC §6's cases where the reference is wrong.
    #[test]
    fn intersection_reference_cases_and_exact_fixes() {
        let cases: &[(&[&[&str]], &[&[&str]], &[&[&str]])] = &[
            (&[], &[], &[]),
            (&[&["a"]], &[&["b"]], &[]),
            (&[&["*"]], &[&["a"], &["b"], &["c"]], &[&["a"], &["b"], &["c"]]),
            (&[&["a"], &["b"]], &[&["b"], &["c"]], &[&["b"]]),
            (&[&["?", "b"]], &[&["a", "b"]], &[&["a", "b"]]),
            (&[&[""], &["a"]], &[&[""], &["b"]], &[&[""]]),
            (&[&["a"]], &[&["a", "*"]], &[&["a"]]),
            (&[&[]], &[&["*"]], &[&[]]),
            (&[&["?"]], &[&["a", "*"]], &[&["a"]]),
            // Where the reference is right, its query types, redundant or not:
            (&[&["?", "*"], &[], &["b", "?", "x"], &["b"]], &[&["?", "*"]], &[&["?", "*"], &["b", "?", "x"]]),
            (&[&["b"], &["?"]], &[&["*"]], &[&["b"], &["?"]]),
        ];
        for (a, b, expected) in cases {
            assert_eq!(set(sub(a).intersection([&sub(b)]).query_types()), owned(expected), "{a:?} {b:?}");
        }
    }

    #[test]
    fn star_before_the_end_is_refused_unless_already_absorbed() {
        for bad in [&[&["*", "a"][..]][..], &[&["a", "*", "b"]], &[&["a", "*", "b"], &["a", "*"]]] {
            let err = Subscription::new(bad.iter().copied()).unwrap_err();
            assert_eq!(err, Error::InvalidArgument("invalid query event type".into()));
        }
        // As in the reference: an earlier '*' absorbs the position first.
        assert_eq!(set(sub(&[&["*"], &["*", "a"]]).query_types()), owned(&[&["*"]]));
        assert_eq!(set(sub(&[&["a", "*"], &["a", "*", "b"]]).query_types()), owned(&[&["a", "*"]]));
    }

    use crate::test_rng::Rng;

    fn random_query_type(rng: &mut Rng) -> Vec<&'static str> {
        const SEGMENTS: [&str; 5] = ["a", "b", "", "?", "ž"];
        let len = rng.below(5);
        let mut t: Vec<&str> = (0..len).map(|_| SEGMENTS[rng.below(SEGMENTS.len())]).collect();
        if rng.below(3) == 0 {
            t.push("*");
        }
        t
    }

    fn random_subscription(rng: &mut Rng) -> (Vec<Vec<&'static str>>, Subscription) {
        let n = rng.below(5);
        let qts: Vec<_> = (0..n).map(|_| random_query_type(rng)).collect();
        let s = Subscription::new(&qts).unwrap();
        (qts, s)
    }

    /// Every event type of depth <= 5 over the generator's literals and one
    /// unseen segment: enough to tell apart any two of its subscriptions.
    fn universe() -> Vec<Vec<&'static str>> {
        const SEGMENTS: [&str; 5] = ["a", "b", "", "ž", "x"];
        let mut all = vec![vec![]];
        let mut layer = vec![vec![]];
        for _ in 0..5 {
            layer = layer
                .iter()
                .flat_map(|t: &Vec<&str>| SEGMENTS.iter().map(move |s| [t.clone(), vec![*s]].concat()))
                .collect();
            all.extend(layer.iter().cloned());
        }
        all
    }

    #[test]
    fn random_subscriptions_obey_matching_and_set_laws() {
        let universe = universe();
        let mut rng = Rng(0x5eed_2026_1128);
        for _ in 0..1000 {
            let (qa, a) = random_subscription(&mut rng);
            let (_, b) = random_subscription(&mut rng);
            let u = a.union([&b]);
            let i = a.intersection([&b]);
            let mut witness = false;
            for e in &universe {
                let (ma, mb) = (a.matches(e), b.matches(e));
                assert_eq!(ma, qa.iter().any(|q| matches_query_type(e, q)), "{qa:?} {e:?}");
                assert_eq!(u.matches(e), ma || mb, "union {a:?} {b:?} {e:?}");
                assert_eq!(i.matches(e), ma && mb, "intersection {a:?} {b:?} {e:?}");
                witness |= ma && mb;
            }
            assert_eq!(a.isdisjoint(&b), !witness, "{a:?} {b:?}");
            assert_eq!(b.isdisjoint(&a), !witness, "{b:?} {a:?}");
            assert_eq!(Tree::intersection(&a.tree(), &b.tree()).is_empty(), !witness, "{a:?} {b:?}");
            // Sanitised query types describe the same subscription.
            let again = Subscription::new(a.query_types()).unwrap();
            assert_eq!(set(again.query_types()), set(a.query_types()));
        }
    }
}
