//! Event types (sequences of string segments) and query-type matching.

use std::cell::RefCell;
use std::sync::Arc;

use crate::type_index::{push_len, read_len, varint_len, TypeHasher};

/// An event type: zero or more UTF-8 segments, each possibly empty.
///
/// Shared and immutable: one heap allocation holds the segment count, the
/// offsets of the segments (so [`segment`](Self::segment) is O(1)), the
/// segments in the key encoding the type tables use (for each segment its
/// length, then its bytes) and the hash those tables use, computed once
/// when the type is built or decoded. A clone is an `Arc` clone; lookups
/// in the type tables ([`Subscription::matches_type`](crate::subscription::Subscription::matches_type),
/// collections, backends) use the stored hash and key bytes as they are.
///
/// The allocation is a `str`, so that segments are handed out as `&str`
/// without unsafe code or revalidation: the header is written seven bits
/// per byte (every header byte is ASCII), and so are the key's lengths.
/// Layout: the hash (10 bytes), the width `w` of the numbers that follow
/// (1 byte: as many bytes of seven bits as the key's length takes), the
/// segment count (`w` bytes; never more than the key's length), for each
/// segment its start and end in the key (`w` bytes each), then the key.
#[derive(Clone)]
pub struct EventType(Arc<str>);

const HASH_WIDTH: usize = 10;
const WIDTH_AT: usize = HASH_WIDTH;
const COUNT_AT: usize = WIDTH_AT + 1;

/// Seven bits per byte, least significant first, `width` bytes.
#[inline(always)]
fn get7(bytes: &[u8], width: usize) -> u64 {
    bytes[..width].iter().rev().fold(0, |v, &b| (v << 7) | u64::from(b))
}

#[inline(always)]
fn put7(out: &mut [u8], mut value: u64) {
    for b in out {
        *b = (value & 0x7f) as u8;
        value >>= 7;
    }
}

/// The hash as [`put7`] writes it in [`HASH_WIDTH`] bytes: the low 56
/// bits spread seven to a byte with shifts and masks (halves, quarters,
/// eighths), the top eight bits in the last two bytes.
#[inline(always)]
fn hash_bytes(hash: u64) -> [u8; HASH_WIDTH] {
    let mut x = hash & 0x00ff_ffff_ffff_ffff;
    x = (x & 0x0fff_ffff) | ((x & 0x00ff_ffff_f000_0000) << 4);
    x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x0fff_c000_0fff_c000) << 2);
    x = (x & 0x007f_007f_007f_007f) | ((x & 0x3f80_3f80_3f80_3f80) << 1);
    let mut out = [0; HASH_WIDTH];
    out[..8].copy_from_slice(&x.to_le_bytes());
    out[8] = ((hash >> 56) & 0x7f) as u8;
    out[9] = (hash >> 63) as u8;
    out
}

/// The inverse of [`hash_bytes`] ([`get7`] of [`HASH_WIDTH`] bytes).
#[inline(always)]
fn hash_from_bytes(bytes: &[u8; HASH_WIDTH]) -> u64 {
    let mut low = [0; 8];
    low.copy_from_slice(&bytes[..8]);
    let mut x = u64::from_le_bytes(low) & 0x7f7f_7f7f_7f7f_7f7f;
    x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
    x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
    x = (x & 0x0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4);
    x | (u64::from(bytes[8] & 0x7f) << 56) | (u64::from(bytes[9] & 0x7f) << 63)
}

/// Start and end in the key of segment `i`.
#[inline(always)]
fn span(bytes: &[u8], width: usize, i: usize) -> (usize, usize) {
    let at = COUNT_AT + width + 2 * width * i;
    if width == 1 {
        (usize::from(bytes[at]), usize::from(bytes[at + 1]))
    } else {
        (get7(&bytes[at..], width) as usize, get7(&bytes[at + width..], width) as usize)
    }
}

/// Bytes of seven bits that hold `value` (at least one).
#[inline(always)]
fn width7(value: u64) -> usize {
    ((u64::BITS - value.leading_zeros()) as usize).div_ceil(7).max(1)
}

/// Layouts up to this many bytes are assembled on the stack: a type of
/// ten 8-byte segments takes 121.
const STACK_LAYOUT: usize = 128;

