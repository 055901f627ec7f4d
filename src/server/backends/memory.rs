//! The memory backend: hat-event's `backends/memory.py`, with its bugs fixed.
//!
//! Its query rules are those of [`crate::server::query`], which any
//! backend can use: the memory backend only keeps the events (and, for
//! speed, the latest of each type and the last id of each server).

use std::sync::Arc;

use crate::event::{Event, EventId, ServerId};
use crate::query::{QueryParams, QueryResult};
use crate::server::backend::{Backend, BackendCallbacks};
use crate::server::id_map::IdMap;
use crate::server::query::{keep_latest, query_latest, query_server, query_timeseries};
use crate::server::registry::PluginError;
use crate::type_index::TypeMap;

/// Events kept in memory, lost when it is dropped.
///
/// Beyond the reference's single list: the latest event of each type and the
/// last event id of each server are kept up to date on register, so latest
/// queries and `get_last_event_id` do not scan every event.
#[derive(Default)]
pub struct MemoryBackend {
    callbacks: BackendCallbacks,
    /// Every event, in registration order.
    events: Vec<Arc<Event>>,
    /// The latest event of each type, in the order types first appeared
    /// (the reference's dict order).
    /// Keyed by the packed type (one arena entry, not a second copy of the
    /// event's segment strings).
    latest: TypeMap<Arc<Event>>,
    last_ids: IdMap<ServerId, EventId>,
}

impl MemoryBackend {
    /// An empty memory backend.
    pub fn new(callbacks: BackendCallbacks) -> MemoryBackend {
        MemoryBackend { callbacks, ..Default::default() }
    }
}

fn query_failed(e: crate::error::Error) -> PluginError {
    PluginError::Failed(format!("query event types: {e}"))
}

impl Backend for MemoryBackend {
    fn get_last_event_id(&mut self, server_id: ServerId) -> Result<EventId, PluginError> {
        Ok(self.last_ids.get(&server_id).copied().unwrap_or(EventId { server: server_id, session: 0, instance: 0 }))
    }

    fn register(&mut self, events: &[Arc<Event>]) -> Result<(), PluginError> {
        self.events.reserve(events.len());
        for event in events {
            // Shared with the engine's caller, the list and the latest map.
            keep_latest(&mut self.latest, Arc::clone(event));
            let last = self.last_ids.entry(event.id.server).or_insert(event.id);
            *last = (*last).max(event.id);
            self.events.push(Arc::clone(event));
        }
        if let Some(cb) = &self.callbacks.registered {
            cb(events);
        }
        if let Some(cb) = &self.callbacks.flushed {
            cb(events);
        }
        Ok(())
    }

    fn query(&mut self, params: &QueryParams) -> Result<QueryResult, PluginError> {
        match params {
            QueryParams::Latest(p) => query_latest(self.latest.iter().map(|(_, e)| e), p).map_err(query_failed),
            QueryParams::Timeseries(p) => query_timeseries(self.events.iter(), p).map_err(query_failed),
            QueryParams::Server(p) => Ok(query_server(self.events.iter(), p)),
        }
    }

    fn flush(&mut self) -> Result<(), PluginError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventPayload;
    use crate::event_type::EventType;
    use crate::query::{Order, OrderBy, QueryLatestParams, QueryServerParams, QueryTimeseriesParams};
    use crate::timestamp::Timestamp;
    use std::sync::{Arc, Mutex};

    fn ts(s: i64) -> Timestamp {
        Timestamp::new(s, 0).unwrap()
    }

    fn ev(id: (i64, i64, i64), type_: &[&str], t: i64, source_t: Option<i64>) -> Arc<Event> {
        Arc::new(Event {
            id: EventId { server: id.0, session: id.1, instance: id.2 },
            type_: type_.iter().map(|s| s.to_string()).collect(),
            timestamp: ts(t),
            source_timestamp: source_t.map(ts),
            payload: Some(Arc::new(EventPayload::Json(crate::json::JsonPayload::from_value(serde_json::json!(id.2))))),
        })
    }

