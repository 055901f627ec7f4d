//! Hat's query rules over a set of events: what a backend answers for
//! latest, timeseries and server queries. One implementation, used by the
//! memory backend and given to every other backend ([`query_events`],
//! `hat_event_query_evaluate` in C), so that a backend stores events as it
//! likes and still answers queries exactly as the built-in one does.
//!
//! The reference's memory backend only answers latest queries: its
//! `get_last_event_id` and server queries read attributes events do not have
//! (`e.server`, `e.event_id`) and its timeseries query raises
//! `UnboundLocalError` (the sort key is a tuple `(lambda, event)`). What is
//! implemented here is what that code evidently intends, with the gaps it
//! leaves decided as hat-event's LMDB backend decides them:
//! - latest: the newest event of each type (by the reference's natural
//!   order, [`Event::natural_lt`]), types in the order they first appear;
//! - a `source_t_from`/`source_t_to` filter drops events without a source
//!   timestamp, and ordering by source timestamp leaves them out;
//! - ties of the ordering key are broken by timestamp, then event id;
//! - `last_event_id` skips everything up to and including that event; an id
//!   that is not among the results gives no events;
//! - a server query returns the events whose id is greater than
//!   `last_event_id`, in id order (the reference's loop returns the last
//!   event when none is greater);
//! - `max_results` cuts as Python's `events[:n]` does (a negative limit
//!   counts from the end) and sets `more_follows` when it cut anything.

use std::ops::Deref;
use std::sync::Arc;

use crate::error::Result;
use crate::event::Event;
use crate::event_type::EventType;
use crate::query::{
    Order, OrderBy, QueryLatestParams, QueryParams, QueryResult, QueryServerParams, QueryTimeseriesParams,
};
use crate::subscription::Subscription;
use crate::type_index::TypeMap;

/// Answers `params` over `events`, given in registration order (latest
/// queries keep the types in the order they first appear there; the other
/// kinds sort, so their order does not matter). The result shares the
/// events (`Arc` clones), it does not copy them. Fails only for query event types a subscription refuses (a
/// `*` that is not last).
pub fn query_events<'a>(events: impl IntoIterator<Item = &'a Arc<Event>>, params: &QueryParams) -> Result<QueryResult> {
    match params {
        QueryParams::Latest(p) => {
            let mut latest = TypeMap::default();
            for event in events {
                keep_latest(&mut latest, Arc::clone(event));
            }
            query_latest(latest.iter().map(|(_, e)| e), p)
        }
        QueryParams::Timeseries(p) => query_timeseries(events, p),
        QueryParams::Server(p) => Ok(query_server(events, p)),
    }
}

/// Makes `event` the latest of its type in `latest` unless the one there is
/// newer (the reference's `Event.__lt__`); a new type goes last.
pub(crate) fn keep_latest<E: Deref<Target = Event> + Clone>(latest: &mut TypeMap<E>, event: E) {
    let mut inserted = false;
    let slot = latest.insert_type_with(&event.type_, || {
        inserted = true;
        event.clone()
    });
    if !inserted && slot.natural_lt(&event) {
        *slot = event;
    }
}

/// A latest query over the latest event of each type (in first-seen order).
pub(crate) fn query_latest<'a>(
    latest: impl Iterator<Item = &'a Arc<Event>>,
    params: &QueryLatestParams,
) -> Result<QueryResult> {
    let events = match &params.event_types {
        None => latest.cloned().collect(),
        Some(types) => {
            let subscription = subscription(types)?;
            latest.filter(|e| subscription.matches_type(&e.type_)).cloned().collect()
        }
    };
    Ok(QueryResult { events: Arc::new(events), more_follows: false })
}

/// A timeseries query over `events` (any order).
pub(crate) fn query_timeseries<'a>(
    events: impl IntoIterator<Item = &'a Arc<Event>>,
    params: &QueryTimeseriesParams,
) -> Result<QueryResult> {
    let subscription = params.event_types.as_deref().map(subscription).transpose()?;
    let by_source = params.order_by == OrderBy::SourceTimestamp;
    let mut events: Vec<&Arc<Event>> = events
        .into_iter()
        .filter(|e| subscription.as_ref().is_none_or(|s| s.matches_type(&e.type_)))
        .filter(|e| params.t_from.is_none_or(|t| e.timestamp >= t))
        .filter(|e| params.t_to.is_none_or(|t| e.timestamp <= t))
        .filter(|e| params.source_t_from.is_none_or(|t| e.source_timestamp.is_some_and(|s| s >= t)))
        .filter(|e| params.source_t_to.is_none_or(|t| e.source_timestamp.is_some_and(|s| s <= t)))
        .filter(|e| !by_source || e.source_timestamp.is_some())
        .collect();
    if by_source {
        events.sort_by_key(|e| (e.source_timestamp, e.timestamp, e.id));
    } else {
        events.sort_by_key(|e| (e.timestamp, e.id));
    }
    if params.order == Order::Descending {
        events.reverse();
    }
    let start = match params.last_event_id {
        Some(id) => events.iter().position(|e| e.id == id).map_or(events.len(), |i| i + 1),
        None => 0,
    };
    Ok(limit(&events[start..], params.max_results))
}

