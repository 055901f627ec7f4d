//! Whole event types as compact hash keys: one allocation per stored type,
//! looked up from borrowed segments (`&[&str]` or `&[String]`) without
//! building or copying a key: the hash is computed segment by segment and
//! the stored key is compared against the segments in place (one probe for
//! any depth).

use std::sync::atomic::{AtomicU64, Ordering};

use hashbrown::HashTable;

use crate::event_type::EventType;

/// An event type packed into one allocation: for each segment, its length
/// (see [`push_len`]), then its bytes. Every length byte is ASCII, so the
/// key of segments that are `str`s is itself valid UTF-8: an
/// [`EventType`](crate::event_type::EventType) keeps its key in an
/// `Arc<str>` and hands out segments without unsafe code or revalidation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TypeKey(Box<[u8]>);

impl TypeKey {
    #[cfg(test)]
    pub(crate) fn new<S: AsRef<str>>(segments: &[S]) -> TypeKey {
        let len: usize = segments.iter().map(|s| s.as_ref().len() + varint_len(s.as_ref().len())).sum();
        let mut key = vec![0; len];
        encode(segments, &mut key);
        TypeKey(key.into())
    }

    /// The key of `event_type`: its key bytes copied.
    pub(crate) fn from_type(event_type: &EventType) -> TypeKey {
        TypeKey(event_type.key().into())
    }

    pub(crate) fn hash(&self) -> u64 {
        hash_key(&self.0)
    }
}

/// Segments shorter than this have a one-byte length (the length itself);
/// longer ones have the byte `SHORT + k` followed by `k` bytes of seven
/// bits each, least significant first. Every length byte is below 0x80.
pub(crate) const SHORT: usize = 0x70;

/// Bytes of the key length of a segment of `len` bytes.
#[inline(always)]
pub(crate) fn varint_len(len: usize) -> usize {
    if len < SHORT {
        1
    } else {
        1 + (usize::BITS - len.leading_zeros()).div_ceil(7) as usize
    }
}

/// Calls `push` with the length bytes of a segment of `len` bytes.
#[inline(always)]
pub(crate) fn push_len(len: usize, mut push: impl FnMut(u8)) {
    if len < SHORT {
        push(len as u8);
        return;
    }
    let k = varint_len(len) - 1;
    push((SHORT + k) as u8);
    let mut n = len;
    for _ in 0..k {
        push((n & 0x7f) as u8);
        n >>= 7;
    }
}

/// Appends the key encoding of `segments` to `out`.
pub(crate) fn push_key<S: AsRef<str>>(segments: &[S], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + segments.iter().map(|s| s.as_ref().len() + varint_len(s.as_ref().len())).sum::<usize>(), 0);
    encode(segments, &mut out[start..]);
}

/// Writes the key encoding of `segments` to `out` (which has room).
fn encode<S: AsRef<str>>(segments: &[S], out: &mut [u8]) -> usize {
    let mut at = 0;
    for s in segments {
        let s = s.as_ref().as_bytes();
        push_len(s.len(), |b| {
            out[at] = b;
            at += 1;
        });
        out[at..at + s.len()].copy_from_slice(s);
        at += s.len();
    }
    at
}

/// Bytes of key a [`Probe`] holds inline; longer event types are compared
/// segment by segment instead. 128 covers ten 11-byte segments; 192 was
/// measured slower in some processes (1-segment matches at 35 ns instead
/// of 18 in most runs: the buffer is zeroed on every lookup, and more
/// stack stores seemed to collide with the input's loads).
pub(crate) const PROBE_KEY: usize = 128;

/// Bytes of a [`Probe`]'s buffer: the key, and room for the 17 bytes a
/// segment writes at any position below PROBE_KEY, so that the writes
/// need no bounds checks (and no test whether the key still fits).
pub(crate) const PROBE_BUF: usize = PROBE_KEY + 32;

/// An event type prepared for lookups, in one pass over its segments: its
/// hash, whether every byte is ASCII (from the same loads, which lets the
/// C layer validate UTF-8 and hash at once) and, when it fits, its key
/// bytes. Stored keys are then compared with the whole key word by word
/// instead of segment by segment. The key is copied, not read back for
/// hashing, so the copy costs no store-to-load stall: by the time the table
/// probe compares keys the stores have landed.
pub(crate) struct Probe<'k> {
    h: u64,
    /// OR of every word read: its high bits are set iff a byte was not ASCII.
    high: u64,
    /// Key bytes written to `key` (less than SHORT); PROBE_KEY once the
    /// key did not fit (SHORT - 1 bytes or more, which also covers a
    /// segment of SHORT bytes or more, whose length takes more bytes).
    len: usize,
    /// Borrowed from the caller's stack frame, so that the probe is small
    /// and never copied.
    key: &'k mut ProbeKey,
    /// The hash keys, loaded once per event type.
    keys: (u64, u64),
}

