//! Library version at run time (the header carries the compile-time macros
//! `HAT_EVENT_VERSION_MAJOR/MINOR/PATCH`).

use std::ffi::c_char;

/// The library version as NUL-terminated `"MAJOR.MINOR.PATCH"`; static,
/// never NULL, never freed. Compare with the header's `HAT_EVENT_VERSION_*`
/// macros to detect a header/library mismatch.
#[no_mangle]
pub extern "C" fn hat_event_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
