//! A trie of query types holding `?` or a trailing `*`, shared by
//! subscriptions (payload: a flag) and collections (payload: values).
//! Nodes live in one vector; literal edges are a per-node hash table.

use std::collections::HashMap;

use hashbrown::HashTable;

use crate::event_type::EventType;
use crate::type_index::hash_bytes;

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
    literal: HashTable<(Box<str>, u32)>,
}

impl<P: Payload> Node<P> {
    fn new() -> Node<P> {
        Node { leaf: P::default(), star: P::default(), any: NONE, literal: HashTable::new() }
    }
}

/// Where a query type ends in the trie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Slot {
    node: u32,
    star: bool,
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
                n.literal
                    .entry(segment_hash(segment), |(s, _)| **s == *segment, |(s, _)| segment_hash(s))
                    .or_insert_with(|| (segment.into(), next))
                    .get()
                    .1
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
    #[inline]
    pub(crate) fn find<S: AsRef<str>>(&self, event_type: &[S], f: &mut impl FnMut(&P) -> bool) -> bool {
        !self.nodes.is_empty() && self.find_from(0, event_type, f)
    }

    fn find_from<S: AsRef<str>>(&self, node: usize, rest: &[S], f: &mut impl FnMut(&P) -> bool) -> bool {
        let n = &self.nodes[node];
        if !n.star.is_empty() && f(&n.star) {
            return true;
        }
        let Some((head, tail)) = rest.split_first() else {
            return !n.leaf.is_empty() && f(&n.leaf);
        };
        if !n.literal.is_empty() {
            let head = head.as_ref();
            if let Some((_, child)) = n.literal.find(segment_hash(head), |(s, _)| **s == *head) {
                if self.find_from(*child as usize, tail, f) {
                    return true;
                }
            }
        }
        n.any != NONE && self.find_from(n.any as usize, tail, f)
    }

    /// Every query type with a non-empty payload.
    pub(crate) fn for_each(&self, f: &mut impl FnMut(EventType, &P)) {
        if !self.nodes.is_empty() {
            self.for_each_from(0, &mut Vec::new(), f);
        }
    }

    fn for_each_from(&self, node: usize, prefix: &mut Vec<String>, f: &mut impl FnMut(EventType, &P)) {
        let n = &self.nodes[node];
        if !n.leaf.is_empty() {
            f(prefix.clone(), &n.leaf);
        }
        if !n.star.is_empty() {
            let mut t = prefix.clone();
            t.push("*".into());
            f(t, &n.star);
        }
        for (segment, child) in n.literal.iter() {
            prefix.push(segment.to_string());
            self.for_each_from(*child as usize, prefix, f);
            prefix.pop();
        }
        if n.any != NONE {
            prefix.push("?".into());
            self.for_each_from(n.any as usize, prefix, f);
            prefix.pop();
        }
    }

    /// A copy holding only the query types with a non-empty payload (what
    /// removals leave behind is dropped), with the new slot of each old one.
    pub(crate) fn compacted(&self) -> (Trie<P>, HashMap<Slot, Slot>)
    where
        P: Clone,
    {
        let mut trie = Trie::default();
        let mut moved = HashMap::new();
        if !self.nodes.is_empty() {
            self.compact_from(0, &mut Vec::new(), &mut trie, &mut moved);
        }
        (trie, moved)
    }

    fn compact_from(&self, node: usize, prefix: &mut Vec<String>, into: &mut Trie<P>, moved: &mut HashMap<Slot, Slot>)
    where
        P: Clone,
    {
        let n = &self.nodes[node];
        if !n.leaf.is_empty() {
            let (slot, payload) = into.slot_mut(prefix);
            *payload = n.leaf.clone();
            moved.insert(Slot { node: node as u32, star: false }, slot);
        }
        if !n.star.is_empty() {
            prefix.push("*".into());
            let (slot, payload) = into.slot_mut(prefix);
            prefix.pop();
            *payload = n.star.clone();
            moved.insert(Slot { node: node as u32, star: true }, slot);
        }
        for (segment, child) in n.literal.iter() {
            prefix.push(segment.to_string());
            self.compact_from(*child as usize, prefix, into, moved);
            prefix.pop();
        }
        if n.any != NONE {
            prefix.push("?".into());
            self.compact_from(n.any as usize, prefix, into, moved);
            prefix.pop();
        }
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
                .map(|n| {
                    n.literal.capacity() * (std::mem::size_of::<(Box<str>, u32)>() + 1)
                        + n.literal.iter().map(|(s, _)| s.len()).sum::<usize>()
                        + n.leaf.heap_bytes()
                        + n.star.heap_bytes()
                })
                .sum::<usize>()
    }
}
