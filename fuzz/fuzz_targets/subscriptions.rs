//! Input: up to three SBS `Array(EventType)` query-type lists A, B, C, then a
//! script of collection operations (one byte each).
//! The checks (Subscription::new's refusals and sanitising against a brute-
//! force model; matches, union, intersection, isdisjoint on probe event
//! types; TreeCollection and ListCollection against a model; memory per
//! input byte) are in tests/fuzz_support/mod.rs, shared with
//! tests/fuzz_corpus.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz_support/mod.rs"]
mod checks;

#[global_allocator]
static ALLOC: checks::Counting = checks::Counting;

fuzz_target!(|data: &[u8]| checks::subscriptions(data));
