//! Event types as C views for the benchmarks that call the C ABI
//! (subscription.rs, compare.rs, and examples/type_counts.rs).

use hat_event::ffi::boundary::hat_event_str_t;
use hat_event::ffi::event_type::hat_event_event_type_view_t;

/// C views of event types, packed the way a decoded message buffer would
/// be: all segment bytes in one block, all views in one array, in the order
/// given (so a benchmark reads its input sequentially and measures lookups,
/// not the allocator's scattering of its own test data).
pub struct Views {
    _bytes: String,
    views: Vec<hat_event_str_t>,
    /// (start, len) of each event type in `views`.
    types: Vec<(usize, usize)>,
}

impl Views {
    pub fn new(types: &[Vec<String>]) -> Views {
        let bytes: String = types.iter().flatten().map(String::as_str).collect();
        let mut views = Vec::new();
        let mut spans = Vec::new();
        let mut at = 0;
        for t in types {
            spans.push((views.len(), t.len()));
            for s in t {
                // SAFETY: `at..at + len` lies within `bytes`, which the views never outlive.
                views.push(hat_event_str_t { ptr: unsafe { bytes.as_ptr().add(at) }.cast(), len: s.len() });
                at += s.len();
            }
        }
        Views { _bytes: bytes, views, types: spans }
    }

    pub fn get(&self, i: usize) -> &[hat_event_str_t] {
        let (start, len) = self.types[i];
        &self.views[start..start + len]
    }

    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn type_views(&self) -> Vec<hat_event_event_type_view_t> {
        (0..self.len())
            .map(|i| hat_event_event_type_view_t { segments: self.get(i).as_ptr(), len: self.get(i).len() })
            .collect()
    }
}