    fn types(ts: &[&[&str]]) -> Vec<EventType> {
        ts.iter().map(|t| t.iter().map(|s| s.to_string()).collect()).collect()
    }

    fn ids(result: &QueryResult) -> Vec<i64> {
        result.events.iter().map(|e| e.id.instance).collect()
    }

    /// Instances 1..=6 of server 1 session 1; timestamps and source
    /// timestamps chosen so that the two orders differ.
    fn backend() -> MemoryBackend {
        let mut b = MemoryBackend::default();
        b.register(&[
            ev((1, 1, 1), &["a"], 10, Some(60)),
            ev((1, 1, 2), &["b"], 20, None),
            ev((1, 1, 3), &["a"], 30, Some(40)),
            ev((1, 1, 4), &["c", "d"], 40, Some(50)),
            ev((1, 1, 5), &["b"], 50, Some(10)),
            ev((1, 1, 6), &["c", "e"], 60, None),
        ])
        .unwrap();
        b
    }

    fn timeseries(b: &mut MemoryBackend, f: impl FnOnce(&mut QueryTimeseriesParams)) -> QueryResult {
        let mut p = QueryTimeseriesParams::default();
        f(&mut p);
        b.query(&QueryParams::Timeseries(p)).unwrap()
    }

    #[test]
    fn get_last_event_id_is_per_server_and_defaults_to_zero() {
        let mut b = backend();
        assert_eq!(b.get_last_event_id(1).unwrap(), EventId { server: 1, session: 1, instance: 6 });
        assert_eq!(b.get_last_event_id(2).unwrap(), EventId { server: 2, session: 0, instance: 0 });
        b.register(&[ev((2, 7, 1), &["x"], 1, None), ev((1, 1, 7), &["x"], 1, None)]).unwrap();
        assert_eq!(b.get_last_event_id(2).unwrap(), EventId { server: 2, session: 7, instance: 1 });
        assert_eq!(b.get_last_event_id(1).unwrap().instance, 7);
    }

    #[test]
    fn latest_keeps_the_newest_of_each_type_in_first_seen_order() {
        let mut b = backend();
        let r = b.query(&QueryParams::Latest(QueryLatestParams::default())).unwrap();
        assert_eq!(ids(&r), [3, 5, 4, 6]);
        assert!(!r.more_follows);
        let p = QueryLatestParams { event_types: Some(types(&[&["c", "*"]])) };
        assert_eq!(ids(&b.query(&QueryParams::Latest(p)).unwrap()), [4, 6]);
        let p = QueryLatestParams { event_types: Some(types(&[])) };
        assert_eq!(ids(&b.query(&QueryParams::Latest(p)).unwrap()), Vec::<i64>::new());
    }

    #[test]
    fn latest_keeps_an_older_event_registered_later_out() {
        // Another server's event with an earlier timestamp is not newer.
        let mut b = backend();
        b.register(&[ev((2, 1, 1), &["a"], 5, None)]).unwrap();
        let p = QueryLatestParams { event_types: Some(types(&[&["a"]])) };
        assert_eq!(
            b.query(&QueryParams::Latest(p)).unwrap().events[0].id,
            EventId { server: 1, session: 1, instance: 3 }
        );
    }

    #[test]
    fn timeseries_orders_both_ways_by_both_timestamps() {
        let mut b = backend();
        assert_eq!(ids(&timeseries(&mut b, |_| {})), [6, 5, 4, 3, 2, 1]);
        assert_eq!(ids(&timeseries(&mut b, |p| p.order = Order::Ascending)), [1, 2, 3, 4, 5, 6]);
        assert_eq!(ids(&timeseries(&mut b, |p| p.order_by = OrderBy::SourceTimestamp)), [1, 4, 3, 5]);
        let r = timeseries(&mut b, |p| {
            p.order_by = OrderBy::SourceTimestamp;
            p.order = Order::Ascending
        });
        assert_eq!(ids(&r), [5, 3, 4, 1]);
    }

