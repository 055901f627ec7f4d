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
        "{CONTENTS}\n/** Version of this header; compare with hat_event_version() at run time. */\n\
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
    let text = with_sections(with_plugin_exports(String::from_utf8(text).expect("cbindgen writes UTF-8")));
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
/* ==========================================================================
 * Plug-in exports
 *
 * What a plug-in shared library defines (not this library): the symbol
 * names looked up with dlsym, the function types, and the declarations that
 * make a wrong definition fail to compile.
 * ========================================================================== */
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

/// The header's table of contents, after the includes.
const CONTENTS: &str = "
/*
 * Contents. Constants and types come first, as C needs them declared
 * before use (each documented where it is declared). The functions follow
 * in sections, from basic to advanced, each opened by a banner with a short
 * introduction: errors, version and buffers; timestamps; event types; event
 * ids and payloads; events; register events; queries; subscriptions;
 * collections; SBS encoding; eventer messages; JSON form; schemas;
 * plug-ins; backends; modules; query rules for backends; engine; eventer
 * server; eventer client; plug-in exports.
 */
";

/// The function sections: the first function of each (in the order the
/// FFI modules are declared, which cbindgen follows), a title and an
/// introduction. A first function that is no longer in the header fails
/// the build, so the sections cannot silently go stale.
const SECTIONS: &[(&str, &str, &str)] = &[
    (
        "hat_event_status_str",
        "Errors, version and buffers",
        "Every fallible function returns a hat_event_status_t; the message of \
      the last failure on the calling thread is hat_event_last_error_message(). \
      hat_event_version() is the library's version at run time. Encoders \
      and text writers return a hat_event_buffer_t the caller releases.",
    ),
    (
        "hat_event_timestamp_min",
        "Timestamps",
        "hat_event_timestamp_t {s, us} is a plain value (0 <= us < 1000000), \
      with hat's conversions: 12-byte big-endian form, float seconds, UTC \
      calendar fields and RFC 3339 text.",
    ),
    (
        "hat_event_event_type_create",
        "Event types",
        "An event type is a sequence of UTF-8 segments; handles are immutable. \
      hat_event_matches_query_type() applies hat's '?' and '*' rules.",
    ),
    (
        "hat_event_event_id_compare",
        "Event ids and payloads",
        "Event ids are plain values ordered by (server, session, instance). A \
      payload is binary (a type name and bytes) or JSON (one value, kept as \
      the text hat-event writes).",
    ),
    (
        "hat_event_event_create",
        "Events",
        "A registered event: id, type, timestamp, optional source timestamp and \
      payload. Immutable and reference-counted: _clone is O(1).",
    ),
    (
        "hat_event_register_event_create",
        "Register events",
        "What a client or module asks to register: an event without id and \
      timestamp (the engine assigns both).",
    ),
    (
        "hat_event_query_params_create_latest",
        "Queries",
        "Query parameters of the three kinds (latest, timeseries, server), \
      with setters and getters per field, and query results (events plus \
      more_follows).",
    ),
    (
        "hat_event_subscription_create",
        "Subscriptions",
        "An immutable, reference-counted set of query types, sanitised as hat \
      does: matching, union, exact intersection and isdisjoint.",
    ),
    (
        "hat_event_collection_create",
        "Collections",
        "Event type collections (hat's tree and list): map query types to \
      caller values and find every value whose query type matches an event \
      type.",
    ),
    (
        "hat_event_event_encode",
        "SBS encoding",
        "Every HatEventer type encoded and decoded byte for byte as hat-event; \
      decoders are strict and name the byte offset of a problem.",
    ),
    (
        "hat_event_msg_create_init_req",
        "Eventer messages",
        "The eventer protocol's messages as handles: create, encode, decode, \
      and read each kind's fields.",
    ),
    (
        "hat_event_event_to_json",
        "JSON form",
        "Events and query results as the JSON text hat-event's tools read and \
      write.",
    ),
    (
        "hat_event_sbs_schema",
        "Schemas",
        "The SBS schema and the JSON schema repository hat-event ships, as \
      static text.",
    ),
    (
        "hat_event_plugin_set_error",
        "Plug-ins",
        "Backends and modules: infos registered by name or imported from a \
      shared library by path, all in one registry with the built-in \
      backends; configurations are checked against a plug-in's JSON schema.",
    ),
    (
        "hat_event_backend_host_registered",
        "Backends",
        "What a C backend calls back: report events registered and flushed.",
    ),
    (
        "hat_event_backend_instance_hooks_init",
        "Backend instances",
        "Any registered backend created and driven directly, without an \
      engine (as hat's tests drive its backends): the caller's events, ids \
      and all, stored as given; queries, flush and close.",
    ),
    (
        "hat_event_register_event_list_append",
        "Modules",
        "What a C module calls back: append the register events it derives.",
    ),
    (
        "hat_event_query_evaluate",
        "Query rules for backends",
        "hat's query semantics over a backend's own events, so a C backend need \
      not reimplement them.",
    ),
    (
        "hat_event_engine_hooks_init",
        "Engine",
        "The in-process engine: sessions through the modules into the backend, \
      queries, and the host's hooks.",
    ),
    (
        "hat_event_server_create",
        "Eventer server",
        "A Hat event server in front of an engine: hat-event 0.9.44's eventer \
         protocol on a TCP address, for hat's own clients and ours, with \
         bounded frames, queues and connections.",
    ),
    (
        "hat_event_client_options_init",
        "Eventer client",
        "A native client of a Hat event server (hat-event-server or ours): \
      register, query and subscribe over the eventer protocol.",
    ),
];

/// Inserts each section's banner before the documentation of its first
/// function.
fn with_sections(mut header: String) -> String {
    let mut from = 0;
    for (first, title, intro) in SECTIONS {
        // The declaration: a line of code (not documentation) naming the function.
        let call = format!("{first}(");
        let mut decl = None;
        let mut at = from;
        for line in header[from..].split_inclusive('\n') {
            let code = !line.starts_with([' ', '*', '/', '#', '\n']);
            if code && line.split([' ', '*']).any(|w| w.starts_with(&call)) {
                decl = Some(at);
                break;
            }
            at += line.len();
        }
        let decl =
            decl.unwrap_or_else(|| panic!("build.rs SECTIONS: {first} is not declared in the header (in this order)"));
        let doc = header[..decl].rfind("\n/**").expect("every function is documented") + 1;
        let mut banner =
            format!("/* ==========================================================================\n * {title}\n *\n");
        let mut line = String::from(" *");
        for word in intro.split_whitespace() {
            if line.len() + 1 + word.len() > 76 {
                banner.push_str(&line);
                banner.push('\n');
                line = String::from(" *");
            }
            line.push(' ');
            line.push_str(word);
        }
        banner.push_str(&line);
        banner.push_str("\n * ========================================================================== */\n\n");
        header.insert_str(doc, &banner);
        from = doc + banner.len();
    }
    header
}