/// The buffer of a [`Probe`]'s key bytes.
pub(crate) type ProbeKey = [u8; PROBE_BUF];

impl<'k> Probe<'k> {
    /// An empty probe writing its key into `key`.
    #[inline(always)]
    pub(crate) fn new(key: &'k mut ProbeKey) -> Probe<'k> {
        Probe { h: 0x9e37_79b9_7f4a_7c15, high: 0, len: 0, key, keys: keys() }
    }

    /// Adds the next segment.
    #[inline(always)]
    pub(crate) fn push(&mut self, segment: &[u8]) {
        let n = segment.len();
        let at = self.len;
        // One test: a length byte and the bytes fit below SHORT - 1
        // (which also keeps n under SHORT, a one-byte length); `len` is at
        // most PROBE_KEY, so the sum cannot overflow.
        let fits = at + n < SHORT - 1;
        if (8..=16).contains(&n) {
            // The usual segment: the two words the hash reads are also
            // what is copied (no second classification, no reload). They
            // are written whether or not the key fits, at a position the
            // buffer always has room after: a key that did not fit is
            // never read (`len` stays PROBE_KEY), so what lands there does
            // not matter.
            let (a, b) = (read8(segment), read8(&segment[n - 8..]));
            self.high |= a | b;
            self.h = fold_segment(self.h, self.keys.0, self.keys.1, a, b, n);
            let p = at & (PROBE_KEY - 1);
            let dst = &mut self.key[p..p + 17];
            dst[0] = n as u8;
            dst[1..9].copy_from_slice(&a.to_le_bytes());
            dst[n - 7..n + 1].copy_from_slice(&b.to_le_bytes());
        } else {
            self.h = hash_bytes_acc(self.h, segment, &mut self.high, self.keys);
            if fits {
                self.key[at] = n as u8;
                copy_short(&mut self.key[at + 1..at + 1 + n], segment);
            }
        }
        self.len = if fits { at + 1 + n } else { PROBE_KEY };
    }

    /// Ends the event type; whether every byte pushed was ASCII.
    #[inline(always)]
    pub(crate) fn finish(&mut self) -> bool {
        self.h = finish(self.h, self.keys.0);
        self.high & 0x8080_8080_8080_8080 == 0
    }

    /// The hash of the event type (once finished).
    #[inline(always)]
    pub(crate) fn hash(&self) -> u64 {
        self.h
    }

    /// The key bytes, if they fit.
    #[inline(always)]
    pub(crate) fn key(&self) -> Option<&[u8]> {
        (self.len < PROBE_KEY).then(|| &self.key[..self.len])
    }
}

/// Runs `f` on the probe of an event type.
#[inline(always)]
pub(crate) fn with_probe_of<S: AsRef<str>, R>(segments: &[S], f: impl FnOnce(&Probe<'_>) -> R) -> R {
    let mut key = [0; PROBE_BUF];
    let mut probe = Probe::new(&mut key);
    segments.iter().for_each(|s| probe.push(s.as_ref().as_bytes()));
    probe.finish();
    f(&probe)
}

/// Copies `src` to `dst` (of the same length): two overlapping word
/// stores for short strings instead of a call to `memcpy`.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    // Each store is of a fixed-size array, so none becomes a `memcpy` call.
    if (8..=16).contains(&n) {
        dst[..8].copy_from_slice(&read8(src).to_le_bytes());
        dst[n - 8..n].copy_from_slice(&read8(&src[n - 8..]).to_le_bytes());
    } else if (4..8).contains(&n) {
        dst[..4].copy_from_slice(&(read4(src) as u32).to_le_bytes());
        dst[n - 4..n].copy_from_slice(&(read4(&src[n - 4..]) as u32).to_le_bytes());
    } else if n < 4 {
        if n > 0 {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
    } else {
        dst.copy_from_slice(src);
    }
}

/// The hash of key bytes: the hash of the segments they encode.
#[inline]
pub(crate) fn hash_key(key: &[u8]) -> u64 {
    hash_key_parts(key, &[])
}

/// The hash of the key `head` followed by `tail` (each whole segments).
#[inline]
pub(crate) fn hash_key_parts(head: &[u8], tail: &[u8]) -> u64 {
    let mut h = 0x9e37_79b9_7f4a_7c15;
    let k = keys();
    Segments(head).chain(Segments(tail)).for_each(|s| h = hash_bytes_acc(h, s, &mut 0, k));
    finish(h, k.0)
}

/// Whether key bytes encode exactly `segments`. The usual case, every
/// segment shorter than SHORT bytes (a one-byte length), is one straight
/// walk that ORs together the differences of lengths and bytes and tests
/// them once at the end; longer segments take [`key_eq_varint`].
#[inline(always)]
pub(crate) fn key_eq<S: AsRef<str>>(key: &[u8], segments: &[S]) -> bool {
    let mut at = 0;
    let mut diff = 0;
    for s in segments {
        let s = s.as_ref().as_bytes();
        let n = s.len();
        let end = at + 1 + n;
        if n >= SHORT || end > key.len() {
            return n >= SHORT && key_eq_varint(key, segments);
        }
        // A stored length of SHORT or more (several bytes) differs from n here.
        diff |= u64::from(key[at]) ^ n as u64;
        diff |= word_diff(&key[at + 1..end], s);
        at = end;
    }
    diff == 0 && at == key.len()
}

/// Zero iff two byte strings of the same length are equal: inline word
/// compares (overlapping at the tail) instead of a call to `memcmp`.
#[inline(always)]
pub(crate) fn word_diff(a: &[u8], b: &[u8]) -> u64 {
    let n = a.len();
    debug_assert_eq!(n, b.len());
    if (8..=16).contains(&n) {
        (read8(a) ^ read8(b)) | (read8(&a[n - 8..]) ^ read8(&b[n - 8..]))
    } else if (4..8).contains(&n) {
        (read4(a) ^ read4(b)) | (read4(&a[n - 4..]) ^ read4(&b[n - 4..]))
    } else if n < 4 {
        // first, middle and last cover every byte of up to three
        if n == 0 {
            return 0;
        }
        u64::from(a[0] ^ b[0]) | u64::from(a[n / 2] ^ b[n / 2]) | u64::from(a[n - 1] ^ b[n - 1])
    } else {
        u64::from(a != b)
    }
}

/// [`key_eq`] for keys with multi-byte segment lengths.
#[cold]
#[inline(never)]
fn key_eq_varint<S: AsRef<str>>(key: &[u8], segments: &[S]) -> bool {
    let mut stored = Segments(key);
    segments.iter().all(|s| stored.next() == Some(s.as_ref().as_bytes())) && stored.next().is_none()
}

/// Iterator over the segments of a [`TypeKey`].
pub(crate) struct Segments<'a>(pub(crate) &'a [u8]);

impl<'a> Iterator for Segments<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let (&first, rest) = self.0.split_first()?;
        let (at, len) = read_len(first, rest);
        let (segment, rest) = rest[at..].split_at(len);
        self.0 = rest;
        Some(segment)
    }
}

