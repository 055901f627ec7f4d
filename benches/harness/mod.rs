//! The timing harness the benchmarks share: each case runs ROUNDS rounds
//! and prints the median ns per operation as `BENCH <case> ns_per_op=<x>`.

use std::time::Instant;

pub const ROUNDS: usize = 7;

/// A round repeats its workload until it has run this long, so that short
/// workloads (100 lookups, one `isdisjoint`) are not dominated by the
/// clock's own cost and a cold first pass.
pub const MIN_ROUND_NS: f64 = 2e6;

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Runs ROUNDS rounds, each calling `round` (which returns nanoseconds
/// and operations) until it has run MIN_ROUND_NS, after one untimed call
/// to warm caches. Cases whose name does not contain the filter are skipped.
pub fn measure(name: &str, filter: &Option<String>, mut round: impl FnMut() -> (f64, usize)) {
    if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
        return;
    }
    round();
    let per_op: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let (mut ns, mut ops) = (0.0, 0);
            while ns < MIN_ROUND_NS {
                let (n, o) = round();
                ns += n;
                ops += o;
            }
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