/// Builds an [`EventType`] in two passes over its segments: each is
/// [`push`](Builder::push)ed (hashed and measured), then
/// [`build`](Builder::build) writes them. A decoder pushes segments as it
/// reads them and builds from the input bytes without keeping them.
pub(crate) struct Builder {
    hasher: TypeHasher,
    count: usize,
    key_len: usize,
    /// A segment of 64 bytes or more was pushed (see [`build_sbs`](Builder::build_sbs)).
    long: bool,
}

impl Builder {
    #[inline(always)]
    pub(crate) fn new() -> Builder {
        Builder { hasher: TypeHasher::new(), count: 0, key_len: 0, long: false }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, segment: &[u8]) {
        self.hasher.push(segment);
        self.key_len += varint_len(segment.len()) + segment.len();
        self.count += 1;
        self.long |= segment.len() >= 64;
    }

    /// [`build`](Self::build) from `strings`, the pushed segments as SBS
    /// Strings back to back, already checked (`segments` iterates them).
    /// When every segment is shorter than 64 bytes, each String is its
    /// length in one byte (0x80 | length: SBS refuses longer encodings)
    /// and its bytes, which is the key with each length byte's top bit
    /// set: the key is copied at once and its length bytes cleared, which
    /// is also where the offsets table is read from.
    #[inline(always)]
    pub(crate) fn build_sbs<'a>(
        self,
        strings: &[u8],
        segments: impl Iterator<Item = &'a [u8]>,
    ) -> Result<EventType, ()> {
        let key_at = COUNT_AT + 1 + 2 * self.count;
        let len = key_at + self.key_len;
        // Within the stack layout the key is under 128 bytes: one-byte offsets.
        if self.long || len > STACK_LAYOUT || strings.len() != self.key_len {
            return self.build(segments);
        }
        let mut buf = [0u8; STACK_LAYOUT];
        let (header, key) = buf[..len].split_at_mut(key_at);
        header[..HASH_WIDTH].copy_from_slice(&hash_bytes(self.hasher.finish()));
        header[WIDTH_AT] = 1;
        header[COUNT_AT] = self.count as u8;
        key.copy_from_slice(strings);
        let mut at = 0;
        for span in header[COUNT_AT + 1..].chunks_exact_mut(2) {
            let Some(length) = key.get_mut(at) else { break };
            *length &= 0x3f;
            let start = at + 1;
            at = start + usize::from(*length);
            span[0] = start as u8;
            span[1] = at as u8;
        }
        match std::str::from_utf8(&buf[..len]) {
            Ok(text) => Ok(EventType(Arc::from(text))),
            Err(_) => Err(()),
        }
    }

    /// The type of `segments`, which must be those pushed, in order; an
    /// error if one is not UTF-8. The layout is validated at once (the
    /// header and lengths being ASCII) where it is written (on the stack
    /// when small, as nearly all types are), then copied into its
    /// allocation: safe code cannot validate inside an `Arc<str>`.
    #[inline(always)]
    pub(crate) fn build<'a>(self, segments: impl Iterator<Item = &'a [u8]>) -> Result<EventType, ()> {
        let layout = Layout { hash: self.hasher.finish(), width: width7(self.key_len as u64), count: self.count };
        let len = layout.key_at() + self.key_len;
        let finish = |out: &[u8]| match std::str::from_utf8(out) {
            Ok(text) => Ok(EventType(Arc::from(text))),
            Err(_) => Err(()),
        };
        if len <= STACK_LAYOUT {
            let mut buf = [0u8; STACK_LAYOUT];
            layout.write(&mut buf[..len], segments);
            return finish(&buf[..len]);
        }
        let mut segments = Some(segments);
        let mut build = |out: &mut Vec<u8>| {
            out.clear();
            out.resize(len, 0);
            layout.write(out, segments.take().into_iter().flatten());
            finish(out)
        };
        SCRATCH
            .try_with(|scratch| scratch.try_borrow_mut().ok().map(|mut out| build(&mut out)))
            .ok()
            .flatten()
            .unwrap_or_else(|| build(&mut Vec::new()))
    }
}

/// The header of a type being built.
struct Layout {
    hash: u64,
    width: usize,
    count: usize,
}