/// The length a key's length bytes `first`, `rest..` encode, and how many
/// bytes of `rest` they took.
#[inline(always)]
pub(crate) fn read_len(first: u8, rest: &[u8]) -> (usize, usize) {
    let first = usize::from(first);
    if first < SHORT {
        return (0, first);
    }
    let k = first - SHORT;
    let len = rest[..k].iter().rev().fold(0usize, |len, &b| (len << 7) | usize::from(b));
    (k, len)
}

/// Hashes segments one by one: the hash [`hash_key`] gives their key.
pub(crate) struct TypeHasher {
    h: u64,
    keys: (u64, u64),
}

impl TypeHasher {
    #[inline(always)]
    pub(crate) fn new() -> TypeHasher {
        TypeHasher { h: 0x9e37_79b9_7f4a_7c15, keys: keys() }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, segment: &[u8]) {
        self.h = hash_bytes_acc(self.h, segment, &mut 0, self.keys);
    }

    #[inline(always)]
    pub(crate) fn finish(self) -> u64 {
        finish(self.h, self.keys.0)
    }
}

/// The hash's two keys, random per process. Event types come from peers
/// (an eventer server's clients choose them): with keys fixed in the
/// source, a peer could craft types that collide and make every lookup
/// walk a chain. Drawn once from std's `RandomState` (OS randomness); a
/// key is one load after that, so lookups keep their one-probe speed.
#[inline(always)]
fn keys() -> (u64, u64) {
    // Two relaxed loads: the keys never change once set, and a zero (not
    // yet set) takes the OnceLock path. A OnceLock read on every segment
    // cost a quarter of a subscription match; the probe loads them once.
    let (k1, k2) = (KEY1.load(Ordering::Relaxed), KEY2.load(Ordering::Relaxed));
    if k1 == 0 || k2 == 0 {
        return init_keys();
    }
    (k1, k2)
}