    #[test]
    fn timeseries_filters_are_inclusive_and_source_filters_drop_missing() {
        let mut b = backend();
        assert_eq!(ids(&timeseries(&mut b, |p| p.t_from = Some(ts(30)))), [6, 5, 4, 3]);
        assert_eq!(ids(&timeseries(&mut b, |p| p.t_to = Some(ts(30)))), [3, 2, 1]);
        let r = timeseries(&mut b, |p| {
            p.t_from = Some(ts(20));
            p.t_to = Some(ts(50))
        });
        assert_eq!(ids(&r), [5, 4, 3, 2]);
        assert_eq!(ids(&timeseries(&mut b, |p| p.source_t_from = Some(ts(40)))), [4, 3, 1]);
        assert_eq!(ids(&timeseries(&mut b, |p| p.source_t_to = Some(ts(40)))), [5, 3]);
        assert_eq!(ids(&timeseries(&mut b, |p| p.event_types = Some(types(&[&["b"], &["c", "?"]])))), [6, 5, 4, 2]);
    }

    #[test]
    fn timeseries_pages_with_max_results_and_last_event_id() {
        let mut b = backend();
        let r = timeseries(&mut b, |p| p.max_results = Some(2));
        assert_eq!((ids(&r), r.more_follows), (vec![6, 5], true));
        let r = timeseries(&mut b, |p| {
            p.max_results = Some(2);
            p.last_event_id = Some(EventId { server: 1, session: 1, instance: 5 })
        });
        assert_eq!((ids(&r), r.more_follows), (vec![4, 3], true));
        let r = timeseries(&mut b, |p| {
            p.max_results = Some(3);
            p.last_event_id = Some(EventId { server: 1, session: 1, instance: 3 })
        });
        assert_eq!((ids(&r), r.more_follows), (vec![2, 1], false));
        let r = timeseries(&mut b, |p| p.max_results = Some(6));
        assert_eq!((ids(&r).len(), r.more_follows), (6, false));
        let r = timeseries(&mut b, |p| p.last_event_id = Some(EventId { server: 9, session: 9, instance: 9 }));
        assert!(r.events.is_empty());
        let r = timeseries(&mut b, |p| p.max_results = Some(0));
        assert_eq!((ids(&r).len(), r.more_follows), (0, true));
    }

    #[test]
    fn server_query_returns_the_servers_events_after_last_event_id() {
        let mut b = backend();
        b.register(&[ev((2, 1, 1), &["a"], 1, None), ev((1, 2, 1), &["a"], 0, None)]).unwrap();
        let mut p = QueryServerParams::new(1);
        let r = b.query(&QueryParams::Server(p.clone())).unwrap();
        assert_eq!(
            r.events.iter().map(|e| (e.id.session, e.id.instance)).collect::<Vec<_>>(),
            [(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (2, 1)]
        );
        p.last_event_id = Some(EventId { server: 1, session: 1, instance: 5 });
        p.max_results = Some(1);
        let r = b.query(&QueryParams::Server(p.clone())).unwrap();
        assert_eq!((ids(&r), r.more_follows), (vec![6], true));
        p.last_event_id = Some(EventId { server: 1, session: 2, instance: 1 });
        assert!(b.query(&QueryParams::Server(p)).unwrap().events.is_empty());
        assert_eq!(ids(&b.query(&QueryParams::Server(QueryServerParams::new(2))).unwrap()), [1]);
    }

    #[test]
    fn register_calls_both_callbacks_with_the_events() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s1, s2) = (seen.clone(), seen.clone());
        let mut b = MemoryBackend::new(BackendCallbacks {
            registered: Some(Box::new(move |e| s1.lock().unwrap().push(("registered", e.len())))),
            flushed: Some(Box::new(move |e| s2.lock().unwrap().push(("flushed", e.len())))),
        });
        b.register(&[ev((1, 1, 1), &["a"], 1, None), ev((1, 1, 2), &["a"], 1, None)]).unwrap();
        assert_eq!(*seen.lock().unwrap(), [("registered", 2), ("flushed", 2)]);
    }
}
