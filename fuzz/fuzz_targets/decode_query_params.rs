//! Input: one `QueryParams` (= `MsgQueryReq`); the same bytes are also checked
//! as `QueryLatestParams`, `QueryTimeseriesParams` and `QueryServerParams`.
//! The checks (decode_prefix/decode_exact agreement, round trip, canonical
//! form) are in tests/fuzz_support/mod.rs, shared with tests/fuzz_corpus.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz_support/mod.rs"]
mod checks;

#[global_allocator]
static ALLOC: checks::Counting = checks::Counting;

fuzz_target!(|data: &[u8]| checks::decode_query_params(data));
