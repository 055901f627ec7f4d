//! Immutable sets of whole event types, stored compactly: the literal
//! query types of a subscription.
//!
//! Each type's key (see `type_index`) is split before its last segment.
//! The head, every segment but the last, is stored once in an arena of
//! heads and shared by every type that has it (ten-segment types that
//! count through their last segment share a head five or more ways); an
//! entry holds only the offset of its head and the key bytes of its last
//! segment. The hash table holds entry offsets hashed by the *whole* type,
//! the hash [`EventType`] stores and [`Probe`] computes, so a lookup stays
//! one probe: the entry's last segment and then its head are compared
//! against the two ends of the looked-up key, two contiguous byte ranges.
//!
//! Compared with `TypeMap<()>` (`[u32 length][key][u32 index]` per entry
//! plus a value slot), an entry saves the length, the index and the slot,
//! and the head's bytes are paid once per distinct head. The cost is one
//! more dependent load per lookup (the head, after the entry) and, while
//! building, one hash and lookup of the head per new type.

use hashbrown::HashTable;

use crate::event_type::EventType;
use crate::type_index::{
    bytes_eq, hash_bytes, hash_key_parts, key_eq, push_key, read4, read_len, varint_len, with_probe_of, word_diff,
    Probe, Segments, SHORT,
};

/// A set of event types. Built once with [`TypeSetBuilder`]; `Send + Sync`.
#[derive(Clone, Default)]
pub(crate) struct TypeSet {
    /// Offsets of entries in `entries`, hashed by the whole type.
    table: HashTable<u32>,
    /// Per type: `[u32 offset of its head in heads][key bytes of its last
    /// segment]`. The last segment's length bytes say where it ends.
    entries: Vec<u8>,
    /// Per distinct head: `[u32 length][key bytes]`.
    heads: Vec<u8>,
    /// The empty type, which has no last segment, is kept aside.
    has_empty: bool,
}

/// A stored type as its two parts: the key bytes of its head and of its
/// last segment (both empty for the empty type). Two types are equal
/// exactly when their parts are, since every set splits the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    pub(crate) head: &'a [u8],
    pub(crate) last: &'a [u8],
}

impl<'a> Parts<'a> {
    /// The segments of the type, in order.
    pub(crate) fn segments(self) -> impl Iterator<Item = &'a [u8]> {
        Segments(self.head).chain(Segments(self.last))
    }
}

/// Bytes of the key of one segment whose key starts with `first` (its
/// first length byte), `rest` being the bytes after that.
#[inline(always)]
fn segment_key_len(first: u8, rest: &[u8]) -> usize {
    if usize::from(first) < SHORT {
        return 1 + usize::from(first);
    }
    long_segment_key_len(first, rest)
}

#[cold]
#[inline(never)]
fn long_segment_key_len(first: u8, rest: &[u8]) -> usize {
    let (k, len) = read_len(first, rest);
    1 + k + len
}

impl TypeSet {
    pub(crate) fn len(&self) -> usize {
        self.table.len() + usize::from(self.has_empty)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty() && !self.has_empty
    }

