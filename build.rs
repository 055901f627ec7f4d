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

    // The ABI version is part of the soname, so that an incompatible
    // library is never loaded by a program built against another one: the
    // major version from 1.0, and 0.<minor> before (0.x minors may break
    // the ABI). CMakeLists.txt computes the same name.
    let abi = if major == "0" { format!("0.{minor}") } else { major.clone() };
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhat_event.so.{abi}");
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

    let mut text = Vec::new();
    bindings.write(&mut text);
    let text = with_plugin_exports(String::from_utf8(text).expect("cbindgen writes UTF-8"));
    let generated = PathBuf::from(env::var("OUT_DIR").unwrap()).join("event.h");
    fs::write(&generated, &text).unwrap();

    let committed = root.join("include/hat/event.h");
    let new = text.into_bytes();
    let unchanged = fs::read(&committed).is_ok_and(|old| old == new);
    if !unchanged && env::var("HAT_EVENT_CHECK_HEADER").as_deref() != Ok("1") {
        fs::create_dir_all(committed.parent().unwrap()).unwrap();
        fs::write(&committed, new).unwrap();
    }
}

/// The functions a plug-in library exports are defined by the plug-in, not
/// by this library, so cbindgen (which sees only what the library defines)
/// cannot declare them. They are declared here, inside the header's
/// `extern "C"` block, so that a plug-in defining one with another
/// signature fails to compile.
const PLUGIN_EXPORTS: &str = r#"
/**
 * The name of the function a backend shared library exports, looked up
 * with `dlsym` when a path is imported (`hat_event_import_backend_info`, an
 * engine's `"module"`). It is declared below as `hat_event_backend_info`.
 */
#define HAT_EVENT_BACKEND_INFO_SYMBOL "hat_event_backend_info"

/**
 * The name of the function a module shared library exports; as
 * `HAT_EVENT_BACKEND_INFO_SYMBOL`. Declared below as `hat_event_module_info`.
 */
#define HAT_EVENT_MODULE_INFO_SYMBOL "hat_event_module_info"

/**
 * The type of a backend library's export: returns a pointer to the
 * library's info (never by value), valid for the life of the process
 * (a `static const` object). Called once per loaded library, on the
 * thread of its first import; it must only return the pointer.
 */
typedef const hat_event_backend_info_t *hat_event_backend_info_fn(void);

/**
 * The type of a module library's export; as `hat_event_backend_info_fn`.
 */
typedef const hat_event_module_info_t *hat_event_module_info_fn(void);

/**
 * Defined by a backend plug-in library (not by this library): declared
 * here so that a definition with another signature does not compile.
 */
const hat_event_backend_info_t *hat_event_backend_info(void);

/**
 * Defined by a module plug-in library (not by this library): declared
 * here so that a definition with another signature does not compile.
 */
const hat_event_module_info_t *hat_event_module_info(void);
"#;

fn with_plugin_exports(header: String) -> String {
    let closing = "\n#ifdef __cplusplus\n}  // extern \"C\"";
    let at = header.rfind(closing).expect("cbindgen closes the extern \"C\" block");
    format!("{}{}{}", &header[..at], PLUGIN_EXPORTS, &header[at..])
}
