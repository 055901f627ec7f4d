//! The schema texts of the wire formats.

use std::ffi::c_char;

/// The SBS schema of module `HatEventer` (every type and message this
/// library encodes), NUL-terminated UTF-8 in hat-sbs syntax; static, never
/// NULL, never freed. Equal, type for type, to hat-event's `sbs_repo`.
#[no_mangle]
pub extern "C" fn hat_event_sbs_schema() -> *const c_char {
    concat!(include_str!("../schemas/hat_eventer.sbs"), "\0").as_ptr().cast()
}