    /// The parts of the entry at `offset`.
    #[inline(always)]
    fn parts(&self, offset: u32) -> Parts<'_> {
        parts_at(&self.entries, &self.heads, offset)
    }

    /// Whether the entry at `offset` is the type of key bytes `key`: its
    /// last segment against the end of `key` first (it sits in the entry,
    /// already loaded), then its head against the rest.
    #[inline(always)]
    fn entry_eq(&self, offset: u32, key: &[u8]) -> bool {
        // The usual entry, a last segment shorter than 16 bytes, read as
        // one fixed window (its head offset, length byte and bytes): one
        // bounds check, and two word compares.
        const WINDOW: usize = 4 + 16;
        let at = offset as usize;
        if let Some(w) = self.entries.get(at..).and_then(|e| e.first_chunk::<WINDOW>()) {
            let len = usize::from(w[4]);
            if len < 16 {
                let n = len + 1;
                let Some(head_len) = key.len().checked_sub(n) else {
                    return false;
                };
                if word_diff(&w[4..4 + n], &key[head_len..]) != 0 {
                    return false;
                }
                let head = stored_head(&self.heads, read4(w) as usize);
                return head.len() == head_len && bytes_eq(head, &key[..head_len]);
            }
        }
        self.entry_eq_slow(offset, key)
    }

    /// [`entry_eq`](Self::entry_eq) for any entry.
    #[cold]
    #[inline(never)]
    fn entry_eq_slow(&self, offset: u32, key: &[u8]) -> bool {
        let at = offset as usize;
        let last = &self.entries[at + 4..];
        let last_len = segment_key_len(last[0], &last[1..]);
        let Some(head_len) = key.len().checked_sub(last_len) else {
            return false;
        };
        // Last segments are short: two overlapping loads, no loop.
        let (last, key_last) = (&last[..last_len], &key[head_len..]);
        let last_equal = if last_len <= 16 { word_diff(last, key_last) == 0 } else { bytes_eq(last, key_last) };
        if !last_equal {
            return false;
        }
        let head = stored_head(&self.heads, read4(&self.entries[at..]) as usize);
        head.len() == head_len && bytes_eq(head, &key[..head_len])
    }

    /// Whether the type whose key bytes are `key` (and hash `hash`) is in
    /// the set: one probe.
    #[inline(always)]
    fn contains_key(&self, hash: u64, key: &[u8]) -> bool {
        self.table.find(hash, |&offset| self.entry_eq(offset, key)).is_some() || (key.is_empty() && self.has_empty)
    }

    /// Whether `event_type` is in the set: its stored hash and key bytes
    /// are looked up as they are (no probe, no hashing).
    #[inline(always)]
    pub(crate) fn contains_type(&self, event_type: &EventType) -> bool {
        self.contains_key(event_type.hash_value(), event_type.key())
    }

    /// Whether the event type `segments`, whose probe is `probe`, is in the
    /// set: compared with the probe's key bytes, or segment by segment
    /// when they did not fit.
    #[inline(always)]
    pub(crate) fn contains_probe<S: AsRef<str>>(&self, probe: &Probe<'_>, segments: &[S]) -> bool {
        match probe.key() {
            Some(key) => self.contains_key(probe.hash(), key),
            None => self.contains_segments(probe.hash(), segments),
        }
    }

    #[cold]
    #[inline(never)]
    fn contains_segments<S: AsRef<str>>(&self, hash: u64, segments: &[S]) -> bool {
        let Some((_, head)) = segments.split_last() else {
            return self.has_empty;
        };
        let at = head.len();
        self.table
            .find(hash, |&offset| {
                let parts = self.parts(offset);
                key_eq(parts.last, &segments[at..]) && key_eq(parts.head, head)
            })
            .is_some()
    }

    /// Whether the event type `segments` is in the set.
    #[cfg(test)]
    pub(crate) fn contains<S: AsRef<str>>(&self, segments: &[S]) -> bool {
        with_probe_of(segments, |probe| self.contains_probe(probe, segments))
    }

    /// Whether a type of another set (from [`iter`](Self::iter)) is in this
    /// one: its stored bytes hashed and compared as they are, with no
    /// segments decoded and no probe built.
    pub(crate) fn contains_parts(&self, parts: Parts<'_>) -> bool {
        if parts.last.is_empty() {
            return self.has_empty;
        }
        self.find_parts(hash_key_parts(parts.head, parts.last), parts)
    }

    /// Whether a type with the parts `parts` (not the empty type) and the
    /// hash `hash` is in the set.
    #[inline]
    fn find_parts(&self, hash: u64, parts: Parts<'_>) -> bool {
        self.table
            .find(hash, |&offset| {
                let stored = self.parts(offset);
                bytes_eq(stored.last, parts.last) && bytes_eq(stored.head, parts.head)
            })
            .is_some()
    }

    /// The types, as their parts: the empty type first, then in insertion
    /// order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Parts<'_>> {
        let empty = self.has_empty.then_some(Parts { head: &[], last: &[] });
        let mut at = 0;
        empty.into_iter().chain(std::iter::from_fn(move || {
            (at < self.entries.len()).then(|| {
                let parts = self.parts(at as u32);
                at += 4 + parts.last.len();
                parts
            })
        }))
    }

    /// Heap bytes held: table slots and control bytes, entries, heads.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.capacity() * (std::mem::size_of::<u32>() + 1) + self.entries.capacity() + self.heads.capacity()
    }
}

/// The key bytes of the head stored at `at` in `heads` (`[u32 length][key bytes]`).
#[inline(always)]
fn stored_head(heads: &[u8], at: usize) -> &[u8] {
    &heads[at + 4..at + 4 + read4(&heads[at..]) as usize]
}