static KEY1: AtomicU64 = AtomicU64::new(0);
static KEY2: AtomicU64 = AtomicU64::new(0);

#[cold]
#[inline(never)]
fn init_keys() -> (u64, u64) {
    static KEYS: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    let keys = *KEYS.get_or_init(|| {
        use std::hash::BuildHasher;
        let state = std::collections::hash_map::RandomState::new();
        // Odd, so that neither key zeroes a multiply (and KEY1 is never 0).
        (state.hash_one(0x243f_6a88_85a3_08d3u64) | 1, state.hash_one(0x1319_8a2e_0370_7344u64) | 1)
    });
    KEY2.store(keys.1, Ordering::Relaxed);
    KEY1.store(keys.0, Ordering::Relaxed);
    keys
}

/// 64x64 -> 128-bit multiply folded back to 64 bits: a fast, strong mixer.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

#[inline(always)]
pub(crate) fn read8(b: &[u8]) -> u64 {
    // one bounds check and one load (indexing byte by byte checks eight times)
    u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
}

#[inline(always)]
pub(crate) fn read4(b: &[u8]) -> u64 {
    u64::from(u32::from_le_bytes(b[..4].try_into().expect("4 bytes")))
}

/// ASCII check for the short strings event types are made of: two
/// overlapping loads instead of a loop.
#[inline(always)]
pub(crate) fn is_ascii_short(b: &[u8]) -> bool {
    let n = b.len();
    if (8..=16).contains(&n) {
        (read8(b) | read8(&b[n - 8..])) & 0x8080_8080_8080_8080 == 0
    } else if (4..8).contains(&n) {
        (read4(b) | read4(&b[n - 4..])) & 0x8080_8080 == 0
    } else {
        b.is_ascii()
    }
}

/// A fast, non-cryptographic hash of a byte string, chained from `h`.
#[inline(always)]
pub(crate) fn hash_bytes(h: u64, bytes: &[u8]) -> u64 {
    hash_bytes_acc(h, bytes, &mut 0, keys())
}

/// [`hash_bytes`], also ORing every word it reads into `high` (together
/// they cover every byte). Short strings are read with two (possibly
/// overlapping) loads rather than copied to a buffer, which would stall
/// store-to-load forwarding.
#[inline(always)]
fn hash_bytes_acc(h: u64, bytes: &[u8], high: &mut u64, (k1, k2): (u64, u64)) -> u64 {
    let n = bytes.len();
    // The segment is hashed on its own and then folded into `h` with a
    // rotation (which keeps the order of segments): the multiplies of
    // successive segments do not wait on each other.
    let mut s = k1;
    let (a, b) = if n <= 16 {
        let (a, b) = if n >= 8 {
            (read8(bytes), read8(&bytes[n - 8..]))
        } else if n >= 4 {
            (read4(bytes), read4(&bytes[n - 4..]))
        } else if n > 0 {
            ((u64::from(bytes[0]) << 16) | (u64::from(bytes[n / 2]) << 8) | u64::from(bytes[n - 1]), 0)
        } else {
            (0, 0)
        };
        (a, b)
    } else {
        let mut rest = bytes;
        while rest.len() > 16 {
            let (a, b) = (read8(rest), read8(&rest[8..]));
            *high |= a | b;
            s = fold_mul(a ^ s, b ^ k2);
            rest = &rest[16..];
        }
        (read8(&bytes[n - 16..]), read8(&bytes[n - 8..]))
    };
    *high |= a | b;
    fold_segment(h, s, k2, a, b, n)
}

/// Folds a segment's last two words `a`, `b` (and its length `n`, which
/// separates "ab","c" from "a","bc") into `h`; `s` is the state of the
/// segment's earlier 16-byte blocks (the first key when there are none).
#[inline(always)]
fn fold_segment(h: u64, s: u64, k2: u64, a: u64, b: u64, n: usize) -> u64 {
    h.rotate_left(29) ^ fold_mul(a ^ s, b ^ k2 ^ n as u64)
}

#[inline]
fn finish(h: u64, k1: u64) -> u64 {
    fold_mul(h, k1)
}

/// A hash map from whole event types to `V`, laid out for cache locality:
/// keys are packed one after another in an arena (in insertion order), each
/// as `[u32 length][key bytes][u32 entry index]`; the hash table holds only
/// 4-byte arena offsets. A lookup touches the table (small enough to stay in
/// cache for 100,000 types) and then the key itself; types inserted together
/// are found together.
#[derive(Clone)]
pub(crate) struct TypeMap<V> {
    table: HashTable<u32>,
    /// Values by entry index; None once removed.
    values: Vec<Option<V>>,
    arena: Vec<u8>,
    /// Removed entries still taking arena space; compacted when they
    /// outnumber the live ones.
    dead: usize,
}