impl Layout {
    #[inline(always)]
    fn key_at(&self) -> usize {
        COUNT_AT + self.width + 2 * self.width * self.count
    }

    /// Writes the header and the key of `segments` into `out`, which has
    /// exactly their length.
    #[inline(always)]
    fn write<'a>(&self, out: &mut [u8], segments: impl Iterator<Item = &'a [u8]>) {
        let width = self.width;
        let (header, key) = out.split_at_mut(self.key_at());
        header[..HASH_WIDTH].copy_from_slice(&hash_bytes(self.hash));
        header[WIDTH_AT] = width as u8;
        let (count, table) = header[COUNT_AT..].split_at_mut(width);
        put7(count, self.count as u64);
        let mut at = 0;
        for (s, span) in segments.zip(table.chunks_exact_mut(2 * width)) {
            push_len(s.len(), |b| {
                key[at] = b;
                at += 1;
            });
            let end = at + s.len();
            if width == 1 {
                span[0] = at as u8;
                span[1] = end as u8;
            } else {
                let (start_bytes, end_bytes) = span.split_at_mut(width);
                put7(start_bytes, at as u64);
                put7(end_bytes, end as u64);
            }
            key[at..end].copy_from_slice(s);
            at = end;
        }
    }
}

thread_local! {
    /// Where a large type is assembled before it is copied into its allocation.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl EventType {
    /// The event type of `segments`.
    pub fn new<S: AsRef<str>>(segments: &[S]) -> EventType {
        match EventType::from_utf8(segments.iter().map(|s| s.as_ref().as_bytes())) {
            Ok(event_type) => event_type,
            // Every segment is a str: there is nothing to refuse.
            Err(_) => unreachable!("segments that are str are UTF-8"),
        }
    }

    /// The event type of `segments` (byte strings), or the index of the
    /// first segment that is not UTF-8 and its [`std::str::Utf8Error`]
    /// (only a failure looks at the segments one by one; see [`Builder`]).
    pub(crate) fn from_utf8<'a, I>(segments: I) -> Result<EventType, (usize, std::str::Utf8Error)>
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        let mut builder = Builder::new();
        segments.clone().for_each(|s| builder.push(s));
        builder.build(segments.clone()).map_err(|()| {
            segments
                .enumerate()
                .find_map(|(i, s)| std::str::from_utf8(s).err().map(|e| (i, e)))
                .expect("the header and the lengths are ASCII: a segment is not UTF-8")
        })
    }

    /// The number of segments.
    #[inline]
    pub fn len(&self) -> usize {
        let bytes = self.0.as_bytes();
        match bytes[WIDTH_AT] {
            1 => usize::from(bytes[COUNT_AT]),
            width => get7(&bytes[COUNT_AT..], usize::from(width)) as usize,
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the key starts.
    #[inline(always)]
    fn key_at(&self) -> usize {
        self.table().2
    }

    /// Segment `i`. Panics if `i >= self.len()`, as slice indexing does.
    #[inline]
    pub fn segment(&self, i: usize) -> &str {
        self.get(i).unwrap_or_else(|| panic!("segment {i} of an event type of {} segments", self.len()))
    }

    /// Segment `i`, if there is one.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        let (len, width, key_at) = self.table();
        if i >= len {
            return None;
        }
        let (start, end) = span(self.0.as_bytes(), width, i);
        self.0.get(key_at + start..key_at + end)
    }

    /// The segment count, the offset width and where the key starts.
    #[inline(always)]
    fn table(&self) -> (usize, usize, usize) {
        let len = self.len();
        let width = usize::from(self.0.as_bytes()[WIDTH_AT]);
        (len, width, COUNT_AT + width + 2 * width * len)
    }

    /// Calls `f` with a function giving the bytes of segment `i` (None
    /// past the last), the layout read once: for repeated use (wildcard
    /// matching). Types whose key is shorter than 128 bytes (one-byte
    /// offsets, nearly all) get a function of two loads.
    #[inline(always)]
    pub(crate) fn with_indexer<'a, R>(&'a self, f: impl SegmentFn<'a, R>) -> R {
        let (len, width, key_at) = self.table();
        let bytes = self.0.as_bytes();
        if width == 1 {
            let table = &bytes[COUNT_AT + 1..key_at];
            let key = &bytes[key_at..];
            f.call(move |i| {
                let span = table.get(2 * i..2 * i + 2)?;
                key.get(usize::from(span[0])..usize::from(span[1]))
            })
        } else {
            f.call(move |i| {
                if i >= len {
                    return None;
                }
                let (start, end) = span(bytes, width, i);
                bytes.get(key_at + start..key_at + end)
            })
        }
    }

    /// The segments in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        let (len, _, key_at) = self.table();
        Iter { rest: &self.0[key_at..], remaining: len }
    }

    /// The hash the type tables use, computed when the type was built:
    /// seeded per process (see `type_index`).
    #[inline(always)]
    pub fn hash_value(&self) -> u64 {
        match self.0.as_bytes().first_chunk::<HASH_WIDTH>() {
            Some(bytes) => hash_from_bytes(bytes),
            None => 0, // every layout starts with the hash
        }
    }

    /// The key bytes: for each segment its length, then its bytes.
    #[inline(always)]
    pub(crate) fn key(&self) -> &[u8] {
        &self.0.as_bytes()[self.key_at()..]
    }

    /// The segments joined with `separator` (as `[String]::join`).
    pub fn join(&self, separator: &str) -> String {
        self.iter().collect::<Vec<_>>().join(separator)
    }

    /// The segments as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }

    /// Heap bytes held (shared with every clone).
    pub fn heap_bytes(&self) -> usize {
        self.0.len() + 2 * std::mem::size_of::<usize>()
    }
}