/// The parts of the entry at `offset` of `entries`, whose heads are `heads`.
#[inline(always)]
fn parts_at<'a>(entries: &'a [u8], heads: &'a [u8], offset: u32) -> Parts<'a> {
    let at = offset as usize;
    let last = &entries[at + 4..];
    let last = &last[..segment_key_len(last[0], &last[1..])];
    Parts { head: stored_head(heads, read4(&entries[at..]) as usize), last }
}

/// What the table needs to rehash: the hash of the entry at an offset.
fn rehash<'a>(entries: &'a [u8], heads: &'a [u8]) -> impl Fn(&u32) -> u64 + 'a {
    move |&offset| {
        let parts = parts_at(entries, heads, offset);
        hash_key_parts(parts.head, parts.last)
    }
}

/// Builds a [`TypeSet`]: duplicates are dropped, heads are shared.
#[derive(Default)]
pub(crate) struct TypeSetBuilder {
    set: TypeSet,
    /// Offsets of heads in `set.heads`, hashed by their key bytes; only
    /// needed while building.
    head_index: HashTable<u32>,
    /// The head added or found last.
    last_head: Option<u32>,
    /// The key bytes of the head being inserted.
    scratch: Vec<u8>,
}

/// Seed of the hash of heads (only the builder's index uses it).
const HEAD_SEED: u64 = 0x2545_f491_4f6c_dd1d;

impl TypeSetBuilder {
    /// Room for `types` (table slots and entry bytes) without rehashing or
    /// regrowing the entries: no transient doubling while a large set is
    /// built. Heads grow as they are found, since how many are shared is
    /// not known beforehand.
    pub(crate) fn reserve_for<Q: AsRef<[S]>, S: AsRef<str>>(&mut self, types: &[Q]) {
        let entry_bytes: usize = types
            .iter()
            .filter_map(|t| t.as_ref().last())
            .map(|last| 4 + varint_len(last.as_ref().len()) + last.as_ref().len())
            .sum();
        self.set.entries.reserve_exact(entry_bytes);
        self.reserve(types.len());
    }