impl<V> Default for TypeMap<V> {
    fn default() -> Self {
        TypeMap { table: HashTable::new(), values: Vec::new(), arena: Vec::new(), dead: 0 }
    }
}

/// The key bytes and entry index stored at `offset`.
#[inline]
fn stored(arena: &[u8], offset: u32) -> (&[u8], usize) {
    let at = offset as usize;
    let len = read4(&arena[at..]) as usize;
    let key = &arena[at + 4..at + 4 + len];
    (key, read4(&arena[at + 4 + len..]) as usize)
}

/// Whether the key stored at `offset` is `key`: the stored length first,
/// then the bytes, word by word.
#[inline(always)]
fn stored_eq(arena: &[u8], offset: u32, key: &[u8]) -> bool {
    let at = offset as usize;
    read4(&arena[at..]) as usize == key.len() && bytes_eq(&arena[at + 4..at + 4 + key.len()], key)
}

/// Equality of two byte strings, eight bytes at a time (the last word
/// overlapping), instead of a call to `memcmp`; up to 16 bytes (most
/// segments) through [`word_diff`]'s straight-line compares. Exact chunks
/// need no bounds checks and compile to wide compares.
#[inline(always)]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n <= 16 {
        return word_diff(a, b) == 0;
    }
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().expect("8 bytes"));
    let diff = a.chunks_exact(8).zip(b.chunks_exact(8)).fold(0, |d, (x, y)| d | (word(x) ^ word(y)));
    diff | (read8(&a[n - 8..]) ^ read8(&b[n - 8..])) == 0
}

impl<V> TypeMap<V> {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn get<S: AsRef<str>>(&self, segments: &[S]) -> Option<&V> {
        with_probe_of(segments, |probe| self.get_probe(probe, segments))
    }

    /// The value of the event type `segments`, whose probe is `probe`.
    #[inline(always)]
    pub(crate) fn get_probe<S: AsRef<str>>(&self, probe: &Probe<'_>, segments: &[S]) -> Option<&V> {
        self.values[self.find_probe(probe, segments)?].as_ref()
    }

    /// The entry index of the event type `segments`, whose probe is `probe`:
    /// stored keys compared with the probe's key bytes, or segment by
    /// segment when they did not fit.
    #[inline(always)]
    fn find_probe<S: AsRef<str>>(&self, probe: &Probe<'_>, segments: &[S]) -> Option<usize> {
        Some(stored(&self.arena, self.find_probe_offset(probe, segments)?).1)
    }

    /// The arena offset of the entry [`find_probe`](Self::find_probe)
    /// finds.
    #[inline(always)]
    fn find_probe_offset<S: AsRef<str>>(&self, probe: &Probe<'_>, segments: &[S]) -> Option<u32> {
        match probe.key() {
            Some(key) => self.find_offset(probe.h, key),
            None => {
                let arena = &self.arena;
                self.table.find(probe.h, |off| key_eq(stored(arena, *off).0, segments)).copied()
            }
        }
    }

    /// The value of the event type `event_type`: its stored hash and key
    /// bytes are looked up as they are (no probe, no hashing).
    #[inline(always)]
    pub(crate) fn get_type(&self, event_type: &EventType) -> Option<&V> {
        let offset = self.find_offset(event_type.hash_value(), event_type.key())?;
        self.values[stored(&self.arena, offset).1].as_ref()
    }

    /// The value for `event_type`, inserted with `make` if absent (no
    /// probe, no hashing: the key bytes are copied as they are).
    pub(crate) fn insert_type_with(&mut self, event_type: &EventType, make: impl FnOnce() -> V) -> &mut V {
        let (hash, key) = (event_type.hash_value(), event_type.key());
        let index = match self.find_offset(hash, key) {
            Some(offset) => stored(&self.arena, offset).1,
            None => self.push_entry(hash, key.len(), |out| out.copy_from_slice(key), make()),
        };
        // Live entries always hold a value.
        self.values[index].get_or_insert_with(|| unreachable!())
    }

    /// The arena offset of the entry whose key bytes are `key` (hash `hash`).
    #[inline(always)]
    fn find_offset(&self, hash: u64, key: &[u8]) -> Option<u32> {
        let arena = &self.arena;
        self.table.find(hash, |off| stored_eq(arena, *off, key)).copied()
    }