/// What [`EventType::with_indexer`] calls: generic over the segment
/// function, so that each layout gets its own inlined copy.
pub(crate) trait SegmentFn<'a, R> {
    fn call(self, segment: impl Fn(usize) -> Option<&'a [u8]>) -> R;
}

/// The segments of an [`EventType`].
#[derive(Clone)]
pub struct Iter<'a> {
    rest: &'a str,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let (&first, rest) = self.rest.as_bytes().split_first()?;
        let (at, len) = read_len(first, rest);
        let start = 1 + at;
        let segment = &self.rest[start..start + len];
        self.rest = &self.rest[start + len..];
        self.remaining -= 1;
        Some(segment)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a EventType {
    type Item = &'a str;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Segment `i`, as [`segment`](EventType::segment).
impl std::ops::Index<usize> for EventType {
    type Output = str;
    fn index(&self, i: usize) -> &str {
        self.segment(i)
    }
}

impl Default for EventType {
    fn default() -> Self {
        EventType::new::<&str>(&[])
    }
}

impl PartialEq for EventType {
    #[inline]
    fn eq(&self, other: &EventType) -> bool {
        // The whole allocation is a function of the segments; the hash
        // comes first, so different types differ early.
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for EventType {}

impl<S: AsRef<str>> PartialEq<[S]> for EventType {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for EventType {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for EventType {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

impl PartialEq<EventType> for Vec<String> {
    fn eq(&self, other: &EventType) -> bool {
        *other == self[..]
    }
}

impl PartialOrd for EventType {
    fn partial_cmp(&self, other: &EventType) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// As `Vec<String>` orders: segment by segment, a prefix first.
impl Ord for EventType {
    fn cmp(&self, other: &EventType) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            return std::cmp::Ordering::Equal;
        }
        self.iter().cmp(other.iter())
    }
}

/// Writes the precomputed hash (see [`TypeHashBuilder`]).
impl std::hash::Hash for EventType {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash_value());
    }
}

impl std::fmt::Debug for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl From<Vec<String>> for EventType {
    fn from(segments: Vec<String>) -> EventType {
        EventType::new(&segments)
    }
}

impl From<&Vec<String>> for EventType {
    fn from(segments: &Vec<String>) -> EventType {
        EventType::new(segments)
    }
}

impl From<&[String]> for EventType {
    fn from(segments: &[String]) -> EventType {
        EventType::new(segments)
    }
}

impl From<Vec<&str>> for EventType {
    fn from(segments: Vec<&str>) -> EventType {
        EventType::new(&segments)
    }
}

impl From<&[&str]> for EventType {
    fn from(segments: &[&str]) -> EventType {
        EventType::new(segments)
    }
}

impl<const N: usize> From<[&str; N]> for EventType {
    fn from(segments: [&str; N]) -> EventType {
        EventType::new(&segments)
    }
}

impl<const N: usize> From<&[&str; N]> for EventType {
    fn from(segments: &[&str; N]) -> EventType {
        EventType::new(segments)
    }
}

impl From<EventType> for Vec<String> {
    fn from(event_type: EventType) -> Vec<String> {
        event_type.to_vec()
    }
}

impl FromIterator<String> for EventType {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> EventType {
        EventType::new(&iter.into_iter().collect::<Vec<_>>())
    }
}

impl<'a> FromIterator<&'a str> for EventType {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> EventType {
        EventType::new(&iter.into_iter().collect::<Vec<_>>())
    }
}

/// A `BuildHasher` for maps keyed by [`EventType`]: the hash is the one
/// the type computed when it was built, passed through. DoS-safe: that
/// hash is keyed per process from OS randomness (std's `RandomState`, see
/// `type_index`), so a peer cannot choose types that collide.
#[derive(Clone, Copy, Default, Debug)]
pub struct TypeHashBuilder;

impl std::hash::BuildHasher for TypeHashBuilder {
    type Hasher = TypeHasherPassThrough;
    fn build_hasher(&self) -> TypeHasherPassThrough {
        TypeHasherPassThrough(0)
    }
}

/// The hasher of [`TypeHashBuilder`]: keeps the `u64` written (an
/// [`EventType`]'s hash); other writes are mixed in, in case a key that is
/// not an event type is hashed with it.
#[derive(Clone, Copy, Default, Debug)]
pub struct TypeHasherPassThrough(u64);

impl std::hash::Hasher for TypeHasherPassThrough {
    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.0 = self.0.rotate_left(29) ^ value;
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by event types, hashed with their stored hash.
pub type TypeHashMap<V> = std::collections::HashMap<EventType, V, TypeHashBuilder>;

/// Does `event_type` match `query_type`? The rules of the reference
/// (`hat.event.common.matches_query_type`):
///
/// * `"?"` matches exactly one segment of any value;
/// * a trailing `"*"` matches zero or more segments;
/// * any other segment matches an equal segment;
/// * the empty query type matches only the empty event type.
///
/// A `"*"` that is not last gets no special meaning here: like any other
/// segment it matches only an equal segment, as in the reference.
/// (Subscriptions refuse such query types.)
pub fn matches_query_type<E: AsRef<str>, Q: AsRef<str>>(event_type: &[E], query_type: &[Q]) -> bool {
    let (fixed, variable) = match query_type.split_last() {
        Some((last, rest)) if last.as_ref() == "*" => (rest, true),
        _ => (query_type, false),
    };
    if event_type.len() < fixed.len() || (event_type.len() > fixed.len() && !variable) {
        return false;
    }
    event_type.iter().zip(fixed).all(|(e, q)| q.as_ref() == "?" || e.as_ref() == q.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_bytes_are_those_of_put7_and_read_back() {
        let mut values = vec![0, 1, u64::MAX, u64::MAX >> 1, 1 << 63, 1 << 56, (1 << 56) - 1];
        values.extend((0..64).map(|i| 1u64 << i));
        values.extend((0..1000u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i << 40)));
        for v in values {
            let mut expected = [0; HASH_WIDTH];
            put7(&mut expected, v);
            assert_eq!(hash_bytes(v), expected, "{v:#x}");
            assert_eq!(hash_from_bytes(&expected), get7(&expected, HASH_WIDTH), "{v:#x}");
            assert_eq!(hash_from_bytes(&expected), v, "{v:#x}");
        }
    }

    // Every case of hat-event test_pytest/test_common/test_matches.py.
    #[test]
    fn matches_reference_cases() {
        let cases: &[(&[&str], &[&str], bool)] = &[
            (&[], &[], true),
            (&[], &["*"], true),
            (&[], &["?"], false),
            (&["a"], &[], false),
            (&["a"], &["*"], true),
            (&["a"], &["?"], true),
            (&["a"], &["?", "*"], true),
            (&["a"], &["?", "?"], false),
            (&["a"], &["a"], true),
            (&["a"], &["a", "*"], true),
            (&["a"], &["a", "?"], false),
            (&["a"], &["b"], false),
            (&["a"], &["a", "b"], false),
            (&["a", "b"], &[], false),
            (&["a", "b"], &["*"], true),
            (&["a", "b"], &["?"], false),
            (&["a", "b"], &["?", "*"], true),
            (&["a", "b"], &["?", "?"], true),
            (&["a", "b"], &["?", "?", "*"], true),
            (&["a", "b"], &["?", "?", "?"], false),
            (&["a", "b"], &["a"], false),
            (&["a", "b"], &["a", "*"], true),
            (&["a", "b"], &["a", "?"], true),
            (&["a", "b"], &["a", "?", "*"], true),
            (&["a", "b"], &["a", "?", "?"], false),
            (&["a", "b"], &["?", "b"], true),
            (&["a", "b"], &["?", "b", "*"], true),
            (&["a", "b"], &["?", "b", "?"], false),
            (&["a", "b"], &["b", "a"], false),
            (&["a", "b"], &["a", "b", "c"], false),
        ];
        for (event_type, query_type, expected) in cases {
            assert_eq!(matches_query_type(event_type, query_type), *expected, "{event_type:?} {query_type:?}");
        }
    }

    #[test]
    fn star_not_last_matches_only_itself() {
        assert!(!matches_query_type(&["a", "b"], &["*", "b"]));
        assert!(matches_query_type(&["*", "b"], &["*", "b"]));
    }

    #[test]
    fn empty_and_unicode_segments_compare_exactly() {
        assert!(matches_query_type(&[""], &[""]));
        assert!(matches_query_type(&[""], &["?"]));
        assert!(!matches_query_type::<_, &str>(&[""], &[]));
        assert!(matches_query_type(&["ž", "日本"], &["ž", "*"]));
        assert!(!matches_query_type(&["e\u{301}"], &["\u{e9}"]));
    }

    #[test]
    fn owned_and_borrowed_segments_mix() {
        let event_type: Vec<String> = vec!["a".into(), "b".into()];
        assert!(matches_query_type(&event_type, &["a", "?"]));
    }

    fn types() -> Vec<Vec<String>> {
        let long = "x".repeat(300);
        let mid = "m".repeat(111);
        let sets: &[&[&str]] = &[
            &[],
            &[""],
            &["", ""],
            &["a"],
            &["a", "b"],
            &["a", "b", ""],
            &["ab"],
            &["b"],
            &["ž日本🎉", "e\u{301}"],
            &[&long, "a"],
            &[&mid],
            &[&mid, &mid, &mid],
        ];
        sets.iter().map(|t| t.iter().map(|s| s.to_string()).collect()).collect()
    }

    #[test]
    fn segments_round_trip_and_index() {
        let segs: Vec<String> = (0..300).map(|i| "s".repeat(i % 140)).collect();
        for t in types().into_iter().chain([segs]) {
            let et = EventType::from(t.clone());
            assert_eq!(et.len(), t.len());
            assert_eq!(et.is_empty(), t.is_empty());
            assert_eq!(et.iter().len(), t.len());
            assert_eq!(et.to_vec(), t);
            for (i, s) in t.iter().enumerate() {
                assert_eq!(et.segment(i), s);
            }
            assert_eq!(et.get(t.len()), None);
            assert_eq!(format!("{et:?}"), format!("{t:?}"));
            assert_eq!(et, t);
            let key = crate::type_index::TypeKey::new(&t);
            assert_eq!(et.hash_value(), key.hash(), "{t:?}");
            assert_eq!(EventType::from(et.to_vec()), et);
        }
    }

    #[test]
    fn order_and_equality_are_those_of_vec_of_strings() {
        let all = types();
        for a in &all {
            for b in &all {
                let (x, y) = (EventType::from(a.clone()), EventType::from(b.clone()));
                assert_eq!(x.cmp(&y), a.cmp(b), "{a:?} {b:?}");
                assert_eq!(x == y, a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn maps_with_the_pass_through_hasher() {
        let mut m: TypeHashMap<usize> = TypeHashMap::default();
        for (i, t) in types().into_iter().enumerate() {
            m.insert(t.into(), i);
        }
        for (i, t) in types().into_iter().enumerate() {
            assert_eq!(m.get(&EventType::from(t)), Some(&i));
        }
    }
}
