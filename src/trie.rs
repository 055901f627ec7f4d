//! A trie of query types holding `?` or a trailing `*`, shared by
//! subscriptions (payload: a flag) and collections (payload: values).
//! Nodes live in one vector; literal edges are held inline where a node
//! has one (most nodes of a long query type), in a short list where it has
//! a few, and in a per-node hash table otherwise.

use std::collections::HashMap;

use hashbrown::HashTable;

use crate::event_type::EventType;
use crate::type_index::{bytes_eq, hash_bytes};

const NONE: u32 = u32::MAX;

/// What a trie keeps where a query type ends.
pub(crate) trait Payload: Default {
    fn is_empty(&self) -> bool;
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl Payload for bool {
    fn is_empty(&self) -> bool {
        !*self
    }
}

impl Payload for Vec<u64> {
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }

    fn heap_bytes(&self) -> usize {
        self.capacity() * 8
    }
}

#[derive(Clone, Default)]
pub(crate) struct Trie<P> {
    nodes: Vec<Node<P>>,
}

#[derive(Clone)]
struct Node<P> {
    /// For query types ending here.
    leaf: P,
    /// For query types ending here with `*`.
    star: P,
    /// Child for `?`, or NONE.
    any: u32,
    literal: Literals,
}

/// The literal children of a node.
#[derive(Clone, Default)]
enum Literals {
    #[default]
    None,
    /// One child: no table to allocate or hash into.
    One(Box<str>, u32),
    /// Two to [`FEW`] children, compared in turn: cheaper than hashing the
    /// segment (a subscription's wildcard types branch this little at
    /// most nodes: a server's fan-out, `('gw', ...)` / `('ui', ...)` under
    /// the root, took 180 instructions a match through a table).
    Few(Vec<(Box<str>, u32)>),
    Many(HashTable<(Box<str>, u32)>),
}

/// The most children [`Literals::Few`] holds.
const FEW: usize = 4;

impl Literals {
    #[inline(always)]
    fn find(&self, segment: &str) -> Option<u32> {
        self.find_bytes(segment.as_bytes())
    }

    #[inline(always)]
    fn find_bytes(&self, segment: &[u8]) -> Option<u32> {
        match self {
            Literals::None => None,
            Literals::One(s, child) => bytes_eq(s.as_bytes(), segment).then_some(*child),
            Literals::Few(children) => {
                children.iter().find(|(s, _)| bytes_eq(s.as_bytes(), segment)).map(|(_, child)| *child)
            }
            Literals::Many(table) => table
                .find(hash_bytes(0x9e37_79b9_7f4a_7c15, segment), |(s, _)| bytes_eq(s.as_bytes(), segment))
                .map(|(_, child)| *child),
        }
    }

    /// The child for `segment`, made `next` if there is none.
    fn find_or_insert(&mut self, segment: &str, next: u32) -> u32 {
        if let Some(child) = self.find(segment) {
            return child;
        }
        match std::mem::take(self) {
            Literals::None => *self = Literals::One(segment.into(), next),
            Literals::One(s, child) => *self = Literals::Few(vec![(s, child), (segment.into(), next)]),
            Literals::Few(mut children) if children.len() < FEW => {
                children.push((segment.into(), next));
                *self = Literals::Few(children);
            }
            Literals::Few(children) => {
                let mut table = HashTable::with_capacity(FEW + 1);
                for entry in children.into_iter().chain([(segment.into(), next)]) {
                    table.insert_unique(segment_hash(&entry.0), entry, |(s, _)| segment_hash(s));
                }
                *self = Literals::Many(table);
            }
            Literals::Many(mut table) => {
                table.insert_unique(segment_hash(segment), (segment.into(), next), |(s, _)| segment_hash(s));
                *self = Literals::Many(table);
            }
        }
        next
    }

    fn for_each<'a>(&'a self, mut f: impl FnMut(&'a str, u32)) {
        match self {
            Literals::None => {}
            Literals::One(s, child) => f(s, *child),
            Literals::Few(children) => children.iter().for_each(|(s, child)| f(s, *child)),
            Literals::Many(table) => table.iter().for_each(|(s, child)| f(s, *child)),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Literals::None => 0,
            Literals::One(s, _) => s.len(),
            Literals::Few(children) => {
                children.capacity() * std::mem::size_of::<(Box<str>, u32)>()
                    + children.iter().map(|(s, _)| s.len()).sum::<usize>()
            }
            Literals::Many(table) => {
                table.capacity() * (std::mem::size_of::<(Box<str>, u32)>() + 1)
                    + table.iter().map(|(s, _)| s.len()).sum::<usize>()
            }
        }
    }
}