    /// Appends a new entry: `[u32 key length][key, written by write_key]
    /// [u32 index]` to the arena, its value, and its offset to the table.
    fn push_entry(&mut self, hash: u64, key_len: usize, write_key: impl FnOnce(&mut [u8]), value: V) -> usize {
        let index = self.values.len();
        let offset = u32::try_from(self.arena.len()).expect("more than 4 GiB of event types");
        let start = self.arena.len();
        self.arena.extend_from_slice(&(key_len as u32).to_le_bytes());
        self.arena.resize(start + 4 + key_len, 0);
        write_key(&mut self.arena[start + 4..]);
        self.arena.extend_from_slice(&(index as u32).to_le_bytes());
        self.values.push(Some(value));
        let arena = &self.arena;
        self.table.insert_unique(hash, offset, |off| hash_key(stored(arena, *off).0));
        index
    }

    fn find_key(&self, key: &TypeKey) -> Option<usize> {
        Some(stored(&self.arena, self.find_offset(key.hash(), &key.0)?).1)
    }

    pub(crate) fn get_key_mut(&mut self, key: &TypeKey) -> Option<&mut V> {
        let index = self.find_key(key)?;
        self.values[index].as_mut()
    }

    /// The value for `key`, inserted with `make` if absent.
    pub(crate) fn entry_or_insert_with(&mut self, key: TypeKey, make: impl FnOnce() -> V) -> &mut V {
        let index = match self.find_key(&key) {
            Some(index) => index,
            None => self.push_entry(key.hash(), key.0.len(), |out| out.copy_from_slice(&key.0), make()),
        };
        // Live entries always hold a value.
        self.values[index].get_or_insert_with(|| unreachable!())
    }

    /// The value for the event type `segments`, inserted with `make` if
    /// absent: the key is encoded straight into the arena (no `TypeKey`
    /// allocation), and only when it is new.
    #[cfg(test)]
    pub(crate) fn insert_with<S: AsRef<str>>(&mut self, segments: &[S], make: impl FnOnce() -> V) -> &mut V {
        let (hash, found) = with_probe_of(segments, |probe| (probe.h, self.find_probe(probe, segments)));
        let index = match found {
            Some(index) => index,
            None => {
                let len: usize = segments.iter().map(|s| s.as_ref().len() + varint_len(s.as_ref().len())).sum();
                let write = |out: &mut [u8]| {
                    let written = encode(segments, out);
                    debug_assert_eq!(written, len);
                };
                self.push_entry(hash, len, write, make())
            }
        };
        // Live entries always hold a value.
        self.values[index].get_or_insert_with(|| unreachable!())
    }

    pub(crate) fn remove_key(&mut self, key: &TypeKey) -> Option<V> {
        let arena = &self.arena;
        let found = self.table.find_entry(key.hash(), |off| stored_eq(arena, *off, &key.0));
        let offset = found.ok()?.remove().0;
        let value = self.values[stored(&self.arena, offset).1].take();
        self.dead += 1;
        if self.dead > 64 && self.dead > self.table.len() {
            self.compact();
        }
        value
    }

    /// Rebuilds values and arena without the removed entries.
    fn compact(&mut self) {
        let old = std::mem::take(self);
        for (key, value) in old.into_entries() {
            self.entry_or_insert_with(key, || value);
        }
    }

    fn into_entries(self) -> impl Iterator<Item = (TypeKey, V)> {
        let arena = self.arena;
        let mut values = self.values;
        let mut offsets = Vec::new();
        let mut at = 0;
        while at < arena.len() {
            offsets.push(at);
            at += 8 + read4(&arena[at..]) as usize;
        }
        offsets.into_iter().filter_map(move |at| {
            let (key, index) = stored(&arena, at as u32);
            values[index].take().map(|v| (TypeKey(key.into()), v))
        })
    }

    /// Live entries, in insertion order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Segments<'_>, &V)> {
        let mut at = 0;
        std::iter::from_fn(move || {
            while at < self.arena.len() {
                let (key, index) = stored(&self.arena, at as u32);
                at += 8 + key.len();
                if let Some(v) = &self.values[index] {
                    return Some((Segments(key), v));
                }
            }
            None
        })
    }

    /// Heap bytes held: table slots and control bytes, values, arena.
    pub(crate) fn heap_bytes(&self, value_bytes: impl Fn(&V) -> usize) -> usize {
        self.table.capacity() * 5
            + self.values.capacity() * std::mem::size_of::<Option<V>>()
            + self.arena.capacity()
            + self.iter().map(|(_, v)| value_bytes(v)).sum::<usize>()
    }
}

