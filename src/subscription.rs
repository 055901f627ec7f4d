//! Subscriptions: immutable sets of query types that answer "does this event
//! type match?" — the hot path of event routing — plus the set operations
//! of the reference (union, intersection, isdisjoint).
//!
//! Design. Query types are sanitised with the reference's rules in a
//! transient tree (`Tree`), then compiled into two structures:
//! - a hash set of the *literal* query types (no `?`, no `*`): one hash of
//!   the whole event type and one probe, at any depth; stored compactly
//!   (`TypeSet`: what types share before their last segment is stored once);
//! - a trie (`Trie`) of only the query types holding `?` or a trailing
//!   `*`, walked only when there are any.
//!
//! The set operations rebuild a tree from the query types where they need
//! one; union, and intersection with a literal-only operand, do not.

use hashbrown::HashTable;

use crate::error::{Error, Result};
use crate::event_type::EventType;
use crate::trie::Trie;
use crate::type_index::{hash_bytes, to_event_type, with_key_segments, with_probe_of, Probe};
use crate::type_set::{TypeSet, TypeSetBuilder};

/// Whether a wildcard query type matches, for [`EventType::with_indexer`].
struct WildMatch<'t>(&'t Trie<bool>);

impl<'a> crate::event_type::SegmentFn<'a, bool> for WildMatch<'_> {
    #[inline(always)]
    fn call(self, segment: impl Fn(usize) -> Option<&'a [u8]>) -> bool {
        self.0.find_by(segment, &mut |_| true)
    }
}

