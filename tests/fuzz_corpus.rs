//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`) through the
//! checks the fuzz targets make (`tests/fuzz_support/mod.rs`), on stable and
//! without libFuzzer: each file goes through its own target, and then, whole
//! and without its first (selector) byte, through the checks for every
//! `HatEventer` type. See `fuzz/README.md`.
//!
//! The reproducers of open findings (`fuzz/artifacts/<target>/*`, which is
//! git-ignored) are replayed by an ignored test: `cargo test --test
//! fuzz_corpus -- --ignored` passes once they are fixed (then move them into
//! the corpus as `regress-*`).

mod fuzz_support;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use fuzz_support::{worst_memory, worst_subscription_memory, Counting, ALL, TARGETS};

// Counts the bytes decodes hold, for the memory bound the checks assert.
#[global_allocator]
static ALLOC: Counting = Counting;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("corpus")
}

/// The files of `dir`, sorted, skipping dot files.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    out.sort();
    out
}

/// Runs `f`, turning a panic into its message.
fn run(f: impl FnOnce()) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "non-string panic".to_owned())
    })
}

#[test]
fn every_target_has_a_non_empty_corpus() {
    let root = corpus_root();
    for (target, _) in TARGETS {
        let dir = root.join(target);
        assert!(dir.is_dir(), "no corpus directory {}", dir.display());
        assert!(!files(&dir).is_empty(), "empty corpus {}", dir.display());
    }
}

#[test]
fn corpus_passes_the_fuzz_checks() {
    let root = corpus_root();
    let mut failures = Vec::new();
    let mut count = 0;
    let mut decoded = vec![0usize; ALL.len()];
    for (target, body) in TARGETS {
        for path in files(&root.join(target)) {
            let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            count += 1;
            let name = path.strip_prefix(&root).unwrap_or(&path).display().to_string();
            if let Err(message) = run(|| body(&data)) {
                failures.push(format!("{name} (target {target}): {message}"));
            }
            let inputs = [Some(&data[..]), data.get(1..)];
            for (i, entry) in ALL.iter().enumerate() {
                for input in inputs.iter().flatten() {
                    match run(|| {
                        if (entry.check)(input) {
                            decoded[i] += 1;
                        }
                    }) {
                        Ok(()) => {}
                        Err(message) => failures.push(format!("{name} as {}: {message}", entry.name)),
                    }
                }
            }
        }
    }
    assert!(count > 0, "no corpus files under {}", root.display());
    let (peak, len) = worst_memory();
    eprintln!("{count} corpus files; most memory per input byte: {peak} bytes for {len} bytes ({}x)", peak / len);
    let (peak, len, call) = worst_subscription_memory();
    eprintln!("subscriptions: most memory per input byte: {peak} bytes for {len} bytes ({}x) in {call}", peak / len);
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n\n"));
    // Every type decodes from some corpus file (else the corpus misses it).
    let missing: Vec<&str> = ALL.iter().zip(&decoded).filter(|(_, &n)| n == 0).map(|(e, _)| e.name).collect();
    assert!(missing.is_empty(), "no corpus file decodes as {missing:?}");
}

#[test]
#[ignore = "replays fuzz/artifacts/*/*, reproducers of open fuzzing findings (fuzz/README.md); fails until they are fixed"]
fn artifacts_pass_the_fuzz_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("artifacts");
    let mut failures = Vec::new();
    for (target, body) in TARGETS {
        let dir = root.join(target);
        if !dir.is_dir() {
            continue;
        }
        for path in files(&dir) {
            let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if let Err(message) = run(|| body(&data)) {
                failures.push(format!("{} (target {target}): {message}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n\n"));
}

/// JSON payload text of every shape that costs the most memory per byte,
/// far deeper than the corpus holds (Python reads about 1,000 levels; we
/// read any depth): the fuzz checks pass, including the memory bound.
#[test]
fn deep_and_dense_json_payloads_pass_the_fuzz_checks() {
    fn payload(text: &str) -> Vec<u8> {
        // EventPayload = Choice index 1 (json), then String: length, bytes.
        let mut out = vec![0x81];
        let mut groups = Vec::new();
        let mut n = text.len();
        loop {
            groups.push((n & 0x7f) as u8);
            n >>= 7;
            if n == 0 && groups.last().is_some_and(|g| g & 0x40 == 0) {
                break;
            }
        }
        groups.reverse();
        let last = groups.len() - 1;
        groups[last] |= 0x80;
        out.extend_from_slice(&groups);
        out.extend_from_slice(text.as_bytes());
        out
    }
    let cases = [
        ("arrays 10^5", format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))),
        ("arrays 10^6", format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000))),
        ("objects 10^5", format!("{}0{}", "{\"\":".repeat(100_000), "}".repeat(100_000))),
        (
            "mixed 10^5 with lone surrogates",
            format!("{}\"\\ud800\"{}", "[{\"\\udc00\":".repeat(50_000), "}]".repeat(50_000)),
        ),
        ("zeros", format!("[{}0]", "0,".repeat(500_000))),
        ("empty arrays", format!("[{}[]]", "[],".repeat(300_000))),
        ("DEL strings", format!("[{}\"\"]", "\"\u{7f}\",".repeat(200_000))),
        ("unbalanced", "[".repeat(1_000_000)),
    ];
    let mut worst = (0.0f64, "");
    for (name, text) in &cases {
        let data = payload(text);
        let (ok, peak) = fuzz_support::peak_memory(|| fuzz_support::check::<hat_event::event::EventPayload>(&data));
        assert_eq!(ok, *name != "unbalanced", "{name}");
        let per_byte = peak as f64 / data.len() as f64;
        if per_byte > worst.0 {
            worst = (per_byte, name);
        }
    }
    eprintln!("deep and dense JSON payloads: at most {:.1} bytes held per input byte ({})", worst.0, worst.1);
}
