//! The `extern "C"` layer: converts, checks and delegates to the core; no
//! logic of its own. One file per core concept, plus the boundary.
//!
//! Conventions shared by every exported function:
//! - fallible functions return `hat_event_status_t` and write their
//!   out-parameters only on success;
//! - `_create`/`_clone` return owned handles released with the matching
//!   `_destroy` (which accepts NULL); everything else borrows for the call;
//! - handles are not internally synchronised: a handle may be read from
//!   several threads at once, but not while any thread modifies it.
#![deny(unsafe_op_in_unsafe_fn)]
// Each exported function's doc comment (which becomes the header's) states
// its pointer contract in C terms; a Rust `# Safety` heading would only
// repeat it in the header.
#![allow(clippy::missing_safety_doc)]
#![allow(non_camel_case_types)]

// The order of these modules is the header's (cbindgen follows it): basic
// to advanced, as the sections build.rs marks in the header.
pub mod boundary;
pub mod version;
pub mod buffer;
pub mod timestamp;
pub mod event_type;
pub mod event;
pub mod query;
pub mod subscription;
pub mod collection;
pub mod sbs;
pub mod message;
pub mod json_form;
pub mod schema;
pub mod server;
pub mod eventer;
