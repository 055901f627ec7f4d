//! Whole event types as compact hash keys: one allocation per stored type,
//! looked up from borrowed segments (`&[&str]` or `&[String]`) without
//! building a key, with one hash over all segments (one probe for any depth).

use hashbrown::HashTable;

/// An event type packed into one allocation: for each segment, its length
/// as a LEB128 varint, then its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TypeKey(Box<[u8]>);

impl TypeKey {
    pub(crate) fn new<S: AsRef<str>>(segments: &[S]) -> TypeKey {
        let mut out = Vec::with_capacity(segments.iter().map(|s| s.as_ref().len() + 1).sum());
        for s in segments {
            let mut n = s.as_ref().len();
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
            out.extend_from_slice(s.as_ref().as_bytes());
        }
        TypeKey(out.into_boxed_slice())
    }

    /// The segments, in order.
    pub(crate) fn segments(&self) -> Segments<'_> {
        Segments(&self.0)
    }

    pub(crate) fn to_event_type(&self) -> Vec<String> {
        // Keys are only built from &str, so every segment is UTF-8.
        self.segments().map(|s| String::from_utf8_lossy(s).into_owned()).collect()
    }

    pub(crate) fn equals<S: AsRef<str>>(&self, segments: &[S]) -> bool {
        let mut mine = self.segments();
        segments.iter().all(|s| mine.next() == Some(s.as_ref().as_bytes())) && mine.next().is_none()
    }

    pub(crate) fn hash(&self) -> u64 {
        hash_segments(self.segments())
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.0.len()
    }
}

/// Iterator over the segments of a [`TypeKey`].
pub(crate) struct Segments<'a>(&'a [u8]);

impl<'a> Iterator for Segments<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.0.is_empty() {
            return None;
        }
        let mut len = 0usize;
        let mut shift = 0;
        let mut at = 0;
        loop {
            let byte = self.0[at];
            at += 1;
            len |= usize::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let (segment, rest) = self.0[at..].split_at(len);
        self.0 = rest;
        Some(segment)
    }
}

const K: u64 = 0xf135_7aea_2e62_a9c5;

/// A fast, non-cryptographic hash of a byte string (word at a time).
#[inline]
pub(crate) fn hash_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ word).wrapping_mul(K).rotate_left(26);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(buf)).wrapping_mul(K).rotate_left(26);
    }
    // The length separates "ab","c" from "a","bc".
    (h ^ bytes.len() as u64).wrapping_mul(K)
}

#[inline]
fn finish(h: u64) -> u64 {
    // Spread entropy to the high bits hashbrown uses for its control bytes.
    let h = (h ^ (h >> 32)).wrapping_mul(K);
    h ^ (h >> 29)
}

#[inline]
pub(crate) fn hash_segments<'a>(segments: impl Iterator<Item = &'a [u8]>) -> u64 {
    finish(segments.fold(0x243f_6a88_85a3_08d3, hash_bytes))
}

#[inline]
pub(crate) fn hash_event_type<S: AsRef<str>>(segments: &[S]) -> u64 {
    hash_segments(segments.iter().map(|s| s.as_ref().as_bytes()))
}

/// A hash map from whole event types to `V`.
#[derive(Clone, Default)]
pub(crate) struct TypeMap<V> {
    table: HashTable<(TypeKey, V)>,
}

impl<V> TypeMap<V> {
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    #[inline]
    pub(crate) fn get<S: AsRef<str>>(&self, segments: &[S]) -> Option<&V> {
        let hash = hash_event_type(segments);
        self.table.find(hash, |(k, _)| k.equals(segments)).map(|(_, v)| v)
    }

    pub(crate) fn get_key_mut(&mut self, key: &TypeKey) -> Option<&mut V> {
        self.table.find_mut(key.hash(), |(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value for `key`, inserted with `make` if absent.
    pub(crate) fn entry_or_insert_with(&mut self, key: TypeKey, make: impl FnOnce() -> V) -> &mut V {
        let hash = key.hash();
        let entry = self
            .table
            .entry(hash, |(k, _)| *k == key, |(k, _)| k.hash())
            .or_insert_with(|| (key, make()));
        &mut entry.into_mut().1
    }

    pub(crate) fn remove_key(&mut self, key: &TypeKey) -> Option<V> {
        match self.table.find_entry(key.hash(), |(k, _)| k == key) {
            Ok(entry) => Some(entry.remove().0 .1),
            Err(_) => None,
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&TypeKey, &V)> {
        self.table.iter().map(|(k, v)| (k, v))
    }

    /// Heap bytes held: the table's slots and control bytes plus the keys.
    pub(crate) fn heap_bytes(&self, value_bytes: impl Fn(&V) -> usize) -> usize {
        let slot = std::mem::size_of::<(TypeKey, V)>() + 1;
        self.table.capacity() * slot + self.table.iter().map(|(k, v)| k.heap_bytes() + value_bytes(v)).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_segments_of_any_length() {
        let long = "x".repeat(300);
        let et = ["", "a", long.as_str(), "ž日本🎉"];
        let key = TypeKey::new(&et);
        assert!(key.equals(&et));
        assert_eq!(key.to_event_type(), et);
        assert!(!key.equals(&["", "a", long.as_str()]));
        assert!(!key.equals(&["", "a", long.as_str(), "ž日本🎉", ""]));
        assert!(TypeKey::new::<&str>(&[]).equals::<&str>(&[]));
        assert!(!TypeKey::new::<&str>(&[]).equals(&[""]));
    }

    #[test]
    fn hashes_of_key_and_segments_agree_and_separate_boundaries() {
        let et = ["ab", "c"];
        assert_eq!(TypeKey::new(&et).hash(), hash_event_type(&et));
        assert_ne!(hash_event_type(&["ab", "c"]), hash_event_type(&["a", "bc"]));
        assert_ne!(hash_event_type::<&str>(&[]), hash_event_type(&[""]));
        assert_ne!(hash_event_type(&[""]), hash_event_type(&["", ""]));
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
    }
}
