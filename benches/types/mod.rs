//! hat-event's event type generator (its test_subscription_perf.py
//! `get_event_types`, also benches/hat_subscription.py
//! `hat_event_types`), for the Rust benchmarks (subscription.rs) and
//! examples/type_counts.rs: one copy, so that every side measures the
//! same types.

/// `count` types of `size` segments `segment <digit>`: `i` written in base
/// ceil(log_size(count)) (at least 1), the last segment varying fastest,
/// the first digit unbounded (it takes what the others do not hold).
pub fn hat_event_types(size: usize, count: usize) -> Vec<Vec<String>> {
    let base = if size > 1 { ((count as f64).ln() / (size as f64).ln()).ceil() as usize } else { count }.max(1);
    (0..count)
        .map(|i| {
            let mut rest = i;
            (0..size)
                .rev()
                .map(|j| {
                    let p = base.pow(j as u32);
                    let digit = rest / p;
                    rest -= digit * p;
                    format!("segment {digit}")
                })
                .collect()
        })
        .collect()
}