/// A server query over `events` (any order).
pub(crate) fn query_server<'a>(
    events: impl IntoIterator<Item = &'a Arc<Event>>,
    params: &QueryServerParams,
) -> QueryResult {
    let mut events: Vec<&Arc<Event>> = events
        .into_iter()
        .filter(|e| e.id.server == params.server_id)
        .filter(|e| params.last_event_id.is_none_or(|id| e.id > id))
        .collect();
    events.sort_by_key(|e| e.id);
    limit(&events, params.max_results)
}

fn subscription(types: &[EventType]) -> Result<Subscription> {
    Subscription::from_types(types)
}

fn limit(events: &[&Arc<Event>], max_results: Option<i64>) -> QueryResult {
    match max_results {
        // A negative limit cuts as Python's `events[:n]` does, from the end.
        Some(n) if (events.len() as i64) > n => {
            let keep = if n >= 0 { n as usize } else { events.len().saturating_sub(n.unsigned_abs() as usize) };
            QueryResult { events: Arc::new(events[..keep].iter().map(|e| Arc::clone(e)).collect()), more_follows: true }
        }
        _ => QueryResult { events: Arc::new(events.iter().map(|e| Arc::clone(e)).collect()), more_follows: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventId;
    use crate::server::backend::Backend;
    use crate::server::backends::memory::MemoryBackend;
    use crate::timestamp::Timestamp;
    use std::sync::Arc;

    fn ev(id: (i64, i64, i64), type_: &[&str], t: i64, source_t: Option<i64>) -> Arc<Event> {
        Arc::new(Event {
            id: EventId { server: id.0, session: id.1, instance: id.2 },
            type_: type_.iter().map(|s| s.to_string()).collect(),
            timestamp: Timestamp::new(t, 0).unwrap(),
            source_timestamp: source_t.map(|s| Timestamp::new(s, 0).unwrap()),
            payload: None,
        })
    }

    #[test]
    fn query_events_answers_as_the_memory_backend_does() {
        let events = [
            ev((1, 1, 1), &["a"], 10, Some(60)),
            ev((1, 1, 2), &["b"], 20, None),
            ev((1, 1, 3), &["a"], 30, Some(40)),
            ev((2, 1, 1), &["a"], 5, None),
            ev((1, 1, 4), &["c", "d"], 40, Some(50)),
            ev((2, 1, 2), &["c", "e"], 40, Some(50)),
            ev((1, 1, 5), &["b"], 50, Some(10)),
        ];
        let mut memory = MemoryBackend::default();
        memory.register(&events).unwrap();
        let t = |s| Some(Timestamp::new(s, 0).unwrap());
        let types = |ts: &[&[&str]]| Some(ts.iter().map(|t| t.iter().map(|s| s.to_string()).collect()).collect());
        let mut cases = vec![
            QueryParams::Latest(QueryLatestParams::default()),
            QueryParams::Latest(QueryLatestParams { event_types: types(&[&["c", "*"], &["a"]]) }),
            QueryParams::Server(QueryServerParams::new(2)),
            QueryParams::Server(QueryServerParams {
                server_id: 1,
                max_results: Some(2),
                last_event_id: Some(EventId { server: 1, session: 1, instance: 2 }),
                ..Default::default()
            }),
        ];
        for order in [Order::Ascending, Order::Descending] {
            for order_by in [OrderBy::Timestamp, OrderBy::SourceTimestamp] {
                for max_results in [None, Some(2), Some(-1)] {
                    cases.push(QueryParams::Timeseries(QueryTimeseriesParams {
                        order,
                        order_by,
                        max_results,
                        ..Default::default()
                    }));
                    cases.push(QueryParams::Timeseries(QueryTimeseriesParams {
                        event_types: types(&[&["a"], &["c", "?"]]),
                        t_from: t(10),
                        source_t_to: t(55),
                        order,
                        order_by,
                        max_results,
                        last_event_id: Some(EventId { server: 1, session: 1, instance: 3 }),
                        ..Default::default()
                    }));
                }
            }
        }
        for params in &cases {
            let ours = query_events(&events, params).unwrap();
            assert_eq!(ours, memory.query(params).unwrap(), "{params:?}");
        }
        let latest = query_events(&events, &cases[0]).unwrap();
        let ids: Vec<_> = latest.events.iter().map(|e| (e.id.server, e.id.instance)).collect();
        assert_eq!(ids, [(1, 3), (1, 5), (1, 4), (2, 2)]);
        let bad = QueryParams::Latest(QueryLatestParams { event_types: types(&[&["*", "a"]]) });
        assert!(query_events(&events, &bad).is_err());
    }
}
