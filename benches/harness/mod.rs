//! The timing harness the benchmarks share: each case runs ROUNDS rounds
//! and prints the median ns per operation as `BENCH <case> ns_per_op=<x>`.

use std::time::Instant;

pub const ROUNDS: usize = 7;

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Runs `round` ROUNDS times; each returns (nanoseconds, operations).
/// Cases whose name does not contain the filter are skipped.
pub fn measure(name: &str, filter: &Option<String>, mut round: impl FnMut() -> (f64, usize)) {
    if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
        return;
    }
    let per_op: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let (ns, ops) = round();
            ns / ops as f64
        })
        .collect();
    println!("BENCH {name} ns_per_op={:.1}", median(per_op));
}

/// Times `f`, which returns how many operations it did.
pub fn time(f: impl FnOnce() -> usize) -> (f64, usize) {
    let start = Instant::now();
    let ops = f();
    (start.elapsed().as_nanos() as f64, ops)
}

/// The first command-line argument that is not a flag: the case filter.
pub fn filter() -> Option<String> {
    std::env::args().skip(1).find(|a| !a.starts_with('-'))
}
