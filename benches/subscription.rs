//! Subscription and collection benchmarks through the C ABI (the same
//! `extern "C"` functions a C program links against). Plain harness: each
//! case runs several rounds and prints the median ns/op.
//!
//!     cargo bench --bench subscription            # all cases
//!     cargo bench --bench subscription -- matches # cases whose name contains "matches"
//!
//! Event types follow hat-event's test_subscription_perf.py generator and
//! test_collection_perf.py time series.

mod harness;
mod types;
mod views;
use harness::{measure, time};
use types::hat_event_types;
use views::Views;

use std::hint::black_box;

use hat_event::ffi::boundary::HAT_EVENT_OK;
use hat_event::ffi::collection::*;
use hat_event::ffi::event_type::hat_event_event_type_view_t;
use hat_event::ffi::subscription::*;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64) as usize
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// Whether any case of a group (name prefix) passes the filter, so that
/// filtered runs skip the group's setup (and profiles show only the case).
fn wants(filter: &Option<String>, group: &str) -> bool {
    filter.as_ref().is_none_or(|f| group.contains(f.as_str()) || f.contains(group))
}

fn subscription(types: &[hat_event_event_type_view_t]) -> *mut hat_event_subscription_t {
    let mut sub = std::ptr::null_mut();
    // SAFETY: the views point into live strings; out is a local.
    assert_eq!(unsafe { hat_event_subscription_create(types.as_ptr(), types.len(), &mut sub) }, HAT_EVENT_OK);
    sub
}

fn matches_all(sub: *const hat_event_subscription_t, queries: &Views) -> usize {
    let mut hits = 0;
    for q in (0..queries.len()).map(|i| queries.get(i)) {
        let mut m = false;
        // SAFETY: live handle and views.
        unsafe { hat_event_subscription_matches(sub, q.as_ptr(), q.len(), &mut m) };
        hits += usize::from(black_box(m));
    }
    hits
}

/// Reads every view of `queries` and the bytes of every segment (two
/// overlapping words, as the lookup does) without looking anything up.
fn scan_all(queries: &Views) -> u64 {
    let mut acc = 0u64;
    for q in (0..queries.len()).map(|i| black_box(queries.get(i))) {
        for v in q {
            // SAFETY: each view points to `len` readable bytes.
            let bytes = unsafe { std::slice::from_raw_parts(v.ptr.cast::<u8>(), v.len) };
            let n = bytes.len();
            if n >= 8 {
                acc = acc.wrapping_add(u64::from_le_bytes(bytes[..8].try_into().unwrap()));
                acc ^= u64::from_le_bytes(bytes[n - 8..].try_into().unwrap());
            } else if n > 0 {
                acc = acc.wrapping_add(u64::from(bytes[0]) ^ u64::from(bytes[n - 1]));
            }
        }
    }
    acc
}