/// An immutable set of query types. `Send + Sync`: share it freely.
#[derive(Clone, Default)]
pub struct Subscription {
    literal: TypeSet,
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
        Subscription::from_slice(&query_types)
    }

    /// [`new`](Self::new) from a slice, which it reads twice without
    /// collecting it first (the C API's path: no transient copy of the
    /// caller's list).
    pub(crate) fn from_slice<Q: AsRef<[S]>, S: AsRef<str>>(query_types: &[Q]) -> Result<Subscription> {
        let has_star = query_types.iter().any(|q| q.as_ref().iter().any(|s| s.as_ref() == "*"));
        if !has_star {
            // Without '*' nothing absorbs anything: sanitising only drops
            // duplicates, which the two structures do themselves. This skips
            // building the tree for the common all-literal subscription.
            let mut sub = Subscription::default();
            let mut literal = TypeSetBuilder::default();
            literal.reserve_for(query_types);
            for query_type in query_types {
                let query_type = query_type.as_ref();
                if query_type.iter().any(|s| s.as_ref() == "?") {
                    let (_, present) = sub.wild.slot_mut(query_type);
                    sub.wild_count += usize::from(!*present);
                    *present = true;
                } else {
                    literal.insert(query_type);
                }
            }
            sub.literal = literal.build();
            return Ok(sub);
        }
        let mut tree = Tree::default();
        for query_type in query_types {
            tree.insert(query_type.as_ref())?;
        }
        Ok(Subscription::compile(&tree))
    }

    /// [`new`](Self::new) from query types held as [`EventType`]s.
    pub fn from_types<'a>(query_types: impl IntoIterator<Item = &'a EventType>) -> Result<Subscription> {
        Subscription::new(query_types.into_iter().map(|t| t.iter().collect::<Vec<&str>>()))
    }

    fn compile(tree: &Tree) -> Subscription {
        let mut sub = Subscription::default();
        let mut literal = TypeSetBuilder::default();
        tree.for_each_query_type(&mut |query_type| {
            let is_wild = query_type.contains(&"?") || query_type.last() == Some(&"*");
            if is_wild {
                *sub.wild.slot_mut(query_type).1 = true;
                sub.wild_count += 1;
            } else {
                literal.insert(query_type);
            }
        });
        sub.literal = literal.build();
        sub
    }

    fn tree(&self) -> Tree {
        let mut tree = Tree::default();
        // Sanitised query types are always valid.
        self.for_each_query_type(|t| {
            let _ = tree.insert(t);
        });
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

    /// [`matches`](Self::matches) for an [`EventType`]: the literal query
    /// types are looked up with the type's stored hash and key (no probe,
    /// no hashing); the wildcard ones walk its segments.
    #[inline]
    pub fn matches_type(&self, event_type: &EventType) -> bool {
        (!self.literal.is_empty() && self.literal.contains_type(event_type))
            || event_type.with_indexer(WildMatch(&self.wild))
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
        let mut out: Vec<EventType> = self.literal.iter().map(|t| to_event_type(t.segments())).collect();
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

    /// Matches exactly what `self` or any of `others` matches. Linear in
    /// the total size of the query types: the union of sanitised sets is
    /// what sanitising all of them together gives.
    pub fn union<'a>(&self, others: impl IntoIterator<Item = &'a Subscription>) -> Subscription {
        let mut all: Vec<&Subscription> = vec![self];
        all.extend(others.into_iter().map(|s| s as &Subscription));
        if all.iter().all(|s| s.wild_count == 0) {
            let mut literal = TypeSetBuilder::default();
            literal.reserve(all.iter().map(|s| s.literal.len()).sum());
            for s in &all {
                s.literal.iter().for_each(|t| literal.insert_parts(t));
            }
            return Subscription { literal: literal.build(), ..Subscription::default() };
        }
        let mut tree = Tree::default();
        for s in &all {
            s.for_each_query_type(|t| {
                // Sanitised query types hold '*' only last.
                let _ = tree.insert(t);
            });
        }
        Subscription::compile(&tree)
    }

    /// Calls `f` with each sanitised query type.
    fn for_each_query_type(&self, mut f: impl FnMut(&[&str])) {
        for t in self.literal.iter() {
            with_key_segments(t.segments(), &mut f);
        }
        self.wild.for_each_borrowed(|t, _| f(t));
    }

    /// Matches exactly what `self` and every one of `others` match.
    /// (**Differs** from the reference, which loses event types where a
    /// trailing `*` must also match the empty remainder.)
    ///
    /// Operands are taken in order, as the reference takes them (the
    /// query types of the result depend on it). Memory is bounded by the
    /// product of the operands' sizes: an empty operand gives the empty
    /// subscription before anything is computed (without that check,
    /// `A ∩ B ∩ {}` would build `A ∩ B`, as large as `|A| · |B|`), and the
    /// fold stops once the result is empty.
    pub fn intersection<'a>(&self, others: impl IntoIterator<Item = &'a Subscription>) -> Subscription {
        let others: Vec<&Subscription> = others.into_iter().collect();
        if self.is_empty() || others.iter().any(|o| o.is_empty()) {
            return Subscription::default();
        }
        let mut acc = self.clone();
        for other in others {
            acc = acc.intersect(other);
            if acc.is_empty() {
                break;
            }
        }
        acc
    }

    fn intersect(&self, other: &Subscription) -> Subscription {
        if self.wild_count == 0 || other.wild_count == 0 {
            // A literal query type is an event type: it is in the
            // intersection exactly when the other side matches it, and the
            // reference's answer (names taken from the literal side) is
            // exactly those. Linear in the literal side.
            let (literal, general) = if self.wild_count == 0 { (self, other) } else { (other, self) };
            let mut shared = TypeSetBuilder::default();
            for t in literal.literal.iter() {
                if with_key_segments(t.segments(), |segments| general.matches(segments)) {
                    shared.insert_parts(t);
                }
            }
            return Subscription { literal: shared.build(), ..Subscription::default() };
        }
        Subscription::compile(&Tree::intersection(&self.tree(), &other.tree()))
    }

    /// True exactly when no event type matches both.
    pub fn isdisjoint(&self, other: &Subscription) -> bool {
        // A literal query type is itself an event type: one of either side
        // that the other matches is shared. Cheapest first: literals the
        // other also has as literals, looked up by their stored key bytes
        // (no segments decoded, no probe built), both sides in turn so that
        // a shared type near the start of either is found early.
        let (mut mine, mut theirs) = (self.literal.iter(), other.literal.iter());
        loop {
            let (a, b) = (mine.next(), theirs.next());
            if a.is_none() && b.is_none() {
                break;
            }
            if a.is_some_and(|t| other.literal.contains_parts(t)) || b.is_some_and(|t| self.literal.contains_parts(t)) {
                return false;
            }
        }
        // Then literals that the other's wildcard query types match.
        let wild_matches = |literal: &TypeSet, wild: &Trie<bool>| {
            literal.iter().any(|t| with_key_segments(t.segments(), |t| wild.find(t, &mut |_| true)))
        };
        if (other.wild_count > 0 && wild_matches(&self.literal, &other.wild))
            || (self.wild_count > 0 && wild_matches(&other.literal, &self.wild))
        {
            return false;
        }
        // That leaves pairs of wildcard query types, compared pattern
        // against pattern.
        if self.wild_count.saturating_mul(other.wild_count) > 1_000_000 {
            return Tree::intersection(&self.tree(), &other.tree()).is_empty();
        }
        let patterns = |s: &Subscription| {
            let mut out = Vec::with_capacity(s.wild_count);
            s.wild.for_each(&mut |t, _| out.push(t.to_vec()));
            out
        };
        let theirs = patterns(other);
        !patterns(self).iter().any(|p| theirs.iter().any(|q| patterns_intersect(p, q)))
    }

    /// Heap bytes held (for memory reports).
    pub fn heap_bytes(&self) -> usize {
        self.literal.heap_bytes() + self.wild.heap_bytes()
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

/// No node, as an index.
const NONE: u32 = u32::MAX;

/// The reference's subscription tree (`hat.event.common.subscription.common.Node`),
/// with its `'*'` child kept as a flag, as an arena: nodes in one vector,
/// names in one string, children found through one table keyed by (parent,
/// name) and listed through sibling links. No walk recurses and dropping it
/// is flat, so stack use does not depend on the depth of a query type; it
/// holds about 40 bytes per node plus the names.
#[derive(Default)]
struct Tree {
    nodes: Vec<TreeNode>,
    names: String,
    /// Child node indices, hashed by (parent, name).
    edges: HashTable<u32>,
}

#[derive(Clone, Copy)]
struct TreeNode {
    parent: u32,
    first_child: u32,
    next_sibling: u32,
    /// Matches the empty remainder.
    leaf: bool,
    /// Has a `'*'` child: matches every remainder; no other children then.
    star: bool,
    name: (usize, usize),
}

const ROOT: u32 = 0;

fn edge_hash(parent: u32, name: &str) -> u64 {
    hash_bytes(u64::from(parent).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5bd1_e995, name.as_bytes())
}

impl Tree {
    fn with_root() -> Tree {
        let root =
            TreeNode { parent: NONE, first_child: NONE, next_sibling: NONE, leaf: false, star: false, name: (0, 0) };
        Tree { nodes: vec![root], names: String::new(), edges: HashTable::new() }
    }

    fn node(&self, id: u32) -> &TreeNode {
        &self.nodes[id as usize]
    }

    fn name(&self, id: u32) -> &str {
        let (start, end) = self.node(id).name;
        &self.names[start..end]
    }

    fn child(&self, parent: u32, name: &str) -> Option<u32> {
        let (nodes, names) = (&self.nodes, &self.names);
        self.edges
            .find(edge_hash(parent, name), |&c| {
                let n = &nodes[c as usize];
                n.parent == parent && &names[n.name.0..n.name.1] == name
            })
            .copied()
    }

    fn children(&self, parent: u32) -> impl Iterator<Item = u32> + '_ {
        let mut next = self.node(parent).first_child;
        std::iter::from_fn(move || {
            let current = next;
            (current != NONE).then(|| {
                next = self.node(current).next_sibling;
                current
            })
        })
    }

    fn child_or_insert(&mut self, parent: u32, name: &str) -> u32 {
        if let Some(child) = self.child(parent, name) {
            return child;
        }
        let id = u32::try_from(self.nodes.len()).expect("fewer than 2^32 tree nodes");
        let start = self.names.len();
        self.names.push_str(name);
        let first = self.node(parent).first_child;
        self.nodes.push(TreeNode {
            parent,
            first_child: NONE,
            next_sibling: first,
            leaf: false,
            star: false,
            name: (start, self.names.len()),
        });
        self.nodes[parent as usize].first_child = id;
        let (nodes, names) = (&self.nodes, &self.names);
        self.edges.insert_unique(edge_hash(parent, name), id, |&c| {
            let n = &nodes[c as usize];
            edge_hash(n.parent, &names[n.name.0..n.name.1])
        });
        id
    }

    /// The reference's `_add_query_type`.
    fn insert<S: AsRef<str>>(&mut self, query_type: &[S]) -> Result<()> {
        if self.nodes.is_empty() {
            *self = Tree::with_root();
        }
        let mut node = ROOT;
        for (i, segment) in query_type.iter().enumerate() {
            if self.node(node).star {
                return Ok(());
            }
            let segment = segment.as_ref();
            if segment == "*" {
                if i + 1 < query_type.len() {
                    return Err(Error::InvalidArgument("invalid query event type".into()));
                }
                // The children become unreachable: no walk starts below a
                // star, and their edges are never looked up again.
                let n = &mut self.nodes[node as usize];
                n.first_child = NONE;
                n.star = true;
                return Ok(());
            }
            node = self.child_or_insert(node, segment);
        }
        let n = &mut self.nodes[node as usize];
        if !n.star {
            n.leaf = true;
        }
        Ok(())
    }

    /// The reference's `node_to_query_types`, from the root: each sanitised
    /// query type once.
    fn for_each_query_type(&self, f: &mut impl FnMut(&[&str])) {
        let Some(root) = self.nodes.first() else {
            return;
        };
        if root.star {
            f(&["*"]);
        } else {
            if root.leaf {
                f(&[]);
            }
            self.for_each_below(ROOT, &mut Vec::new(), f);
        }
    }

    /// Calls `f` with each query type below node `start` (not its own),
    /// `path` being the segments that lead to `start`. Depth-first with an
    /// explicit stack; `path` is as it was afterwards.
    fn for_each_below<'a>(&'a self, start: u32, path: &mut Vec<&'a str>, f: &mut impl FnMut(&[&str])) {
        let base = path.len();
        let mut stack: Vec<(u32, usize)> = self.children(start).map(|c| (c, base + 1)).collect();
        while let Some((id, depth)) = stack.pop() {
            path.truncate(depth - 1);
            path.push(self.name(id));
            let n = self.node(id);
            if n.star {
                path.push("*");
                f(path);
                path.pop();
                continue;
            }
            if n.leaf {
                f(path);
            }
            stack.extend(self.children(id).map(|c| (c, depth + 1)));
        }
        path.truncate(base);
    }

    /// Does some query type of the tree match every event type `specific`
    /// (a sanitised query type) matches? A query type covered by a set of
    /// query types is covered by one of them (the alphabet is unbounded), so
    /// this is "does one query type cover it" against each one, walked as the set of
    /// tree nodes `specific`'s prefix can reach (at most two edges each:
    /// the equal name and `'?'`).
    fn covers(&self, specific: &[String]) -> bool {
        if self.nodes.is_empty() {
            return false;
        }
        let (len, star) = match specific.split_last() {
            Some((last, rest)) if last == "*" => (rest.len(), true),
            _ => (specific.len(), false),
        };
        let mut frontier = vec![ROOT];
        let mut next = Vec::new();
        for (depth, segment) in specific[..len].iter().map(Some).chain([None]).enumerate() {
            let mut seen = std::collections::HashSet::new();
            for &id in &frontier {
                let n = self.node(id);
                if n.star || (depth == len && !star && n.leaf) {
                    return true;
                }
                if let Some(segment) = segment {
                    let segment = segment.as_str();
                    let wild = self.child(id, "?");
                    let equal = if segment == "?" { None } else { self.child(id, segment) };
                    next.extend([wild, equal].into_iter().flatten().filter(|c| seen.insert(*c)));
                }
            }
            std::mem::swap(&mut frontier, &mut next);
            next.clear();
            if frontier.is_empty() {
                return false;
            }
        }
        false
    }

    /// Exact intersection, as query types. Built as the reference builds it
    /// (children paired by equal names, and `'?'` with any name), whose only
    /// flaw is the leaf rule: it requires both nodes to be leaves, although
    /// a `'*'` also matches the empty remainder. Such lost leaves are added
    /// back, except where another query type of the result already covers
    /// them, so that wherever the reference is right the query types are
    /// the reference's.
    ///
    /// Cost: each pair of nodes at equal depth is visited at most once, and
    /// each query type is written once per pair that yields it, so time and
    /// memory are bounded by the product of the operands' sizes; the result
    /// itself can be that large (`[('?', x_i)] ∩ [(y_j, '?')]`). The callers
    /// take the linear path when either operand has no wildcard.
    fn intersection(a: &Tree, b: &Tree) -> Tree {
        let mut result = Tree::default();
        let mut lost: Vec<Vec<String>> = Vec::new();
        if a.nodes.is_empty() || b.nodes.is_empty() {
            return result;
        }
        // Paths come from valid trees: no '*' before the end, so inserting
        // cannot fail.
        let mut found = |t: &[&str]| {
            let _ = result.insert(t);
        };
        let mut path: Vec<&str> = Vec::new();
        // (node of a, node of b, depth, name taken at that depth)
        let mut stack: Vec<(u32, u32, usize, &str)> = vec![(ROOT, ROOT, 0, "")];
        while let Some((ia, ib, depth, name)) = stack.pop() {
            path.truncate(depth.saturating_sub(1));
            if depth > 0 {
                path.push(name);
            }
            let (na, nb) = (a.node(ia), b.node(ib));
            let leaf = na.leaf && nb.leaf;
            let matches_empty = |n: &TreeNode| n.leaf || n.star;
            if !leaf && matches_empty(na) && matches_empty(nb) {
                lost.push(path.iter().map(|s| s.to_string()).collect());
            }
            if na.star || nb.star {
                // The reference keeps the other side's subtree (its '*' too).
                let (other, id) = if na.star { (b, ib) } else { (a, ia) };
                if other.node(id).star {
                    path.push("*");
                    found(&path);
                    path.pop();
                    continue;
                }
                if leaf {
                    found(&path);
                }
                other.for_each_below(id, &mut path, &mut found);
                continue;
            }
            if leaf {
                found(&path);
            }
            // Every compatible pair of children, seen from a's side: equal
            // names, a's '?' with any of b's, any of a's with b's '?'.
            let b_any = b.child(ib, "?");
            for ca in a.children(ia) {
                let name = a.name(ca);
                if name == "?" {
                    stack.extend(b.children(ib).map(|cb| (ca, cb, depth + 1, b.name(cb))));
                } else {
                    if let Some(cb) = b.child(ib, name) {
                        stack.push((ca, cb, depth + 1, name));
                    }
                    if let Some(cb) = b_any {
                        stack.push((ca, cb, depth + 1, name));
                    }
                }
            }
        }
        lost.retain(|path| !result.covers(path));
        for path in &lost {
            let _ = result.insert(path);
        }
        result
    }

    /// Whether the tree holds no query type.
    fn is_empty(&self) -> bool {
        let mut empty = true;
        self.for_each_query_type(&mut |_| empty = false);
        empty
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_type::matches_query_type;
    use std::collections::BTreeSet;

    /// Query types (or event types) written out in a test table.
    type Types = &'static [&'static [&'static str]];

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
        let cases: &[(Types, Types)] = &[
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
        let cases: &[(Types, Types, Types)] = &[
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
        let cases: &[(&[Types], Types)] = &[
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
        let cases: &[(Types, Types, bool)] = &[
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
        let cases: &[(Types, Types, Types)] = &[
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

    // An empty operand anywhere empties the intersection; the other
    // operands' product is not built (`regress-intersection-empty-third` in
    // the fuzz corpus checks the memory: A ∩ B there is 22,350 types).
    #[test]
    fn an_empty_operand_empties_a_multiple_intersection() {
        let xs: Vec<Vec<String>> = (0..50).map(|i| vec!["?".into(), format!("x{i}")]).collect();
        let ys: Vec<Vec<String>> = (0..50).map(|i| vec![format!("y{i}"), "?".into()]).collect();
        let (a, b) = (Subscription::new(&xs).unwrap(), Subscription::new(&ys).unwrap());
        let empty = Subscription::default();
        assert_eq!(a.intersection([&b]).len(), 2500);
        for ops in [[&empty, &a, &b], [&a, &empty, &b], [&a, &b, &empty]] {
            let i = ops[0].intersection([ops[1], ops[2]]);
            assert!(i.is_empty() && i.query_types().is_empty());
            assert!(!i.matches(&["y1", "x1"]));
        }
        // A disjoint operand empties the fold, and later operands change nothing.
        let z = sub(&[&["z", "*"]]);
        assert!(a.intersection([&z, &b]).is_empty());
        assert_eq!(set(a.intersection([&b, &sub(&[&["y1", "*"]])]).query_types()).len(), 50);
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
            let again = Subscription::from_types(&a.query_types()).unwrap();
            assert_eq!(set(again.query_types()), set(a.query_types()));
        }
    }
}
