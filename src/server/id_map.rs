//! Hash maps keyed by integers (event ids, server ids, connection ids).

/// A map keyed by event ids or other integers with a cheap hash: std's
/// SipHash took 7% of an LMDB register in the profile. Seeded per process
/// (the type index's keys): ids from a server's peers cannot be chosen to
/// collide.
pub type IdMap<K, V> = std::collections::HashMap<K, V, IdHasherBuilder>;

/// Builds [`IdHasher`]s.
#[derive(Clone, Copy, Default)]
pub struct IdHasherBuilder;

impl std::hash::BuildHasher for IdHasherBuilder {
    type Hasher = IdHasher;

    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

/// Folds each integer written into the state with the seeded hash of
/// [`crate::type_index`].
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = crate::type_index::hash_bytes(self.0, bytes);
    }

    #[inline]
    fn write_i64(&mut self, v: i64) {
        self.0 = crate::type_index::hash_bytes(self.0, &v.to_le_bytes());
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}