    /// Room for `additional` more types in the table without rehashing.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let TypeSet { table, entries, heads, .. } = &mut self.set;
        table.reserve(additional, rehash(entries, heads));
    }

    /// Adds the event type `segments` (nothing if it is already there).
    pub(crate) fn insert<S: AsRef<str>>(&mut self, segments: &[S]) {
        let (hash, found) = with_probe_of(segments, |probe| (probe.hash(), self.set.contains_probe(probe, segments)));
        if found {
            return;
        }
        let Some((last, head)) = segments.split_last() else {
            self.set.has_empty = true;
            return;
        };
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        push_key(head, &mut scratch);
        let head_at = self.intern_head(&scratch);
        self.scratch = scratch;
        let offset = self.push_entry_head(head_at);
        push_key(&[last], &mut self.set.entries);
        self.index_entry(hash, offset);
    }

    /// Adds a type of another set, as its parts (from [`TypeSet::iter`]):
    /// its bytes are copied as they are, with no segments decoded.
    pub(crate) fn insert_parts(&mut self, parts: Parts<'_>) {
        if parts.last.is_empty() {
            self.set.has_empty = true;
            return;
        }
        let hash = hash_key_parts(parts.head, parts.last);
        if self.set.find_parts(hash, parts) {
            return;
        }
        let head_at = self.intern_head(parts.head);
        let offset = self.push_entry_head(head_at);
        self.set.entries.extend_from_slice(parts.last);
        self.index_entry(hash, offset);
    }

    /// Starts a new entry with the offset of its head; its offset.
    fn push_entry_head(&mut self, head_at: u32) -> u32 {
        let offset = u32::try_from(self.set.entries.len()).expect("less than 4 GiB of event types");
        self.set.entries.extend_from_slice(&head_at.to_le_bytes());
        offset
    }

    /// Adds the entry at `offset`, now written whole, to the table.
    fn index_entry(&mut self, hash: u64, offset: u32) {
        let TypeSet { table, entries, heads, .. } = &mut self.set;
        table.insert_unique(hash, offset, rehash(entries, heads));
    }

    /// The offset of the head of key bytes `head` in the heads arena,
    /// added if new. Types often come grouped by head (sorted, or from
    /// another set in its order), so the previous head is tried first,
    /// without hashing.
    fn intern_head(&mut self, head: &[u8]) -> u32 {
        let heads = &self.set.heads;
        let stored = |at: u32| stored_head(heads, at as usize);
        if let Some(at) = self.last_head.filter(|&at| bytes_eq(stored(at), head)) {
            return at;
        }
        let hash = hash_bytes(HEAD_SEED, head);
        let at = match self.head_index.find(hash, |&at| bytes_eq(stored(at), head)) {
            Some(&at) => at,
            None => {
                let at = u32::try_from(heads.len()).expect("less than 4 GiB of event type heads");
                self.head_index.insert_unique(hash, at, |&at| hash_bytes(HEAD_SEED, stored(at)));
                let len = u32::try_from(head.len()).expect("an event type of less than 4 GiB");
                self.set.heads.extend_from_slice(&len.to_le_bytes());
                self.set.heads.extend_from_slice(head);
                at
            }
        };
        self.last_head = Some(at);
        at
    }

    /// The set, its storage trimmed to what it holds (it never grows again).
    pub(crate) fn build(self) -> TypeSet {
        let mut set = self.set;
        set.entries.shrink_to_fit();
        set.heads.shrink_to_fit();
        let TypeSet { table, entries, heads, .. } = &mut set;
        table.shrink_to_fit(rehash(entries, heads));
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;
    use std::collections::HashSet;

    fn build(types: &[Vec<String>]) -> TypeSet {
        let mut builder = TypeSetBuilder::default();
        builder.reserve_for(types);
        for t in types {
            builder.insert(t);
        }
        builder.build()
    }

    fn owned(types: &[&[&str]]) -> Vec<Vec<String>> {
        types.iter().map(|t| t.iter().map(|s| s.to_string()).collect()).collect()
    }

    fn decoded(set: &TypeSet) -> Vec<Vec<String>> {
        set.iter().map(|p| p.segments().map(|s| String::from_utf8(s.to_vec()).unwrap()).collect()).collect()
    }

    /// Every way a set is asked about `t` agrees with `expected`.
    fn assert_lookups(set: &TypeSet, t: &[String], expected: bool) {
        assert_eq!(set.contains(t), expected, "{t:?}");
        assert_eq!(set.contains_type(&EventType::new(t)), expected, "{t:?}");
        let mut other = TypeSetBuilder::default();
        other.insert(t);
        let other = other.build();
        let parts = other.iter().next().unwrap();
        assert_eq!(set.contains_parts(parts), expected, "{t:?}");
    }

    #[test]
    fn sets_agree_with_a_hash_set_of_types() {
        // Few segment values, so that heads are shared, types are prefixes
        // of one another and inserts repeat; lengths around the inline
        // comparisons and the one-byte length limit; and types too long for
        // a probe's key.
        let long = "l".repeat(SHORT);
        let values: Vec<String> =
            ["", "a", "b", "segment 1", "sixteen-bytes-xx", "ž", long.as_str()].map(String::from).to_vec();
        let mut rng = Rng(0x7e57_2026_1202);
        let random_type = |rng: &mut Rng| -> Vec<String> {
            let max = if rng.below(10) == 0 { 14 } else { 5 };
            let len = rng.below(max);
            (0..len).map(|_| values[rng.below(values.len())].clone()).collect()
        };
        for round in 0..200 {
            let n = rng.below(60);
            let types: Vec<Vec<String>> = (0..n).map(|_| random_type(&mut rng)).collect();
            let set = build(&types);
            let expected: HashSet<Vec<String>> = types.iter().cloned().collect();
            assert_eq!(set.len(), expected.len(), "round {round}");
            assert_eq!(set.is_empty(), expected.is_empty());
            let listed = decoded(&set);
            assert_eq!(listed.len(), expected.len(), "iter lists each type once");
            assert_eq!(listed.iter().cloned().collect::<HashSet<_>>(), expected);
            // Copied by parts (as union does), twice: the same set.
            let mut copy = TypeSetBuilder::default();
            for _ in 0..2 {
                set.iter().for_each(|t| copy.insert_parts(t));
            }
            let copy = copy.build();
            assert_eq!(copy.len(), set.len());
            assert_eq!(decoded(&copy).into_iter().collect::<HashSet<_>>(), expected);
            for t in &types {
                assert_lookups(&set, t, true);
                // Every proper prefix and extension of a member.
                for cut in 0..t.len() {
                    assert_lookups(&set, &t[..cut], expected.contains(&t[..cut]));
                }
                let longer = [t.clone(), vec!["a".into()]].concat();
                assert_lookups(&set, &longer, expected.contains(&longer));
            }
            for _ in 0..40 {
                let t = random_type(&mut rng);
                assert_lookups(&set, &t, expected.contains(&t));
            }
        }
    }

    #[test]
    fn the_empty_type_is_a_member_only_once_added() {
        let set = build(&owned(&[&["a"], &[""]]));
        assert!(!set.contains::<&str>(&[]));
        assert_lookups(&set, &[], false);
        let set = build(&owned(&[&["a"], &[], &[]]));
        assert_eq!(set.len(), 2);
        assert_lookups(&set, &[], true);
        assert!(!set.contains(&[""]));
        assert_eq!(decoded(&set), owned(&[&[], &["a"]]));
    }

    #[test]
    fn a_type_differing_in_one_byte_or_split_elsewhere_is_absent() {
        let types = owned(&[&["segment 0", "segment 0", "segment 1"], &["segment 0", "segment 0", "segment 2"]]);
        let set = build(&types);
        for i in 0..3 {
            for at in 0..9 {
                let mut t = types[0].clone();
                let mut bytes = t[i].clone().into_bytes();
                bytes[at] = b'X';
                t[i] = String::from_utf8(bytes).unwrap();
                assert_lookups(&set, &t, false);
            }
        }
        // The same bytes with the boundary between segments moved.
        assert_lookups(&set, &owned(&[&["segment 0", "segment 0segment 1"]])[0], false);
        assert_lookups(&set, &owned(&[&["segment 0", "segment 0", "segment", "1"]])[0], false);
    }

    #[test]
    fn entries_compare_alike_in_the_window_and_at_the_arena_end() {
        // Last segments of 0-20 bytes (the window takes those under 16),
        // one after another, so that most entries have a full window after
        // them and the last ones do not; every one byte changed is absent.
        let types: Vec<Vec<String>> = (0..=20)
            .flat_map(|n| {
                let last: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
                [vec!["head".to_string(), last.clone()], vec![last]]
            })
            .collect();
        let set = build(&types);
        assert_eq!(set.len(), types.len());
        for t in &types {
            assert_lookups(&set, t, true);
            let last = t.last().unwrap();
            for at in 0..last.len() {
                let mut other = t.clone();
                let mut bytes = last.clone().into_bytes();
                bytes[at] = b'Z';
                *other.last_mut().unwrap() = String::from_utf8(bytes).unwrap();
                assert_lookups(&set, &other, false);
            }
            // The last byte moved across the segment boundary.
            if t.len() == 2 && !last.is_empty() {
                let moved = vec![format!("head{}", &last[..1]), last[1..].to_string()];
                assert_lookups(&set, &moved, false);
            }
        }
    }

    #[test]
    fn heads_are_stored_once() {
        let types: Vec<Vec<String>> = (0..1000)
            .map(|i| ["gateway", "device", &format!("d{}", i / 10), &format!("{}", i % 10)].map(String::from).to_vec())
            .collect();
        let set = build(&types);
        assert_eq!(set.len(), 1000);
        // 100 distinct heads.
        let head_bytes = 4 + types[0][..3].iter().map(|s| 1 + s.len()).sum::<usize>();
        assert!(set.heads.len() <= 100 * (head_bytes + 1), "{}", set.heads.len());
        assert_eq!(set.entries.len(), 1000 * (4 + 2));
        assert_eq!(set.entries.capacity(), set.entries.len(), "built sets hold no spare room");
        assert!(types.iter().all(|t| set.contains(t)));
    }

    #[test]
    fn sets_built_without_reserving_rehash_correctly() {
        let mut builder = TypeSetBuilder::default();
        let types: Vec<Vec<String>> =
            (0..5000).map(|i| vec![format!("h{}", i % 7), i.to_string(), "end".to_string()]).collect();
        for t in &types {
            builder.insert(t);
        }
        let set = builder.build();
        assert_eq!(set.len(), 5000);
        assert!(types.iter().all(|t| set.contains(t)));
        assert!(!set.contains(&["h0", "1", "end"]));
    }
}