impl<P: Payload> Node<P> {
    fn new() -> Node<P> {
        Node { leaf: P::default(), star: P::default(), any: NONE, literal: Literals::None }
    }
}

/// Where a query type ends in the trie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Slot {
    node: u32,
    star: bool,
}

/// The `?` branches [`Trie::find`] has still to take: (node, position).
/// The first few stay on the call stack, so that ordinary lookups allocate
/// nothing.
#[derive(Default)]
struct Pending {
    inline: [(u32, u32); 4],
    len: usize,
    /// Beyond `inline`, and any position past `u32::MAX`.
    spilled: Vec<(u32, usize)>,
}

impl Pending {
    #[inline]
    fn push(&mut self, node: u32, at: usize) {
        match u32::try_from(at) {
            Ok(at) if self.len < self.inline.len() && self.spilled.is_empty() => {
                self.inline[self.len] = (node, at);
                self.len += 1;
            }
            _ => self.spilled.push((node, at)),
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<(u32, usize)> {
        if let Some(top) = self.spilled.pop() {
            return Some(top);
        }
        self.len = self.len.checked_sub(1)?;
        let (node, at) = self.inline[self.len];
        Some((node, at as usize))
    }
}

#[inline]
fn segment_hash(s: &str) -> u64 {
    hash_bytes(0x9e37_79b9_7f4a_7c15, s.as_bytes())
}

impl<P: Payload> Trie<P> {
    /// The payload for `query_type` (a trailing `*` selects the star slot),
    /// creating the path if needed.
    pub(crate) fn slot_mut<S: AsRef<str>>(&mut self, query_type: &[S]) -> (Slot, &mut P) {
        if self.nodes.is_empty() {
            self.nodes.push(Node::new());
        }
        let (path, star) = match query_type.split_last() {
            Some((last, rest)) if last.as_ref() == "*" => (rest, true),
            _ => (query_type, false),
        };
        let mut node = 0usize;
        for segment in path {
            let segment = segment.as_ref();
            let next = self.nodes.len() as u32;
            let n = &mut self.nodes[node];
            let child = if segment == "?" {
                if n.any == NONE {
                    n.any = next;
                }
                n.any
            } else {
                n.literal.find_or_insert(segment, next)
            };
            if child == next {
                self.nodes.push(Node::new());
            }
            node = child as usize;
        }
        let slot = Slot { node: node as u32, star };
        (slot, self.payload_mut(slot))
    }

    pub(crate) fn payload_mut(&mut self, slot: Slot) -> &mut P {
        let n = &mut self.nodes[slot.node as usize];
        if slot.star {
            &mut n.star
        } else {
            &mut n.leaf
        }
    }

    /// Calls `f` with the payload of every query type that matches
    /// `event_type`, until `f` returns true; returns whether it did.
    /// Iterative: where a node has both a literal child and a `?` child for
    /// the next segment, the `?` branch waits on a stack (at most one entry
    /// per segment, on the call stack for the first few).
    #[inline]
    pub(crate) fn find<S: AsRef<str>>(&self, event_type: &[S], f: &mut impl FnMut(&P) -> bool) -> bool {
        self.find_by(|i| event_type.get(i).map(|s| s.as_ref().as_bytes()), f)
    }

    /// [`find`](Self::find) with the event type's segments given by index
    /// (`segment(i)` is None past the last).
    #[inline]
    pub(crate) fn find_by<'s>(
        &self,
        segment: impl Fn(usize) -> Option<&'s [u8]>,
        f: &mut impl FnMut(&P) -> bool,
    ) -> bool {
        if self.nodes.is_empty() {
            return false;
        }
        // Built on the first branch only: most lookups take none.
        let mut pending: Option<Pending> = None;
        let (mut node, mut at) = (0usize, 0usize);
        loop {
            let n = &self.nodes[node];
            if !n.star.is_empty() && f(&n.star) {
                return true;
            }
            let next = match segment(at) {
                None => {
                    if !n.leaf.is_empty() && f(&n.leaf) {
                        return true;
                    }
                    None
                }
                Some(head) => {
                    let literal = n.literal.find_bytes(head);
                    match (literal, n.any) {
                        (Some(child), NONE) => Some(child),
                        (Some(child), any) => {
                            pending.get_or_insert_with(Pending::default).push(any, at + 1);
                            Some(child)
                        }
                        (None, NONE) => None,
                        (None, any) => Some(any),
                    }
                }
            };
            match next {
                Some(child) => {
                    node = child as usize;
                    at += 1;
                }
                None => match pending.as_mut().and_then(Pending::pop) {
                    Some((child, child_at)) => {
                        node = child as usize;
                        at = child_at;
                    }
                    None => return false,
                },
            }
        }
    }

    /// Every node below the root with the segment leading to it, depth
    /// first, with an explicit stack: `f(node, depth, segment)`, the depth
    /// counting the root's children as 1.
    fn walk<'a>(&'a self, mut f: impl FnMut(usize, usize, &'a str)) {
        if self.nodes.is_empty() {
            return;
        }
        let mut stack: Vec<(u32, usize, Option<&'a str>)> = vec![(0, 0, None)];
        while let Some((node, depth, segment)) = stack.pop() {
            f(node as usize, depth, segment.unwrap_or("?"));
            let n = &self.nodes[node as usize];
            if n.any != NONE {
                stack.push((n.any, depth + 1, None));
            }
            n.literal.for_each(|s, child| stack.push((child, depth + 1, Some(s))));
        }
    }

    /// Every query type with a non-empty payload, owned.
    pub(crate) fn for_each(&self, f: &mut impl FnMut(EventType, &P)) {
        self.for_each_borrowed(|t, p| f(EventType::new(t), p));
    }

    /// Every query type with a non-empty payload, borrowed.
    pub(crate) fn for_each_borrowed(&self, mut f: impl FnMut(&[&str], &P)) {
        let mut prefix: Vec<&str> = Vec::new();
        self.walk(|node, depth, segment| {
            prefix.truncate(depth.saturating_sub(1));
            if depth > 0 {
                prefix.push(segment);
            }
            let n = &self.nodes[node];
            if !n.leaf.is_empty() {
                f(&prefix, &n.leaf);
            }
            if !n.star.is_empty() {
                prefix.push("*");
                f(&prefix, &n.star);
                prefix.pop();
            }
        });
    }

    /// A copy holding only the query types with a non-empty payload (what
    /// removals leave behind is dropped), with the new slot of each old one.
    pub(crate) fn compacted(&self) -> (Trie<P>, HashMap<Slot, Slot>)
    where
        P: Clone,
    {
        let mut trie = Trie::default();
        let mut moved = HashMap::new();
        let mut prefix: Vec<String> = Vec::new();
        self.walk(|node, depth, segment| {
            prefix.truncate(depth.saturating_sub(1));
            if depth > 0 {
                prefix.push(segment.to_owned());
            }
            let n = &self.nodes[node];
            if !n.leaf.is_empty() {
                let (slot, payload) = trie.slot_mut(&prefix);
                *payload = n.leaf.clone();
                moved.insert(Slot { node: node as u32, star: false }, slot);
            }
            if !n.star.is_empty() {
                prefix.push("*".into());
                let (slot, payload) = trie.slot_mut(&prefix);
                prefix.pop();
                *payload = n.star.clone();
                moved.insert(Slot { node: node as u32, star: true }, slot);
            }
        });
        (trie, moved)
    }

    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node<P>>()
            + self
                .nodes
                .iter()
                .map(|n| n.literal.heap_bytes() + n.leaf.heap_bytes() + n.star.heap_bytes())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Children found through each form a node's literals take as they
    /// grow (one, a few, a table); other segments are not.
    #[test]
    fn literal_children_are_found_in_every_form() {
        for count in 1..=FEW + 3 {
            let mut literals = Literals::None;
            let names: Vec<String> = (0..count).map(|i| format!("segment{i}")).collect();
            for (i, name) in names.iter().enumerate() {
                assert_eq!(literals.find_or_insert(name, i as u32), i as u32);
                assert_eq!(literals.find_or_insert(name, 99), i as u32, "an existing child is kept");
            }
            let expected = match count {
                1 => "one",
                2..=FEW => "few",
                _ => "many",
            };
            let form = match &literals {
                Literals::None => "none",
                Literals::One(..) => "one",
                Literals::Few(_) => "few",
                Literals::Many(_) => "many",
            };
            assert_eq!(form, expected);
            for (i, name) in names.iter().enumerate() {
                assert_eq!(literals.find(name), Some(i as u32));
            }
            for missing in ["", "segment", "segment99", "Segment0", "segment0 "] {
                assert_eq!(literals.find(missing), None, "{missing}");
            }
            let mut seen = Vec::new();
            literals.for_each(|s, child| seen.push((s.to_owned(), child)));
            seen.sort();
            let mut all: Vec<(String, u32)> = names.iter().cloned().zip(0..).collect();
            all.sort();
            assert_eq!(seen, all);
        }
    }
}
