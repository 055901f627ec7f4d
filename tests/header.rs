//! The committed header is what build.rs generates, and carries the crate version.

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/event.h"));
const COMMITTED: &str = include_str!("../include/hat/event.h");

#[test]
fn header_is_fresh() {
    assert!(
        GENERATED == COMMITTED,
        "include/hat/event.h is stale: run `cargo build` and commit the regenerated header"
    );
}

#[test]
fn header_version_macros_match_cargo_toml() {
    for (name, value) in [
        ("HAT_EVENT_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("HAT_EVENT_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("HAT_EVENT_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define {name} {value}\n");
        assert!(COMMITTED.contains(&line), "header lacks `{}`", line.trim());
    }
}

#[test]
fn run_time_version_matches_cargo_toml() {
    // SAFETY: hat_event_version returns a static NUL-terminated string.
    let v = unsafe { std::ffi::CStr::from_ptr(hat_event::ffi::version::hat_event_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn header_has_no_conditionals_inside_declarations() {
    // cffi reads the preprocessed header; the only conditionals allowed are
    // the include guard and the C++ `extern "C"` wrapper.
    let conditionals: Vec<&str> =
        COMMITTED.lines().filter(|l| l.trim_start().starts_with("#if") || l.trim_start().starts_with("#el")).collect();
    assert_eq!(conditionals, ["#ifndef HAT_EVENT_H", "#ifdef __cplusplus", "#ifdef __cplusplus"]);
}

#[test]
fn every_declaration_is_documented() {
    let lines: Vec<&str> = COMMITTED.lines().collect();
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        let is_function = line.contains("hat_event_") && line.contains('(') && !line.starts_with([' ', '/', '*', '#']);
        let is_type = line.starts_with("typedef");
        let is_constant = line.starts_with("#define HAT_EVENT_")
            && !line.starts_with("#define HAT_EVENT_VERSION_")
            && *line != "#define HAT_EVENT_H";
        if is_function || is_type || is_constant {
            assert_eq!(lines[i - 1].trim(), "*/", "undocumented: {line}");
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} declarations found");
}