fn main() {
    let filter = harness::filter();
    let mut rng = Rng(0x00be_4c4e_2026);

    for size in [1, 3, 5, 10] {
        for count in [10_000, 100_000] {
            if !wants(&filter, "subscription_") && !wants(&filter, "input_scan") {
                continue;
            }
            let types = hat_event_types(size, count);
            let views = Views::new(&types);
            let tv = views.type_views();
            measure(&format!("subscription_create size={size} count={count}"), &filter, || {
                time(|| {
                    // SAFETY: handle from subscription().
                    unsafe { hat_event_subscription_destroy(black_box(subscription(&tv))) };
                    count
                })
            });
            // The floor under matches in generated order: only reading the
            // input (every view and the first and last word of each segment).
            measure(&format!("input_scan size={size} count={count} order=generated"), &filter, || {
                time(|| {
                    black_box(scan_all(&views));
                    count
                })
            });
            let sub = subscription(&tv);
            measure(&format!("subscription_matches size={size} count={count} order=generated"), &filter, || {
                time(|| {
                    assert_eq!(matches_all(sub, &views), count);
                    count
                })
            });
            let mut shuffled_types = types.clone();
            rng.shuffle(&mut shuffled_types);
            let shuffled = Views::new(&shuffled_types);
            measure(&format!("subscription_matches size={size} count={count} order=shuffled"), &filter, || {
                time(|| {
                    assert_eq!(matches_all(sub, &shuffled), count);
                    count
                })
            });
            if size >= 3 && count == 100_000 {
                // Misses at the first and at the last segment, with 1% of
                // ('?', 'segment 1', '*') query types mixed in.
                let mut with_wild = types.clone();
                for i in 0..count / 100 {
                    with_wild[i * 100] = vec!["?".into(), "segment 1".into(), "*".into()];
                }
                let wv = Views::new(&with_wild);
                let wsub = subscription(&wv.type_views());
                let mut misses: Vec<Vec<String>> = types.clone();
                for (i, t) in misses.iter_mut().enumerate() {
                    if i % 2 == 0 {
                        t[0] = "nope".into();
                    } else {
                        *t.last_mut().unwrap() = "nope".into();
                    }
                    if t.get(1).is_some_and(|s| s == "segment 1") {
                        t[1] = "segment x".into();
                    }
                }
                let mv = Views::new(&misses);
                measure(&format!("subscription_misses size={size} count={count} wild=1%"), &filter, || {
                    time(|| {
                        assert_eq!(matches_all(wsub, &mv), 0);
                        count
                    })
                });
                // SAFETY: handle from subscription().
                unsafe { hat_event_subscription_destroy(wsub) };
            }
            // SAFETY: handle from subscription().
            unsafe { hat_event_subscription_destroy(sub) };
        }
    }

    // Set operations on two 10,000-type subscriptions sharing half their types.
    if wants(&filter, "subscription_") {
        let all = hat_event_types(3, 15_000);
        let (a, b) = (Views::new(&all[..10_000]), Views::new(&all[5_000..]));
        let (sa, sb) = (subscription(&a.type_views()), subscription(&b.type_views()));
        let mut out = std::ptr::null_mut();
        measure("subscription_union count=10000+10000", &filter, || {
            // SAFETY: live handles; the result is destroyed right away.
            time(|| unsafe {
                hat_event_subscription_union(sa, &(sb as *const _), 1, &mut out);
                hat_event_subscription_destroy(out);
                1
            })
        });
        measure("subscription_intersection count=10000+10000", &filter, || {
            // SAFETY: as above.
            time(|| unsafe {
                hat_event_subscription_intersection(sa, &(sb as *const _), 1, &mut out);
                hat_event_subscription_destroy(out);
                1
            })
        });
        let mut d = false;
        measure("subscription_isdisjoint count=10000+10000", &filter, || {
            // SAFETY: live handles.
            time(|| unsafe {
                hat_event_subscription_isdisjoint(sa, sb, &mut d);
                1
            })
        });
        // SAFETY: handles from subscription().
        unsafe {
            hat_event_subscription_destroy(sa);
            hat_event_subscription_destroy(sb);
        }
    }

    // Collections: one value per time series ('a', 'b', 'c', str(i)).
    for series in [100, 14_000] {
        if !wants(&filter, "collection_") {
            continue;
        }
        let types: Vec<Vec<String>> =
            (0..series).map(|i| vec!["a".into(), "b".into(), "c".into(), i.to_string()]).collect();
        let views = Views::new(&types);
        let mut coll = std::ptr::null_mut();
        let mut values = std::ptr::null_mut();
        // SAFETY: locals as out-parameters; views outlive the calls.
        unsafe {
            hat_event_collection_create(HAT_EVENT_COLLECTION_TREE, &mut coll);
            hat_event_values_create(&mut values);
            for (i, tv) in views.type_views().iter().enumerate() {
                let sub = subscription(std::slice::from_ref(tv));
                hat_event_collection_add(coll, sub, i as u64);
                hat_event_subscription_destroy(sub);
            }
        }
        measure(&format!("collection_get series={series} order=generated"), &filter, || {
            time(|| {
                for q in (0..views.len()).map(|i| views.get(i)) {
                    // SAFETY: live handles and views.
                    unsafe { hat_event_collection_get(coll, q.as_ptr(), q.len(), values) };
                    // SAFETY: live handle.
                    assert_eq!(unsafe { hat_event_values_len(values) }, 1);
                }
                views.len()
            })
        });
        let mut order_types = types.clone();
        rng.shuffle(&mut order_types);
        let order = Views::new(&order_types);
        measure(&format!("collection_get series={series} order=shuffled"), &filter, || {
            time(|| {
                for q in (0..order.len()).map(|i| order.get(i)) {
                    // SAFETY: live handles and views.
                    unsafe { hat_event_collection_get(coll, q.as_ptr(), q.len(), values) };
                    // SAFETY: live handle.
                    assert_eq!(unsafe { hat_event_values_len(values) }, 1);
                }
                order.len()
            })
        });
        if series == 14_000 {
            // Churn: one add and one remove per 100 gets.
            let extra_type = [vec!["a".into(), "b".into(), "c".into(), "extra".into()]];
            let extra = Views::new(&extra_type);
            let extra_sub = subscription(&extra.type_views());
            measure("collection_churn series=14000 add_remove_per_100_gets=1", &filter, || {
                time(|| {
                    for (i, q) in (0..order.len()).map(|i| order.get(i)).enumerate() {
                        if i % 100 == 0 {
                            // SAFETY: live handles.
                            unsafe {
                                hat_event_collection_add(coll, extra_sub, 1 << 40);
                                hat_event_collection_remove(coll, 1 << 40);
                            }
                        }
                        // SAFETY: live handles and views.
                        unsafe { hat_event_collection_get(coll, q.as_ptr(), q.len(), values) };
                    }
                    order.len()
                })
            });
            // SAFETY: handle from subscription().
            unsafe { hat_event_subscription_destroy(extra_sub) };
        }
        // SAFETY: handles created above.
        unsafe {
            hat_event_values_destroy(values);
            hat_event_collection_destroy(coll);
        }
    }

    // Fan-out: ~2,000 subscribers reached through '*' and '?' paths.
    if wants(&filter, "collection_fanout") {
        let mut coll = std::ptr::null_mut();
        let mut values = std::ptr::null_mut();
        let mut subs: Vec<Vec<String>> = Vec::new();
        for i in 0..1000 {
            subs.push(vec!["a".into(), "*".into()]);
            subs.push(vec!["a".into(), "?".into(), "c".into(), if i % 2 == 0 { "?".into() } else { "*".into() }]);
            subs.push(vec!["a".into(), "x".into(), i.to_string()]); // not reached
        }
        let views = Views::new(&subs);
        // SAFETY: locals as out-parameters; views outlive the calls.
        unsafe {
            hat_event_collection_create(HAT_EVENT_COLLECTION_TREE, &mut coll);
            hat_event_values_create(&mut values);
            for (i, tv) in views.type_views().iter().enumerate() {
                let sub = subscription(std::slice::from_ref(tv));
                hat_event_collection_add(coll, sub, i as u64);
                hat_event_subscription_destroy(sub);
            }
        }
        let q_type = [vec!["a".into(), "b".into(), "c".into(), "d".into()]];
        let q = Views::new(&q_type);
        let q = q.get(0);
        measure("collection_fanout values=2000", &filter, || {
            time(|| {
                for _ in 0..1000 {
                    // SAFETY: live handles and views.
                    unsafe { hat_event_collection_get(coll, q.as_ptr(), q.len(), values) };
                }
                1000
            })
        });
        // SAFETY: live handle.
        assert_eq!(unsafe { hat_event_values_len(values) }, 2000);
        // SAFETY: handles created above.
        unsafe {
            hat_event_values_destroy(values);
            hat_event_collection_destroy(coll);
        }
    }

    // Memory: heap bytes per stored query type for 100,000 types.
    if filter.as_ref().is_none_or(|f| "memory".contains(f.as_str())) {
        for size in [3, 10] {
            let types = hat_event_types(size, 100_000);
            let sub = hat_event::subscription::Subscription::new(&types).unwrap();
            println!(
                "BENCH memory_subscription size={size} count=100000 bytes_per_type={:.1}",
                sub.heap_bytes() as f64 / 100_000.0
            );
        }
    }
}