/// Runs `f` on the segments of a stored key (the segments of its key
/// bytes, in one part or several) as `&str`s, on the stack for up to 16
/// segments.
pub(crate) fn with_key_segments<'a, R>(segments: impl Iterator<Item = &'a [u8]>, f: impl FnOnce(&[&str]) -> R) -> R {
    const STACK: usize = 16;
    // Keys are only built from &str, so every segment is UTF-8.
    let text = |s: &'a [u8]| std::str::from_utf8(s).unwrap_or("");
    let mut buf = [""; STACK];
    let mut n = 0;
    let mut rest = segments.peekable();
    while n < STACK {
        match rest.next() {
            Some(s) => buf[n] = text(s),
            None => return f(&buf[..n]),
        }
        n += 1;
    }
    if rest.peek().is_none() {
        return f(&buf);
    }
    let mut all: Vec<&str> = buf.to_vec();
    all.extend(rest.map(text));
    f(&all)
}

pub(crate) fn to_event_type<'a>(segments: impl Iterator<Item = &'a [u8]>) -> EventType {
    with_key_segments(segments, |s| EventType::new(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_keys_are_drawn_once_per_process_and_not_the_source_constants() {
        let k = keys();
        assert_eq!(k, keys());
        assert_eq!((k.0 & 1, k.1 & 1), (1, 1));
        // What the keys were before they were seeded: a peer could know these.
        assert_ne!(k, (0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344 | 1));
        let mut buf = [0u8; PROBE_BUF];
        let mut probe = Probe::new(&mut buf);
        probe.push(b"segment 1");
        probe.push(b"x");
        probe.finish();
        let key = TypeKey::new(&["segment 1", "x"]);
        assert_eq!(probe.h, key.hash(), "the probe and the stored key hash alike");
    }

    #[test]
    fn keys_round_trip_segments_of_any_length() {
        let long = "x".repeat(300);
        let et = ["", "a", long.as_str(), "ž日本🎉"];
        let key = TypeKey::new(&et);
        assert_eq!(to_event_type(Segments(&key.0)), et);
        assert_ne!(key, TypeKey::new(&["", "a", long.as_str()]));
        assert_ne!(key, TypeKey::new(&["", "a", long.as_str(), "ž日本🎉", ""]));
        assert_eq!(to_event_type(Segments(&TypeKey::new::<&str>(&[]).0)), Vec::<String>::new());
    }

    #[test]
    fn keys_separate_segment_boundaries() {
        let h = |t: &[&str]| TypeKey::new(t).hash();
        assert_ne!(h(&["ab", "c"]), h(&["a", "bc"]));
        assert_ne!(h(&[]), h(&[""]));
        assert_ne!(h(&[""]), h(&["", ""]));
        assert_ne!(TypeKey::new(&["ab", "c"]), TypeKey::new(&["a", "bc"]));
    }

    #[test]
    fn long_event_types_are_found_through_the_heap_path() {
        let long = "y".repeat(1000);
        let mut m = TypeMap::default();
        *m.entry_or_insert_with(TypeKey::new(&[long.as_str(), "z"]), || 0) = 7;
        assert_eq!(m.get(&[long.as_str(), "z"]), Some(&7));
        assert_eq!(m.get(&[long.as_str()]), None);
    }

    #[test]
    fn types_too_long_for_a_probe_key_are_compared_by_segment() {
        // 20 segments of 15 bytes: every length fits in a byte, the key
        // (320 bytes) does not fit the probe.
        let segs: Vec<String> = (0..20).map(|i| format!("segment-{i:07}")).collect();
        let mut m = TypeMap::default();
        m.insert_with(&segs, || 1);
        assert_eq!(m.get(&segs), Some(&1));
        let mut other = segs.clone();
        other[19].replace_range(14.., "x");
        assert_eq!(m.get(&other), None);
        assert_eq!(m.get(&segs[..19]), None);
    }

    #[test]
    fn probes_flag_any_byte_that_is_not_ascii() {
        for n in 0..40 {
            let ascii = "a".repeat(n);
            let mut key = [0; PROBE_BUF];
            let mut probe = Probe::new(&mut key);
            probe.push(ascii.as_bytes());
            assert!(probe.finish(), "length {n}");
            for at in 0..n {
                let mut bytes = ascii.clone().into_bytes();
                bytes[at] = 0xc3;
                let mut key = [0; PROBE_BUF];
                let mut probe = Probe::new(&mut key);
                probe.push(b"x");
                probe.push(&bytes);
                assert!(!probe.finish(), "length {n}, byte {at}");
            }
        }
    }

    #[test]
    fn probe_keys_and_hashes_are_those_of_stored_keys() {
        let long = "q".repeat(130);
        let types: [&[&str]; 7] = [
            &[],
            &[""],
            &["a", "bc"],
            &["ab", "c"],
            &["x", long.as_str(), "ž"],
            &["segment 1", "sixteen-bytes-xx", "seventeen-bytes-x", "1234567"],
            &["12345678", "abcd", "žluťoučký kůň"],
        ];
        for t in types {
            with_probe_of(t, |probe| {
                let stored = TypeKey::new(t);
                assert_eq!(probe.h, stored.hash(), "{t:?}");
                if t.iter().map(|s| s.len() + 1).sum::<usize>() < SHORT {
                    assert_eq!(probe.key(), Some(&*stored.0), "{t:?}");
                } else {
                    assert_eq!(probe.key(), None, "{t:?}");
                }
            });
        }
    }

    #[test]
    fn probe_keys_are_stored_keys_around_the_inline_limit() {
        // Many segments of 0-20 bytes: the probe writes 17 bytes past the
        // key's end whatever the key's length; it must still give exactly
        // the stored key (or none once it does not fit) and its hash.
        let mut rng = crate::test_rng::Rng(0x9b0b_e001);
        for _ in 0..3000 {
            let count = rng.below(16);
            let t: Vec<String> =
                (0..count).map(|i| "xyz0123456789abcdefghij"[..rng.below(21)].replace('x', &i.to_string())).collect();
            with_probe_of(&t, |probe| {
                let stored = TypeKey::new(&t);
                assert_eq!(probe.h, stored.hash(), "{t:?}");
                let fits = t.iter().map(|s| s.len() + 1).sum::<usize>() < SHORT;
                assert_eq!(probe.key(), fits.then_some(&*stored.0), "{t:?}");
            });
        }
    }

    #[test]
    fn bytes_eq_is_byte_equality() {
        for n in 0..=20usize {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
            assert!(bytes_eq(&a, &a.clone()));
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!bytes_eq(&a, &b), "{n} {at}");
            }
            let mut longer = a.clone();
            longer.push(b'x');
            assert!(!bytes_eq(&a, &longer) && !bytes_eq(&longer, &a));
        }
    }

    #[test]
    fn lookups_compare_every_byte_at_every_length() {
        // Lengths around the inline comparisons (4, 8, 16) and the one-byte
        // length limit (128); a type differing in any one byte is not found.
        let lengths = (0..=20).chain(126..=130).chain([300]);
        for n in lengths {
            let seg: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            let mut m = TypeMap::default();
            *m.entry_or_insert_with(TypeKey::new(&["x", seg.as_str(), "y"]), || 0) = n;
            *m.entry_or_insert_with(TypeKey::new(&[seg.as_str()]), || 0) = n + 1000;
            assert_eq!(m.get(&["x", seg.as_str(), "y"]), Some(&n), "length {n}");
            assert_eq!(m.get(&[seg.as_str()]), Some(&(n + 1000)), "length {n}");
            assert_eq!(m.get(&["x", seg.as_str()]), None, "length {n}");
            for i in 0..n {
                let mut other = seg.clone().into_bytes();
                other[i] = b'Z';
                let other = String::from_utf8(other).unwrap();
                assert_eq!(m.get(&["x", other.as_str(), "y"]), None, "length {n}, byte {i}");
                assert_eq!(m.get(&[other.as_str()]), None, "length {n}, byte {i}");
            }
            let longer = format!("{seg}a");
            assert_eq!(m.get(&["x", longer.as_str(), "y"]), None, "length {n}");
        }
    }

    #[test]
    fn map_inserts_finds_and_removes() {
        let mut m = TypeMap::default();
        for i in 0..1000 {
            *m.entry_or_insert_with(TypeKey::new(&["a", &i.to_string()]), || 0) += i;
        }
        assert_eq!(m.len(), 1000);
        assert_eq!(m.get(&["a", "17"]), Some(&17));
        assert_eq!(m.get(&["a", "1000"]), None);
        assert_eq!(m.remove_key(&TypeKey::new(&["a", "17"])), Some(17));
        assert_eq!(m.get(&["a", "17"]), None);
        assert_eq!(m.len(), 999);
        // Removing most entries compacts the arena; the rest stay reachable.
        for i in 0..990 {
            m.remove_key(&TypeKey::new(&["a", &i.to_string()]));
        }
        assert_eq!(m.len(), 10);
        assert!(m.dead <= m.len() + 64);
        for i in 990..1000 {
            assert_eq!(m.get(&["a", &i.to_string()]), Some(&i));
        }
        *m.entry_or_insert_with(TypeKey::new(&["a", "5"]), || 0) += 5;
        assert_eq!(m.get(&["a", "5"]), Some(&5));
        assert_eq!(m.iter().count(), 11);
    }
}
