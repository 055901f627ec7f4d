//! Input: a selector byte (frame size limit and the chunks the stream
//! arrives in), then a byte stream as a peer would send it: chatter frames
//! parsed incrementally, as the eventer server's and client's readers do,
//! and the eventer messages they carry decoded.
//! The checks (F1-F4) are in tests/fuzz_support/mod.rs, shared with
//! tests/fuzz_corpus.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz_support/mod.rs"]
mod checks;

#[global_allocator]
static ALLOC: checks::Counting = checks::Counting;

fuzz_target!(|data: &[u8]| checks::chatter_frames(data));
