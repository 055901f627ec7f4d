//! Generates `include/hat/event.h` from the FFI layer with cbindgen and sets
//! the shared library's soname.
//!
//! The header is written to `OUT_DIR` first and copied over the committed
//! one only when its content changed (so timestamps and incremental builds
//! stay quiet). With `HAT_EVENT_CHECK_HEADER=1` (set by CI) nothing is
//! copied, and the `header_is_fresh` test fails if the committed header is
//! stale.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    let minor = env::var("CARGO_PKG_VERSION_MINOR").unwrap();
    let patch = env::var("CARGO_PKG_VERSION_PATCH").unwrap();

    // The ABI major version is part of the soname, so that an incompatible
    // library is never loaded by a program built against another one.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhat_event.so.{major}");
    }

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=HAT_EVENT_CHECK_HEADER");

    let mut config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("read cbindgen.toml");
    config.after_includes = Some(format!(
        "\n/** Version of this header; compare with hat_event_version() at run time. */\n\
         #define HAT_EVENT_VERSION_MAJOR {major}\n\
         #define HAT_EVENT_VERSION_MINOR {minor}\n\
         #define HAT_EVENT_VERSION_PATCH {patch}\n"
    ));

    // Only the FFI layer is parsed: the core's items never reach the header.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .expect("generate include/hat/event.h");

    let generated = PathBuf::from(env::var("OUT_DIR").unwrap()).join("event.h");
    bindings.write_to_file(&generated);

    let committed = root.join("include/hat/event.h");
    let new = fs::read(&generated).unwrap();
    let unchanged = fs::read(&committed).is_ok_and(|old| old == new);
    if !unchanged && env::var("HAT_EVENT_CHECK_HEADER").as_deref() != Ok("1") {
        fs::create_dir_all(committed.parent().unwrap()).unwrap();
        fs::write(&committed, new).unwrap();
    }
}
